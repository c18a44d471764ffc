/**
 * Test support for the VFS tests (not part of the simulated kernel): runs
 * a body as a process of a booted kernel, with helpers that put strings
 * and buffers in its user memory and call syscalls by name, returning the
 * raw kernel result (-errno on failure).
 */
import { bootKernel } from "../../kernel/machine.ts";
import { spawnProgram } from "../../kernel/exec.ts";
import { syscall } from "../../kernel/syscallTable.ts";
import { Errno } from "../../kernel/errno.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../uaccess/addressSpace.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import type { Process } from "../../kernel/process.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** User memory and syscalls of one test process. */
export class UserCtx {
	private next = 0;
	private end = 0;

	constructor(readonly p: Process) {}

	/** `len` zeroed bytes of fresh user memory (a bump allocator over anonymous mappings). */
	alloc(len: number): number {
		const need = Math.max(8, (len + 7) & ~7);
		if (this.next + need > this.end) {
			const size = Math.max(1 << 16, (need + 4095) & ~4095);
			this.next = this.p.mm.mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
			this.end = this.next + size;
		}
		const addr = this.next;
		this.next += need;
		return addr;
	}

	/** A copy of `data` in user memory. */
	bytes(data: Uint8Array): number {
		const addr = this.alloc(data.length);
		if (data.length > 0) this.p.mm.copyToUser(addr, data);
		return addr;
	}

	/** A NUL-terminated string in user memory. */
	str(s: string): number {
		const b = encoder.encode(s);
		const out = new Uint8Array(b.length + 1);
		out.set(b);
		return this.bytes(out);
	}

	/** `len` bytes of user memory as bytes. */
	read(addr: number, len: number): Uint8Array {
		return this.p.mm.copyFromUser(addr, len);
	}

	/** `len` bytes at `addr` decoded as UTF-8. */
	text(addr: number, len: number): string {
		return decoder.decode(this.read(addr, len));
	}

	/** A syscall by name; string arguments are copied in as C strings. */
	sys(name: string, ...args: (number | string)[]): number {
		return syscall(this.p, name, args.map((a) => (typeof a === "string" ? this.str(a) : a)));
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
	const k = opts.kernel ?? bootKernel();
	let failure: unknown = null;
	const p: Process = spawnProgram(k, async () => {
		try {
			await body(new UserCtx(p));
		} catch (e) {
			failure = e;
		}
		return 0;
	}, { uid: opts.uid, gid: opts.gid });
	await k.waitFor(p);
	if (failure !== null) throw failure;
	return k;
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
