/**
 * <fcntl.h>: open flags, fcntl commands, AT_* flags and open, openat, creat,
 * fcntl (glibc io/open64.c, io/openat64.c, sysdeps/unix/sysv/linux/fcntl64.c).
 * Values are x86_64's (include/uapi/asm-generic/fcntl.h, linux/fcntl.h), as
 * glibc 2.36 defines them.
 */
import { call, rawSyscall, type Buf } from "./sys.ts";

export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_NDELAY = O_NONBLOCK;
export const O_DSYNC = 0o10000;
export const O_ASYNC = 0o20000;
export const FASYNC = O_ASYNC;
export const O_DIRECT = 0o40000;
/** 0 in userspace on x86_64, as in glibc: a 64-bit kernel forces large-file mode itself. */
export const O_LARGEFILE = 0;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;
export const O_RSYNC = O_SYNC;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20200000;

export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_GETLK = 5;
export const F_SETLK = 6;
export const F_SETLKW = 7;
export const F_SETOWN = 8;
export const F_GETOWN = 9;
export const F_SETSIG = 10;
export const F_GETSIG = 11;
export const F_OFD_GETLK = 36;
export const F_OFD_SETLK = 37;
export const F_OFD_SETLKW = 38;
export const F_LINUX_SPECIFIC_BASE = 1024;
export const F_SETLEASE = 1024;
export const F_GETLEASE = 1025;
export const F_NOTIFY = 1026;
export const F_DUPFD_CLOEXEC = 1030;
export const F_SETPIPE_SZ = 1031;
export const F_GETPIPE_SZ = 1032;
export const F_ADD_SEALS = 1033;
export const F_GET_SEALS = 1034;
/** memfd seals (F_ADD_SEALS / F_GET_SEALS). */
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;
export const F_SEAL_FUTURE_WRITE = 0x10;
export const F_SEAL_EXEC = 0x20;

/** The close-on-exec fd flag (F_GETFD / F_SETFD). */
export const FD_CLOEXEC = 1;

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EACCESS = 0x200;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_RECURSIVE = 0x8000;

/** A path argument: a JS string, or the user address of a NUL-terminated one. */
export type PathArg = string | number;

/**
 * openat(2): opens `path` relative to `dirfd`; `mode` matters with O_CREAT
 * or O_TMPFILE. Returns the lowest free fd.
 */
export function openat(dirfd: number, path: PathArg, flags: number, mode = 0): number {
	return call((s) => rawSyscall(s.p, "openat", [dirfd, s.str(path), flags, mode]));
}

/** open(2), made as glibc makes it: `openat(AT_FDCWD, path, flags, mode)`. */
export function open(path: PathArg, flags: number, mode = 0): number {
	return openat(AT_FDCWD, path, flags, mode);
}

/** creat(2): `open(path, O_CREAT|O_WRONLY|O_TRUNC, mode)`. */
export function creat(path: PathArg, mode: number): number {
	return openat(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/**
 * fcntl(2). `arg` is an integer for F_DUPFD, F_SETFD, F_SETFL, F_ADD_SEALS
 * ...; for commands that take a struct pointer (F_GETLK ...) a Uint8Array
 * (copied in and back) or a user address.
 */
export function fcntl(fd: number, cmd: number, arg: Buf = 0): number {
	return call((s) => {
		if (typeof arg === "number") return rawSyscall(s.p, "fcntl", [fd, cmd, arg]);
		const addr = s.buf(arg, arg.length);
		const ret = rawSyscall(s.p, "fcntl", [fd, cmd, addr]);
		s.copyBack(arg, addr, arg.length);
		return ret;
	});
}
