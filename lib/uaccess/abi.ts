/**
 * Struct layouts and ioctl numbers of the x86_64 Linux/glibc ABI that more
 * than one module uses (syscalls on the kernel side, libc on the user
 * side). Each is checked against gcc in abiCheck.test.ts.
 */
import { array, char, long, s16, s32, s64, size_t, struct, u16, u32, u64, u8, int } from "./struct.ts";
import { _IOR, _IOW } from "./ioctl.ts";

/** struct pollfd (<poll.h>, include/uapi/asm-generic/poll.h): 8 bytes. */
export const struct_pollfd = struct("pollfd", {
	fd: s32,
	events: s16,
	revents: s16,
});

/** struct timespec (<time.h>, x86_64: time_t and long are 64-bit): 16 bytes. */
export const struct_timespec = struct("timespec", {
	tv_sec: s64,
	tv_nsec: s64,
});

/** struct rlimit (<sys/resource.h>; rlim_t is unsigned 64-bit, RLIM_INFINITY is ~0): 16 bytes. */
export const struct_rlimit = struct("rlimit", {
	rlim_cur: u64,
	rlim_max: u64,
});

/**
 * glibc's x86_64 struct stat (bits/struct_stat.h), which is the kernel's
 * struct stat of newfstatat(2) (arch/x86/include/uapi/asm/stat.h): 144 bytes.
 * C's `st_atime` is `st_atim.tv_sec`.
 */
export const struct_stat = struct("stat", {
	st_dev: u64,
	st_ino: u64,
	st_nlink: u64,
	st_mode: u32,
	st_uid: u32,
	st_gid: u32,
	__pad0: s32,
	st_rdev: u64,
	st_size: s64,
	st_blksize: s64,
	st_blocks: s64,
	st_atim: struct_timespec,
	st_mtim: struct_timespec,
	st_ctim: struct_timespec,
	__glibc_reserved: array(s64, 3),
});

/**
 * struct linux_dirent64 (include/linux/dirent.h): the fixed header of one
 * getdents64(2) record; `d_name` is the flexible array at offset 19, and
 * `d_reclen` covers the name, its NUL and the padding to 8 bytes.
 */
export const struct_linux_dirent64 = struct("linux_dirent64", {
	d_ino: u64,
	d_off: s64,
	d_reclen: u16,
	d_type: u8,
	d_name: char(0),
});

/** FIONREAD (include/uapi/asm-generic/ioctls.h): bytes ready to read, an `int *` (a pre-_IOC number). */
export const FIONREAD = 0x541b;
/** FS_IOC_GETFLAGS / FS_IOC_SETFLAGS (include/uapi/linux/fs.h): the inode flags; declared `long`, used as `int`. */
export const FS_IOC_GETFLAGS = _IOR("f", 1, long);
export const FS_IOC_SETFLAGS = _IOW("f", 2, long);
/** BLKGETSIZE64 (include/uapi/linux/fs.h): a block device's size in bytes (u64 *). */
export const BLKGETSIZE64 = _IOR(0x12, 114, size_t);
/** RNDGETENTCNT (include/uapi/linux/random.h): the entropy count (int *). */
export const RNDGETENTCNT = _IOR("R", 0x00, int);
