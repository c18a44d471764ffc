/**
 * <fcntl.h>'s fallocate and posix_fallocate, and <linux/falloc.h>
 * (glibc sysdeps/unix/sysv/linux/fallocate64.c, posix_fallocate64.c and
 * the sysdeps/posix/posix_fallocate64.c fallback). memfd_create and the
 * MFD_* flags are in mman.ts, the F_SEAL_* seals in fcntl.ts.
 */
import { EBADF, EFBIG, EINVAL, ENODEV, EOPNOTSUPP, ESPIPE } from "../kernel/errno.ts";
import { call, rawSyscall, self } from "./sys.ts";
import { errno } from "./errno-state.ts";
import { fcntl, F_GETFL, O_APPEND } from "./fcntl.ts";
import { fstat, Stat } from "./stat.ts";
import { ftruncate, pread, pwrite } from "./unistd.ts";

export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
export const FALLOC_FL_NO_HIDE_STALE = 0x04;
export const FALLOC_FL_COLLAPSE_RANGE = 0x08;
export const FALLOC_FL_ZERO_RANGE = 0x10;
export const FALLOC_FL_INSERT_RANGE = 0x20;
export const FALLOC_FL_UNSHARE_RANGE = 0x40;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFIFO = 0o010000;
/** The block step of the fallback: glibc caps f_bsize at 4096 (tmpfs reports 4096). */
const FALLBACK_STEP = 4096;

/**
 * fallocate(2): allocates (mode 0, FALLOC_FL_KEEP_SIZE) or punches a hole
 * (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) in `[offset, offset + len)`.
 * -1 with errno: EBADF, EINVAL, EFBIG, EOPNOTSUPP, EPERM (seals), ENOMEM.
 */
export function fallocate(fd: number, mode: number, offset: number, len: number): number {
	return call((s) => rawSyscall(s.p, "fallocate", [fd, mode, offset, len]));
}

/**
 * posix_fallocate(3): fallocate(fd, 0, offset, len), returning 0 or the
 * error number (errno is left alone). Where the file system cannot
 * fallocate (EOPNOTSUPP, e.g. luosim's tmpfs), glibc's fallback writes a
 * zero byte into every 4 KiB block that reads as zero or lies past EOF;
 * its errors are EINVAL, EFBIG, EBADF (O_APPEND or a bad fd), ESPIPE
 * (FIFO), ENODEV (not a regular file), or those of the I/O.
 */
export function posix_fallocate(fd: number, offset: number, len: number): number {
	const ret = rawSyscall(self(), "fallocate", [fd, 0, offset, len]);
	if (ret >= 0) return 0;
	if (-ret !== EOPNOTSUPP) return -ret;
	return fallbackFallocate(fd, offset, len);
}

/** sysdeps/posix/posix_fallocate64.c. */
function fallbackFallocate(fd: number, offset: number, len: number): number {
	if (offset < 0 || len < 0) return EINVAL;
	if (offset + len >= 2 ** 63) return EFBIG;
	const flags = fcntl(fd, F_GETFL);
	if (flags < 0 || flags & O_APPEND) return EBADF;
	const st = new Stat();
	if (fstat(fd, st) !== 0) return EBADF;
	if ((st.st_mode & S_IFMT) === S_IFIFO) return ESPIPE;
	if ((st.st_mode & S_IFMT) !== S_IFREG) return ENODEV;
	if (len === 0) return st.st_size < offset && ftruncate(fd, offset) !== 0 ? errno : 0;
	const c = new Uint8Array(1);
	for (offset += (len - 1) % FALLBACK_STEP; len > 0; offset += FALLBACK_STEP) {
		len -= FALLBACK_STEP;
		if (offset < st.st_size) {
			const n = pread(fd, c, 1, offset);
			if (n < 0) return errno;
			if (n === 1 && c[0] !== 0) continue;
		}
		if (pwrite(fd, new Uint8Array(1), 1, offset) !== 1) return errno;
	}
	return 0;
}
