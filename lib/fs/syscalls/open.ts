/**
 * open, openat, creat, close, truncate, ftruncate, chdir, fchdir, getcwd,
 * chmod, fchmod, fchmodat, access, faccessat, faccessat2, umask, fsync,
 * fdatasync (fs/open.c, fs/d_path.c, fs/sync.c, kernel/sys.c).
 */
import { registerSyscall } from "../../kernel/syscallTable.ts";
import { Errno, EACCES, EINVAL, ENOTDIR, ERANGE } from "../../kernel/errno.ts";
import { S_ISDIR, S_ISREG } from "../inode.ts";
import { FMODE_WRITE } from "../file.ts";
import { MS_NOEXEC } from "../mount.ts";
import { AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_CREAT, O_TRUNC, O_WRONLY } from "../fcntl.ts";
import { chmodCommon, notifyChange, vfsTruncate } from "../open.ts";
import { pathLookup } from "../namei.ts";
import { MAY_ACCESS, MAY_EXEC, genericPermission, inodePermission } from "../permission.ts";
import { fdget, fdgetRaw, getname, reserveFd, installFd } from "./util.ts";
import type { Cred } from "../../kernel/cred.ts";
import type { Path } from "../mount.ts";
import type { Process } from "../../kernel/process.ts";

const encoder = new TextEncoder();

/** do_sys_openat2(): checks for a free fd first (EMFILE), then opens and installs. */
export function sysOpenat(p: Process, dfd: number, filename: number, flags: number, mode: number): number {
	const name = getname(p, filename);
	reserveFd(p);
	const file = p.kernel.vfs.open(p, name, flags, mode, dfd);
	return installFd(p, file, (flags & O_CLOEXEC) !== 0);
}

/** close(2). */
export function sysClose(p: Process, fd: number): number {
	p.files.remove(fd).put();
	return 0;
}

/** truncate(2): EINVAL for a negative length, then the lookup, then vfs_truncate. */
export function sysTruncate(p: Process, pathname: number, length: number): number {
	if (length < 0) throw new Errno(EINVAL);
	const path = p.kernel.vfs.lookup(p, getname(p, pathname));
	vfsTruncate(p.kernel.vfs, p.cred, path, length);
	return 0;
}

/** ftruncate(2): EINVAL for a negative length, a non-regular file or one not open for writing. */
export function sysFtruncate(p: Process, fd: number, length: number): number {
	if (length < 0) throw new Errno(EINVAL);
	const file = fdget(p, fd);
	if (!S_ISREG(file.inode.mode) || !(file.f_mode & FMODE_WRITE)) throw new Errno(EINVAL);
	notifyChange(p.kernel.vfs, file.inode, { size: length });
	return 0;
}

/** set_fs_pwd() after the checks chdir and fchdir share. */
function setCwd(p: Process, path: Path): number {
	if (!S_ISDIR(path.inode.mode)) throw new Errno(ENOTDIR);
	if (!genericPermission(p.cred, path.inode, MAY_EXEC)) throw new Errno(EACCES);
	p.cwd = path;
	return 0;
}

/** getcwd(2): the length with the NUL; ERANGE when `size` is too small. */
export function sysGetcwd(p: Process, buf: number, size: number): number {
	const bytes = encoder.encode(`${p.kernel.vfs.getcwd(p)}\0`);
	if (bytes.length > size) throw new Errno(ERANGE);
	p.mm.copyToUser(buf, bytes);
	return bytes.length;
}

/** access_override_creds(): the real ids as fs ids; capabilities only for a real root. */
function accessCred(cred: Cred): Cred {
	const c = cred.clone();
	c.fsuid = c.uid;
	c.fsgid = c.gid;
	c.capEffective = c.uid === 0 ? c.capPermitted : 0n;
	return c;
}

/** do_faccessat(): F_OK/R_OK/W_OK/X_OK with the real ids unless AT_EACCESS. */
export function sysFaccessat2(p: Process, dfd: number, filename: number, mode: number, flags: number): number {
	if (mode & ~7) throw new Errno(EINVAL);
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new Errno(EINVAL);
	const vfs = p.kernel.vfs;
	const cred = flags & AT_EACCESS ? p.cred : accessCred(p.cred);
	const name = getname(p, filename, (flags & AT_EMPTY_PATH) !== 0);
	let path: Path;
	if (name === "") {
		const at = dfd === AT_FDCWD ? p.cwd : vfs.filePath(fdgetRaw(p, dfd));
		if (!at) throw new Errno(ENOTDIR);
		path = at;
	} else {
		path = pathLookup(vfs.context(p, cred), vfs.startAt(p, dfd, name), name, !(flags & AT_SYMLINK_NOFOLLOW));
	}
	if (mode === 0) return 0;
	if (mode & MAY_EXEC && S_ISREG(path.inode.mode) && path.mnt.flags & MS_NOEXEC) throw new Errno(EACCES);
	inodePermission(cred, path.mnt, path.inode, mode | MAY_ACCESS);
	return 0;
}

/** fchmod(2): EBADF for an O_PATH fd. */
export function sysFchmod(p: Process, fd: number, mode: number): number {
	const file = fdget(p, fd);
	chmodCommon(p.kernel.vfs, p.cred, p.kernel.vfs.filePath(file)?.mnt ?? null, file.inode, mode);
	return 0;
}

/** fchmodat(2) (the three-argument one). */
export function sysFchmodat(p: Process, dfd: number, filename: number, mode: number): number {
	const path = p.kernel.vfs.lookup(p, getname(p, filename), { dirfd: dfd });
	chmodCommon(p.kernel.vfs, p.cred, path.mnt, path.inode, mode);
	return 0;
}

/** fsync(2)/fdatasync(2): tmpfs files and directories have nothing to flush; other files have no fsync (EINVAL). */
export function sysFsync(p: Process, fd: number): number {
	const mode = fdget(p, fd).inode.mode;
	if (!S_ISREG(mode) && !S_ISDIR(mode)) throw new Errno(EINVAL);
	return 0;
}

const openNote = "O_RDONLY/WRONLY/RDWR, O_CREAT (mode & ~umask), O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC, O_NONBLOCK, O_NOATIME, O_PATH; O_TMPFILE is EOPNOTSUPP; errnos in Linux's order (EEXIST, EISDIR, ENOTDIR, ELOOP, EROFS, EACCES); EMFILE checked first";

registerSyscall({
	nr: 257, name: "openat", args: ["dirfd", "path", "open_flags", "mode"], status: "partial", note: openNote, ret: "fd",
	impl: (p, a) => sysOpenat(p, a[0]!, a[1]!, a[2]!, a[3]!),
});
registerSyscall({
	nr: 2, name: "open", args: ["path", "open_flags", "mode"], status: "partial", note: `openat(AT_FDCWD, ...): ${openNote}`, ret: "fd",
	impl: (p, a) => sysOpenat(p, AT_FDCWD, a[0]!, a[1]!, a[2]!),
});
registerSyscall({
	nr: 85, name: "creat", args: ["path", "mode"], status: "supported", note: "open(path, O_CREAT|O_WRONLY|O_TRUNC, mode)", ret: "fd",
	impl: (p, a) => sysOpenat(p, AT_FDCWD, a[0]!, O_CREAT | O_WRONLY | O_TRUNC, a[1]!),
});
registerSyscall({
	nr: 3, name: "close", args: ["fd"], status: "supported", note: "the last close of an open file description calls the driver's release; EBADF for a closed fd",
	impl: (p, a) => sysClose(p, a[0]!),
});
registerSyscall({
	nr: 76, name: "truncate", args: ["path", "off"], status: "supported", note: "EINVAL for a negative length or a non-regular file, EISDIR, EROFS, EACCES; growing zero-fills",
	impl: (p, a) => sysTruncate(p, a[0]!, a[1]!),
});
registerSyscall({
	nr: 77, name: "ftruncate", args: ["fd", "off"], status: "supported", note: "EINVAL for a negative length, a non-regular file or an fd not open for writing; the filesystem's setattr does the resize (ENOSPC, EFBIG)",
	impl: (p, a) => sysFtruncate(p, a[0]!, a[1]!),
});
registerSyscall({
	nr: 80, name: "chdir", args: ["path"], status: "supported", note: "ENOTDIR, EACCES without search permission",
	impl: (p, a) => setCwd(p, p.kernel.vfs.lookup(p, getname(p, a[0]!))),
});
registerSyscall({
	nr: 81, name: "fchdir", args: ["fd"], status: "supported", note: "O_PATH fds allowed; ENOTDIR, EACCES",
	impl: (p, a) => {
		const path = p.kernel.vfs.filePath(fdgetRaw(p, a[0]!));
		if (!path) throw new Errno(ENOTDIR);
		return setCwd(p, path);
	},
});
registerSyscall({
	nr: 79, name: "getcwd", args: ["ptr", "size"], status: "supported", note: "returns the length with the NUL; ERANGE, EFAULT, ENOENT once the cwd is removed; \"(unreachable)\" outside the root",
	impl: (p, a) => sysGetcwd(p, a[0]!, a[1]!),
});
registerSyscall({
	nr: 90, name: "chmod", args: ["path", "mode"], status: "supported", note: "the owner or CAP_FOWNER (else EPERM); EROFS; S_ISGID dropped for a non-member without CAP_FSETID",
	impl: (p, a) => sysFchmodat(p, AT_FDCWD, a[0]!, a[1]!),
});
registerSyscall({
	nr: 91, name: "fchmod", args: ["fd", "mode"], status: "supported", note: "as chmod; EBADF for an O_PATH fd",
	impl: (p, a) => sysFchmod(p, a[0]!, a[1]!),
});
registerSyscall({
	nr: 268, name: "fchmodat", args: ["dirfd", "path", "mode"], status: "supported", note: "as chmod, relative to dirfd",
	impl: (p, a) => sysFchmodat(p, a[0]!, a[1]!, a[2]!),
});
registerSyscall({
	nr: 21, name: "access", args: ["path", "int"], status: "supported", note: "checks with the real uid/gid (capabilities only for real root); EROFS for W_OK on a read-only mount",
	impl: (p, a) => sysFaccessat2(p, AT_FDCWD, a[0]!, a[1]!, 0),
});
registerSyscall({
	nr: 269, name: "faccessat", args: ["dirfd", "path", "int"], status: "supported", note: "as access, relative to dirfd",
	impl: (p, a) => sysFaccessat2(p, a[0]!, a[1]!, a[2]!, 0),
});
registerSyscall({
	nr: 439, name: "faccessat2", args: ["dirfd", "path", "int", "at_flags"], status: "supported", note: "AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH",
	impl: (p, a) => sysFaccessat2(p, a[0]!, a[1]!, a[2]!, a[3]!),
});
registerSyscall({
	nr: 95, name: "umask", args: ["mode"], status: "supported", note: "sets the mask (& 0777), returns the old one",
	impl: (p, a) => {
		const old = p.umask;
		p.umask = a[0]! & 0o777;
		return old;
	},
});
registerSyscall({
	nr: 74, name: "fsync", args: ["fd"], status: "partial", note: "nothing to flush: 0 for regular files and directories, EINVAL for devices, pipes and other files without fsync",
	impl: (p, a) => sysFsync(p, a[0]!),
});
registerSyscall({
	nr: 75, name: "fdatasync", args: ["fd"], status: "partial", note: "as fsync",
	impl: (p, a) => sysFsync(p, a[0]!),
});
