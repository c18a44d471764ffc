/**
 * <sys/stat.h>: struct stat, stat/fstat/lstat/fstatat, mkdir/mkdirat,
 * chmod/fchmod, umask, the S_I* bits and S_IS* tests (glibc 2.36
 * sysdeps/unix/sysv/linux/fstatat64.c: stat, fstat and lstat are all
 * newfstatat(2) calls on x86_64, fstat with AT_EMPTY_PATH).
 *
 * `struct stat` is a `Stat` object whose fields are numbers (every value
 * luosim produces fits in 2^53; C has u64 and long here), filled from the
 * kernel's 144-byte x86_64 struct. A `Uint8Array` of 144 bytes or a user
 * address may be passed instead, receiving the raw struct.
 */
import { Errno, EFAULT, ENOSYS } from "../kernel/errno.ts";
import { call, rawSyscall, hasSyscall, sys, view, type Scratch } from "./sys.ts";
import { AT_FDCWD, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, type PathArg } from "./fcntl.ts";
import type { Timespec } from "./time.ts";

export {
	S_IFMT, S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO, S_ISUID, S_ISGID, S_ISVTX,
	S_ISDIR, S_ISREG, S_ISLNK, S_ISCHR, S_ISFIFO, makedev, major, minor,
} from "../fs/inode.ts";
import { S_IFMT, S_IFBLK, S_IFSOCK } from "../fs/inode.ts";

export const S_IRWXU = 0o700;
export const S_IRUSR = 0o400;
export const S_IWUSR = 0o200;
export const S_IXUSR = 0o100;
export const S_IRWXG = 0o70;
export const S_IRGRP = 0o40;
export const S_IWGRP = 0o20;
export const S_IXGRP = 0o10;
export const S_IRWXO = 0o7;
export const S_IROTH = 0o4;
export const S_IWOTH = 0o2;
export const S_IXOTH = 0o1;
export const S_IREAD = S_IRUSR;
export const S_IWRITE = S_IWUSR;
export const S_IEXEC = S_IXUSR;
/** 0777 and 07777 (glibc's ACCESSPERMS / ALLPERMS) and 0666 (DEFFILEMODE). */
export const ACCESSPERMS = 0o777;
export const ALLPERMS = 0o7777;
export const DEFFILEMODE = 0o666;

/** S_ISBLK(m). */
export function S_ISBLK(mode: number): boolean {
	return (mode & S_IFMT) === S_IFBLK;
}
/** S_ISSOCK(m). */
export function S_ISSOCK(mode: number): boolean {
	return (mode & S_IFMT) === S_IFSOCK;
}

/** sizeof(struct stat) on x86_64. */
export const SIZEOF_STAT = 144;

/** struct stat (x86_64 layout: arch/x86/include/uapi/asm/stat.h). `new Stat()` is `struct stat st;`. */
export class Stat {
	st_dev = 0;
	st_ino = 0;
	st_nlink = 0;
	st_mode = 0;
	st_uid = 0;
	st_gid = 0;
	st_rdev = 0;
	st_size = 0;
	st_blksize = 0;
	st_blocks = 0;
	st_atim: Timespec = { tv_sec: 0, tv_nsec: 0 };
	st_mtim: Timespec = { tv_sec: 0, tv_nsec: 0 };
	st_ctim: Timespec = { tv_sec: 0, tv_nsec: 0 };

	/** C's `st_atime` macro: `st_atim.tv_sec`. */
	get st_atime(): number {
		return this.st_atim.tv_sec;
	}
	get st_mtime(): number {
		return this.st_mtim.tv_sec;
	}
	get st_ctime(): number {
		return this.st_ctim.tv_sec;
	}

	/** Fills the fields from the kernel's 144 bytes. */
	static decode(b: Uint8Array, into: Stat = new Stat()): Stat {
		const v = view(b);
		const u64 = (o: number): number => Number(v.getBigUint64(o, true));
		const i64 = (o: number): number => Number(v.getBigInt64(o, true));
		into.st_dev = u64(0);
		into.st_ino = u64(8);
		into.st_nlink = u64(16);
		into.st_mode = v.getUint32(24, true);
		into.st_uid = v.getUint32(28, true);
		into.st_gid = v.getUint32(32, true);
		into.st_rdev = u64(40);
		into.st_size = i64(48);
		into.st_blksize = i64(56);
		into.st_blocks = i64(64);
		into.st_atim = { tv_sec: i64(72), tv_nsec: i64(80) };
		into.st_mtim = { tv_sec: i64(88), tv_nsec: i64(96) };
		into.st_ctim = { tv_sec: i64(104), tv_nsec: i64(112) };
		return into;
	}
}

/** A `struct stat *`: a Stat, 144 raw bytes, or a user address. */
export type StatArg = Stat | Uint8Array | number;

function statCall(s: Scratch, dirfd: number, path: PathArg, buf: StatArg, flags: number, fallback: (addr: number) => number): number {
	if (buf instanceof Uint8Array && buf.length < SIZEOF_STAT) throw new Errno(EFAULT);
	const addr = typeof buf === "number" ? buf : s.alloc(SIZEOF_STAT);
	const ret = hasSyscall("newfstatat") ? rawSyscall(s.p, "newfstatat", [dirfd, s.str(path), addr, flags]) : fallback(addr);
	if (ret === 0 && typeof buf !== "number") {
		const bytes = s.read(addr, SIZEOF_STAT);
		if (buf instanceof Uint8Array) buf.set(bytes);
		else Stat.decode(bytes, buf);
	}
	return ret;
}

/** fstatat(2) (newfstatat): AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH in `flags`. */
export function fstatat(dirfd: number, path: PathArg, buf: StatArg, flags: number): number {
	return call((s) => statCall(s, dirfd, path, buf, flags, () => -ENOSYS));
}

/** stat(2): follows symlinks. ENOENT, ENOTDIR, ELOOP, EACCES, ENAMETOOLONG. */
export function stat(path: PathArg, buf: StatArg): number {
	return call((s) => statCall(s, AT_FDCWD, path, buf, 0, (addr: number) => rawSyscall(s.p, "stat", [s.str(path), addr])));
}

/** lstat(2): a symlink itself. */
export function lstat(path: PathArg, buf: StatArg): number {
	return call((s) => statCall(s, AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW, (addr: number) => rawSyscall(s.p, "lstat", [s.str(path), addr])));
}

/** fstat(2): EBADF for a closed fd. */
export function fstat(fd: number, buf: StatArg): number {
	return call((s) => statCall(s, fd, "", buf, AT_EMPTY_PATH, (addr: number) => rawSyscall(s.p, "fstat", [fd, addr])));
}

/** mkdir(2): `mode & ~umask`; EEXIST, ENOENT, ENOTDIR, EACCES. */
export function mkdir(path: PathArg, mode: number): number {
	return call((s) => (hasSyscall("mkdir") ? rawSyscall(s.p, "mkdir", [s.str(path), mode]) : rawSyscall(s.p, "mkdirat", [AT_FDCWD, s.str(path), mode])));
}

/** mkdirat(2). */
export function mkdirat(dirfd: number, path: PathArg, mode: number): number {
	return call((s) => rawSyscall(s.p, "mkdirat", [dirfd, s.str(path), mode]));
}

/** chmod(2). */
export function chmod(path: PathArg, mode: number): number {
	return call((s) => rawSyscall(s.p, "chmod", [s.str(path), mode]));
}

/** fchmod(2). */
export function fchmod(fd: number, mode: number): number {
	return call((s) => rawSyscall(s.p, "fchmod", [fd, mode]));
}

/** umask(2): sets the mask, returns the old one (never fails). */
export function umask(mask: number): number {
	return sys("umask", mask & 0o777);
}
