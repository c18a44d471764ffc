/**
 * Test support for the VFS tests (not part of the simulated kernel): the
 * kernel tests' `User` (lib/kernel/testing.ts) plus text decoding, and
 * `inProcess`, which runs a body as a process and returns the kernel.
 */
import { User, run } from "../../kernel/testing.ts";
import { Errno } from "../../kernel/errno.ts";
import type { Kernel } from "../../kernel/kernel.ts";

const decoder = new TextDecoder();

/** User memory and syscalls of one test process. */
export class UserCtx extends User {
	/** `len` bytes at `addr` decoded as UTF-8. */
	text(addr: number, len: number): string {
		return decoder.decode(this.read(addr, len));
	}
}

/** Options of `inProcess`. */
export interface InProcessOptions {
	uid?: number;
	gid?: number;
	/** The kernel to use (a fresh one by default). */
	kernel?: Kernel;
}

/**
 * Runs `body` as a process of `opts.kernel` (or a fresh kernel) and waits
 * for it; an exception in the body is rethrown here. Returns the kernel.
 */
export async function inProcess(body: (u: UserCtx) => void | Promise<void>, opts: InProcessOptions = {}): Promise<Kernel> {
	const r = await run(async (u) => {
		await body(new UserCtx(u.p));
		return 0;
	}, opts);
	return r.kernel;
}

/** The errno `fn` throws as an Errno, or 0 when it returns. */
export function errnoOf(fn: () => unknown): number {
	try {
		fn();
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		throw e;
	}
	return 0;
}
