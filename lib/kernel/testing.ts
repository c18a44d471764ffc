/**
 * Test support for the kernel's tests (not part of the simulated kernel):
 * runs a body as a process of a booted kernel, with helpers that put data
 * in its user memory and call syscalls by name (raw results: -errno on
 * failure).
 */
import { bootKernel } from "./machine.ts";
import { spawnProgram } from "./exec.ts";
import { TaskExit } from "./sched.ts";
import { current } from "./current.ts";
import { syscall, syscallAsync } from "./syscallTable.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../uaccess/addressSpace.ts";
import type { BootOptions, Kernel } from "./kernel.ts";
import type { Process } from "./process.ts";

const encoder = new TextEncoder();

/** User memory and syscalls of one process (the running one by default). */
export class User {
	private next = 0;
	private end = 0;

	constructor(readonly p: Process = current()) {}

	get kernel(): Kernel {
		return this.p.kernel;
	}

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

	/** A NULL-terminated array of pointers to copies of `list` (a `char *const []`). */
	strArray(list: readonly string[]): number {
		const b = new Uint8Array((list.length + 1) * 8);
		const v = new DataView(b.buffer);
		list.forEach((s, i) => v.setBigUint64(i * 8, BigInt(this.str(s)), true));
		return this.bytes(b);
	}

	/** Little-endian u64 values as bytes in user memory. */
	u64s(...vals: bigint[]): number {
		const b = new Uint8Array(vals.length * 8);
		const v = new DataView(b.buffer);
		vals.forEach((x, i) => v.setBigUint64(i * 8, BigInt.asUintN(64, x), true));
		return this.bytes(b);
	}

	/** `len` bytes at `addr`. */
	read(addr: number, len: number): Uint8Array {
		return this.p.mm.copyFromUser(addr, len);
	}

	/** The signed 32-bit int at `addr`. */
	i32(addr: number): number {
		return (this.p.mm.getUser(addr, 4) | 0);
	}

	/** The signed 64-bit values at `addr`. */
	i64s(addr: number, n: number): bigint[] {
		const b = this.read(addr, n * 8);
		const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
		return Array.from({ length: n }, (_, i) => v.getBigInt64(i * 8, true));
	}

	/** A syscall by name; string arguments are copied in as C strings. */
	sys(name: string, ...args: (number | string)[]): number {
		return syscall(this.p, name, args.map((a) => (typeof a === "string" ? this.str(a) : a)));
	}

	/** A syscall that may sleep. */
	sysAsync(name: string, ...args: (number | string)[]): Promise<number> {
		return syscallAsync(this.p, name, args.map((a) => (typeof a === "string" ? this.str(a) : a)));
	}
}

/** Options of `run`. */
export interface RunOptions {
	uid?: number;
	gid?: number;
	argv?: string[];
	/** The kernel to use (a fresh one by default). */
	kernel?: Kernel;
	/** How to boot the fresh kernel. */
	boot?: BootOptions;
}

/** What a run ended with. */
export interface RunResult {
	kernel: Kernel;
	p: Process;
	/** The wait status. */
	status: number;
}

/**
 * Runs `body` as a process of a kernel and waits for it. An exception in
 * the body (other than the unwinding of exit) is rethrown here, so a
 * broken test fails loudly. The body's return value is its exit status.
 */
export async function run(body: (u: User) => number | void | Promise<number | void>, opts: RunOptions = {}): Promise<RunResult> {
	const kernel = opts.kernel ?? bootKernel(opts.boot);
	let failure: unknown = null;
	const p: Process = spawnProgram(kernel, async () => {
		try {
			return await body(new User(p));
		} catch (e) {
			if (e instanceof TaskExit) throw e;
			failure = e;
			return 99;
		}
	}, { uid: opts.uid, gid: opts.gid, argv: opts.argv });
	const status = await kernel.waitFor(p);
	if (failure !== null) throw failure;
	return { kernel, p, status };
}
