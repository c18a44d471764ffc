/**
 * tmpfs (mm/shmem.c as a filesystem): regular files, directories and
 * symlinks kept in memfs's core objects (@jsonjoy.com/fs-core `Superblock`,
 * `Link`, `Node`, which memfs 4 is built on). One memfs Superblock per
 * mount instance; luosim uses only its node allocator, the links (names)
 * and the nodes (bytes). memfs file descriptors are never opened: the
 * kernel's fd tables hold luosim Files (DESIGN rule 1).
 *
 * The luosim Inode is the authority for metadata: inode numbers (counted
 * per instance from 1, never reused, like get_next_ino), mode, owner,
 * link count and times, which come from the virtual clock (memfs stamps
 * its nodes with Date.now; those stamps are ignored). There is one Inode
 * per memfs Node, so inode identity holds for mounts and fstat.
 *
 * An unlinked file stays readable and writable through the Files that have
 * it open (nlink 0) and is freed when the last of them is closed. Sizes
 * count against the instance's `size=` limit (default half of the
 * machine's memory): a write that does not fit is short, then ENOSPC.
 * Holes take space here (memfs keeps a flat buffer), unlike Linux.
 */
import { Buffer } from "node:buffer";
import { Superblock } from "@jsonjoy.com/fs-core";
import type { Link, Node } from "@jsonjoy.com/fs-core";
import { Errno, EEXIST, EFBIG, EINVAL, EISDIR, ENOENT, ENOSPC, ENOTDIR, ENOTEMPTY } from "../kernel/errno.ts";
import { Inode, makedev, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_ISDIR, S_ISGID, S_ISREG } from "./inode.ts";
import { registerFilesystem } from "./fsTypes.ts";
import { byteLength } from "./namei.ts";
import type { DirEntry, InodeAttr, InodeOperations, SuperBlock } from "./inode.ts";
import type { File, FileOperations } from "./file.ts";
import type { Cred } from "../kernel/cred.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** TMPFS_MAGIC (include/uapi/linux/magic.h). */
export const TMPFS_MAGIC = 0x01021994;
/** BOGO_DIRENT_SIZE: what each entry adds to a tmpfs directory's size. */
export const BOGO_DIRENT_SIZE = 20;
/** 24 hours in ns: relatime updates atime at least this often. */
const DAY_NS = 24 * 3600 * 1_000_000_000;
/** Node's Buffer cannot hold more than this in one file. */
const MAX_FILE_BYTES = 2 ** 31 - 1;

/** Options of a tmpfs instance (mount -o mode=,uid=,gid=,size=). */
export interface TmpfsOptions {
	/** Root directory permission bits (default 01777). */
	mode?: number;
	uid?: number;
	gid?: number;
	/** Size limit in bytes (default half the machine's memory). */
	size?: number;
}

/** What a tmpfs inode keeps in i_private. */
interface TmpfsPriv {
	link: Link;
	readonly node: Node;
	/** Open Files (the inode is freed at nlink 0 once this is 0). */
	opens: number;
}

const nextMinor = new WeakMap<Kernel, number>();

/** get_anon_bdev(): st_dev for a new instance (0:24 upwards; lower minors are taken by the other pseudo filesystems). */
function anonDev(kernel: Kernel): number {
	const m = nextMinor.get(kernel) ?? 24;
	nextMinor.set(kernel, m + 1);
	return makedev(0, m);
}

function priv(inode: Inode): TmpfsPriv {
	return inode.i_private as TmpfsPriv;
}

function sbOf(inode: Inode): TmpfsSuper {
	return inode.sb as TmpfsSuper;
}

/** fs_umode_to_dtype(). */
function dtType(mode: number): number {
	return (mode & S_IFMT) >> 12;
}

/** memfs's process stand-in: the kernel sets owners itself, and memfs never sees a cwd. */
const memfsProcess = {
	getuid: (): number => 0,
	getgid: (): number => 0,
	cwd: (): string => "/",
	platform: "linux",
	emitWarning: (): void => {},
	env: {},
};

/** One mounted tmpfs instance (struct super_block + shmem_sb_info). */
class TmpfsSuper implements SuperBlock {
	readonly fsType = "tmpfs";
	readonly magic = TMPFS_MAGIC;
	readonly dev: number;
	readonly root: Inode;
	readonly kernel: Kernel;
	readonly core = new Superblock({ process: memfsProcess });
	readonly inodes = new Map<Node, Inode>();
	readonly maxBytes: number;
	/** Bytes of regular-file data held. */
	used = 0;
	private nextIno = 1;

	constructor(kernel: Kernel, opts: TmpfsOptions) {
		this.kernel = kernel;
		this.dev = anonDev(kernel);
		this.maxBytes = opts.size ?? Math.floor(kernel.machine.memBytes / 2);
		const link = this.core.root;
		const node = link.getNode();
		this.root = this.makeInode(link, node, S_IFDIR | ((opts.mode ?? 0o1777) & 0o7777), opts.uid ?? 0, opts.gid ?? 0, null);
		this.root.parent = this.root;
	}

	now(): number {
		return this.kernel.clock.nowNs();
	}

	private makeInode(link: Link, node: Node, mode: number, uid: number, gid: number, parent: Inode | null): Inode {
		node.mode = mode;
		node.uid = uid;
		node.gid = gid;
		const type = mode & S_IFMT;
		const inode = new Inode({
			sb: this,
			ino: this.nextIno++,
			mode,
			uid,
			gid,
			size: type === S_IFDIR ? 2 * BOGO_DIRENT_SIZE : 0,
			timeNs: this.now(),
			op: type === S_IFDIR ? dirOps : type === S_IFLNK ? linkOps : fileOps,
			fop: type === S_IFDIR ? dirFops : type === S_IFREG ? regFops : {},
			parent,
			i_private: { link, node, opens: 0 } satisfies TmpfsPriv,
		});
		this.inodes.set(node, inode);
		return inode;
	}

	/** The Inode of a link in a directory. */
	inodeOf(link: Link): Inode {
		return this.inodes.get(link.getNode())!;
	}

	/** The link `name` in directory `dir`, or ENOENT. */
	child(dir: Inode, name: string): Link {
		const l = priv(dir).link.children.get(name);
		if (!l || name === "." || name === "..") throw new Errno(ENOENT);
		return l;
	}

	/** `entries` entries came or went in `dir`, `subdirs` of them directories (each holds a link to it by its ".."). */
	touchDir(dir: Inode, entries: number, subdirs: number): void {
		dir.size += entries * BOGO_DIRENT_SIZE;
		dir.nlink += subdirs;
		dir.mtimeNs = dir.ctimeNs = this.now();
	}

	/**
	 * shmem_mknod(): a new inode `name` in `dir`, owned by the caller's
	 * fsuid and fsgid, or the directory's group when it is set-group-ID
	 * (which a new directory inherits): inode_init_owner().
	 */
	newChild(dir: Inode, name: string, mode: number, cred: Cred): Inode {
		const dirLink = priv(dir).link;
		if (dirLink.children.has(name)) throw new Errno(EEXIST);
		let gid = cred.fsgid;
		if (dir.mode & S_ISGID) {
			gid = dir.gid;
			if (S_ISDIR(mode)) mode |= S_ISGID;
		}
		const node = this.core.createNode(mode);
		const link = dirLink.createChild(name, node);
		const inode = this.makeInode(link, node, mode, cred.fsuid, gid, dir);
		this.touchDir(dir, 1, S_ISDIR(mode) ? 1 : 0);
		return inode;
	}

	/** Drops a link from its directory and the inode's link count; frees an unused inode. */
	removeLink(dir: Inode, link: Link): Inode {
		const inode = this.inodeOf(link);
		const isDir = S_ISDIR(inode.mode);
		priv(dir).link.deleteChild(link);
		inode.nlink = isDir ? 0 : inode.nlink - 1;
		inode.ctimeNs = this.now();
		this.touchDir(dir, -1, isDir ? -1 : 0);
		this.maybeFree(inode);
		return inode;
	}

	/** evict(): the last link and the last open File are gone. */
	maybeFree(inode: Inode): void {
		const pr = priv(inode);
		if (inode.nlink > 0 || pr.opens > 0) return;
		if (S_ISREG(inode.mode)) this.used -= inode.size;
		this.inodes.delete(pr.node);
		this.core.deleteNode(pr.node);
	}

	/** Resizes a regular file's data: ENOSPC past the instance's limit. */
	resize(inode: Inode, size: number): void {
		if (!Number.isSafeInteger(size) || size < 0) throw new Errno(EINVAL);
		if (size > MAX_FILE_BYTES) throw new Errno(EFBIG);
		if (size > inode.size && this.used + size - inode.size > this.maxBytes) throw new Errno(ENOSPC);
		priv(inode).node.truncate(size);
		this.used += size - inode.size;
		inode.size = size;
	}
}

function readdir(dir: Inode): DirEntry[] {
	const sb = sbOf(dir);
	const out: DirEntry[] = [];
	for (const [name, l] of priv(dir).link.children) {
		if (name === "." || name === ".." || !l) continue;
		const i = sb.inodeOf(l);
		out.push({ name, ino: i.ino, type: dtType(i.mode) });
	}
	return out;
}

/** shmem_setattr(): size (regular files), mode bits, owner, times; ctime always. */
function setattr(inode: Inode, attr: InodeAttr): void {
	const sb = sbOf(inode);
	const node = priv(inode).node;
	const now = sb.now();
	if (attr.size !== undefined) {
		if (!S_ISREG(inode.mode)) throw new Errno(EINVAL);
		sb.resize(inode, attr.size);
		inode.mtimeNs = now;
	}
	if (attr.mode !== undefined) node.mode = inode.mode = (inode.mode & S_IFMT) | (attr.mode & 0o7777);
	if (attr.uid !== undefined) node.uid = inode.uid = attr.uid;
	if (attr.gid !== undefined) node.gid = inode.gid = attr.gid;
	if (attr.atimeNs !== undefined) inode.atimeNs = attr.atimeNs;
	if (attr.mtimeNs !== undefined) inode.mtimeNs = attr.mtimeNs;
	inode.ctimeNs = now;
}

/** shmem_rename2(): moves the link; a target of the same kind is replaced (an empty directory only). */
function rename(oldDir: Inode, oldName: string, newDir: Inode, newName: string): void {
	const sb = sbOf(oldDir);
	const link = sb.child(oldDir, oldName);
	const inode = sb.inodeOf(link);
	const newLink = priv(newDir).link;
	const target = newLink.children.get(newName);
	if (target) {
		const t = sb.inodeOf(target);
		if (S_ISDIR(t.mode)) {
			if (!S_ISDIR(inode.mode)) throw new Errno(EISDIR);
			if (target.length > 0) throw new Errno(ENOTEMPTY);
		} else if (S_ISDIR(inode.mode)) throw new Errno(ENOTDIR);
		sb.removeLink(newDir, target);
	}
	priv(oldDir).link.deleteChild(link);
	link.name = newName;
	newLink.setChild(newName, link);
	link.syncSteps();
	inode.parent = newDir;
	inode.ctimeNs = sb.now();
	const sub = S_ISDIR(inode.mode) ? 1 : 0;
	sb.touchDir(oldDir, -1, -sub);
	sb.touchDir(newDir, 1, sub);
}

const dirOps: InodeOperations = {
	lookup: (dir, name) => {
		const l = priv(dir).link.children.get(name);
		return l ? sbOf(dir).inodeOf(l) : null;
	},
	create: (dir, name, mode, cred) => sbOf(dir).newChild(dir, name, S_IFREG | (mode & 0o7777), cred),
	mkdir: (dir, name, mode, cred) => sbOf(dir).newChild(dir, name, S_IFDIR | (mode & 0o7777), cred),
	symlink: (dir, name, target, cred) => {
		const inode = sbOf(dir).newChild(dir, name, S_IFLNK | 0o777, cred);
		priv(inode).node.symlink = target;
		inode.size = byteLength(target);
		return inode;
	},
	unlink: (dir, name) => {
		const sb = sbOf(dir);
		const link = sb.child(dir, name);
		if (S_ISDIR(sb.inodeOf(link).mode)) throw new Errno(EISDIR);
		sb.removeLink(dir, link);
	},
	rmdir: (dir, name) => {
		const sb = sbOf(dir);
		const link = sb.child(dir, name);
		if (!S_ISDIR(sb.inodeOf(link).mode)) throw new Errno(ENOTDIR);
		if (link.length > 0) throw new Errno(ENOTEMPTY);
		sb.removeLink(dir, link);
	},
	rename,
	readdir,
	setattr,
};

const fileOps: InodeOperations = { setattr };
const linkOps: InodeOperations = { readlink: (inode) => priv(inode).node.symlink, setattr };

function openCount(inode: Inode): void {
	priv(inode).opens++;
}

function releaseCount(inode: Inode): void {
	priv(inode).opens--;
	sbOf(inode).maybeFree(inode);
}

/** relatime: atime moves when it is not newer than mtime or ctime, or is a day old. */
function touchAtime(inode: Inode, now: number): void {
	if (inode.atimeNs <= inode.mtimeNs || inode.atimeNs <= inode.ctimeNs || now - inode.atimeNs >= DAY_NS) inode.atimeNs = now;
}

/** Copies `out.length` bytes of `src` from `pos`: a few bytes one by one, which is faster than a subarray view. */
function copyOut(src: Uint8Array, pos: number, out: Uint8Array): void {
	const n = out.length;
	if (n > 64) out.set(src.subarray(pos, pos + n));
	else for (let i = 0; i < n; i++) out[i] = src[pos + i]!;
}

/** shmem_file_read_iter(). */
function shmemRead(file: File, count: number, ppos: { pos: number }): Uint8Array {
	const inode = file.inode;
	const n = Math.max(0, Math.min(count, inode.size - ppos.pos));
	const out = new Uint8Array(n);
	// Straight from the node's bytes: memfs's read() also stamps an atime (a new Date) that luosim ignores.
	if (n > 0) copyOut(priv(inode).node.buf, ppos.pos, out);
	ppos.pos += n;
	touchAtime(inode, sbOf(inode).now());
	return out;
}

/** shmem_file_write_iter(): short when the instance fills up, ENOSPC when nothing fits. */
function shmemWrite(file: File, data: Uint8Array, ppos: { pos: number }): number {
	const inode = file.inode;
	const sb = sbOf(inode);
	if (data.length === 0) return 0;
	const pos = ppos.pos;
	let n = data.length;
	if (pos + n > MAX_FILE_BYTES) {
		if (pos >= MAX_FILE_BYTES) throw new Errno(EFBIG);
		n = MAX_FILE_BYTES - pos;
	}
	const room = sb.maxBytes - sb.used + inode.size - pos;
	if (pos + n > inode.size && n > room) {
		if (room <= 0) throw new Errno(ENOSPC);
		n = room;
	}
	const node = priv(inode).node;
	node.write(Buffer.from(data.buffer, data.byteOffset, n), 0, n, pos);
	const size = node.getSize();
	sb.used += size - inode.size;
	inode.size = size;
	inode.mtimeNs = inode.ctimeNs = sb.now();
	ppos.pos = pos + n;
	return n;
}

const regFops: FileOperations = {
	open: openCount,
	release: releaseCount,
	read: shmemRead,
	write: shmemWrite,
};

const dirFops: FileOperations = {
	open: openCount,
	release: releaseCount,
	iterate: (file) => readdir(file.inode),
};

/** Parses a size= value: bytes with an optional k/m/g suffix, or a percentage of memory. */
function parseSize(kernel: Kernel, v: string): number {
	const m = /^([0-9]+)([kKmMgG%]?)$/.exec(v);
	if (!m) throw new Errno(EINVAL);
	const n = Number(m[1]);
	const unit = m[2]!.toLowerCase();
	if (unit === "%") return Math.floor((kernel.machine.memBytes * n) / 100);
	return n * (unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1);
}

/**
 * shmem_parse_one(): mode=, uid=, gid=, size=; options that only tune
 * what luosim does not model (nr_inodes, huge, mpol, inode64 …) are
 * accepted; anything else is EINVAL.
 */
export function parseTmpfsOptions(kernel: Kernel, data: string | null): TmpfsOptions {
	const opts: TmpfsOptions = {};
	for (const opt of (data ?? "").split(",")) {
		if (opt === "") continue;
		const eq = opt.indexOf("=");
		const key = eq >= 0 ? opt.slice(0, eq) : opt;
		const val = eq >= 0 ? opt.slice(eq + 1) : "";
		const num = (): number => {
			if (!/^[0-9]+$/.test(val)) throw new Errno(EINVAL);
			return Number(val);
		};
		switch (key) {
			case "mode":
				if (!/^[0-7]+$/.test(val)) throw new Errno(EINVAL);
				opts.mode = parseInt(val, 8) & 0o7777;
				break;
			case "uid":
				opts.uid = num();
				break;
			case "gid":
				opts.gid = num();
				break;
			case "size":
				opts.size = parseSize(kernel, val);
				break;
			case "nr_blocks":
				opts.size = num() * 4096;
				break;
			case "nr_inodes": case "huge": case "mpol": case "inode32": case "inode64": case "noswap": case "quota":
			case "usrquota": case "grpquota": case "noatime": case "relatime": case "strictatime":
				break;
			default:
				throw new Errno(EINVAL);
		}
	}
	return opts;
}

/** A new tmpfs instance (shmem_fill_super): each call is a new, empty filesystem. */
export function tmpfsMount(kernel: Kernel, opts: TmpfsOptions = {}): SuperBlock {
	return new TmpfsSuper(kernel, opts);
}

/** Bytes of file data an instance holds and its limit (for statfs). */
export function tmpfsUsage(sb: SuperBlock): { used: number; max: number } | null {
	return sb instanceof TmpfsSuper ? { used: sb.used, max: sb.maxBytes } : null;
}

registerFilesystem({ name: "tmpfs", mount: (kernel, _source, _flags, data) => tmpfsMount(kernel, parseTmpfsOptions(kernel, data)) });
