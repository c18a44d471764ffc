/**
 * <unistd.h>, file descriptors and paths: close, read, write, pread, pwrite,
 * lseek, dup, dup2, dup3, pipe, pipe2, unlink, rmdir, symlink, readlink,
 * chdir, getcwd, ftruncate, truncate, access (glibc
 * sysdeps/unix/sysv/linux/*.c: each is one system call of the same name,
 * pread/pwrite are pread64/pwrite64).
 *
 * Buffers are a `Uint8Array` (copied through user memory around the call;
 * `count` must not exceed its length, or the call fails with EFAULT where C
 * would overrun the array) or a user address.
 */
import { Errno, EFAULT } from "../kernel/errno.ts";
import { call, rawSyscall, view, type Buf, type Scratch } from "./sys.ts";
import type { PathArg } from "./fcntl.ts";

export const STDIN_FILENO = 0;
export const STDOUT_FILENO = 1;
export const STDERR_FILENO = 2;

/* lseek() whences and access() modes: the kernel's values (lib/fs/fcntl.ts), glibc's too. */
export { SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE, F_OK, X_OK, W_OK, R_OK } from "../fs/fcntl.ts";

/** close(2). */
export function close(fd: number): number {
	return call((s) => rawSyscall(s.p, "close", [fd]));
}

/*
 * A read-style call: the kernel fills up to `count` bytes at an address
 * (readBuf: `buf` itself, or scratch for an array), and the `ret` bytes it
 * wrote come back into the array (readDone).
 */

/** The address a read-style call writes to (scratch need not be zeroed: the kernel only writes it, and only what it wrote comes back). */
function readBuf(s: Scratch, buf: Buf, count: number): number {
	if (typeof buf === "number") return buf;
	if (count > buf.length) throw new Errno(EFAULT);
	return s.reserve(count);
}

/** Hands the bytes a read-style call returned back to `buf`; returns `ret`. */
function readDone(s: Scratch, buf: Buf, addr: number, ret: number): number {
	if (ret > 0) s.copyBack(buf, addr, ret);
	return ret;
}

/** read(2): up to `count` bytes at the file position into `buf`; returns the count read, 0 at end of file. */
export function read(fd: number, buf: Buf, count: number): number {
	return call((s) => {
		const addr = readBuf(s, buf, count);
		return readDone(s, buf, addr, rawSyscall(s.p, "read", [fd, addr, count]));
	});
}

/** write(2): `count` bytes of `buf`; returns the count written. */
export function write(fd: number, buf: Buf, count: number): number {
	return call((s) => rawSyscall(s.p, "write", [fd, s.buf(buf, count), count]));
}

/** pread(2) (pread64): read at `offset` without moving the file position. */
export function pread(fd: number, buf: Buf, count: number, offset: number): number {
	return call((s) => {
		const addr = readBuf(s, buf, count);
		return readDone(s, buf, addr, rawSyscall(s.p, "pread64", [fd, addr, count, offset]));
	});
}

/** pwrite(2) (pwrite64): write at `offset` without moving the file position. */
export function pwrite(fd: number, buf: Buf, count: number, offset: number): number {
	return call((s) => rawSyscall(s.p, "pwrite64", [fd, s.buf(buf, count), count, offset]));
}

/** lseek(2): returns the new offset. */
export function lseek(fd: number, offset: number, whence: number): number {
	return call((s) => rawSyscall(s.p, "lseek", [fd, offset, whence]));
}

/** dup(2): the lowest free fd, sharing the open file description. */
export function dup(oldfd: number): number {
	return call((s) => rawSyscall(s.p, "dup", [oldfd]));
}

/** dup2(2): `newfd` (closed first if open) refers to `oldfd`'s file. */
export function dup2(oldfd: number, newfd: number): number {
	return call((s) => rawSyscall(s.p, "dup2", [oldfd, newfd]));
}

/** dup3(2): dup2 with O_CLOEXEC in `flags`; EINVAL when `oldfd == newfd`. */
export function dup3(oldfd: number, newfd: number, flags: number): number {
	return call((s) => rawSyscall(s.p, "dup3", [oldfd, newfd, flags]));
}

/** Where pipe() stores its two fds: `int pipefd[2]` as an array, or a user address. */
export type FdPair = Int32Array | number[] | number;

function pipeCall(fds: FdPair, name: "pipe" | "pipe2", flags: number): number {
	return call((s) => {
		const addr = typeof fds === "number" ? fds : s.alloc(8);
		const ret = rawSyscall(s.p, name, name === "pipe" ? [addr] : [addr, flags]);
		if (ret === 0 && typeof fds !== "number") {
			const v = view(s.read(addr, 8));
			fds[0] = v.getInt32(0, true);
			fds[1] = v.getInt32(4, true);
		}
		return ret;
	});
}

/** pipe(2): `fds[0]` is the read end, `fds[1]` the write end. */
export function pipe(fds: FdPair): number {
	return pipeCall(fds, "pipe", 0);
}

/** pipe2(2): pipe() with O_CLOEXEC / O_NONBLOCK / O_DIRECT in `flags`. */
export function pipe2(fds: FdPair, flags: number): number {
	return pipeCall(fds, "pipe2", flags);
}

/** unlink(2). */
export function unlink(path: PathArg): number {
	return call((s) => rawSyscall(s.p, "unlink", [s.str(path)]));
}

/** rmdir(2). */
export function rmdir(path: PathArg): number {
	return call((s) => rawSyscall(s.p, "rmdir", [s.str(path)]));
}

/** symlink(2): creates `linkpath` pointing at `target`. */
export function symlink(target: PathArg, linkpath: PathArg): number {
	return call((s) => rawSyscall(s.p, "symlink", [s.str(target), s.str(linkpath)]));
}

/** readlink(2): the target's bytes into `buf` (not NUL-terminated, truncated to `bufsiz`); returns their count. */
export function readlink(path: PathArg, buf: Buf, bufsiz: number): number {
	return call((s) => {
		const addr = readBuf(s, buf, bufsiz);
		return readDone(s, buf, addr, rawSyscall(s.p, "readlink", [s.str(path), addr, bufsiz]));
	});
}

/** chdir(2). */
export function chdir(path: PathArg): number {
	return call((s) => rawSyscall(s.p, "chdir", [s.str(path)]));
}

/** fchdir(2). */
export function fchdir(fd: number): number {
	return call((s) => rawSyscall(s.p, "fchdir", [fd]));
}

/** PATH_MAX (include/uapi/linux/limits.h). */
export const PATH_MAX = 4096;

/**
 * getcwd(3). C returns `buf` or NULL; here the path as a string, or null
 * with errno set (ERANGE when `size` is too small). The path is also stored
 * in `buf` (NUL-terminated) when one is given; with `buf` null (the glibc
 * extension `getcwd(NULL, 0)`) `size` is ignored.
 */
export function getcwd(buf: Buf | null, size: number): string | null {
	let path: string | null = null;
	const ret = call((s) => {
		const len = buf === null ? PATH_MAX : size;
		const addr = buf === null ? s.alloc(len) : typeof buf === "number" ? buf : s.buf(buf, len);
		const r = rawSyscall(s.p, "getcwd", [addr, len]);
		if (r > 0) {
			const bytes = s.read(addr, r);
			path = new TextDecoder().decode(bytes.subarray(0, r - 1));
			if (buf !== null) s.copyBack(buf, addr, r);
		}
		return r;
	});
	return ret < 0 ? null : path;
}

/** ftruncate(2). */
export function ftruncate(fd: number, length: number): number {
	return call((s) => rawSyscall(s.p, "ftruncate", [fd, length]));
}

/** truncate(2). */
export function truncate(path: PathArg, length: number): number {
	return call((s) => rawSyscall(s.p, "truncate", [s.str(path), length]));
}

/** access(2): F_OK or a mask of R_OK/W_OK/X_OK, checked with the real uid. */
export function access(path: PathArg, mode: number): number {
	return call((s) => rawSyscall(s.p, "access", [s.str(path), mode]));
}

/** fsync(2). */
export function fsync(fd: number): number {
	return call((s) => rawSyscall(s.p, "fsync", [fd]));
}
