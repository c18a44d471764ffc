/**
 * `luosim sh`: a small shell over a booted kernel, for looking at sysfs and
 * debugfs by hand (DESIGN "Programs, processes, kexec"). It reads command
 * lines from the host (a terminal or a pipe), and runs each command as a
 * new process of the kernel (lib/cli/shCommands.ts), as a shell forks and
 * execs; `cd`, `pwd`, `help` and `exit` are built in. After `kexec` the
 * shell goes on in the kernel the kexec booted.
 */
import { Machine } from "../kernel/machine.ts";
import { spawnProgram } from "../kernel/exec.ts";
import { openConsole } from "../fs/console.ts";
import { SH_COMMANDS, cdCheck, inDirectory } from "./shCommands.ts";
import { shellStatus } from "./runProgram.ts";
import type { AbiGeneration, Kernel } from "../kernel/kernel.ts";

/** What the shell runs on and talks to. */
export interface ShellOptions {
	abi?: AbiGeneration;
	/** Appended to the generation's default command line. */
	cmdline?: string;
	/** Commands run as this uid (root by default). */
	uid?: number;
	/** The command lines, one per item. */
	lines: AsyncIterable<string>;
	stdout: (data: string) => void;
	stderr: (data: string) => void;
	/** Print the prompt before each line (a terminal). */
	prompt?: boolean;
}

export const SH_HELP = `commands: ls [-l] [PATH...], cat FILE..., echo WORDS [> FILE | >> FILE], stat PATH...,
          dmesg, kexec [CMDLINE...] (default: the running one's), cd [DIR], pwd, help, exit [N]
`;

/** Splits a command line into words: blanks separate, '…' and "…" quote. Null on an open quote. */
export function splitWords(line: string): string[] | null {
	const words: string[] = [];
	let cur: string | null = null;
	let quote: string | null = null;
	for (const ch of line) {
		if (quote) {
			if (ch === quote) quote = null;
			else cur += ch;
		} else if (ch === "'" || ch === '"') {
			quote = ch;
			cur ??= "";
		} else if (ch === " " || ch === "\t") {
			if (cur !== null) words.push(cur);
			cur = null;
		} else cur = (cur ?? "") + ch;
	}
	if (quote) return null;
	if (cur !== null) words.push(cur);
	return words;
}

/** Joins `rel` onto `cwd` with `.` and `..` resolved (the shell's own $PWD logic). */
function joinPath(cwd: string, rel: string): string {
	const parts = (rel.startsWith("/") ? rel : `${cwd}/${rel}`).split("/");
	const out: string[] = [];
	for (const p of parts) {
		if (p === "" || p === ".") continue;
		if (p === "..") out.pop();
		else out.push(p);
	}
	return `/${out.join("/")}`;
}

/** Runs the shell until `exit` or the end of input; resolves to the exit status. */
export async function runShell(opts: ShellOptions): Promise<number> {
	let kernel: Kernel = new Machine().boot({ abi: opts.abi, cmdline: opts.cmdline });
	let cwd = "/";
	let status = 0;
	const dec = new TextDecoder();
	const run = async (name: string, argv: string[]): Promise<number> => {
		const con = openConsole(kernel, { stdout: (d) => opts.stdout(dec.decode(d)), stderr: (d) => opts.stderr(dec.decode(d)) });
		const main = name === "cd" ? cdCheck : SH_COMMANDS[name]!;
		const p = spawnProgram(kernel, inDirectory(cwd, main), { argv, uid: opts.uid, stdio: con });
		for (const f of con) f.put();
		const outcome = await kernel.waitForOutcome(p);
		if (outcome.kind === "exited") return shellStatus(outcome.status);
		const next = outcome.event.to;
		if (!next) {
			opts.stderr(`sh: the machine stopped (${outcome.event.kind})\n`);
			throw new ShellExit(1);
		}
		kernel = next;
		cwd = "/";
		return 0;
	};
	try {
		if (opts.prompt) opts.stdout("# ");
		for await (const line of opts.lines) {
			status = await runLine(line);
			if (opts.prompt) opts.stdout("# ");
		}
	} catch (e) {
		if (e instanceof ShellExit) return e.status;
		throw e;
	}
	return status;

	async function runLine(line: string): Promise<number> {
		const words = splitWords(line.replace(/^\s*#.*$/, ""));
		if (words === null) {
			opts.stderr("sh: syntax error: unterminated quoted string\n");
			return 2;
		}
		if (words.length === 0) return status;
		const [cmd, ...args] = words as [string, ...string[]];
		switch (cmd) {
			case "exit":
				throw new ShellExit(args[0] === undefined ? status : Number.parseInt(args[0], 10) & 0xff);
			case "help":
				opts.stdout(SH_HELP);
				return 0;
			case "pwd":
				opts.stdout(`${cwd}\n`);
				return 0;
			case "cd": {
				const target = joinPath(cwd, args[0] ?? "/");
				const rc = await run("cd", ["cd", target]);
				if (rc === 0) cwd = target;
				return rc;
			}
		}
		if (!(cmd in SH_COMMANDS)) {
			opts.stderr(`sh: ${cmd}: not found\n`);
			return 127;
		}
		if (cmd === "echo") {
			const redir = args.findIndex((a) => a === ">" || a === ">>");
			if (redir >= 0) {
				const file = args[redir + 1];
				if (file === undefined) {
					opts.stderr("sh: syntax error: unexpected newline\n");
					return 2;
				}
				return run("echo", ["echo", `-o${args[redir]}`, file, ...args.slice(0, redir)]);
			}
		}
		return run(cmd, [cmd, ...args]);
	}
}

class ShellExit extends Error {
	constructor(readonly status: number) {
		super(`exit ${status}`);
	}
}
