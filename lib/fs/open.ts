/**
 * open(2) and what it shares with truncate and chmod (fs/open.c:
 * build_open_flags, do_dentry_open, do_truncate, chmod_common; fs/namei.c:
 * path_openat, open_last_lookups, lookup_open, do_open, may_open).
 *
 * The order of the checks is Linux's: O_CREAT|O_EXCL on an existing name
 * is EEXIST before anything about the file; a directory with O_CREAT or a
 * write mode is EISDIR; O_DIRECTORY on a non-directory ENOTDIR; a final
 * symlink with O_NOFOLLOW ELOOP; then EROFS, then the mode bits (EACCES).
 * A file O_CREAT has just made is opened without a permission check, as in
 * Linux (open("f", O_CREAT|O_WRONLY, 0444) gives a writable fd).
 */
import { Errno, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, EOPNOTSUPP, EACCES, EPERM } from "../kernel/errno.ts";
import { File, FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_ISDIR, S_ISGID, S_ISLNK, S_ISREG } from "./inode.ts";
import { MS_NODEV } from "./mount.ts";
import {
	O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOATIME, O_NOCTTY, O_NOFOLLOW, O_PATH,
	O_TRUNC, __O_TMPFILE, O_TMPFILE, VALID_OPEN_FLAGS,
} from "./fcntl.ts";
import { MAXSYMLINKS, linkPathWalk, lookupChild, readlinkInode, walkLast } from "./namei.ts";
import {
	MAY_APPEND, MAY_EXEC, MAY_OPEN, MAY_READ, MAY_WRITE, inGroup, inodePermission, mntWantWrite, ownerOrCapable, specialFile,
} from "./permission.ts";
import type { Cred } from "../kernel/cred.ts";
import type { Inode, InodeAttr } from "./inode.ts";
import type { Mount, Path } from "./mount.ts";
import type { NameiContext } from "./namei.ts";
import type { Process } from "../kernel/process.ts";
import type { Vfs } from "./vfs.ts";

/** FMODE_PATH: an O_PATH file, usable only as a place (include/linux/fs.h). */
export const FMODE_PATH = 0x4000;
/** CAP_FSETID: keeps S_ISGID through chmod by a non-member. */
const CAP_FSETID = 4;
/** O_TMPFILE_MASK (include/linux/fcntl.h). */
const O_TMPFILE_MASK = __O_TMPFILE | O_DIRECTORY | O_CREAT;

/** ACC_MODE(): the permission an access mode needs. */
const ACC_MODE = [MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE, MAY_READ | MAY_WRITE];

/** struct open_flags. */
interface OpenHow {
	flags: number;
	mode: number;
	acc: number;
}

/** build_open_flags(): unknown bits are ignored (open and openat never reject them). */
function buildOpenFlags(flags: number, mode: number): OpenHow {
	flags = (flags & VALID_OPEN_FLAGS) | O_LARGEFILE;
	mode = flags & (O_CREAT | __O_TMPFILE) ? S_IFREG | (mode & 0o7777) : 0;
	let acc = ACC_MODE[flags & O_ACCMODE]!;
	// Since 6.4 the pair is refused rather than half-honoured.
	if ((flags & (O_DIRECTORY | O_CREAT)) === (O_DIRECTORY | O_CREAT)) throw new Errno(EINVAL);
	if (flags & __O_TMPFILE) {
		if ((flags & O_TMPFILE_MASK) !== O_TMPFILE || !(acc & MAY_WRITE)) throw new Errno(EINVAL);
	} else if (flags & O_PATH) {
		flags &= O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;
		acc = 0;
	}
	if (flags & O_TRUNC) acc |= MAY_WRITE;
	if (flags & O_APPEND) acc |= MAY_APPEND;
	return { flags, mode, acc };
}

/** OPEN_FMODE(): FMODE_READ/FMODE_WRITE from the access mode (3 gives neither). */
function openFmode(flags: number): number {
	return (flags + 1) & O_ACCMODE & (FMODE_READ | FMODE_WRITE);
}

/** may_open(): what the file's type and mode allow. */
function mayOpen(cred: Cred, path: Path, acc: number, flags: number): void {
	const inode = path.inode;
	switch (inode.mode & S_IFMT) {
		case S_IFLNK:
			throw new Errno(ELOOP);
		case S_IFDIR:
			if (acc & MAY_WRITE) throw new Errno(EISDIR);
			if (acc & MAY_EXEC) throw new Errno(EACCES);
			break;
		case S_IFBLK:
		case S_IFCHR:
			if (path.mnt.flags & MS_NODEV) throw new Errno(EACCES);
			break;
	}
	inodePermission(cred, path.mnt, inode, MAY_OPEN | acc);
	if (flags & O_NOATIME && !ownerOrCapable(cred, inode)) throw new Errno(EPERM);
}

/**
 * do_dentry_open(): the File for `path`, with FMODE_LSEEK/PREAD/PWRITE set
 * (a driver's open clears what it cannot do) and the inode's open called.
 * A failing open leaves no File behind (release is not called).
 */
function doDentryOpen(vfs: Vfs, p: Process | null, path: Path, flags: number): File {
	const inode = path.inode;
	const name = vfs.dPath(path);
	if (flags & O_PATH) {
		const f = new File({ f_op: {}, inode, path: { inode, name }, f_flags: flags & ~O_CLOEXEC, f_mode: FMODE_PATH, opener: p });
		vfs.setFileMount(f, path.mnt);
		return f;
	}
	const fmode = openFmode(flags);
	if (fmode & FMODE_WRITE && !specialFile(inode.mode)) mntWantWrite(path.mnt);
	const file = new File({
		f_op: inode.fop,
		inode,
		path: { inode, name },
		f_flags: flags & ~O_CLOEXEC,
		f_mode: fmode | FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE,
		opener: p,
	});
	vfs.setFileMount(file, path.mnt);
	// The driver's open() still sees O_EXCL (misc devices refuse it); the
	// open-time-only flags go after, as do_dentry_open() clears them.
	file.f_op.open?.(inode, file);
	file.f_flags &= ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
	return file;
}

/** do_open(): the checks after the lookup, then the File (truncated for O_TRUNC). */
function doOpen(vfs: Vfs, p: Process | null, cred: Cred, path: Path, how: OpenHow, created: boolean): File {
	const inode = path.inode;
	if (how.flags & O_CREAT && !created && S_ISDIR(inode.mode)) throw new Errno(EISDIR);
	if (how.flags & O_DIRECTORY && !S_ISDIR(inode.mode)) throw new Errno(ENOTDIR);
	if (how.flags & O_PATH) return doDentryOpen(vfs, p, path, how.flags);
	let acc = how.acc;
	let truncate = false;
	if (created) acc = 0;
	else if (S_ISREG(inode.mode) && how.flags & O_TRUNC) {
		mntWantWrite(path.mnt);
		truncate = true;
	}
	mayOpen(cred, path, acc, how.flags);
	const file = doDentryOpen(vfs, p, path, how.flags);
	if (truncate) {
		try {
			notifyChange(vfs, inode, { size: 0 });
		} catch (e) {
			file.put();
			throw e;
		}
	}
	return file;
}

/** lookup_open() for a name that does not exist: creates the regular file (ENOENT in a removed directory, EROFS, EACCES). */
function createFile(vfs: Vfs, p: Process | null, ctx: NameiContext, dir: Path, name: string, mode: number): Path {
	if (dir.inode.nlink === 0) throw new Errno(ENOENT);
	mntWantWrite(dir.mnt);
	inodePermission(ctx.cred, dir.mnt, dir.inode, MAY_WRITE | MAY_EXEC);
	if (!dir.inode.op.create) throw new Errno(EACCES);
	const umask = p ? p.umask : 0;
	const inode = dir.inode.op.create(dir.inode, name, S_IFREG | (mode & ~umask & 0o7777), ctx.cred);
	vfs.dcache.add(inode, dir.inode, name);
	return { mnt: dir.mnt, inode };
}

/** path_openat(): walks `name` from `start` and opens what it finds (or creates). */
function pathOpenat(vfs: Vfs, p: Process | null, ctx: NameiContext, start: Path, name: string, how: OpenHow): File {
	const nd = linkPathWalk(ctx, start, name);
	if (how.flags & __O_TMPFILE) {
		if (!S_ISDIR(walkLast(ctx, nd, true).inode.mode)) throw new Errno(ENOTDIR);
		throw new Errno(EOPNOTSUPP);
	}
	if (!(how.flags & O_CREAT)) return doOpen(vfs, p, ctx.cred, walkLast(ctx, nd, !(how.flags & O_NOFOLLOW)), how, false);
	if (nd.type !== "norm" || nd.trailing) throw new Errno(EISDIR);
	const child = lookupChild(ctx, nd.dir, nd.last);
	if (!child) return doOpen(vfs, p, ctx.cred, createFile(vfs, p, ctx, nd.dir, nd.last, how.mode), how, true);
	if (how.flags & O_EXCL) throw new Errno(EEXIST);
	const path = vfs.mounts.followDown({ mnt: nd.dir.mnt, inode: child });
	if (S_ISLNK(path.inode.mode)) {
		// O_CREAT follows a final symlink and creates its target if missing.
		if (how.flags & O_NOFOLLOW) throw new Errno(ELOOP);
		if (++ctx.links > MAXSYMLINKS) throw new Errno(ELOOP);
		const target = readlinkInode(path.inode);
		if (target === "") throw new Errno(ENOENT);
		return pathOpenat(vfs, p, ctx, nd.dir, target, how);
	}
	return doOpen(vfs, p, ctx.cred, path, how, false);
}

/** do_filp_open(): open(2) of `name` relative to `dirfd`. */
export function doFilpOpen(vfs: Vfs, p: Process | null, name: string, flags: number, mode: number, dirfd: number): File {
	const how = buildOpenFlags(flags, mode);
	const ctx = vfs.context(p);
	return pathOpenat(vfs, p, ctx, vfs.startAt(p, dirfd, name), name, how);
}

/** dentry_open() with may_open: opens a path the caller already has. */
export function dentryOpen(vfs: Vfs, p: Process | null, path: Path, flags: number): File {
	const how = buildOpenFlags(flags & ~(O_CREAT | O_EXCL), 0);
	return doOpen(vfs, p, vfs.credOf(p), path, how, false);
}

/**
 * notify_change(): the filesystem's setattr, or for an inode without one
 * (pseudo files) the mode, owner and times set here and a size change
 * ignored, as kernfs and proc do.
 */
export function notifyChange(vfs: Vfs, inode: Inode, attr: InodeAttr): void {
	if (inode.op.setattr) {
		inode.op.setattr(inode, attr);
		return;
	}
	if (attr.mode !== undefined) inode.mode = (inode.mode & S_IFMT) | (attr.mode & 0o7777);
	if (attr.uid !== undefined) inode.uid = attr.uid;
	if (attr.gid !== undefined) inode.gid = attr.gid;
	if (attr.atimeNs !== undefined) inode.atimeNs = attr.atimeNs;
	if (attr.mtimeNs !== undefined) inode.mtimeNs = attr.mtimeNs;
	inode.ctimeNs = vfs.kernel.clock.nowNs();
}

/**
 * vfs_truncate() for truncate(2): EISDIR for a directory, EINVAL for other
 * non-regular files, EROFS, EACCES without write permission.
 */
export function vfsTruncate(vfs: Vfs, cred: Cred, path: Path, length: number): void {
	const inode = path.inode;
	if (S_ISDIR(inode.mode)) throw new Errno(EISDIR);
	if (!S_ISREG(inode.mode)) throw new Errno(EINVAL);
	inodePermission(cred, path.mnt, inode, MAY_WRITE);
	notifyChange(vfs, inode, { size: length });
}

/**
 * chmod_common(): EROFS, then EPERM unless the owner or CAP_FOWNER; a
 * caller outside the file's group without CAP_FSETID loses S_ISGID.
 * `mnt` is null for a file outside any mount (a pipe).
 */
export function chmodCommon(vfs: Vfs, cred: Cred, mnt: Mount | null, inode: Inode, mode: number): void {
	if (mnt) mntWantWrite(mnt);
	if (!ownerOrCapable(cred, inode)) throw new Errno(EPERM);
	let m = mode & 0o7777;
	if (!inGroup(cred, inode.gid) && !cred.capable(CAP_FSETID)) m &= ~S_ISGID;
	notifyChange(vfs, inode, { mode: (inode.mode & S_IFMT) | m });
}
