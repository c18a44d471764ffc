/**
 * kernfs: the kernel-owned tree of directories, files and symlinks under
 * sysfs and debugfs (fs/kernfs/dir.c, inode.c, symlink.c). Nodes are
 * kernel objects, not memfs files; each has one Inode for the VFS. The
 * files themselves are kernfsFile.ts (fs/kernfs/file.c).
 *
 * Removing a node deactivates it and everything below: open files stay
 * open, and later calls on them fail as the owner decides (kernfs files
 * with ENODEV, debugfs files with EIO).
 */
import { Inode, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "./inode.ts";
import type { DirEntry, InodeAttr, InodeOperations, SuperBlock } from "./inode.ts";
import type { FileOperations } from "./file.ts";
import type { KernfsOpenFile } from "./kernfsFile.ts";
import type { WaitQueue } from "../kernel/waitqueue.ts";
import { Errno, EEXIST, EINVAL, ENOENT, ENOTDIR } from "../kernel/errno.ts";

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
 * record (the caller sizes it) into a new array, which a read may hand on
 * as it is; `write` gets one buffer per write() call.
 */
export interface KernfsOps {
	seqShow?(of: KernfsOpenFile): Uint8Array;
	/** Gets at most PAGE_SIZE bytes; returns the count the write() returns. */
	write?(of: KernfsOpenFile, buf: Uint8Array, pos: number): number;
}

/** struct kernfs_open_node: exists while the node has open files. */
export interface KernfsOpenNode {
	event: number;
	readonly poll: WaitQueue;
	/** How many files are open on the node (the kernel's list of them: nothing here walks it). */
	files: number;
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
	/** kernfs_ops of a file created with them (kernfsFile.ts); null for plain-fops files. */
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
		const fop = init.fops ?? {};
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
	// kernfs keeps the node in i_private (debugfs files keep their data there): no map lookup then.
	const kn = inode.i_private;
	if (kn instanceof KernfsNode && kn.inode === inode) return kn;
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

/** kernfs_new_node() + kernfs_add_one() for a file: kernfsFile.ts's kernfsCreateFile builds on it. */
export function kernfsAddFile(parent: KernfsNode, name: string, init: { mode: number; size?: number; priv?: unknown; ops?: KernfsOps; fops: FileOperations; iPrivate?: unknown }): KernfsNode {
	checkAdd(parent, name);
	const { mode, ...rest } = init;
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
	const kn = kernfsNodeOf(inode);
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
