/**
 * devtmpfs (drivers/base/devtmpfs.c): the kernel-maintained /dev. Drivers'
 * device nodes appear here when they register and go when they unregister.
 * One instance per kernel, however often it is mounted, as in Linux.
 *
 * It is a kernel filesystem, not memfs (DESIGN rule 2): directories,
 * device nodes and symlinks are inodes held here. Userspace may mkdir,
 * rmdir, unlink, symlink, chmod and chown in it; creating regular files is
 * EPERM (Linux's devtmpfs is shmem and would allow it; no luosim program
 * needs that, and /dev/shm is not mounted).
 *
 * The first `devtmpfsMount` also runs the boot-time char drivers that live
 * in lib/fs: mem (chr_dev_init), misc (misc_init) and tty (tty_init), so
 * /dev/null, /dev/kmsg, /dev/console … exist once /dev is mounted.
 */
import { Errno, EEXIST, EINVAL, EISDIR, ENOENT, ENOTDIR, ENOTEMPTY, ENXIO, EPERM } from "../kernel/errno.ts";
import { Inode, makedev, S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_ISDIR } from "./inode.ts";
import { chrdevFops, setDevnodeOps } from "./chrdev.ts";
import { registerFilesystem } from "./fsTypes.ts";
import { memdevInit } from "./memdev.ts";
import { miscInit } from "./miscdev.ts";
import { ttyInit } from "./console.ts";
import type { DirEntry, InodeAttr, InodeOperations, SuperBlock } from "./inode.ts";
import type { FileOperations } from "./file.ts";
import type { Cred } from "../kernel/cred.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** st_dev of /dev: 0:5, where devtmpfs sits on a typical x86_64 boot. */
export const DEVTMPFS_DEV = makedev(0, 5);
/** TMPFS_MAGIC: statfs(2) on /dev reports tmpfs, as devtmpfs is shmem. */
export const TMPFS_MAGIC = 0x01021994;

/** What a devtmpfs inode keeps in i_private. */
interface DevPriv {
	/** Directory entries, in creation order (shmem's stable offsets). */
	entries?: Map<string, Inode>;
	/** Symlink target. */
	target?: string;
	/** Made by devtmpfs for a driver: only these are removed by devtmpfsDeleteNode (dev_mynode). */
	kernelMade: boolean;
}

interface DevtmpfsState {
	readonly sb: SuperBlock;
	/** Makes an inode under `dir` and links it as `name` (EEXIST if taken). */
	add(dir: Inode, name: string, mode: number, uid: number, gid: number, p: DevPriv, extra?: { rdev?: number; size?: number }): Inode;
	driversReady: boolean;
}

const states = new WeakMap<Kernel, DevtmpfsState>();

function priv(inode: Inode): DevPriv {
	return inode.i_private as DevPriv;
}

function entries(dir: Inode): Map<string, Inode> {
	const e = priv(dir).entries;
	if (!e) throw new Errno(ENOTDIR);
	return e;
}

/** fs_umode_to_dtype(): DT_* is the S_IFMT nibble. */
function dtType(mode: number): number {
	return (mode & S_IFMT) >> 12;
}

function readdir(dir: Inode): DirEntry[] {
	return [...entries(dir)].map(([name, inode]) => ({ name, ino: inode.ino, type: dtType(inode.mode) }));
}

/** Block devices have no driver registry in luosim: opening one is ENXIO, as for a missing block driver. */
const blockFops: FileOperations = {
	open: (): never => {
		throw new Errno(ENXIO);
	},
};

const dirFops: FileOperations = {
	iterate: (file) => readdir(file.inode),
};

function state(kernel: Kernel): DevtmpfsState {
	let st = states.get(kernel);
	if (st) return st;
	const now = (): number => kernel.clock.nowNs();
	const touch = (dir: Inode): void => {
		dir.mtimeNs = dir.ctimeNs = now();
	};
	// simple_setattr(): permission bits, owner and times; the type never changes.
	const setattr = (inode: Inode, attr: InodeAttr): void => {
		if (attr.mode !== undefined) inode.mode = (inode.mode & S_IFMT) | (attr.mode & 0o7777);
		if (attr.uid !== undefined) inode.uid = attr.uid;
		if (attr.gid !== undefined) inode.gid = attr.gid;
		if (attr.atimeNs !== undefined) inode.atimeNs = attr.atimeNs;
		if (attr.mtimeNs !== undefined) inode.mtimeNs = attr.mtimeNs;
		inode.ctimeNs = now();
	};
	const sb: { fsType: string; dev: number; magic: number; root: Inode } = { fsType: "devtmpfs", dev: DEVTMPFS_DEV, magic: TMPFS_MAGIC, root: null as unknown as Inode };
	const newInode = (dir: Inode | null, mode: number, uid: number, gid: number, p: DevPriv, extra: { rdev?: number; size?: number } = {}): Inode => {
		const type = mode & S_IFMT;
		return new Inode({
			sb,
			mode,
			uid,
			gid,
			timeNs: now(),
			parent: dir,
			op: type === S_IFDIR ? dirOps : type === S_IFLNK ? linkOps : nodeOps,
			fop: type === S_IFDIR ? dirFops : type === S_IFCHR ? chrdevFops(kernel) : type === S_IFBLK ? blockFops : {},
			i_private: p,
			...extra,
		});
	};
	const add = (dir: Inode, name: string, mode: number, uid: number, gid: number, p: DevPriv, extra: { rdev?: number; size?: number } = {}): Inode => {
		const e = entries(dir);
		if (e.has(name)) throw new Errno(EEXIST);
		const inode = newInode(dir, mode, uid, gid, p, extra);
		e.set(name, inode);
		if (S_ISDIR(mode)) dir.nlink++;
		touch(dir);
		return inode;
	};
	const nodeOps: InodeOperations = { setattr };
	const linkOps: InodeOperations = { readlink: (inode) => priv(inode).target!, setattr };
	const dirOps: InodeOperations = {
		lookup: (dir, name) => entries(dir).get(name) ?? null,
		readdir,
		mkdir: (dir: Inode, name: string, mode: number, cred: Cred) => add(dir, name, S_IFDIR | (mode & 0o7777), cred.fsuid, cred.fsgid, { entries: new Map(), kernelMade: false }),
		symlink: (dir: Inode, name: string, target: string, cred: Cred) =>
			add(dir, name, S_IFLNK | 0o777, cred.fsuid, cred.fsgid, { target, kernelMade: false }, { size: new TextEncoder().encode(target).length }),
		unlink: (dir, name) => {
			const inode = entries(dir).get(name);
			if (!inode) throw new Errno(ENOENT);
			if (S_ISDIR(inode.mode)) throw new Errno(EISDIR);
			entries(dir).delete(name);
			inode.nlink--;
			inode.ctimeNs = now();
			touch(dir);
		},
		rmdir: (dir, name) => {
			const inode = entries(dir).get(name);
			if (!inode) throw new Errno(ENOENT);
			if (!S_ISDIR(inode.mode)) throw new Errno(ENOTDIR);
			if (entries(inode).size > 0) throw new Errno(ENOTEMPTY);
			entries(dir).delete(name);
			inode.nlink = 0;
			dir.nlink--;
			touch(dir);
		},
		setattr,
	};
	const root = newInode(null, S_IFDIR | 0o755, 0, 0, { entries: new Map(), kernelMade: true });
	root.parent = root;
	sb.root = root;
	st = { sb, add, driversReady: false };
	states.set(kernel, st);
	return st;
}

/** Mounts devtmpfs (devtmpfs_mount / mount -t devtmpfs): the kernel's one instance. */
export function devtmpfsMount(kernel: Kernel): SuperBlock {
	const st = state(kernel);
	if (!st.driversReady) {
		st.driversReady = true;
		memdevInit(kernel);
		miscInit(kernel);
		ttyInit(kernel);
	}
	return st.sb;
}

/** Splits a node name into its directories and last part; EINVAL for an empty name. */
function splitName(name: string): { dirs: string[]; base: string } {
	const dirs = name.split("/").filter((s) => s !== "");
	const base = dirs.pop();
	if (base === undefined) throw new Errno(EINVAL);
	return { dirs, base };
}

/**
 * devtmpfs_create_node(): /dev/NAME with `mode` (S_IFCHR when it carries
 * no type; EPERM for a type other than char or block) and device number
 * `rdev`, creating missing directories 0755 on the way (create_path).
 * EEXIST if NAME exists, ENOTDIR if a path part is not a directory.
 */
export function devtmpfsCreateNode(kernel: Kernel, name: string, mode: number, rdev: number, uid = 0, gid = 0): Inode {
	const st = state(kernel);
	const { dirs, base } = splitName(name);
	const type = mode & S_IFMT || S_IFCHR;
	if (type !== S_IFCHR && type !== S_IFBLK) throw new Errno(EPERM);
	let dir = st.sb.root;
	for (const part of dirs) {
		const next = entries(dir).get(part) ?? st.add(dir, part, S_IFDIR | 0o755, 0, 0, { entries: new Map(), kernelMade: true });
		if (!S_ISDIR(next.mode)) throw new Errno(ENOTDIR);
		dir = next;
	}
	return st.add(dir, base, type | (mode & 0o7777), uid, gid, { kernelMade: true }, { rdev });
}

/**
 * devtmpfs_delete_node(): removes /dev/NAME if it is still the node
 * devtmpfs made (userspace may have replaced or removed it), then the
 * directories devtmpfs made for it, while they are empty (delete_path).
 */
export function devtmpfsDeleteNode(kernel: Kernel, name: string): void {
	const { dirs, base } = splitName(name);
	const path: Inode[] = [state(kernel).sb.root];
	for (const part of dirs) {
		const next = entries(path[path.length - 1]!).get(part);
		if (!next || !S_ISDIR(next.mode)) return;
		path.push(next);
	}
	const dir = path[path.length - 1]!;
	const node = entries(dir).get(base);
	if (!node || !priv(node).kernelMade || S_ISDIR(node.mode)) return;
	dir.op.unlink!(dir, base);
	for (let i = dirs.length - 1; i >= 0; i--) {
		const d = path[i + 1]!;
		if (!priv(d).kernelMade || entries(d).size > 0) break;
		path[i]!.op.rmdir!(path[i]!, dirs[i]!);
	}
}

setDevnodeOps({ create: devtmpfsCreateNode, remove: devtmpfsDeleteNode });
registerFilesystem({ name: "devtmpfs", mount: (kernel) => devtmpfsMount(kernel) });
