/**
 * kernfs: the kernel-owned tree of directories, files and symlinks under
 * sysfs and debugfs (fs/kernfs/dir.c, inode.c, symlink.c, file.c). Nodes
 * are kernel objects, not memfs files; each has one Inode for the VFS.
 *
 * A file node either carries `KernfsOps` (show/write callbacks, which kernfs
 * turns into seq_file reads, whole-buffer writes and the notify/poll event
 * counter, as sysfs uses them) or plain `FileOperations` chosen by its
 * creator (debugfs wraps its own). Removing a node deactivates it: open
 * files stay open, and later calls on them fail as the owner decides.
 */
import { Inode, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "./inode.ts";
import type { DirEntry, InodeAttr, InodeOperations, SuperBlock } from "./inode.ts";
import { FMODE_READ, FMODE_WRITE } from "./file.ts";
import type { File, FileOperations, PollTable } from "./file.ts";
import { DEFAULT_POLLMASK, POLLERR, POLLPRI } from "./poll.ts";
import { WaitQueue } from "../kernel/waitqueue.ts";
import { PAGE_SIZE } from "../uaccess/vma.ts";
import { Errno, EACCES, EEXIST, EINVAL, ENODEV, ENOENT, ENOTDIR } from "../kernel/errno.ts";

/** getdents64 d_type values (include/linux/fs_types.h). */
export const DT_DIR = 4;
export const DT_REG = 8;
export const DT_LNK = 10;

/** S_IALLUGO, S_IRUGO, S_IWUGO, S_IXUGO (include/linux/stat.h). */
export const S_IALLUGO = 0o7777;
export const S_IRUGO = 0o444;
export const S_IWUGO = 0o222;
export const S_IXUGO = 0o111;

/**
 * struct kernfs_ops for a single-record seq_file: `seqShow` renders the whole
 * record (the caller sizes it), `write` gets one buffer per write() call.
 */
export interface KernfsOps {
	seqShow?(of: KernfsOpenFile): Uint8Array;
	/** Gets at most PAGE_SIZE bytes; returns the count the write() returns. */
	write?(of: KernfsOpenFile, buf: Uint8Array, pos: number): number;
}

/** struct kernfs_open_node: exists while the node has open files. */
interface KernfsOpenNode {
	event: number;
	readonly poll: WaitQueue;
	readonly files: Set<KernfsOpenFile>;
}

/** What kind of node this is. */
export type KernfsNodeType = "dir" | "file" | "link";

/** struct kernfs_node. */
export class KernfsNode {
	readonly name: string;
	readonly parent: KernfsNode | null;
	readonly type: KernfsNodeType;
	readonly root: KernfsRoot;
	readonly inode: Inode;
	/** Directory entries, in creation order. */
	readonly children = new Map<string, KernfsNode>();
	/** False once removed (kernfs_active()). */
	active = true;
	/** kn->priv: the kobject of a sysfs dir, the attribute of a sysfs file. */
	priv: unknown;
	/** kernfs_ops of a file created with them; null for plain-fops files. */
	readonly ops: KernfsOps | null;
	/** A symlink's target: a node (path computed on readlink) or fixed text. */
	readonly target: KernfsNode | string | null;
	/** kernfs_create_empty_dir(): a mount point that never has entries. */
	readonly empty: boolean;
	openNode: KernfsOpenNode | null = null;

	constructor(init: { root: KernfsRoot; parent: KernfsNode | null; name: string; type: KernfsNodeType; mode: number; priv?: unknown; ops?: KernfsOps | null; fops?: FileOperations; iPrivate?: unknown; size?: number; target?: KernfsNode | string | null; empty?: boolean }) {
		this.root = init.root;
		this.parent = init.parent;
		this.name = init.name;
		this.type = init.type;
		this.priv = init.priv;
		this.ops = init.ops ?? null;
		this.target = init.target ?? null;
		this.empty = init.empty ?? false;
		const fop = init.fops ?? (this.ops ? kernfsFileFops : init.type === "dir" ? kernfsDirFops : {});
		this.inode = new Inode({
			sb: init.root,
			ino: init.root.allocIno(),
			mode: init.mode,
			uid: 0,
			gid: 0,
			size: init.size ?? 0,
			timeNs: init.root.now(),
			op: init.type === "dir" ? (this.empty ? emptyDirIops : kernfsDirIops) : init.type === "link" ? kernfsSymlinkIops : kernfsFileIops,
			fop,
			parent: init.parent?.inode ?? null,
			// kernfs keeps the node in i_private; debugfs keeps the creator's data there, even null.
			i_private: "iPrivate" in init ? init.iPrivate : this,
		});
		if (init.parent === null) this.inode.parent = this.inode;
		inodeNodes.set(this.inode, this);
	}

	/** kernfs_path(): "/kernel/debug" style, relative to the root of its tree. */
	path(): string {
		const parts: string[] = [];
		for (let n: KernfsNode | null = this; n && n.parent; n = n.parent) parts.unshift(n.name);
		return `/${parts.join("/")}`;
	}
}

const inodeNodes = new WeakMap<Inode, KernfsNode>();

/** The node behind a kernfs inode (kernfs_dentry_node), or null for other inodes. */
export function kernfsNodeOf(inode: Inode): KernfsNode | null {
	return inodeNodes.get(inode) ?? null;
}

/** How a kernfs tree behaves (kernfs_create_root flags) and what its superblock reports. */
export interface KernfsRootOptions {
	fsType: string;
	magic: number;
	dev: number;
	/** Mode of the root directory, permission bits only. */
	rootMode: number;
	/** KERNFS_ROOT_EXTRA_OPEN_PERM_CHECK: refuse opens the ops cannot serve, even for root. */
	extraOpenPermCheck: boolean;
	/** The virtual clock, for inode times. */
	now: () => number;
	/** Private data of the root directory node. */
	rootPriv?: unknown;
}

/** struct kernfs_root, which is also the filesystem's one superblock. */
export class KernfsRoot implements SuperBlock {
	readonly fsType: string;
	readonly magic: number;
	readonly dev: number;
	readonly extraOpenPermCheck: boolean;
	readonly now: () => number;
	readonly node: KernfsNode;
	private nextIno = 1;

	constructor(opts: KernfsRootOptions) {
		this.fsType = opts.fsType;
		this.magic = opts.magic;
		this.dev = opts.dev;
		this.extraOpenPermCheck = opts.extraOpenPermCheck;
		this.now = opts.now;
		this.node = new KernfsNode({ root: this, parent: null, name: "", type: "dir", mode: S_IFDIR | (opts.rootMode & S_IALLUGO), priv: opts.rootPriv });
	}

	/** The root directory's inode. */
	get root(): Inode {
		return this.node.inode;
	}

	/** Inode numbers count up from 1 (the root) per tree, like kernfs's cyclic idr. */
	allocIno(): number {
		return this.nextIno++;
	}
}

function addChild(parent: KernfsNode, kn: KernfsNode): void {
	parent.children.set(kn.name, kn);
	if (kn.type === "dir") parent.inode.nlink++;
	parent.inode.mtimeNs = parent.inode.ctimeNs = parent.root.now();
}

/** kernfs_add_one() checks: the parent must be a live, non-empty-mountpoint dir without `name`. */
function checkAdd(parent: KernfsNode, name: string): void {
	if (parent.type !== "dir") throw new Errno(ENOTDIR);
	if (!parent.active || parent.empty) throw new Errno(ENOENT);
	if (name === "" || name === "." || name === ".." || name.includes("/")) throw new Errno(EINVAL);
	if (parent.children.has(name)) throw new Errno(EEXIST);
}

/** kernfs_create_dir_ns(): a directory (`mode` permission bits). */
export function kernfsCreateDir(parent: KernfsNode, name: string, mode: number, priv?: unknown): KernfsNode {
	checkAdd(parent, name);
	const kn = new KernfsNode({ root: parent.root, parent, name, type: "dir", mode: S_IFDIR | (mode & S_IALLUGO), priv });
	addChild(parent, kn);
	return kn;
}

/** kernfs_create_empty_dir(): a 0555 directory that stays empty (a mount point such as /sys/kernel/debug). */
export function kernfsCreateEmptyDir(parent: KernfsNode, name: string): KernfsNode {
	checkAdd(parent, name);
	const kn = new KernfsNode({ root: parent.root, parent, name, type: "dir", mode: S_IFDIR | S_IRUGO | S_IXUGO, empty: true });
	addChild(parent, kn);
	return kn;
}

/** What a file node is made of: kernfs ops, or plain file operations with an inode->i_private. */
export interface KernfsFileSpec {
	mode: number;
	size?: number;
	priv?: unknown;
	ops?: KernfsOps;
	fops?: FileOperations;
	iPrivate?: unknown;
}

/** __kernfs_create_file(): a regular file node. */
export function kernfsCreateFile(parent: KernfsNode, name: string, spec: KernfsFileSpec): KernfsNode {
	checkAdd(parent, name);
	const { mode, ...rest } = spec;
	const kn = new KernfsNode({ root: parent.root, parent, name, type: "file", mode: S_IFREG | (mode & S_IALLUGO), ...rest });
	addChild(parent, kn);
	return kn;
}

/** kernfs_create_link(): a 0777 symlink to a node (relative path) or to fixed text. */
export function kernfsCreateLink(parent: KernfsNode, name: string, target: KernfsNode | string): KernfsNode {
	checkAdd(parent, name);
	const kn = new KernfsNode({ root: parent.root, parent, name, type: "link", mode: S_IFLNK | 0o777, target });
	addChild(parent, kn);
	return kn;
}

/** kernfs_find_and_get(): a live child by name. */
export function kernfsFind(parent: KernfsNode, name: string): KernfsNode | null {
	return parent.children.get(name) ?? null;
}

/**
 * kernfs_remove(): deactivates `kn` and everything under it and unlinks it.
 * Open files keep their references; their operations now fail.
 */
export function kernfsRemove(kn: KernfsNode | null): void {
	if (!kn || !kn.active || !kn.parent) return;
	const deactivate = (n: KernfsNode): void => {
		for (const c of n.children.values()) deactivate(c);
		n.active = false;
	};
	deactivate(kn);
	const parent = kn.parent;
	parent.children.delete(kn.name);
	if (kn.type === "dir") parent.inode.nlink--;
	kn.inode.nlink = 0;
	parent.inode.mtimeNs = parent.inode.ctimeNs = parent.root.now();
}

/** kernfs_get_target_path(): the relative path from a link's directory to its target. */
function targetPath(link: KernfsNode, target: KernfsNode): string {
	const ancestors = (n: KernfsNode): KernfsNode[] => {
		const out: KernfsNode[] = [];
		for (let p: KernfsNode | null = n; p; p = p.parent) out.unshift(p);
		return out;
	};
	const from = ancestors(link.parent!);
	const to = ancestors(target);
	let common = 0;
	while (common < from.length && common < to.length && from[common] === to[common]) common++;
	const up = "../".repeat(from.length - common);
	return up + to.slice(common).map((n) => n.name).join("/");
}

function nodeOf(inode: Inode): KernfsNode {
	const kn = inodeNodes.get(inode);
	if (!kn) throw new Error("luosim: kernfs operation on a foreign inode");
	return kn;
}

function dtype(kn: KernfsNode): number {
	return kn.type === "dir" ? DT_DIR : kn.type === "link" ? DT_LNK : DT_REG;
}

/** kernfs_iop_setattr(): mode, owner and times change; size is ignored (O_TRUNC succeeds). */
function kernfsSetattr(inode: Inode, attr: InodeAttr): void {
	if (attr.mode !== undefined) inode.mode = (inode.mode & S_IFMT) | (attr.mode & S_IALLUGO);
	if (attr.uid !== undefined) inode.uid = attr.uid;
	if (attr.gid !== undefined) inode.gid = attr.gid;
	if (attr.atimeNs !== undefined) inode.atimeNs = attr.atimeNs;
	if (attr.mtimeNs !== undefined) inode.mtimeNs = attr.mtimeNs;
	inode.ctimeNs = nodeOf(inode).root.now();
}

function listDir(dir: Inode): DirEntry[] {
	return [...nodeOf(dir).children.values()].map((kn) => ({ name: kn.name, ino: kn.inode.ino, type: dtype(kn) }));
}

/** kernfs_dir_iops: lookup and readdir over the node tree. */
const kernfsDirIops: InodeOperations = {
	lookup: (dir, name) => nodeOf(dir).children.get(name)?.inode ?? null,
	readdir: listDir,
	setattr: kernfsSetattr,
};

/** make_empty_dir_inode(): nothing to find, nothing to list. */
const emptyDirIops: InodeOperations = {
	lookup: () => null,
	readdir: () => [],
	setattr: kernfsSetattr,
};

const kernfsFileIops: InodeOperations = { setattr: kernfsSetattr };

const kernfsSymlinkIops: InodeOperations = {
	readlink(inode) {
		const kn = nodeOf(inode);
		return typeof kn.target === "string" ? kn.target : targetPath(kn, kn.target!);
	},
	setattr: kernfsSetattr,
};

const kernfsDirFops: FileOperations = {
	iterate: (file) => listDir(file.inode),
};

/** struct kernfs_open_file with its seq_file state (single record, one page or more). */
export class KernfsOpenFile {
	readonly kn: KernfsNode;
	readonly file: File;
	/** The node's event count when show last ran for this open file. */
	event = 0;
	/** seq_file: the rendered record, the unread window [from, from+count), the record index, the position read so far. */
	buf: Uint8Array = new Uint8Array(0);
	from = 0;
	count = 0;
	index = 0;
	readPos = 0;

	constructor(kn: KernfsNode, file: File) {
		this.kn = kn;
		this.file = file;
	}
}

function openFileOf(file: File): KernfsOpenFile {
	if (!(file.private_data instanceof KernfsOpenFile)) throw new Error("luosim: kernfs file without its open-file state");
	return file.private_data;
}

/** kernfs_seq_show(): remember the event count, then render the record. */
function seqShow(of: KernfsOpenFile): Uint8Array {
	if (!of.kn.active) throw new Errno(ENODEV);
	of.event = of.kn.openNode!.event;
	return of.kn.ops!.seqShow!(of);
}

/** seq_file traverse(): position the window at `offset` by rendering the record again. */
function traverse(of: KernfsOpenFile, offset: number): void {
	of.index = 0;
	of.count = of.from = 0;
	if (offset === 0) return;
	const rec = seqShow(of);
	of.index = 1;
	of.buf = rec;
	if (rec.length > offset) {
		of.from = offset;
		of.count = rec.length - offset;
	}
}

/**
 * seq_read_iter() over single_start: a read at offset 0 renders the record
 * (calling show), later reads page through that snapshot, and a read past
 * it is EOF. A read elsewhere than where the last one stopped renders again.
 */
function kernfsSeqRead(file: File, count: number, ppos: { pos: number }): Uint8Array {
	const of = openFileOf(file);
	if (count === 0) return new Uint8Array(0);
	if (ppos.pos === 0) {
		of.index = 0;
		of.count = 0;
	}
	if (ppos.pos !== of.readPos) {
		try {
			traverse(of, ppos.pos);
		} catch (e) {
			of.readPos = of.index = of.count = 0;
			throw e;
		}
		of.readPos = ppos.pos;
	}
	const out = new Uint8Array(count);
	let copied = 0;
	const take = (): void => {
		const n = Math.min(of.count, count - copied);
		out.set(of.buf.subarray(of.from, of.from + n), copied);
		of.from += n;
		of.count -= n;
		copied += n;
	};
	if (of.count) take();
	if (of.count === 0) {
		try {
			// kernfs_seq_start(): a removed node fails even at EOF.
			if (!of.kn.active) throw new Errno(ENODEV);
			if (of.index === 0) {
				of.buf = seqShow(of);
				of.index = 1;
				of.from = 0;
				of.count = of.buf.length;
				take();
			}
		} catch (e) {
			if (!(e instanceof Errno) || copied === 0) throw e;
		}
	}
	ppos.pos += copied;
	of.readPos += copied;
	return out.subarray(0, copied);
}

/**
 * kernfs_fop_open(): ENODEV for a removed node; with the extra check, a
 * write-open needs a write op and a write bit in the mode, a read-open a
 * show op and a read bit (EACCES even for root).
 */
function kernfsOpen(inode: Inode, file: File): void {
	const kn = nodeOf(inode);
	if (!kn.active) throw new Errno(ENODEV);
	const ops = kn.ops!;
	if (kn.root.extraOpenPermCheck) {
		if (file.f_mode & FMODE_WRITE && (!(inode.mode & S_IWUGO) || !ops.write)) throw new Errno(EACCES);
		if (file.f_mode & FMODE_READ && (!(inode.mode & S_IRUGO) || !ops.seqShow)) throw new Errno(EACCES);
	}
	const of = new KernfsOpenFile(kn, file);
	file.private_data = of;
	// A new open node starts at event 1 and a new open file at 0, so poll reports a change until the first read.
	kn.openNode ??= { event: 1, poll: new WaitQueue(), files: new Set() };
	kn.openNode.files.add(of);
}

/** kernfs_fop_release() / kernfs_put_open_node(): the last close drops the event counter. */
function kernfsRelease(inode: Inode, file: File): void {
	const kn = nodeOf(inode);
	const on = kn.openNode;
	if (!on || !(file.private_data instanceof KernfsOpenFile)) return;
	on.files.delete(file.private_data);
	if (on.files.size === 0) kn.openNode = null;
}

/** kernfs_fop_write_iter(): one call with at most PAGE_SIZE bytes; the op's return is write()'s. */
function kernfsWrite(file: File, data: Uint8Array, ppos: { pos: number }): number {
	const of = openFileOf(file);
	const len = Math.min(data.length, PAGE_SIZE);
	if (!of.kn.active) throw new Errno(ENODEV);
	const write = of.kn.ops!.write;
	if (!write) throw new Errno(EINVAL);
	const ret = write(of, data.slice(0, len), ppos.pos);
	if (ret > 0) ppos.pos += ret;
	return ret;
}

/** kernfs_fop_poll() / kernfs_generic_poll(). */
function kernfsPoll(file: File, pt: PollTable | null): number {
	const of = openFileOf(file);
	const on = of.kn.openNode;
	if (!of.kn.active || !on) return DEFAULT_POLLMASK | POLLERR | POLLPRI;
	pt?.wait(on.poll);
	if (of.event !== on.event) return DEFAULT_POLLMASK | POLLERR | POLLPRI;
	return DEFAULT_POLLMASK;
}

/** kernfs_file_fops for nodes with kernfs ops. */
export const kernfsFileFops: FileOperations = {
	open: kernfsOpen,
	release: kernfsRelease,
	read: kernfsSeqRead,
	write: kernfsWrite,
	poll: kernfsPoll,
};

/** kernfs_notify(): bump the event count of an open file node and wake its pollers. */
export function kernfsNotify(kn: KernfsNode): void {
	if (kn.type !== "file" || !kn.openNode) return;
	kn.openNode.event++;
	kn.openNode.poll.wakeUp();
}
