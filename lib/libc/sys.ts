/**
 * libc-internal: how a libc function makes a system call (glibc's
 * INLINE_SYSCALL / SYSCALL_CANCEL and __syscall_error) and how it lends user
 * memory to a call whose C argument is a pointer.
 *
 * Every exported libc function runs its body through `call()` (or
 * `callAsync()`): the body returns what the kernel returned (`-errno` on
 * failure); a negative value becomes -1 with `errno` set. JS values that
 * stand for C buffers (`Uint8Array`, strings, struct objects) are copied
 * into scratch memory of the calling process (its libc stack, or malloc)
 * for the duration of the call (so strace shows real addresses) and copied
 * back where C would see the kernel's writes.
 */
import { current } from "../kernel/current.ts";
import { getSyscall, syscallAsync, syscallDef } from "../kernel/syscallTable.ts";
import { Errno, EFAULT, ENOMEM, ENOSYS } from "../kernel/errno.ts";
import type { Process } from "../kernel/process.ts";
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE, PROT_READ, PROT_WRITE, TASK_SIZE } from "../uaccess/addressSpace.ts";
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
	const def = getSyscall(name);
	return def !== undefined ? syscallDef(p, def, args) : -ENOSYS;
}

/** The raw call of a syscall that may sleep. */
export function rawSyscallAsync(p: Process, name: string, args: number[]): Promise<number> {
	return hasSyscall(name) ? syscallAsync(p, name, args) : Promise.resolve(-ENOSYS);
}

/** Bytes of the scratch stack: buffers beyond what is left of it come from malloc. */
const STACK_SIZE = 128 * 1024;
/** The scratch stack ends where user space does, where Linux puts a process's [stack]. */
const STACK_END = TASK_SIZE;
/** Stack buffers are 16-byte aligned, as the x86_64 ABI aligns the stack. */
const STACK_ALIGN = 16;
/** Strings kept in the encoding cache before it starts over. */
const ENCODED_ENTRIES = 256;

/** NUL-terminated UTF-8 of strings libc passed recently: programs pass the same paths again and again. */
const encoded = new Map<string, Uint8Array>();

/** `s` as a NUL-terminated C string. */
function cString(s: string): Uint8Array {
	let b = encoded.get(s);
	if (b !== undefined) return b;
	const utf8 = encoder.encode(s);
	b = new Uint8Array(utf8.length + 1);
	b.set(utf8);
	if (encoded.size >= ENCODED_ENTRIES) encoded.clear();
	encoded.set(s, b);
	return b;
}

/**
 * Scratch user memory for libc calls, as a C caller's stack buffers would
 * be, in the process's own address space. A synchronous call takes it from
 * a stack mapped at the top of user space (a bump pointer, popped when the
 * call returns, so nested calls nest like C frames), and from malloc for
 * what does not fit. A call that may sleep takes only malloc memory, freed
 * when it returns: other calls of the same process may run while it sleeps.
 */
export class Scratch {
	/** The memory image the scratch belongs to: a successful execve replaces it. */
	readonly mm: Process["mm"];
	private readonly heap: Process["heap"];
	/** malloc'd buffers not yet freed, in allocation order. */
	private readonly addrs: number[] = [];
	/** Stack pointer: the stack grows down from mm.stackEnd to mm.stackStart; 0 without a stack (malloc only). */
	sp: number;

	constructor(readonly p: Process, useStack: boolean) {
		this.mm = p.mm;
		this.heap = p.heap;
		this.sp = useStack ? stackOf(p.mm) : 0;
	}

	/** How many malloc'd buffers are held (with `sp`, what `release` returns to). */
	get mallocs(): number {
		return this.addrs.length;
	}

	/**
	 * `len` bytes of scratch, not initialized (what earlier calls left
	 * there, as in a C stack buffer): for buffers the kernel only writes.
	 * ENOMEM (thrown as Errno) when the heap cannot grow.
	 */
	reserve(len: number): number {
		const size = Math.max(len, 1);
		const sp = this.sp - (size + STACK_ALIGN - 1 - ((size + STACK_ALIGN - 1) % STACK_ALIGN));
		if (this.sp !== 0 && sp >= this.mm.stackStart) {
			this.sp = sp;
			return sp;
		}
		const addr = this.heap.malloc(size);
		if (addr === 0) throw new Errno(ENOMEM);
		this.addrs.push(addr);
		return addr;
	}

	/** `len` zeroed bytes; ENOMEM (thrown as Errno) when the heap cannot grow. */
	alloc(len: number): number {
		const addr = this.reserve(len);
		if (len > 0) this.p.mm.clearUser(addr, len);
		return addr;
	}

	/** A copy of `data` in user memory. */
	bytes(data: Uint8Array): number {
		const addr = this.reserve(data.length);
		if (data.length > 0) this.p.mm.copyToUser(addr, data);
		return addr;
	}

	/** A NUL-terminated copy of `s` (a user address is passed through, as a `char *`). */
	str(s: string | number): number {
		if (typeof s === "number") return s;
		return this.bytes(cString(s));
	}

	/**
	 * The address of a C buffer of `len` bytes: `buf` itself if it is an
	 * address, else a scratch copy of it (EFAULT if the array is shorter
	 * than `len`: C would read or write past its end).
	 */
	buf(buf: Buf, len: number): number {
		if (typeof buf === "number") return buf;
		if (len > buf.length) throw new Errno(EFAULT);
		return this.bytes(len === buf.length ? buf : buf.subarray(0, len));
	}

	/** Copies `len` bytes at `addr` back into `buf` (when `buf` is a JS array). */
	copyBack(buf: Buf, addr: number, len: number): void {
		if (typeof buf === "number" || len <= 0) return;
		this.p.mm.copyFromUserTo(addr, buf, len);
	}

	/** Reads `len` bytes of scratch memory. */
	read(addr: number, len: number): Uint8Array {
		return this.p.mm.copyFromUser(addr, len);
	}

	/** Writes scratch memory. */
	write(addr: number, data: Uint8Array): void {
		this.p.mm.copyToUser(addr, data);
	}

	/**
	 * Gives back what was taken since `sp` and `mallocs` had these values
	 * (nothing to give back once the process or its memory image is gone).
	 */
	release(sp: number, mallocs: number): void {
		if (this.p.exited || this.p.mm !== this.mm) return;
		this.sp = sp;
		while (this.addrs.length > mallocs) this.heap.free(this.addrs.pop()!);
	}
}

/**
 * The scratch stack of `mm`, mapped on first use (and inherited by a fork
 * child with the rest of the address space): its end, or 0 when it cannot
 * be mapped (the program has put something there), and libc uses malloc.
 */
function stackOf(mm: Process["mm"]): number {
	if (mm.stackEnd !== 0) return mm.stackEnd;
	try {
		mm.mmap(STACK_END - STACK_SIZE, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
	} catch (e) {
		if (e instanceof Errno) return 0;
		throw e;
	}
	mm.stackStart = STACK_END - STACK_SIZE;
	mm.stackEnd = STACK_END;
	return STACK_END;
}

/** The synchronous-call scratch of the last process that made a call, and of the others. */
let lastScratch: Scratch | null = null;
const scratches = new WeakMap<Process, Scratch>();

/** `p`'s scratch for synchronous calls (a new one after an execve). */
function scratchOf(p: Process): Scratch {
	const last = lastScratch;
	if (last !== null && last.p === p && last.mm === p.mm) return last;
	let s = scratches.get(p);
	if (s === undefined || s.mm !== p.mm) {
		s = new Scratch(p, true);
		scratches.set(p, s);
	}
	lastScratch = s;
	return s;
}

/**
 * Runs a libc function body: `body` returns the kernel's raw result; an
 * Errno thrown by libc's own checks (scratch allocation, a short array) is
 * a failure like any other.
 */
export function call(body: (s: Scratch) => number): number {
	const p = self();
	const s = scratchOf(p);
	const sp = s.sp;
	const mallocs = s.mallocs;
	try {
		return result(p, body(s));
	} catch (e) {
		if (e instanceof Errno) return result(p, -e.errno);
		throw e;
	} finally {
		s.release(sp, mallocs);
	}
}

/** `call()` for a body that may sleep. */
export async function callAsync(body: (s: Scratch) => Promise<number>): Promise<number> {
	const p = self();
	const s = new Scratch(p, false);
	try {
		const ret = await body(s);
		errnoEnter(p);
		return result(p, ret);
	} catch (e) {
		if (e instanceof Errno) return result(p, -e.errno);
		throw e;
	} finally {
		s.release(0, 0);
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
