/**
 * <stdlib.h>: malloc, calloc, realloc, free on the process's user heap;
 * exit, abort; atoi, strtol, strtoul; getenv.
 *
 * Heap memory is real user memory: the returned addresses work with read,
 * write, ioctl, peek and poke, and a fork child gets a copy.
 */
import { Errno, ENOMEM, EINVAL, ERANGE } from "../kernel/errno.ts";
import { sendSignal } from "../kernel/process.ts";
import { SIGABRT } from "../kernel/signal.ts";
import { self, rawSyscall } from "./sys.ts";
import { _exit } from "./unistd-proc.ts";
import { write } from "./unistd.ts";
import { HeapError } from "../uaccess/malloc.ts";
import { errnoSet } from "./errno-state.ts";

export const EXIT_SUCCESS = 0;
export const EXIT_FAILURE = 1;
/** The null pointer. */
export const NULL = 0;

/** Runs a heap operation; a failure (0 or a thrown ENOMEM) is NULL with errno ENOMEM. */
function heapCall(fn: () => number): number {
	const p = self();
	try {
		const addr = fn();
		if (addr === 0) errnoSet(p, ENOMEM);
		return addr;
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		errnoSet(p, e.errno);
		return 0;
	}
}

/** malloc(3): `size` bytes of user memory, or 0 (NULL) with ENOMEM. */
export function malloc(size: number): number {
	return heapCall(() => self().heap.malloc(size));
}

/** calloc(3): `nmemb * size` zeroed bytes; ENOMEM also when the product overflows. */
export function calloc(nmemb: number, size: number): number {
	const total = nmemb * size;
	if (!Number.isSafeInteger(total)) return heapCall(() => 0);
	return heapCall(() => self().heap.calloc(nmemb, size));
}

/** glibc's malloc_printerr(): the message on stderr, then abort(). */
function heapMisuse(e: unknown): never {
	if (!(e instanceof HeapError)) throw e;
	write(2, encoder.encode(`${e.message}\n`), e.message.length + 1);
	return abort();
}

/**
 * realloc(3): resizes (moving if needed, contents kept); `realloc(0, n)` is
 * malloc(n), `realloc(p, 0)` frees and returns NULL. NULL with ENOMEM leaves
 * `ptr` alone. A pointer malloc did not return aborts, as glibc does.
 */
export function realloc(ptr: number, size: number): number {
	try {
		return heapCall(() => self().heap.realloc(ptr, size));
	} catch (e) {
		return heapMisuse(e);
	}
}

/**
 * free(3): `free(0)` does nothing. Freeing a pointer malloc did not return,
 * or freeing twice, prints glibc's message ("free(): invalid pointer") on
 * stderr and aborts.
 */
export function free(ptr: number): void {
	const p = self();
	try {
		p.heap.free(ptr);
	} catch (e) {
		heapMisuse(e);
	}
}

/**
 * exit(3): ends the process with `status & 0xff`. luosim's stdio is
 * unbuffered, so there is nothing to flush (and no atexit handlers run):
 * this is _exit(). Never returns.
 */
export function exit(status: number): never {
	return _exit(status);
}

/**
 * abort(3): raises SIGABRT; the process dies "killed by signal 6" (wait
 * status WIFSIGNALED, WTERMSIG 6). Never returns.
 */
export function abort(): never {
	const p = self();
	rawSyscall(p, "kill", [p.pid, SIGABRT]);
	sendSignal(p, SIGABRT);
	throw new Error("luosim: SIGABRT did not stop the process");
}

/** getenv(3): luosim programs start with an empty environment, so always null. */
export function getenv(_name: string): string | null {
	return null;
}

const encoder = new TextEncoder();

const DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz";

/**
 * The parse shared by strtol and strtoul: leading space, sign, 0x / 0
 * prefixes as C does. `endptr[0]`, if given, gets the index of the first
 * character not used (0 when no digits were found).
 */
function parseInteger(nptr: string, endptr: number[] | null, base: number): { neg: boolean; value: bigint; ok: boolean } {
	let i = 0;
	while (i < nptr.length && " \t\n\v\f\r".includes(nptr[i]!)) i++;
	let neg = false;
	if (nptr[i] === "+" || nptr[i] === "-") neg = nptr[i++] === "-";
	if ((base === 0 || base === 16) && nptr[i] === "0" && (nptr[i + 1] === "x" || nptr[i + 1] === "X") && DIGITS.slice(0, 16).includes((nptr[i + 2] ?? "").toLowerCase())) {
		i += 2;
		base = 16;
	} else if (base === 0) base = nptr[i] === "0" ? 8 : 10;
	let value = 0n;
	const start = i;
	for (; i < nptr.length; i++) {
		const d = DIGITS.indexOf(nptr[i]!.toLowerCase());
		if (d < 0 || d >= base) break;
		value = value * BigInt(base) + BigInt(d);
	}
	const ok = i > start;
	if (endptr) endptr[0] = ok ? i : 0;
	return { neg, value, ok };
}

/** strtol(3) for a 64-bit long (exact within ±2^53, as a JS number): ERANGE and LONG_MIN/LONG_MAX on overflow, EINVAL for a bad base. */
export function strtol(nptr: string, endptr: number[] | null, base: number): number {
	const p = self();
	if (base !== 0 && (base < 2 || base > 36)) {
		errnoSet(p, EINVAL);
		return 0;
	}
	const { neg, value } = parseInteger(nptr, endptr, base);
	const v = neg ? -value : value;
	const max = (1n << 63n) - 1n;
	if (v > max || v < -max - 1n) {
		errnoSet(p, ERANGE);
		return Number(v > 0n ? max : -max - 1n);
	}
	return Number(v);
}

/** strtoul(3): as C, a leading '-' negates in unsigned arithmetic; ERANGE and ULONG_MAX on overflow. */
export function strtoul(nptr: string, endptr: number[] | null, base: number): number {
	const p = self();
	if (base !== 0 && (base < 2 || base > 36)) {
		errnoSet(p, EINVAL);
		return 0;
	}
	const { neg, value } = parseInteger(nptr, endptr, base);
	if (value > (1n << 64n) - 1n) {
		errnoSet(p, ERANGE);
		return Number((1n << 64n) - 1n);
	}
	return Number(neg ? BigInt.asUintN(64, -value) : value);
}

/** atoi(3): `(int) strtol(nptr, NULL, 10)`. */
export function atoi(nptr: string): number {
	return Number(BigInt.asIntN(32, BigInt(strtol(nptr, null, 10))));
}

/** atol(3). */
export function atol(nptr: string): number {
	return strtol(nptr, null, 10);
}
