/**
 * Running one program on a freshly booted kernel, from the host: what
 * `luosim run` does and what tests use. The program's fds 0, 1 and 2 are the
 * console (lib/fs/console.ts) wired to the given sinks.
 */
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { Machine } from "../kernel/machine.ts";
import { spawnProgram } from "../kernel/exec.ts";
import { sendSignal } from "../kernel/process.ts";
import { SIGKILL, W_EXITCODE } from "../kernel/signal.ts";
import { NSEC_PER_SEC } from "../kernel/clock.ts";
import { enableStrace } from "../kernel/strace.ts";
import { openConsole } from "../fs/console.ts";
import type { AbiGeneration, Kernel, KernelConfig, ProgramMain } from "../kernel/kernel.ts";
import type { Process } from "../kernel/process.ts";

/** How to run a program. */
export interface RunOptions {
	abi?: AbiGeneration;
	/** Appended to the generation's default command line. */
	cmdline?: string;
	config?: Partial<KernelConfig>;
	/** argv, argv[0] included. */
	argv?: string[];
	/** Run as this uid (and gid); root by default. */
	uid?: number;
	stdin?: Uint8Array;
	stdout?: (data: Uint8Array) => void;
	stderr?: (data: Uint8Array) => void;
	/** Print every syscall, strace-style, through this sink. */
	strace?: (line: string) => void;
	/** Kill the program's process group after this many virtual seconds (kselftest's `timeout`). */
	timeoutSec?: number;
}

/** What a run ended with. */
export interface RunOutcome {
	/** The wait status (W_EXITCODE / W_SIGNALED form). */
	status: number;
	/** As a shell reports it: the exit code, or 128 + signal; 124 after a timeout. */
	exitCode: number;
	timedOut: boolean;
	kernel: Kernel;
}

/** Imports a program module and returns its `main` (ENOEXEC-like JS error if it has none). */
export async function loadProgram(path: string): Promise<ProgramMain> {
	const mod = (await import(pathToFileURL(resolve(path)).href)) as { main?: unknown };
	if (typeof mod.main !== "function") throw new Error(`luosim: ${path} does not export main(argc, argv)`);
	return mod.main as ProgramMain;
}

/** Boots a Machine and Kernel, runs `main` as a child of init and waits for it. */
export async function runProgram(main: ProgramMain, opts: RunOptions = {}): Promise<RunOutcome> {
	const kernel = new Machine().boot({ abi: opts.abi, cmdline: opts.cmdline, config: opts.config });
	if (opts.strace) enableStrace(kernel, opts.strace);
	const con = openConsole(kernel, { stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr });
	const p = spawnProgram(kernel, main, { argv: opts.argv, uid: opts.uid, stdio: con });
	for (const f of con) f.put();
	const timedOut = killAfter(p, opts.timeoutSec);
	const out = await kernel.waitForOutcome(p);
	// A kernel that stops before the program exits (it rebooted or halted
	// the machine, or the kernel panicked) counts as exit 0, or 1 for a panic.
	const status = out.kind === "exited" ? out.status : W_EXITCODE(out.event.kind === "panic" ? 1 : 0);
	return { status, exitCode: timedOut() ? 124 : shellStatus(status), timedOut: timedOut(), kernel };
}

/** A wait status as a shell reports it: the exit code, or 128 + the signal. */
export function shellStatus(status: number): number {
	const sig = status & 0x7f;
	return sig ? 128 + sig : (status >> 8) & 0xff;
}

/**
 * kselftest's `timeout`: after `timeoutSec` virtual seconds (none when
 * undefined) SIGKILLs `p`'s process group if `p` is still running. The
 * result tells afterwards whether it did.
 */
export function killAfter(p: Process, timeoutSec: number | undefined): () => boolean {
	let fired = false;
	if (timeoutSec !== undefined) {
		const kernel = p.kernel;
		kernel.clock.addTimer(timeoutSec * NSEC_PER_SEC, () => {
			if (p.exited) return;
			fired = true;
			for (const q of [...kernel.processes.values()]) if (q.pgid === p.pgid && q.pid !== 1) sendSignal(q, SIGKILL);
		});
	}
	return () => fired;
}
