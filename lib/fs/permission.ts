/**
 * Permission checks (fs/namei.c: generic_permission, inode_permission,
 * may_delete, may_create; fs/attr.c: inode_owner_or_capable). luosim has
 * no supplementary groups, ACLs or LSMs: the mode bits against fsuid and
 * fsgid, and the capabilities that override them.
 */
import { Errno, EACCES, EPERM, EROFS } from "../kernel/errno.ts";
import { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER } from "../kernel/cred.ts";
import { S_IFMT, S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK, S_ISDIR, S_ISVTX } from "./inode.ts";
import { MS_RDONLY } from "./mount.ts";
import type { Cred } from "../kernel/cred.ts";
import type { Inode } from "./inode.ts";
import type { Mount } from "./mount.ts";

/** MAY_* masks (include/linux/fs.h). */
export const MAY_EXEC = 0x1;
export const MAY_WRITE = 0x2;
export const MAY_READ = 0x4;
export const MAY_APPEND = 0x8;
export const MAY_ACCESS = 0x10;
export const MAY_OPEN = 0x20;

/** S_IXUGO. */
const S_IXUGO = 0o111;

/** in_group_p() without supplementary groups. */
export function inGroup(cred: Cred, gid: number): boolean {
	return cred.fsgid === gid;
}

/**
 * generic_permission(): true when `cred` may access `inode` for `mask`
 * (MAY_READ/WRITE/EXEC). CAP_DAC_OVERRIDE passes read and write always,
 * and exec on a directory or a file with some x bit; CAP_DAC_READ_SEARCH
 * passes read, and search on a directory.
 */
export function genericPermission(cred: Cred, inode: Inode, mask: number): boolean {
	mask &= MAY_READ | MAY_WRITE | MAY_EXEC;
	let mode = inode.mode;
	if (cred.fsuid === inode.uid) mode >>= 6;
	else if (inGroup(cred, inode.gid)) mode >>= 3;
	if ((mask & ~mode & 0o7) === 0) return true;
	if (S_ISDIR(inode.mode)) {
		if (!(mask & MAY_WRITE) && cred.capable(CAP_DAC_READ_SEARCH)) return true;
		return cred.capable(CAP_DAC_OVERRIDE);
	}
	if (!(mask & MAY_EXEC) || (inode.mode & S_IXUGO) !== 0) {
		if (cred.capable(CAP_DAC_OVERRIDE)) return true;
	}
	return mask === MAY_READ && cred.capable(CAP_DAC_READ_SEARCH);
}

/** True for device nodes, FIFOs and sockets: writing them does not write the filesystem. */
export function specialFile(mode: number): boolean {
	const t = mode & S_IFMT;
	return t === S_IFCHR || t === S_IFBLK || t === S_IFIFO || t === S_IFSOCK;
}

/** mnt_want_write(): EROFS on a read-only mount. */
export function mntWantWrite(mnt: Mount): void {
	if (mnt.flags & MS_RDONLY) throw new Errno(EROFS);
}

/**
 * inode_permission(): EROFS for a write to a file, directory or symlink of
 * a read-only mount, then the mode bits (EACCES).
 */
export function inodePermission(cred: Cred, mnt: Mount, inode: Inode, mask: number): void {
	if (mask & MAY_WRITE && !specialFile(inode.mode)) mntWantWrite(mnt);
	if (!genericPermission(cred, inode, mask)) throw new Errno(EACCES);
}

/** inode_owner_or_capable(): the owner, or CAP_FOWNER. */
export function ownerOrCapable(cred: Cred, inode: Inode): boolean {
	return cred.fsuid === inode.uid || cred.capable(CAP_FOWNER);
}

/** check_sticky(): in a sticky directory only the file's or the directory's owner (or CAP_FOWNER) may remove or rename. */
export function checkSticky(cred: Cred, dir: Inode, inode: Inode): boolean {
	if (!(dir.mode & S_ISVTX)) return false;
	if (cred.fsuid === inode.uid || cred.fsuid === dir.uid) return false;
	return !cred.capable(CAP_FOWNER);
}

/** The write and search check on a directory before an entry is removed from it (may_delete, the part before the type checks). */
export function mayDeleteFrom(cred: Cred, mnt: Mount, dir: Inode, victim: Inode): void {
	inodePermission(cred, mnt, dir, MAY_WRITE | MAY_EXEC);
	if (checkSticky(cred, dir, victim)) throw new Errno(EPERM);
}
