/**
 * mkdir, mkdirat, rmdir, unlink, unlinkat, symlink, symlinkat, readlink,
 * readlinkat, rename, renameat, renameat2 (fs/namei.c, fs/stat.c): the
 * user-memory side; lib/fs/dirops.ts has the checks.
 */
import { registerSyscall } from "../../kernel/syscallTable.ts";
import { Errno, EINVAL } from "../../kernel/errno.ts";
import { AT_FDCWD, AT_REMOVEDIR } from "../fcntl.ts";
import { vfsMkdir, vfsReadlink, vfsRename, vfsRmdir, vfsSymlink, vfsUnlink } from "../dirops.ts";
import { getname } from "./util.ts";
import type { Process } from "../../kernel/process.ts";

/** mkdirat(2). */
export function sysMkdirat(p: Process, dfd: number, pathname: number, mode: number): number {
	vfsMkdir(p.kernel.vfs, p, getname(p, pathname), mode, dfd);
	return 0;
}

/** unlinkat(2): AT_REMOVEDIR makes it rmdir; other flags are EINVAL. */
export function sysUnlinkat(p: Process, dfd: number, pathname: number, flag: number): number {
	if (flag & ~AT_REMOVEDIR) throw new Errno(EINVAL);
	const name = getname(p, pathname);
	if (flag & AT_REMOVEDIR) vfsRmdir(p.kernel.vfs, p, name, dfd);
	else vfsUnlink(p.kernel.vfs, p, name, dfd);
	return 0;
}

/** symlinkat(2). */
export function sysSymlinkat(p: Process, oldname: number, newdfd: number, newname: number): number {
	const target = getname(p, oldname);
	vfsSymlink(p.kernel.vfs, p, target, getname(p, newname), newdfd);
	return 0;
}

/** readlinkat(2): EINVAL for bufsiz <= 0 or a non-symlink; copies at most bufsiz bytes, no NUL. */
export function sysReadlinkat(p: Process, dfd: number, pathname: number, buf: number, bufsiz: number): number {
	if (bufsiz <= 0) throw new Errno(EINVAL);
	const target = new TextEncoder().encode(vfsReadlink(p.kernel.vfs, p, getname(p, pathname), dfd));
	const out = target.length > bufsiz ? target.subarray(0, bufsiz) : target;
	p.mm.copyToUser(buf, out);
	return out.length;
}

/** renameat2(2). */
export function sysRenameat2(p: Process, olddfd: number, oldname: number, newdfd: number, newname: number, flags: number): number {
	const from = getname(p, oldname);
	const to = getname(p, newname);
	vfsRename(p.kernel.vfs, p, olddfd, from, newdfd, to, flags);
	return 0;
}

const mkdirNote = "mode & ~umask (permission and sticky bits; S_ISGID inherited from a set-group-ID parent); EEXIST, ENOENT, ENOTDIR, EACCES, EROFS, ENAMETOOLONG";
const unlinkNote = "EISDIR for a directory; an open file lives on until its last close; EACCES, EPERM (sticky directory), EBUSY (mountpoint), EROFS";
const rmdirNote = "ENOTEMPTY (also for \"..\"), EINVAL for \".\", EBUSY for \"/\" or a mountpoint, ENOTDIR, EACCES, EPERM, EROFS";
const renameNote = "replaces the target (a directory only by an empty one); EXDEV across mounts, EINVAL into itself, ENOTEMPTY, EISDIR, ENOTDIR, EBUSY, EACCES, EPERM (sticky), EROFS";

registerSyscall({
	nr: 83, name: "mkdir", args: ["path", "mode"], status: "supported", note: mkdirNote,
	impl: (p, a) => sysMkdirat(p, AT_FDCWD, a[0]!, a[1]!),
});
registerSyscall({
	nr: 258, name: "mkdirat", args: ["dirfd", "path", "mode"], status: "supported", note: mkdirNote,
	impl: (p, a) => sysMkdirat(p, a[0]!, a[1]!, a[2]!),
});
registerSyscall({
	nr: 84, name: "rmdir", args: ["path"], status: "supported", note: rmdirNote,
	impl: (p, a) => sysUnlinkat(p, AT_FDCWD, a[0]!, AT_REMOVEDIR),
});
registerSyscall({
	nr: 87, name: "unlink", args: ["path"], status: "supported", note: unlinkNote,
	impl: (p, a) => sysUnlinkat(p, AT_FDCWD, a[0]!, 0),
});
registerSyscall({
	nr: 263, name: "unlinkat", args: ["dirfd", "path", "at_flags"], status: "supported", note: `AT_REMOVEDIR for rmdir; ${unlinkNote}`,
	impl: (p, a) => sysUnlinkat(p, a[0]!, a[1]!, a[2]!),
});
registerSyscall({
	nr: 88, name: "symlink", args: ["str", "path"], status: "supported", note: "ENOENT for an empty target; the target is not checked; EEXIST, EACCES, EROFS",
	impl: (p, a) => sysSymlinkat(p, a[0]!, AT_FDCWD, a[1]!),
});
registerSyscall({
	nr: 266, name: "symlinkat", args: ["str", "dirfd", "path"], status: "supported", note: "as symlink, relative to dirfd",
	impl: (p, a) => sysSymlinkat(p, a[0]!, a[1]!, a[2]!),
});
registerSyscall({
	nr: 89, name: "readlink", args: ["path", "buf_out", "size"], status: "supported", note: "truncates to bufsiz without a NUL; EINVAL for a non-symlink or bufsiz <= 0",
	impl: (p, a) => sysReadlinkat(p, AT_FDCWD, a[0]!, a[1]!, a[2]!),
});
registerSyscall({
	nr: 267, name: "readlinkat", args: ["dirfd", "path", "buf_out", "size"], status: "supported", note: "as readlink, relative to dirfd",
	impl: (p, a) => sysReadlinkat(p, a[0]!, a[1]!, a[2]!, a[3]!),
});
registerSyscall({
	nr: 82, name: "rename", args: ["path", "path"], status: "supported", note: renameNote,
	impl: (p, a) => sysRenameat2(p, AT_FDCWD, a[0]!, AT_FDCWD, a[1]!, 0),
});
registerSyscall({
	nr: 264, name: "renameat", args: ["dirfd", "path", "dirfd", "path"], status: "supported", note: renameNote,
	impl: (p, a) => sysRenameat2(p, a[0]!, a[1]!, a[2]!, a[3]!, 0),
});
registerSyscall({
	nr: 316, name: "renameat2", args: ["dirfd", "path", "dirfd", "path", "uint"], status: "partial",
	note: `RENAME_NOREPLACE (EEXIST); RENAME_EXCHANGE and RENAME_WHITEOUT are EINVAL (not implemented); ${renameNote}`,
	impl: (p, a) => sysRenameat2(p, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!),
});
