/**
 * GNU getopt, getopt_long and getopt_long_only as in glibc 2.36
 * (posix/getopt.c, shared with gnulib), including its argument permutation
 * and its exact diagnostics.
 *
 * glibc keeps `optind`, `optarg`, `opterr` and `optopt` in globals plus a
 * private `struct _getopt_data`; here all of it lives in a GetoptState that
 * the caller passes in (the reentrant `_getopt_internal_r` shape), so a libc
 * module can give each process its own and expose them as C-like globals.
 *
 * Return values are C `int`s: an option character's code, '?' (63) for an
 * error, ':' (58) for a missing argument when optstring starts with ':', 1 for
 * a non-option in RETURN_IN_ORDER mode ('-' optstring), 0 for a long option
 * that stored through `flag`, and -1 at the end. `argv` is permuted in place.
 */

/** `no_argument` from <getopt.h>. */
export const no_argument = 0;
/** `required_argument` from <getopt.h>. */
export const required_argument = 1;
/** `optional_argument` from <getopt.h>. */
export const optional_argument = 2;

/** `struct option` from <getopt.h>; the C array's all-zero terminator is the end of the JS array. */
export interface option {
	name: string;
	has_arg: 0 | 1 | 2;
	/** Where to store `val` (then getopt_long returns 0), or null to return `val`. Compared by identity, like C pointers. */
	flag: null | { value: number };
	val: number;
}

/** `int *longindex`: receives the index in `longopts` of a matched long option. */
export type LongIndex = { value: number } | null;

/** How non-options are handled (glibc's `enum __ord`). */
const enum Ordering {
	REQUIRE_ORDER,
	PERMUTE,
	RETURN_IN_ORDER,
}

/** Construction options of a GetoptState. */
export interface GetoptEnv {
	/** Receives each diagnostic, the text glibc writes with fprintf(stderr, …). */
	stderr?: (msg: string) => void;
	/** The environment lookup for POSIXLY_CORRECT (read when a scan starts, as glibc does). */
	getenv?: (name: string) => string | null | undefined;
}

/** glibc's `optind/optarg/opterr/optopt` globals plus `struct _getopt_data`. */
export class GetoptState {
	/** Index in argv of the next element to scan; set it to 0 to restart a scan (1 also works after the first). */
	optind = 1;
	/** The argument of the option just returned, or null. */
	optarg: string | null = null;
	/** Nonzero: print diagnostics (unless optstring starts with ':'). */
	opterr = 1;
	/**
	 * The option character (or long option `val`, or 0) that caused the last
	 * error. '?' until the first call; then glibc copies out its private
	 * copy, which starts at 0, after every call.
	 */
	optopt = 0x3f;

	readonly stderr: (msg: string) => void;
	readonly getenv: (name: string) => string | null | undefined;

	/** @internal `getopt_data.optopt`, the copy glibc writes errors to. */
	dataOptopt = 0;
	/** @internal `__initialized` */
	initialized = false;
	/** @internal `__nextchar` as a string and an offset into it (null: none). */
	nextchar: { str: string; pos: number } | null = null;
	/** @internal */
	ordering = Ordering.PERMUTE;
	/** @internal `__first_nonopt`, `__last_nonopt`: the skipped non-options argv[first..last). */
	firstNonopt = 1;
	/** @internal */
	lastNonopt = 1;

	constructor(env: GetoptEnv = {}) {
		this.stderr = env.stderr ?? ((): void => {});
		this.getenv = env.getenv ?? ((): null => null);
	}
}

const QUESTION = 0x3f;
const COLON = 0x3a;

/** getopt(3): short options only. */
export function getopt(d: GetoptState, argv: string[], optstring: string): number {
	return getoptInternal(d, argv, optstring, null, null, false);
}

/** getopt_long(3): short options plus `--name[=value]` long options, abbreviations allowed. */
export function getopt_long(d: GetoptState, argv: string[], optstring: string, longopts: readonly option[], longindex: LongIndex): number {
	return getoptInternal(d, argv, optstring, longopts, longindex, false);
}

/** getopt_long_only(3): like getopt_long, and a single '-' may also introduce a long option. */
export function getopt_long_only(d: GetoptState, argv: string[], optstring: string, longopts: readonly option[], longindex: LongIndex): number {
	return getoptInternal(d, argv, optstring, longopts, longindex, true);
}

/** glibc's `exchange`: moves the skipped non-options argv[first..last) after the options argv[last..optind). */
function exchange(argv: string[], d: GetoptState): void {
	const moved = argv.splice(d.firstNonopt, d.lastNonopt - d.firstNonopt);
	argv.splice(d.optind - moved.length, 0, ...moved);
	d.firstNonopt += d.optind - d.lastNonopt;
	d.lastNonopt = d.optind;
}

function initialize(d: GetoptState, optstring: string): string {
	if (d.optind === 0) d.optind = 1;
	d.firstNonopt = d.lastNonopt = d.optind;
	d.nextchar = null;
	if (optstring[0] === "-") {
		d.ordering = Ordering.RETURN_IN_ORDER;
		optstring = optstring.slice(1);
	} else if (optstring[0] === "+") {
		d.ordering = Ordering.REQUIRE_ORDER;
		optstring = optstring.slice(1);
	} else if (d.getenv("POSIXLY_CORRECT") != null) {
		d.ordering = Ordering.REQUIRE_ORDER;
	} else {
		d.ordering = Ordering.PERMUTE;
	}
	d.initialized = true;
	return optstring;
}

/** glibc's `_getopt_internal`: the reentrant scan, then the copy-out to the globals. */
function getoptInternal(
	d: GetoptState, argv: string[], optstring: string,
	longopts: readonly option[] | null, longind: LongIndex, longOnly: boolean,
): number {
	const r = getoptInternalR(d, argv, optstring, longopts, longind, longOnly);
	d.optopt = d.dataOptopt;
	return r;
}

function getoptInternalR(
	d: GetoptState, argv: string[], optstring: string,
	longopts: readonly option[] | null, longind: LongIndex, longOnly: boolean,
): number {
	let printErrors = d.opterr !== 0;
	const argc = argv.length;
	if (argc < 1) return -1;
	d.optarg = null;
	if (d.optind === 0 || !d.initialized) optstring = initialize(d, optstring);
	else if (optstring[0] === "-" || optstring[0] === "+") optstring = optstring.slice(1);
	if (optstring[0] === ":") printErrors = false;

	const nonoption = (): boolean => argv[d.optind]![0] !== "-" || argv[d.optind]!.length === 1;

	if (d.nextchar === null || d.nextchar.pos >= d.nextchar.str.length) {
		// The caller may have moved optind back (and changed argv).
		if (d.lastNonopt > d.optind) d.lastNonopt = d.optind;
		if (d.firstNonopt > d.optind) d.firstNonopt = d.optind;

		if (d.ordering === Ordering.PERMUTE) {
			if (d.firstNonopt !== d.lastNonopt && d.lastNonopt !== d.optind) exchange(argv, d);
			else if (d.lastNonopt !== d.optind) d.firstNonopt = d.optind;
			while (d.optind < argc && nonoption()) d.optind++;
			d.lastNonopt = d.optind;
		}

		// "--" ends the options; what follows counts as skipped non-options.
		if (d.optind !== argc && argv[d.optind] === "--") {
			d.optind++;
			if (d.firstNonopt !== d.lastNonopt && d.lastNonopt !== d.optind) exchange(argv, d);
			else if (d.firstNonopt === d.lastNonopt) d.firstNonopt = d.optind;
			d.lastNonopt = argc;
			d.optind = argc;
		}

		if (d.optind === argc) {
			// Point at the permuted non-options so that the caller digests them.
			if (d.firstNonopt !== d.lastNonopt) d.optind = d.firstNonopt;
			return -1;
		}

		if (nonoption()) {
			if (d.ordering === Ordering.REQUIRE_ORDER) return -1;
			d.optarg = argv[d.optind++]!;
			return 1;
		}

		const arg = argv[d.optind]!;
		if (longopts !== null) {
			if (arg[1] === "-") {
				d.nextchar = { str: arg, pos: 2 };
				return processLongOption(d, argv, optstring, longopts, longind, longOnly, printErrors, "--");
			}
			// With long_only, "-f" for a valid short option f stays a short option.
			if (longOnly && (arg.length > 2 || !optstring.includes(arg[1]!))) {
				d.nextchar = { str: arg, pos: 1 };
				const code = processLongOption(d, argv, optstring, longopts, longind, longOnly, printErrors, "-");
				if (code !== -1) return code;
			}
		}
		d.nextchar = { str: arg, pos: 1 };
	}

	const next = d.nextchar;
	const c = next.str[next.pos++]!;
	const code = c.charCodeAt(0);
	const idx = optstring.indexOf(c);
	const rest = (): string => next.str.slice(next.pos);

	// optind moves on when the last character of an element is taken.
	if (next.pos >= next.str.length) d.optind++;

	if (idx < 0 || c === ":" || c === ";") {
		if (printErrors) d.stderr(`${argv[0]}: invalid option -- '${c}'\n`);
		d.dataOptopt = code;
		return QUESTION;
	}

	// POSIX's "-W foo" stands for "--foo".
	if (c === "W" && optstring[idx + 1] === ";" && longopts !== null) {
		let name: string;
		if (next.pos < next.str.length) name = rest();
		else if (d.optind === argc) {
			if (printErrors) d.stderr(`${argv[0]}: option requires an argument -- '${c}'\n`);
			d.dataOptopt = code;
			return optstring[0] === ":" ? COLON : QUESTION;
		} else name = argv[d.optind]!;
		d.nextchar = { str: name, pos: 0 };
		d.optarg = null;
		return processLongOption(d, argv, optstring, longopts, longind, false, printErrors, "-W ");
	}

	if (optstring[idx + 1] === ":") {
		if (optstring[idx + 2] === ":") {
			if (next.pos < next.str.length) {
				d.optarg = rest();
				d.optind++;
			} else d.optarg = null;
		} else if (next.pos < next.str.length) {
			d.optarg = rest();
			d.optind++;
		} else if (d.optind === argc) {
			if (printErrors) d.stderr(`${argv[0]}: option requires an argument -- '${c}'\n`);
			d.dataOptopt = code;
			d.nextchar = null;
			return optstring[0] === ":" ? COLON : QUESTION;
		} else d.optarg = argv[d.optind++]!;
		d.nextchar = null;
	}
	return code;
}

/** glibc's `process_long_option`: -1 means "not a long option after all" (long_only only). */
function processLongOption(
	d: GetoptState, argv: string[], optstring: string, longopts: readonly option[],
	longind: LongIndex, longOnly: boolean, printErrors: boolean, prefix: string,
): number {
	const { str, pos } = d.nextchar!;
	const text = str.slice(pos);
	const eq = text.indexOf("=");
	const name = eq < 0 ? text : text.slice(0, eq);

	let index = longopts.findIndex((p) => p.name === name);
	if (index < 0) {
		// An abbreviation: ambiguous only if the candidates differ in what they do.
		const ambiguous: number[] = [];
		longopts.forEach((p, i) => {
			if (!p.name.startsWith(name)) return;
			if (index < 0) index = i;
			else {
				const first = longopts[index]!;
				if (longOnly || first.has_arg !== p.has_arg || first.flag !== p.flag || first.val !== p.val) {
					if (ambiguous.length === 0) ambiguous.push(index);
					ambiguous.push(i);
				}
			}
		});
		if (ambiguous.length > 0) {
			if (printErrors) {
				const names = ambiguous.map((i) => ` '${prefix}${longopts[i]!.name}'`).join("");
				d.stderr(`${argv[0]}: option '${prefix}${text}' is ambiguous; possibilities:${names}\n`);
			}
			d.nextchar = { str, pos: str.length };
			d.optind++;
			d.dataOptopt = 0;
			return QUESTION;
		}
	}

	if (index < 0) {
		if (!longOnly || argv[d.optind]![1] === "-" || !optstring.includes(text[0] ?? "\0")) {
			if (printErrors) d.stderr(`${argv[0]}: unrecognized option '${prefix}${text}'\n`);
			d.nextchar = null;
			d.optind++;
			d.dataOptopt = 0;
			return QUESTION;
		}
		return -1;
	}

	const found = longopts[index]!;
	d.optind++;
	d.nextchar = null;
	if (eq >= 0) {
		if (found.has_arg !== no_argument) d.optarg = text.slice(eq + 1);
		else {
			if (printErrors) d.stderr(`${argv[0]}: option '${prefix}${found.name}' doesn't allow an argument\n`);
			d.dataOptopt = found.val;
			return QUESTION;
		}
	} else if (found.has_arg === required_argument) {
		if (d.optind < argv.length) d.optarg = argv[d.optind++]!;
		else {
			if (printErrors) d.stderr(`${argv[0]}: option '${prefix}${found.name}' requires an argument\n`);
			d.dataOptopt = found.val;
			return optstring[0] === ":" ? COLON : QUESTION;
		}
	}
	if (longind !== null) longind.value = index;
	if (found.flag !== null) {
		found.flag.value = found.val;
		return 0;
	}
	return found.val;
}
