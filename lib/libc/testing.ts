/**
 * Test support for libc's tests (not part of the simulated libc): runs a
 * program body as a process of a freshly booted kernel with its fds 0, 1, 2
 * on a console whose output is captured.
 */
import { bootKernel } from "../kernel/machine.ts";
import { spawnProgram } from "../kernel/exec.ts";
import { openConsole } from "../fs/console.ts";
import type { Kernel, ProgramMain } from "../kernel/kernel.ts";

/** What a test run ended with. */
export interface TestRun {
	/** The wait status. */
	status: number;
	/** Everything written to fds 0/1 and to fd 2, decoded as UTF-8. */
	stdout: string;
	stderr: string;
	/** Each write(2) to stdout, as its own chunk. */
	stdoutWrites: string[];
	kernel: Kernel;
}

/** Options of `runTest`. */
export interface TestRunOptions {
	argv?: string[];
	uid?: number;
	stdin?: string;
	/** Leave fds 0, 1 and 2 closed. */
	noStdio?: boolean;
	/** Called with the kernel before the program is spawned. */
	setup?: (k: Kernel) => void;
}

/** Boots a kernel, runs `main` in a process under init, and waits for it to exit. */
export async function runTest(main: ProgramMain, opts: TestRunOptions = {}): Promise<TestRun> {
	const k = bootKernel();
	opts.setup?.(k);
	const dec = new TextDecoder();
	const out: string[] = [];
	let err = "";
	const con = openConsole(k, {
		stdin: new TextEncoder().encode(opts.stdin ?? ""),
		stdout: (d) => out.push(dec.decode(d)),
		stderr: (d) => (err += dec.decode(d)),
	});
	const p = spawnProgram(k, main, { argv: opts.argv, uid: opts.uid, stdio: opts.noStdio ? [] : con });
	for (const f of con) f.put();
	const status = await k.waitFor(p);
	return { status, stdout: out.join(""), stderr: err, stdoutWrites: out, kernel: k };
}
