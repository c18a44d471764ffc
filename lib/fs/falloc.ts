/**
 * fallocate(2) (fs/open.c: vfs_fallocate, ksys_fallocate) and its mode
 * bits (include/uapi/linux/falloc.h), as of Linux 6.15: the VFS checks
 * the mode, the fd and the range, then calls the file's `fallocate`
 * operation (shmem has one; every other luosim file gives EOPNOTSUPP).
 */
import { registerSyscall } from "../kernel/syscallTable.ts";
import { Errno, EBADF, EFBIG, EINVAL, EISDIR, ENODEV, EOPNOTSUPP, ESPIPE } from "../kernel/errno.ts";
import { FMODE_WRITE } from "./file.ts";
import { S_IFBLK, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG } from "./inode.ts";
import { MAX_LFS_FILESIZE } from "./readWrite.ts";
import { fdget } from "./syscalls/util.ts";
import type { File } from "./file.ts";
import type { Process } from "../kernel/process.ts";

/** Allocate the range (no bit set). */
export const FALLOC_FL_ALLOCATE_RANGE = 0x00;
/** Do not change the file size. */
export const FALLOC_FL_KEEP_SIZE = 0x01;
/** Deallocate the range (needs KEEP_SIZE). */
export const FALLOC_FL_PUNCH_HOLE = 0x02;
/** Reserved, never accepted (EOPNOTSUPP). */
export const FALLOC_FL_NO_HIDE_STALE = 0x04;
export const FALLOC_FL_COLLAPSE_RANGE = 0x08;
export const FALLOC_FL_ZERO_RANGE = 0x10;
export const FALLOC_FL_INSERT_RANGE = 0x20;
export const FALLOC_FL_UNSHARE_RANGE = 0x40;
/** The exclusive modes (include/linux/falloc.h: FALLOC_FL_MODE_MASK). */
export const FALLOC_FL_MODE_MASK = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_ZERO_RANGE |
	FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE;

/**
 * vfs_fallocate(): EINVAL for a negative offset or a length <= 0;
 * EOPNOTSUPP for an unknown bit or a bad mode combination (PUNCH_HOLE
 * without KEEP_SIZE, COLLAPSE/INSERT with it); EBADF unless open for
 * writing; ESPIPE for a FIFO, EISDIR for a directory, ENODEV for other
 * non-regular files; EFBIG when offset + len passes MAX_LFS_FILESIZE;
 * EOPNOTSUPP when the file has no fallocate operation.
 */
export function vfsFallocate(file: File, mode: number, offset: number, len: number): void {
	if (offset < 0 || len <= 0) throw new Errno(EINVAL);
	if (mode & ~(FALLOC_FL_MODE_MASK | FALLOC_FL_KEEP_SIZE)) throw new Errno(EOPNOTSUPP);
	switch (mode & FALLOC_FL_MODE_MASK) {
		case FALLOC_FL_ALLOCATE_RANGE:
		case FALLOC_FL_UNSHARE_RANGE:
		case FALLOC_FL_ZERO_RANGE:
			break;
		case FALLOC_FL_PUNCH_HOLE:
			if (!(mode & FALLOC_FL_KEEP_SIZE)) throw new Errno(EOPNOTSUPP);
			break;
		case FALLOC_FL_COLLAPSE_RANGE:
		case FALLOC_FL_INSERT_RANGE:
			if (mode & FALLOC_FL_KEEP_SIZE) throw new Errno(EOPNOTSUPP);
			break;
		default:
			throw new Errno(EOPNOTSUPP);
	}
	if (!(file.f_mode & FMODE_WRITE)) throw new Errno(EBADF);
	const type = file.inode.mode & S_IFMT;
	if (type === S_IFIFO) throw new Errno(ESPIPE);
	if (type === S_IFDIR) throw new Errno(EISDIR);
	if (type !== S_IFREG && type !== S_IFBLK) throw new Errno(ENODEV);
	// check_add_overflow() and s_maxbytes: both are "past MAX_LFS_FILESIZE" for a JS number.
	if (!(offset + len <= MAX_LFS_FILESIZE)) throw new Errno(EFBIG);
	if (!file.f_op.fallocate) throw new Errno(EOPNOTSUPP);
	file.f_op.fallocate(file, mode, offset, len);
}

/** fallocate(2): EBADF for a closed or O_PATH fd, then vfs_fallocate. */
export function sysFallocate(p: Process, fd: number, mode: number, offset: number, len: number): number {
	vfsFallocate(fdget(p, fd), mode | 0, offset, len);
	return 0;
}

registerSyscall({
	nr: 285, name: "fallocate", args: ["fd", "falloc_mode", "off", "off"], status: "partial",
	note: "memfd/shmem files: mode 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE; other modes EOPNOTSUPP; tmpfs (memfs) and other files EOPNOTSUPP; VFS errnos as Linux 6.15",
	impl: (p, a) => sysFallocate(p, a[0]!, a[1]!, a[2]!, a[3]!),
});
