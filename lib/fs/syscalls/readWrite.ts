/**
 * read, write, pread64, pwrite64, lseek (fs/read_write.c ksys_*).
 *
 * A read copies what it can into the user buffer: EFAULT (with nothing
 * read and the offset unchanged) when the buffer's first byte cannot be
 * written; a buffer that runs into an unmapped page gets the bytes that
 * fit, as Linux's copy_to_user stops at the fault. A write copies the user
 * data in first, on the same terms. A negative count is a huge size_t:
 * EFAULT (access_ok), as in Linux.
 */
import { registerSyscall } from "../../kernel/syscallTable.ts";
import { Errno, EFAULT, EINVAL, ESPIPE } from "../../kernel/errno.ts";
import { FMODE_PREAD, FMODE_PWRITE } from "../file.ts";
import { checkReadable, checkWritable, userPrefix, vfsLlseek, vfsRead, vfsWrite } from "../readWrite.ts";
import { fdget } from "./util.ts";
import type { File } from "../file.ts";
import type { Process } from "../../kernel/process.ts";

/** The common body of read and pread64: `pos` null reads at (and advances) f_pos. */
function doRead(p: Process, file: File, buf: number, count: number, pos: number | null): number {
	checkReadable(file);
	const n = userPrefix(p.mm, buf, count, true);
	if (n === 0 && count > 0) throw new Errno(EFAULT);
	const ppos = { pos: pos ?? file.f_pos };
	let data = vfsRead(file, n, ppos);
	if (data.length > n) data = data.subarray(0, n);
	if (data.length > 0) p.mm.copyToUser(buf, data);
	if (pos === null) file.f_pos = ppos.pos;
	return data.length;
}

/** The common body of write and pwrite64. */
function doWrite(p: Process, file: File, buf: number, count: number, pos: number | null): number {
	checkWritable(file);
	const n = userPrefix(p.mm, buf, count, false);
	if (n === 0 && count > 0) throw new Errno(EFAULT);
	const data = n > 0 ? p.mm.copyFromUser(buf, n) : new Uint8Array(0);
	const ppos = { pos: pos ?? file.f_pos };
	const ret = vfsWrite(file, data, ppos);
	if (pos === null) file.f_pos = ppos.pos;
	return ret;
}

/** read(2). */
export function sysRead(p: Process, fd: number, buf: number, count: number): number {
	return doRead(p, fdget(p, fd), buf, count, null);
}

/** write(2). */
export function sysWrite(p: Process, fd: number, buf: number, count: number): number {
	return doWrite(p, fdget(p, fd), buf, count, null);
}

/** pread64(2): EINVAL for a negative offset (before the fd is looked at), ESPIPE on a file without positional reads. */
export function sysPread64(p: Process, fd: number, buf: number, count: number, pos: number): number {
	if (pos < 0) throw new Errno(EINVAL);
	const file = fdget(p, fd);
	if (!(file.f_mode & FMODE_PREAD)) throw new Errno(ESPIPE);
	return doRead(p, file, buf, count, pos);
}

/** pwrite64(2). With O_APPEND the data goes to the end, whatever `pos` says (a Linux quirk pwrite(2) documents). */
export function sysPwrite64(p: Process, fd: number, buf: number, count: number, pos: number): number {
	if (pos < 0) throw new Errno(EINVAL);
	const file = fdget(p, fd);
	if (!(file.f_mode & FMODE_PWRITE)) throw new Errno(ESPIPE);
	return doWrite(p, file, buf, count, pos);
}

/** lseek(2). */
export function sysLseek(p: Process, fd: number, offset: number, whence: number): number {
	return vfsLlseek(fdget(p, fd), offset, whence);
}

registerSyscall({
	nr: 0, name: "read", args: ["fd", "buf_out", "size"], status: "partial",
	note: "EBADF/EINVAL (EISDIR for a directory) before the driver; EFAULT if the buffer's first byte is not writable (even at EOF, where Linux returns 0), else reads what fits before a fault; never sleeps: where Linux would block, drivers return EAGAIN (pipes) or what they have",
	impl: (p, a) => sysRead(p, a[0]!, a[1]!, a[2]!),
});
registerSyscall({
	nr: 1, name: "write", args: ["fd", "buf_in", "size"], status: "partial",
	note: "EBADF/EINVAL before the driver; the user data is copied in first (EFAULT when its first byte is unreadable, else what can be read is written); O_APPEND writes at the end of a regular file; never sleeps (a full pipe gives a short write or EAGAIN); no RLIMIT_FSIZE",
	impl: (p, a) => sysWrite(p, a[0]!, a[1]!, a[2]!),
});
registerSyscall({
	nr: 17, name: "pread64", args: ["fd", "buf_out", "size", "off"], status: "supported",
	note: "EINVAL for a negative offset, ESPIPE on pipes and unseekable devices; the file offset is not used or changed",
	impl: (p, a) => sysPread64(p, a[0]!, a[1]!, a[2]!, a[3]!),
});
registerSyscall({
	nr: 18, name: "pwrite64", args: ["fd", "buf_in", "size", "off"], status: "supported",
	note: "as pread64; with O_APPEND the data is appended, as Linux does",
	impl: (p, a) => sysPwrite64(p, a[0]!, a[1]!, a[2]!, a[3]!),
});
registerSyscall({
	nr: 8, name: "lseek", args: ["fd", "off", "whence"], status: "supported",
	note: "SEEK_SET/CUR/END, SEEK_DATA/SEEK_HOLE (files have no holes); EINVAL for a bad whence or a negative result, ESPIPE without FMODE_LSEEK; drivers may supply their own llseek",
	impl: (p, a) => sysLseek(p, a[0]!, a[1]!, a[2]!),
});
