/**
 * <fcntl.h>: open flags, fcntl commands, AT_* flags and open, openat, creat,
 * fcntl (glibc io/open64.c, io/openat64.c, sysdeps/unix/sysv/linux/fcntl64.c).
 * Values are x86_64's (include/uapi/asm-generic/fcntl.h, linux/fcntl.h), as
 * glibc 2.36 defines them.
 */
import { call, rawSyscall, type Buf } from "./sys.ts";
import { AT_FDCWD, O_CREAT, O_SYNC, O_TRUNC, O_WRONLY } from "../fs/fcntl.ts";

/*
 * The open flags, fcntl commands and AT_* flags whose glibc values are the
 * kernel's own: libc re-exports lib/fs/fcntl.ts (the gcc constants test
 * checks every one of them against <fcntl.h>).
 */
export {
	O_ACCMODE, O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, O_APPEND, O_NONBLOCK, O_NDELAY, O_DSYNC,
	O_ASYNC, FASYNC, O_DIRECT, O_DIRECTORY, O_NOFOLLOW, O_NOATIME, O_CLOEXEC, O_SYNC, O_PATH, O_TMPFILE,
	F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, F_SETLK, F_SETLKW, F_SETOWN, F_GETOWN, F_SETSIG, F_GETSIG,
	F_LINUX_SPECIFIC_BASE, F_SETLEASE, F_GETLEASE, F_NOTIFY, F_DUPFD_CLOEXEC, F_SETPIPE_SZ, F_GETPIPE_SZ, F_ADD_SEALS,
	F_GET_SEALS, FD_CLOEXEC,
	AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_EACCESS, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_NO_AUTOMOUNT, AT_EMPTY_PATH,
} from "../fs/fcntl.ts";

/** O_RSYNC: glibc's alias of O_SYNC (the kernel has no separate bit). */
export const O_RSYNC = O_SYNC;
/** 0 in userspace on x86_64, as in glibc: a 64-bit kernel forces large-file mode itself (the kernel's bit is 0o100000). */
export const O_LARGEFILE = 0;

/** Open file description locks (glibc <bits/fcntl-linux.h>; luosim's fcntl does not implement them). */
export const F_OFD_GETLK = 36;
export const F_OFD_SETLK = 37;
export const F_OFD_SETLKW = 38;
/** memfd seals (F_ADD_SEALS / F_GET_SEALS). */
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;
export const F_SEAL_FUTURE_WRITE = 0x10;
export const F_SEAL_EXEC = 0x20;

/** AT_RECURSIVE (mount_setattr, open_tree): no kernel code here uses it. */
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
