/**
 * Inodes and superblocks: the VFS-owned object every filesystem fills in
 * (include/linux/fs.h: struct inode, struct inode_operations,
 * struct super_block). A filesystem keeps its own data in `i_private`.
 */
import type { FileOperations } from "./file.ts";
import type { Cred } from "../kernel/cred.ts";

/** File type bits and permission bits (include/uapi/linux/stat.h). */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;

/** `S_ISDIR(m)` and friends. */
export function S_ISDIR(mode: number): boolean {
	return (mode & S_IFMT) === S_IFDIR;
}
export function S_ISREG(mode: number): boolean {
	return (mode & S_IFMT) === S_IFREG;
}
export function S_ISLNK(mode: number): boolean {
	return (mode & S_IFMT) === S_IFLNK;
}
export function S_ISCHR(mode: number): boolean {
	return (mode & S_IFMT) === S_IFCHR;
}
export function S_ISFIFO(mode: number): boolean {
	return (mode & S_IFMT) === S_IFIFO;
}

/** Device numbers as the kernel encodes them for userspace (MKDEV/new_encode_dev). */
export function makedev(major: number, minor: number): number {
	return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}
export function major(dev: number): number {
	return (dev >>> 8) & 0xfff;
}
export function minor(dev: number): number {
	return (dev & 0xff) | ((dev >>> 12) & 0xfff00);
}

/** One directory entry as `getdents64` reports it (DT_* in `type`). */
export interface DirEntry {
	name: string;
	ino: number;
	type: number;
}

/** What `setattr` may change (struct iattr). Times are virtual-clock ns. */
export interface InodeAttr {
	size?: number;
	mode?: number;
	uid?: number;
	gid?: number;
	atimeNs?: number;
	mtimeNs?: number;
}

/**
 * struct inode_operations. The VFS has already checked permissions, name
 * length and existence where it can; an operation throws `Errno` for what
 * only the filesystem knows. Missing operations make the VFS answer with the
 * errno Linux gives (EPERM for create/mkdir/unlink on a filesystem without
 * them, ENOTDIR for lookup on a non-directory, EINVAL for readlink).
 */
export interface InodeOperations {
	/** Finds `name` in `dir` (never "." or ".."); null when absent. */
	lookup?(dir: Inode, name: string): Inode | null;
	create?(dir: Inode, name: string, mode: number, cred: Cred): Inode;
	mkdir?(dir: Inode, name: string, mode: number, cred: Cred): Inode;
	unlink?(dir: Inode, name: string): void;
	rmdir?(dir: Inode, name: string): void;
	symlink?(dir: Inode, name: string, target: string, cred: Cred): Inode;
	rename?(oldDir: Inode, oldName: string, newDir: Inode, newName: string): void;
	readlink?(inode: Inode): string;
	setattr?(inode: Inode, attr: InodeAttr): void;
	/** Directory listing without "." and ".."; the VFS adds those. */
	readdir?(dir: Inode): DirEntry[];
}

/** struct super_block: one mounted instance of a filesystem. */
export interface SuperBlock {
	/** "tmpfs", "sysfs", "debugfs", "devtmpfs", "proc". */
	readonly fsType: string;
	/** st_dev of every inode on it. */
	readonly dev: number;
	readonly root: Inode;
	/** The magic number statfs reports (TMPFS_MAGIC …). */
	readonly magic: number;
}

let nextIno = 1;

/** struct inode. Filesystems create these; the VFS never subclasses them. */
export class Inode {
	ino: number;
	mode: number;
	uid: number;
	gid: number;
	nlink: number;
	rdev: number;
	size: number;
	atimeNs: number;
	mtimeNs: number;
	ctimeNs: number;
	readonly sb: SuperBlock;
	op: InodeOperations;
	fop: FileOperations;
	/** The parent directory, for ".." (the root of a filesystem is its own parent). */
	parent: Inode | null;
	/** Filesystem-private data (inode->i_private). */
	i_private: unknown;

	constructor(init: {
		sb: SuperBlock;
		mode: number;
		op?: InodeOperations;
		fop: FileOperations;
		uid?: number;
		gid?: number;
		ino?: number;
		rdev?: number;
		size?: number;
		timeNs?: number;
		parent?: Inode | null;
		i_private?: unknown;
	}) {
		this.sb = init.sb;
		this.ino = init.ino ?? nextIno++;
		this.mode = init.mode;
		this.uid = init.uid ?? 0;
		this.gid = init.gid ?? 0;
		this.nlink = S_ISDIR(init.mode) ? 2 : 1;
		this.rdev = init.rdev ?? 0;
		this.size = init.size ?? 0;
		this.atimeNs = this.mtimeNs = this.ctimeNs = init.timeNs ?? 0;
		this.op = init.op ?? {};
		this.fop = init.fop;
		this.parent = init.parent ?? null;
		this.i_private = init.i_private;
	}
}
