/**
 * Reading, writing and seeking an open file (fs/read_write.c: vfs_read,
 * vfs_write, rw_verify_area, generic_file_llseek). The VFS answers what it
 * can before calling the driver: EBADF for the wrong access mode, EINVAL
 * for a file without the operation (EISDIR for a directory, as
 * generic_read_dir), ESPIPE for lseek on a file that cannot seek.
 */
import { Errno, EBADF, EFAULT, EINVAL, EISDIR, ENXIO, ESPIPE } from "../kernel/errno.ts";
import { FMODE_LSEEK, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { S_ISDIR, S_ISREG } from "./inode.ts";
import { O_APPEND, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_MAX, SEEK_SET } from "./fcntl.ts";
import { PAGE_SIZE, TASK_SIZE } from "../uaccess/addressSpace.ts";
import type { AddressSpace } from "../uaccess/addressSpace.ts";
import type { File } from "./file.ts";

/** MAX_RW_COUNT: one read or write moves at most INT_MAX & PAGE_MASK bytes. */
export const MAX_RW_COUNT = 0x7ffff000;
/** MAX_LFS_FILESIZE on 64-bit, as far as a JS number holds it exactly. */
export const MAX_LFS_FILESIZE = Number.MAX_SAFE_INTEGER;

/** rw_verify_area(): EINVAL for a negative position. */
function verifyArea(pos: number): void {
	if (!Number.isSafeInteger(pos) || pos < 0) throw new Errno(EINVAL);
}

/** vfs_read() after the user-memory checks: the bytes the driver returns. */
export function vfsRead(file: File, count: number, ppos: { pos: number }): Uint8Array {
	if (!(file.f_mode & FMODE_READ)) throw new Errno(EBADF);
	const read = file.f_op.read;
	if (!read) throw new Errno(S_ISDIR(file.inode.mode) ? EISDIR : EINVAL);
	verifyArea(ppos.pos);
	return read(file, Math.min(count, MAX_RW_COUNT), ppos);
}

/** vfs_write(): O_APPEND writes of a regular file go to its end (generic_write_checks). */
export function vfsWrite(file: File, data: Uint8Array, ppos: { pos: number }): number {
	if (!(file.f_mode & FMODE_WRITE)) throw new Errno(EBADF);
	const write = file.f_op.write;
	if (!write) throw new Errno(EINVAL);
	if (file.f_flags & O_APPEND && S_ISREG(file.inode.mode)) ppos.pos = file.inode.size;
	verifyArea(ppos.pos);
	return write(file, data.length > MAX_RW_COUNT ? data.subarray(0, MAX_RW_COUNT) : data, ppos);
}

/** The checks vfs_read/vfs_write make before touching the driver, for the syscall layer. */
export function checkReadable(file: File): void {
	if (!(file.f_mode & FMODE_READ)) throw new Errno(EBADF);
	if (!file.f_op.read) throw new Errno(S_ISDIR(file.inode.mode) ? EISDIR : EINVAL);
}

/** As checkReadable, for writes. */
export function checkWritable(file: File): void {
	if (!(file.f_mode & FMODE_WRITE)) throw new Errno(EBADF);
	if (!file.f_op.write) throw new Errno(EINVAL);
}

/**
 * How many bytes from `addr` the kernel can copy before it faults
 * (copy_to_user/copy_from_user stop there and report a short count).
 * EFAULT when the range is not user space at all (access_ok), which is
 * also what a negative (huge size_t) count gives.
 */
export function userPrefix(mm: AddressSpace, addr: number, count: number, write: boolean): number {
	if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(count) || addr < 0 || count < 0 || count > TASK_SIZE - addr) {
		throw new Errno(EFAULT);
	}
	const want = Math.min(count, MAX_RW_COUNT);
	// Within one page (every small buffer) there is one page to ask about.
	const pageOff = addr - Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
	if (want <= PAGE_SIZE - pageOff) return want === 0 || mm.access(addr, want, write) ? want : 0;
	let ok = 0;
	while (ok < want) {
		const cur = addr + ok;
		const n = Math.min(want - ok, PAGE_SIZE - (cur % PAGE_SIZE));
		if (!mm.access(cur, n, write)) break;
		ok += n;
	}
	return ok;
}

/**
 * generic_file_llseek(): SEEK_SET, SEEK_CUR, SEEK_END against the inode
 * size, SEEK_DATA/SEEK_HOLE as for a file without holes (ENXIO at or past
 * the end); EINVAL for a negative result or an unknown whence.
 */
export function genericFileLlseek(file: File, offset: number, whence: number): number {
	const size = file.inode.size;
	let pos: number;
	switch (whence) {
		case SEEK_SET:
			pos = offset;
			break;
		case SEEK_CUR:
			if (offset === 0) return file.f_pos;
			pos = file.f_pos + offset;
			break;
		case SEEK_END:
			pos = size + offset;
			break;
		case SEEK_DATA:
			if (offset < 0 || offset >= size) throw new Errno(ENXIO);
			pos = offset;
			break;
		case SEEK_HOLE:
			if (offset < 0 || offset >= size) throw new Errno(ENXIO);
			pos = size;
			break;
		default:
			throw new Errno(EINVAL);
	}
	if (!Number.isSafeInteger(pos) || pos < 0 || pos > MAX_LFS_FILESIZE) throw new Errno(EINVAL);
	file.f_pos = pos;
	return pos;
}

/** vfs_llseek(): ESPIPE without FMODE_LSEEK, EINVAL past SEEK_MAX; the driver's llseek or the generic one. */
export function vfsLlseek(file: File, offset: number, whence: number): number {
	if (!Number.isInteger(whence) || whence < 0 || whence > SEEK_MAX) throw new Errno(EINVAL);
	if (!(file.f_mode & FMODE_LSEEK)) throw new Errno(ESPIPE);
	return file.f_op.llseek ? file.f_op.llseek(file, offset, whence) : genericFileLlseek(file, offset, whence);
}
