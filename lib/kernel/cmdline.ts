/**
 * The kernel command line (init/main.c, lib/cmdline.c next_arg()):
 * space-separated `key=value` pairs and bare flags, values optionally in
 * double quotes. A later occurrence of a key wins. Everything after `--`
 * belongs to init, not the kernel.
 */

/** One parsed parameter: `value` is null for a bare flag. */
export interface CmdlineParam {
	key: string;
	value: string | null;
}

/** A parsed command line. */
export class Cmdline {
	/** Exactly what /proc/cmdline shows (without its trailing newline). */
	readonly text: string;
	readonly params: readonly CmdlineParam[];
	/** Arguments after `--`, passed to init. */
	readonly initArgs: readonly string[];

	constructor(text: string) {
		this.text = text.trim().replace(/\s+/g, " ");
		const { params, initArgs } = parseCmdline(this.text);
		this.params = params;
		this.initArgs = initArgs;
	}

	/** The last value given for `key` ("" for `key=`), null for a bare flag, undefined when absent. */
	get(key: string): string | null | undefined {
		for (let i = this.params.length - 1; i >= 0; i--) if (this.params[i]!.key === key) return this.params[i]!.value;
		return undefined;
	}

	/** True when `key` appears at all. */
	has(key: string): boolean {
		return this.get(key) !== undefined;
	}

	/** kstrtobool()-style reading of `key`: on/off, y/n, 1/0; a bare flag is true; `dflt` when absent or unparsable. */
	getBool(key: string, dflt: boolean): boolean {
		const v = this.get(key);
		if (v === undefined) return dflt;
		if (v === null) return true;
		return parseKstrtobool(v) ?? dflt;
	}

	/** A new command line with `extra` appended (later keys win). */
	append(extra: string): Cmdline {
		return new Cmdline(extra.trim() ? `${this.text} ${extra}` : this.text);
	}
}

/** kstrtobool() (lib/kstrtox.c): y/Y/t/T/1 and "on" → true; n/N/f/F/0 and "off" → false; otherwise undefined (-EINVAL). */
export function parseKstrtobool(s: string): boolean | undefined {
	const c = s[0];
	if (c === undefined) return undefined;
	if ("yYtT1".includes(c)) return true;
	if ("nNfF0".includes(c)) return false;
	if (c === "o" || c === "O") {
		const d = s[1];
		if (d === "n" || d === "N") return true;
		if (d === "f" || d === "F") return false;
	}
	return undefined;
}

/** next_arg() over the whole line. */
export function parseCmdline(text: string): { params: CmdlineParam[]; initArgs: string[] } {
	const params: CmdlineParam[] = [];
	const initArgs: string[] = [];
	let i = 0;
	let afterDashes = false;
	while (i < text.length) {
		while (text[i] === " ") i++;
		if (i >= text.length) break;
		let inQuote = false;
		let tok = "";
		let eq = -1;
		for (; i < text.length; i++) {
			const c = text[i]!;
			if (c === '"') {
				inQuote = !inQuote;
				continue;
			}
			if (c === " " && !inQuote) break;
			if (c === "=" && eq < 0) eq = tok.length;
			tok += c;
		}
		if (afterDashes) initArgs.push(tok);
		else if (tok === "--") afterDashes = true;
		else if (eq < 0) params.push({ key: tok, value: null });
		else params.push({ key: tok.slice(0, eq), value: tok.slice(eq + 1) });
	}
	return { params, initArgs };
}
