/**
 * getdents64 (fs/readdir.c): struct linux_dirent64 records for ".", ".."
 * and the directory's entries. The file position counts entries, so a
 * directory is read across several calls and lseek(fd, 0, SEEK_SET)
 * rewinds it.
 */
import { registerSyscall } from "../../kernel/syscallTable.ts";
import { Errno, EFAULT, EINVAL, ENOENT, ENOTDIR } from "../../kernel/errno.ts";
import { TASK_SIZE } from "../../uaccess/addressSpace.ts";
import { fdget } from "./util.ts";
import type { DirEntry } from "../inode.ts";
import type { File } from "../file.ts";
import type { Process } from "../../kernel/process.ts";

/** DT_DIR. */
const DT_DIR = 4;
/** offsetof(struct linux_dirent64, d_name). */
const DIRENT_NAME = 19;

const encoder = new TextEncoder();

/** iterate_dir()'s listing: ".", "..", then the filesystem's entries; ENOTDIR without one, ENOENT for a removed directory. */
function listing(file: File): DirEntry[] {
	const inode = file.inode;
	const entries = file.f_op.iterate ? file.f_op.iterate(file) : inode.op.readdir ? null : undefined;
	if (entries === undefined) throw new Errno(ENOTDIR);
	if (inode.nlink === 0) throw new Errno(ENOENT);
	const parent = inode.parent ?? inode;
	return [
		{ name: ".", ino: inode.ino, type: DT_DIR },
		{ name: "..", ino: parent.ino, type: DT_DIR },
		...(entries ?? inode.op.readdir!(inode)),
	];
}

/** getdents64(2): bytes filled, 0 at the end; EINVAL when not even one record fits. */
export function sysGetdents64(p: Process, fd: number, dirent: number, count: number): number {
	const file = fdget(p, fd);
	const all = listing(file);
	if (!Number.isSafeInteger(dirent) || !Number.isSafeInteger(count) || dirent < 0 || count < 0 || count > TASK_SIZE - dirent) {
		throw new Errno(EFAULT);
	}
	const out = new Uint8Array(Math.min(count, 1 << 20));
	const v = new DataView(out.buffer);
	let used = 0;
	let pos = file.f_pos;
	for (; pos < all.length; pos++) {
		const e = all[pos]!;
		const name = encoder.encode(e.name);
		const reclen = (DIRENT_NAME + name.length + 1 + 7) & ~7;
		if (used + reclen > out.length) {
			if (used === 0) throw new Errno(EINVAL);
			break;
		}
		v.setBigUint64(used, BigInt(e.ino), true);
		v.setBigInt64(used + 8, BigInt(pos + 1), true);
		v.setUint16(used + 16, reclen, true);
		v.setUint8(used + 18, e.type);
		out.set(name, used + DIRENT_NAME);
		used += reclen;
	}
	if (used > 0) p.mm.copyToUser(dirent, out.subarray(0, used));
	file.f_pos = pos;
	return used;
}

registerSyscall({
	nr: 217, name: "getdents64", args: ["fd", "dirents", "size"], status: "supported",
	note: "\".\" and \"..\" first, then creation order; d_off is the entry index (lseek to it resumes there); EINVAL if one record does not fit, ENOTDIR, ENOENT for a removed directory",
	impl: (p, a) => sysGetdents64(p, a[0]!, a[1]!, a[2]!),
});
