/**
 * Operations on directory entries (fs/namei.c: filename_create, may_create,
 * may_delete, vfs_mkdir, do_rmdir, do_unlinkat, do_symlinkat,
 * do_renameat2; fs/stat.c: do_readlinkat), with Linux's errnos in Linux's
 * order. The filesystem's inode operations do the change; missing
 * operations are EPERM, as in Linux.
 */
import { Errno, EBUSY, EEXIST, EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, EPERM, EXDEV } from "../kernel/errno.ts";
import { S_ISDIR, S_ISLNK } from "./inode.ts";
import { AT_FDCWD, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT } from "./fcntl.ts";
import { lookupChild, readlinkInode } from "./namei.ts";
import { MAY_EXEC, MAY_WRITE, inodePermission, mayDeleteFrom, mntWantWrite } from "./permission.ts";
import type { Inode } from "./inode.ts";
import type { Path } from "./mount.ts";
import type { NameiContext, Nameidata } from "./namei.ts";
import type { Process } from "../kernel/process.ts";
import type { Vfs } from "./vfs.ts";

/**
 * filename_create() + may_create(): the directory a new entry goes in.
 * EEXIST for ".", "..", "/" or an existing name; ENOENT for a trailing
 * slash on something that is not a directory, or in a removed directory;
 * EROFS; EACCES without write and search permission.
 */
function filenameCreate(ctx: NameiContext, nd: Nameidata, isDir: boolean): Path {
	if (nd.type !== "norm") throw new Errno(EEXIST);
	if (lookupChild(ctx, nd.dir, nd.last)) throw new Errno(EEXIST);
	if (nd.trailing && !isDir) throw new Errno(ENOENT);
	mntWantWrite(nd.dir.mnt);
	mayCreate(ctx, nd.dir);
	return nd.dir;
}

/** may_create(): ENOENT in a removed directory, else write and search permission on it. */
function mayCreate(ctx: NameiContext, dir: Path): void {
	if (dir.inode.nlink === 0) throw new Errno(ENOENT);
	inodePermission(ctx.cred, dir.mnt, dir.inode, MAY_WRITE | MAY_EXEC);
}

/** may_delete(): permission and sticky bit, then the victim's type against what the call removes. */
function mayDelete(ctx: NameiContext, dir: Path, victim: Inode, isDir: boolean): void {
	mayDeleteFrom(ctx.cred, dir.mnt, dir.inode, victim);
	if (isDir) {
		if (!S_ISDIR(victim.mode)) throw new Errno(ENOTDIR);
	} else if (S_ISDIR(victim.mode)) throw new Errno(EISDIR);
}

/** mkdirat(2): `mode & ~umask` keeping only the permission and sticky bits. */
export function vfsMkdir(vfs: Vfs, p: Process | null, name: string, mode: number, dirfd: number = AT_FDCWD, umask: number = p?.umask ?? 0): Path {
	const ctx = vfs.context(p);
	const nd = vfs.lookupParent(p, name, dirfd, ctx);
	const dir = filenameCreate(ctx, nd, true);
	if (!dir.inode.op.mkdir) throw new Errno(EPERM);
	const inode = dir.inode.op.mkdir(dir.inode, nd.last, mode & ~umask & 0o1777, ctx.cred);
	vfs.dcache.add(inode, dir.inode, nd.last);
	return { mnt: dir.mnt, inode };
}

/** symlinkat(2): ENOENT for an empty target, then as mkdir. */
export function vfsSymlink(vfs: Vfs, p: Process | null, target: string, name: string, dirfd: number = AT_FDCWD): Path {
	if (target === "") throw new Errno(ENOENT);
	const ctx = vfs.context(p);
	const nd = vfs.lookupParent(p, name, dirfd, ctx);
	const dir = filenameCreate(ctx, nd, false);
	if (!dir.inode.op.symlink) throw new Errno(EPERM);
	const inode = dir.inode.op.symlink(dir.inode, nd.last, target, ctx.cred);
	vfs.dcache.add(inode, dir.inode, nd.last);
	return { mnt: dir.mnt, inode };
}

/**
 * rmdir(2) / unlinkat(AT_REMOVEDIR): ENOTEMPTY for "..", EINVAL for ".",
 * EBUSY for "/" or a mountpoint, EROFS, ENOENT, EACCES/EPERM (sticky),
 * ENOTDIR, and the filesystem's ENOTEMPTY.
 */
export function vfsRmdir(vfs: Vfs, p: Process | null, name: string, dirfd: number = AT_FDCWD): void {
	const ctx = vfs.context(p);
	const nd = vfs.lookupParent(p, name, dirfd, ctx);
	if (nd.type === "dotdot") throw new Errno(ENOTEMPTY);
	if (nd.type === "dot") throw new Errno(EINVAL);
	if (nd.type === "root") throw new Errno(EBUSY);
	mntWantWrite(nd.dir.mnt);
	const victim = lookupChild(ctx, nd.dir, nd.last);
	if (!victim) throw new Errno(ENOENT);
	mayDelete(ctx, nd.dir, victim, true);
	const dir = nd.dir.inode;
	if (!dir.op.rmdir) throw new Errno(EPERM);
	if (vfs.mounts.isMountpoint(nd.dir.mnt, victim)) throw new Errno(EBUSY);
	dir.op.rmdir(dir, nd.last);
	vfs.dcache.drop(victim, dir, nd.last);
}

/**
 * unlink(2) / unlinkat(0): EISDIR for ".", "..", "/" or a directory;
 * a trailing slash gives ENOENT, EISDIR or ENOTDIR by what is there; EROFS,
 * EACCES, EPERM (sticky, or no unlink in the filesystem), EBUSY for a
 * mountpoint. An open file lives on until its last close.
 */
export function vfsUnlink(vfs: Vfs, p: Process | null, name: string, dirfd: number = AT_FDCWD): void {
	const ctx = vfs.context(p);
	const nd = vfs.lookupParent(p, name, dirfd, ctx);
	if (nd.type !== "norm") throw new Errno(EISDIR);
	mntWantWrite(nd.dir.mnt);
	const victim = lookupChild(ctx, nd.dir, nd.last);
	if (nd.trailing) throw new Errno(!victim ? ENOENT : S_ISDIR(victim.mode) ? EISDIR : ENOTDIR);
	if (!victim) throw new Errno(ENOENT);
	mayDelete(ctx, nd.dir, victim, false);
	const dir = nd.dir.inode;
	if (!dir.op.unlink) throw new Errno(EPERM);
	if (vfs.mounts.isMountpoint(nd.dir.mnt, victim)) throw new Errno(EBUSY);
	dir.op.unlink(dir, nd.last);
	vfs.dcache.drop(victim, dir, nd.last);
}

/** readlinkat(2)'s lookup: the symlink's target text; EINVAL for anything else. */
export function vfsReadlink(vfs: Vfs, p: Process | null, name: string, dirfd: number = AT_FDCWD): string {
	const path = vfs.lookup(p, name, { follow: false, dirfd });
	if (!S_ISLNK(path.inode.mode)) throw new Errno(EINVAL);
	return readlinkInode(path.inode);
}

/** True when `anc` is `inode` or one of its directories (within one filesystem). */
function isAncestor(anc: Inode, inode: Inode): boolean {
	for (let cur: Inode | null = inode, guard = 0; cur && guard < 4096; guard++) {
		if (cur === anc) return true;
		if (cur.parent === cur) return false;
		cur = cur.parent;
	}
	return false;
}

/**
 * renameat2(2). RENAME_NOREPLACE is honoured; RENAME_EXCHANGE and
 * RENAME_WHITEOUT are EINVAL (no luosim filesystem implements them).
 * Errors in Linux's order: EINVAL for bad flags, EXDEV across mounts, EBUSY
 * for ".", ".." or "/", EROFS, ENOENT, EEXIST (NOREPLACE), ENOTDIR for a
 * trailing slash on a non-directory, EINVAL to move a directory into
 * itself, ENOTEMPTY onto an ancestor, then may_delete/may_create
 * (EACCES, EPERM, ENOTDIR, EISDIR), EBUSY for a mountpoint, and the
 * filesystem's ENOTEMPTY. Renaming a name onto the same inode does nothing.
 */
export function vfsRename(vfs: Vfs, p: Process | null, olddfd: number, oldname: string, newdfd: number, newname: string, flags: number): void {
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) throw new Errno(EINVAL);
	if (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) && flags & RENAME_EXCHANGE) throw new Errno(EINVAL);
	if (flags & (RENAME_EXCHANGE | RENAME_WHITEOUT)) throw new Errno(EINVAL);
	const ctx = vfs.context(p);
	const ond = vfs.lookupParent(p, oldname, olddfd, ctx);
	const nnd = vfs.lookupParent(p, newname, newdfd, ctx);
	if (ond.dir.mnt !== nnd.dir.mnt) throw new Errno(EXDEV);
	if (ond.type !== "norm") throw new Errno(EBUSY);
	if (nnd.type !== "norm") throw new Errno(flags & RENAME_NOREPLACE ? EEXIST : EBUSY);
	mntWantWrite(ond.dir.mnt);
	const oldInode = lookupChild(ctx, ond.dir, ond.last);
	if (!oldInode) throw new Errno(ENOENT);
	const target = lookupChild(ctx, nnd.dir, nnd.last);
	if (target && flags & RENAME_NOREPLACE) throw new Errno(EEXIST);
	const isDir = S_ISDIR(oldInode.mode);
	if (!isDir && (ond.trailing || nnd.trailing)) throw new Errno(ENOTDIR);
	const oldDir = ond.dir.inode;
	const newDir = nnd.dir.inode;
	if (isAncestor(oldInode, newDir)) throw new Errno(EINVAL);
	if (target && isAncestor(target, oldDir)) throw new Errno(ENOTEMPTY);
	if (target === oldInode) return;
	mayDelete(ctx, ond.dir, oldInode, isDir);
	if (target) mayDelete(ctx, nnd.dir, target, isDir);
	else mayCreate(ctx, nnd.dir);
	if (!oldDir.op.rename) throw new Errno(EPERM);
	// A directory changing parent rewrites its "..": that needs write permission on it.
	if (isDir && oldDir !== newDir) inodePermission(ctx.cred, ond.dir.mnt, oldInode, MAY_WRITE);
	const mounts = vfs.mounts;
	if (mounts.isMountpoint(ond.dir.mnt, oldInode) || (target && mounts.isMountpoint(nnd.dir.mnt, target))) throw new Errno(EBUSY);
	oldDir.op.rename(oldDir, ond.last, newDir, nnd.last);
	vfs.dcache.drop(oldInode, oldDir, ond.last);
	if (target) vfs.dcache.drop(target, newDir, nnd.last);
	vfs.dcache.add(oldInode, newDir, nnd.last);
}
