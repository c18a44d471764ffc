/**
 * <string.h> on user memory: memset, memcpy, memcmp, strlen, strncpy,
 * strerror; and peek/poke, which stand for C's `*p` loads and stores.
 *
 * A memory argument is a user address (number) or a `Uint8Array`. As in C,
 * touching memory that is not there (an unmapped address, a store to a
 * read-only mapping, or past the end of an array) is not an error return:
 * the process dies with SIGSEGV; touching a file mapping where the file
 * has no page (past its end) kills with SIGBUS.
 */
import { Errno, errnoName } from "../kernel/errno.ts";
import { sendSignal } from "../kernel/process.ts";
import { SIGBUS, SIGSEGV } from "../kernel/signal.ts";
import { PAGE_SIZE, protReadable, protWritable } from "../uaccess/vma.ts";
import type { Process } from "../kernel/process.ts";
import { self, type Buf } from "./sys.ts";

export { strerror } from "../kernel/errno.ts";
export { strsignal } from "../kernel/signal.ts";

/** strerrorname_np(3) (glibc 2.32+): "ENOENT" for ENOENT; null for a number that is no userspace errno. */
export function strerrorname_np(errnum: number): string | null {
	const name = errnoName(errnum);
	return name.startsWith("E") && errnum < 512 ? name : null;
}

/** A fault in user code: SIGSEGV to the caller (never returns). */
function segv(p: Process): never {
	sendSignal(p, SIGSEGV);
	throw new Error("luosim: SIGSEGV did not stop the process");
}

/**
 * A fault on `len` bytes at `addr` (never returns): SIGBUS when every page
 * is mapped with the access needed, so the mapped object could not supply
 * one (do_fault's VM_FAULT_SIGBUS past a file's end); SIGSEGV otherwise.
 */
function fault(p: Process, addr: number, len: number, write: boolean): never {
	let bus = Number.isSafeInteger(addr) && addr >= 0;
	for (let a = addr - (addr % PAGE_SIZE); a < addr + len && bus; a += PAGE_SIZE) {
		const v = p.mm.findVma(a);
		bus = v !== undefined && (write ? protWritable(v.prot) : protReadable(v.prot));
	}
	if (!bus) segv(p);
	sendSignal(p, SIGBUS);
	throw new Error("luosim: SIGBUS did not stop the process");
}

function load(p: Process, src: Buf, n: number): Uint8Array {
	if (typeof src !== "number") {
		if (n > src.length) segv(p);
		return src.subarray(0, n);
	}
	try {
		return p.mm.copyFromUser(src, n);
	} catch (e) {
		if (e instanceof Errno) fault(p, src, n, false);
		throw e;
	}
}

function store(p: Process, dest: Buf, bytes: Uint8Array): void {
	if (typeof dest !== "number") {
		if (bytes.length > dest.length) segv(p);
		dest.set(bytes);
		return;
	}
	try {
		p.mm.copyToUser(dest, bytes);
	} catch (e) {
		if (e instanceof Errno) fault(p, dest, bytes.length, true);
		throw e;
	}
}

/** `*p` for `len` bytes at `addr`: a copy of them. SIGSEGV if any is unmapped or unreadable. */
export function peek(addr: number, len: number): Uint8Array {
	const p = self();
	return load(p, addr, len).slice();
}

/** `*p = ...` for `bytes` at `addr`. SIGSEGV if any is unmapped or not writable. */
export function poke(addr: number, bytes: Uint8Array): void {
	store(self(), addr, bytes);
}

/** memset(3): fills `n` bytes of `s` with `c & 0xff`; returns `s`. */
export function memset<T extends Buf>(s: T, c: number, n: number): T {
	const p = self();
	if (n > 0) store(p, s, new Uint8Array(n).fill(c & 0xff));
	return s;
}

/** memcpy(3): copies `n` bytes from `src` to `dest` (overlap allowed: memmove semantics); returns `dest`. */
export function memcpy<T extends Buf>(dest: T, src: Buf, n: number): T {
	const p = self();
	if (n > 0) store(p, dest, load(p, src, n).slice());
	return dest;
}

/** memmove(3). */
export const memmove = memcpy;

/** memcmp(3): the difference of the first differing bytes (as unsigned char), 0 if equal. */
export function memcmp(s1: Buf, s2: Buf, n: number): number {
	const p = self();
	if (n <= 0) return 0;
	const a = load(p, s1, n);
	const b = load(p, s2, n);
	for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
	return 0;
}

const encoder = new TextEncoder();

/** strlen(3): bytes before the NUL of a C string at a user address, or the UTF-8 length of a JS string. */
export function strlen(s: string | Buf): number {
	if (typeof s === "string") return encoder.encode(s).length;
	const p = self();
	if (typeof s !== "number") {
		const i = s.indexOf(0);
		return i >= 0 ? i : segv(p);
	}
	for (let n = 0; ; n++) if (load(p, s + n, 1)[0] === 0) return n;
}

/**
 * strncpy(3): copies the UTF-8 bytes of `src` (a JS string or a C string
 * in memory) into `dest`, at most `n`, padding with NULs up to `n` (and,
 * as in C, no NUL when `src` is `n` bytes or longer); returns `dest`.
 */
export function strncpy<T extends Buf>(dest: T, src: string | Buf, n: number): T {
	const p = self();
	const bytes = typeof src === "string" ? encoder.encode(src) : load(p, src, strlen(src));
	const out = new Uint8Array(n);
	out.set(bytes.subarray(0, n));
	store(p, dest, out);
	return dest;
}
