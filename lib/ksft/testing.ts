/**
 * Test support for lib/ksft and the selftest mirrors (not part of
 * `luosim/ksft`): runs a program's main on a freshly booted kernel with
 * fds 0, 1, 2 on a console, and returns what it printed, both streams
 * separately and merged in write order (as the kselftest runner's `2>&1`
 * sees them).
 */
import { bootKernel } from "../kernel/machine.ts";
import { spawnProgram } from "../kernel/exec.ts";
import { openConsole } from "../fs/console.ts";
import type { BootOptions, Kernel, ProgramMain } from "../kernel/kernel.ts";

/** What a program run printed and how it ended. */
export interface ProgramRun {
	/** The wait status. */
	status: number;
	stdout: string;
	stderr: string;
	/** stdout and stderr interleaved in write order. */
	merged: string;
	kernel: Kernel;
}

/** Boots a kernel, runs `main(argc, argv)` under init, and waits for it. */
export async function runProgramOutput(main: ProgramMain, argv: string[], boot: BootOptions = {}): Promise<ProgramRun> {
	const k = bootKernel(boot);
	const dec = new TextDecoder();
	const run = { stdout: "", stderr: "", merged: "" };
	const con = openConsole(k, {
		stdout: (d) => {
			const s = dec.decode(d);
			run.stdout += s;
			run.merged += s;
		},
		stderr: (d) => {
			const s = dec.decode(d);
			run.stderr += s;
			run.merged += s;
		},
	});
	const p = spawnProgram(k, main, { argv, stdio: con });
	for (const f of con) f.put();
	const status = await k.waitFor(p);
	return { status, ...run, kernel: k };
}

/** The exit code of a wait status that is a normal exit, or -signal. */
export function exitCode(status: number): number {
	return status & 0x7f ? -(status & 0x7f) : (status >> 8) & 0xff;
}

/** `# <file>:<line>:` → `# FILE:LINE:`: compares harness output modulo file names and line numbers. */
export function normalizeSites(text: string): string {
	return text.replace(/^# [\w.-]+\.(?:c|ts):\d+:/gm, "# FILE:LINE:");
}
