/**
 * What the mainline LUO files share (kernel/liveupdate/luo_internal.h):
 * `struct luo_ucmd` with luo_ucmd_respond(), the size-first argument copy
 * the dispatchers use (copy_struct_from_user() of include/linux/uaccess.h),
 * and session names as bytes.
 */
import { Errno, E2BIG } from "../../kernel/errno.ts";
import type { Process } from "../../kernel/process.ts";

/** struct luo_ucmd: the caller, its argument's address and size, and the kernel's copy of the struct. */
export interface LuoUcmd {
	readonly p: Process;
	readonly ubuffer: number;
	readonly user_size: number;
	/** The struct at the kernel's size (copy_struct_from_user's zero-extended copy); handlers fill the output fields. */
	readonly cmd: Uint8Array;
}

/** How much of the unknown tail check_zeroed_user() reads at a time (it stops at a fault or a non-zero byte). */
const ZERO_CHECK_CHUNK = 4096;

/**
 * check_zeroed_user(): true when `len` user bytes at `addr` are all zero;
 * EFAULT when one cannot be read before a non-zero one is found.
 */
function check_zeroed_user(p: Process, addr: number, len: number): boolean {
	for (let off = 0; off < len; off += ZERO_CHECK_CHUNK) {
		const n = Math.min(ZERO_CHECK_CHUNK, len - off);
		if (p.mm.copyFromUser(addr + off, n).some((b) => b !== 0)) return false;
	}
	return true;
}

/**
 * copy_struct_from_user(dst, ksize, src, usize): the kernel's `ksize`-byte
 * copy of a user struct of `usize` bytes. A smaller user struct is
 * zero-extended; a larger one must be zero past `ksize` (E2BIG otherwise);
 * EFAULT on a fault.
 */
export function copy_struct_from_user(p: Process, ksize: number, src: number, usize: number): Uint8Array {
	const dst = new Uint8Array(ksize);
	const size = Math.min(ksize, usize);
	if (usize > ksize && !check_zeroed_user(p, src + ksize, usize - ksize)) throw new Errno(E2BIG);
	dst.set(p.mm.copyFromUser(src, size));
	return dst;
}

/**
 * luo_ucmd_respond(): copies the kernel struct back, `min(user_size,
 * kernel_cmd_size)` bytes of it, so an older (smaller) struct gets what it
 * knows. EFAULT when the copy faults.
 */
export function luo_ucmd_respond(ucmd: LuoUcmd, kernel_cmd_size: number): void {
	const n = Math.min(ucmd.user_size, kernel_cmd_size);
	ucmd.p.mm.copyToUser(ucmd.ubuffer, ucmd.cmd.subarray(0, n));
}

/** A DataView over a struct's bytes. */
export function cmdView(cmd: Uint8Array): DataView {
	return new DataView(cmd.buffer, cmd.byteOffset, cmd.byteLength);
}

/** strnlen(bytes, bytes.length). */
export function strnlen(bytes: Uint8Array): number {
	const nul = bytes.indexOf(0);
	return nul < 0 ? bytes.length : nul;
}

/**
 * A C string's bytes as a JS string of the same length, one character per
 * byte (latin1), so that comparing two names is strncmp and writing one
 * back gives the same bytes.
 */
export function bytesToName(bytes: Uint8Array): string {
	let s = "";
	for (let i = 0; i < strnlen(bytes); i++) s += String.fromCharCode(bytes[i]!);
	return s;
}

/** The bytes of a name made by bytesToName. */
export function nameToBytes(name: string): Uint8Array {
	const out = new Uint8Array(name.length);
	for (let i = 0; i < name.length; i++) out[i] = name.charCodeAt(i);
	return out;
}

/** A name for messages and /proc: its bytes read as UTF-8, as a terminal would show them. */
export function nameForDisplay(name: string): string {
	return new TextDecoder().decode(nameToBytes(name));
}
