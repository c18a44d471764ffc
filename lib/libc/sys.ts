/**
 * libc-internal: how a libc function makes a system call (glibc's
 * INLINE_SYSCALL / SYSCALL_CANCEL and __syscall_error) and how it lends user
 * memory to a call whose C argument is a pointer.
 *
 * Every exported libc function runs its body through `call()` (or
 * `callAsync()`): the body returns what the kernel returned (`-errno` on
 * failure); a negative value becomes -1 with `errno` set. JS values that
 * stand for C buffers (`Uint8Array`, strings, struct objects) are copied
 * into scratch heap memory of the calling process for the duration of the
 * call (so strace shows real addresses) and copied back where C would see
 * the kernel's writes.
 */
import { current } from "../kernel/current.ts";
import { getSyscall, syscall, syscallAsync } from "../kernel/syscallTable.ts";
import { Errno, EFAULT, ENOMEM, ENOSYS } from "../kernel/errno.ts";
import type { Process } from "../kernel/process.ts";
import { errnoEnter, errnoSet } from "./errno-state.ts";

/** A C pointer argument: a JS buffer copied through user memory, or a user address (NULL is 0). */
export type Buf = Uint8Array | number;

const encoder = new TextEncoder();

/** The running process, with the errno binding brought up to date (every libc entry calls this). */
export function self(): Process {
	const p = current();
	errnoEnter(p);
	return p;
}

/** Turns a raw kernel return value into C's: `-errno` → -1 with errno set. */
export function result(p: Process, ret: number): number {
	if (ret < 0 && ret >= -4095) {
		errnoSet(p, -ret);
		return -1;
	}
	return ret;
}

/** True when the syscall table has `name`. */
export function hasSyscall(name: string): boolean {
	return getSyscall(name) !== undefined;
}

/** The raw call: the kernel's return value, -ENOSYS for a syscall luosim does not have. */
export function rawSyscall(p: Process, name: string, args: number[]): number {
	return hasSyscall(name) ? syscall(p, name, args) : -ENOSYS;
}

/** The raw call of a syscall that may sleep. */
export function rawSyscallAsync(p: Process, name: string, args: number[]): Promise<number> {
	return hasSyscall(name) ? syscallAsync(p, name, args) : Promise.resolve(-ENOSYS);
}

/**
 * Scratch user memory for one call, freed when the call returns. The
 * allocations come from the process's own heap (malloc), as a C caller's
 * stack buffers would be in its own address space.
 */
export class Scratch {
	private readonly addrs: number[] = [];
	/** The heap the scratch came from: after a successful execve the process has a new one. */
	private readonly heap: Process["heap"];

	constructor(readonly p: Process) {
		this.heap = p.heap;
	}

	/** `len` zeroed bytes; ENOMEM (thrown as Errno) when the heap cannot grow. */
	alloc(len: number): number {
		const addr = this.heap.malloc(Math.max(len, 1));
		if (addr === 0) throw new Errno(ENOMEM);
		this.addrs.push(addr);
		if (len > 0) this.p.mm.copyToUser(addr, new Uint8Array(len));
		return addr;
	}

	/** A copy of `data` in user memory. */
	bytes(data: Uint8Array): number {
		const addr = this.alloc(data.length);
		if (data.length > 0) this.p.mm.copyToUser(addr, data);
		return addr;
	}

	/** A NUL-terminated copy of `s` (a user address is passed through, as a `char *`). */
	str(s: string | number): number {
		if (typeof s === "number") return s;
		const b = encoder.encode(s);
		const out = new Uint8Array(b.length + 1);
		out.set(b);
		return this.bytes(out);
	}

	/**
	 * The address of a C buffer of `len` bytes: `buf` itself if it is an
	 * address, else a scratch copy of it (EFAULT if the array is shorter
	 * than `len`: C would read or write past its end).
	 */
	buf(buf: Buf, len: number): number {
		if (typeof buf === "number") return buf;
		if (len > buf.length) throw new Errno(EFAULT);
		return this.bytes(buf.subarray(0, len));
	}

	/** Copies `len` bytes at `addr` back into `buf` (when `buf` is a JS array). */
	copyBack(buf: Buf, addr: number, len: number): void {
		if (typeof buf === "number" || len <= 0) return;
		buf.set(this.p.mm.copyFromUser(addr, len));
	}

	/** Reads `len` bytes of scratch memory. */
	read(addr: number, len: number): Uint8Array {
		return this.p.mm.copyFromUser(addr, len);
	}

	/** Writes scratch memory. */
	write(addr: number, data: Uint8Array): void {
		this.p.mm.copyToUser(addr, data);
	}

	/** Frees everything (nothing to free once the process or its memory image is gone). */
	release(): void {
		if (this.p.exited || this.p.heap !== this.heap) return;
		for (const a of this.addrs) this.heap.free(a);
		this.addrs.length = 0;
	}
}

/**
 * Runs a libc function body: `body` returns the kernel's raw result; an
 * Errno thrown by libc's own checks (scratch allocation, a short array) is
 * a failure like any other.
 */
export function call(body: (s: Scratch) => number): number {
	const p = self();
	const s = new Scratch(p);
	try {
		return result(p, body(s));
	} catch (e) {
		if (e instanceof Errno) return result(p, -e.errno);
		throw e;
	} finally {
		s.release();
	}
}

/** `call()` for a body that may sleep. */
export async function callAsync(body: (s: Scratch) => Promise<number>): Promise<number> {
	const p = self();
	const s = new Scratch(p);
	try {
		const ret = await body(s);
		errnoEnter(p);
		return result(p, ret);
	} catch (e) {
		if (e instanceof Errno) return result(p, -e.errno);
		throw e;
	} finally {
		s.release();
	}
}

/** `syscall(name, args)` inside a `call()` body, for the common case of integer arguments. */
export function sys(name: string, ...args: number[]): number {
	return call((s) => rawSyscall(s.p, name, args));
}

/** A little-endian view of a byte array (struct field access). */
export function view(b: Uint8Array): DataView {
	return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
