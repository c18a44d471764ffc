/**
 * The character-device registry of one kernel (fs/char_dev.c): regions of
 * (major, minor) numbers owned by a driver, and `def_chr_fops`, the file
 * operations of every S_IFCHR inode, whose open finds the driver by the
 * inode's rdev and swaps in the driver's operations (chrdev_open). The
 * registry is per kernel (several kernels live in one JS process), so an
 * inode's fops must know which kernel to ask: `chrdevFops(kernel)` is
 * def_chr_fops bound to one, `def_chr_fops` asks the opener's kernel.
 *
 * Registering also creates the /dev node, as the driver core's
 * device_create() does for a registered device. devtmpfs (the only provider
 * of nodes) plugs itself in with `setDevnodeOps` so that this module, which
 * every filesystem needs for `def_chr_fops`, imports no filesystem.
 */
import { Errno, EBUSY, EINVAL, ENXIO } from "../kernel/errno.ts";
import { S_IFCHR, S_IFMT, major as devMajor, minor as devMinor, makedev } from "./inode.ts";
import type { Inode } from "./inode.ts";
import type { File, FileOperations } from "./file.ts";
import { currentOrNull } from "../kernel/current.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** CHRDEV_MAJOR_MAX: majors are below 512. */
export const CHRDEV_MAJOR_MAX = 512;
/** MINORBITS (include/linux/kdev_t.h): minors are 20 bits. */
export const MINORBITS = 20;
/** MINORMASK: the largest minor. */
export const MINORMASK = (1 << MINORBITS) - 1;

/** One registered region (struct char_device_struct + its cdev). */
export interface ChrdevRegion {
	readonly major: number;
	readonly baseminor: number;
	readonly count: number;
	/** As /proc/devices shows it. */
	readonly name: string;
	readonly fops: FileOperations;
	/** The /dev node created with it, relative to /dev; null when none. */
	readonly devnode: string | null;
}

/** How `registerChrdev` places the device. */
export interface ChrdevOptions {
	/** Number of minors from `minor` (default 1). */
	count?: number;
	/** Node name under /dev (default `name`); false for no node. A node is made only for a single-minor region. */
	devnode?: string | false;
	/** Permission bits of the node (default 0600, devtmpfs's default). */
	mode?: number;
	uid?: number;
	gid?: number;
}

/** How devtmpfs creates and removes nodes (devtmpfs_create_node / devtmpfs_delete_node). */
export interface DevnodeOps {
	create(kernel: Kernel, name: string, mode: number, rdev: number, uid: number, gid: number): Inode;
	remove(kernel: Kernel, name: string): void;
}

let devnodeOps: DevnodeOps | null = null;

/** Called once by devtmpfs.ts when it loads. */
export function setDevnodeOps(ops: DevnodeOps): void {
	devnodeOps = ops;
}

/** device_create()'s devtmpfs part: makes /dev/NAME (S_IFCHR unless `mode` has a type) and returns its inode. */
export function devnodeCreate(kernel: Kernel, name: string, mode: number, rdev: number, uid = 0, gid = 0): Inode {
	if (!devnodeOps) throw new Error("luosim: devtmpfs is not loaded (import lib/fs/devtmpfs.ts)");
	return devnodeOps.create(kernel, name, mode & S_IFMT ? mode : S_IFCHR | mode, rdev, uid, gid);
}

/** device_destroy()'s devtmpfs part. */
export function devnodeRemove(kernel: Kernel, name: string): void {
	devnodeOps?.remove(kernel, name);
}

const registries = new WeakMap<Kernel, ChrdevRegion[]>();

function regions(kernel: Kernel): ChrdevRegion[] {
	let r = registries.get(kernel);
	if (!r) registries.set(kernel, (r = []));
	return r;
}

/** find_dynamic_major(): 254 down to 234, then 511 down to 384. */
function findDynamicMajor(list: readonly ChrdevRegion[]): number {
	const used = (m: number): boolean => list.some((r) => r.major === m);
	for (let m = 254; m >= 234; m--) if (!used(m)) return m;
	for (let m = 511; m >= 384; m--) if (!used(m)) return m;
	throw new Errno(EBUSY);
}

/**
 * __register_chrdev(): claims minors [minor, minor+count) of `major` for
 * `fops` and, for a single minor, creates /dev/NAME. Major 0 picks a
 * dynamic major. Returns the major. EBUSY if any minor is taken or no
 * dynamic major is left; EINVAL for a major or range out of bounds;
 * EEXIST when the node's name is taken in /dev. Nothing is registered on
 * failure.
 */
export function registerChrdev(kernel: Kernel, major: number, minor: number, name: string, fops: FileOperations, opts: ChrdevOptions = {}): number {
	const list = regions(kernel);
	const count = opts.count ?? 1;
	if (!Number.isInteger(major) || major < 0 || major >= CHRDEV_MAJOR_MAX) throw new Errno(EINVAL);
	if (!Number.isInteger(minor) || minor < 0 || !Number.isInteger(count) || count < 1 || count > MINORMASK + 1 - minor) throw new Errno(EINVAL);
	if (major === 0) major = findDynamicMajor(list);
	const end = minor + count;
	if (list.some((r) => r.major === major && r.baseminor < end && minor < r.baseminor + r.count)) throw new Errno(EBUSY);
	const devnode = count === 1 && opts.devnode !== false ? (opts.devnode ?? name) : null;
	if (devnode !== null) devnodeCreate(kernel, devnode, opts.mode ?? 0o600, makedev(major, minor), opts.uid ?? 0, opts.gid ?? 0);
	list.push({ major, baseminor: minor, count, name, fops, devnode });
	return major;
}

/** __unregister_chrdev(): frees exactly the region registered at (major, minor) and removes its node. Open files keep their operations. */
export function unregisterChrdev(kernel: Kernel, major: number, minor: number): void {
	const list = regions(kernel);
	const i = list.findIndex((r) => r.major === major && r.baseminor === minor);
	if (i < 0) return;
	const [r] = list.splice(i, 1);
	if (r!.devnode !== null) devnodeRemove(kernel, r!.devnode);
}

/** The region covering `dev` (kobj_lookup on cdev_map), if any. */
export function chrdevLookup(kernel: Kernel, dev: number): ChrdevRegion | undefined {
	const ma = devMajor(dev);
	const mi = devMinor(dev);
	return regions(kernel).find((r) => r.major === ma && mi >= r.baseminor && mi < r.baseminor + r.count);
}

/** Every region, by major then minor: the "Character devices:" part of /proc/devices. */
export function chrdevRegions(kernel: Kernel): readonly ChrdevRegion[] {
	return [...regions(kernel)].sort((a, b) => a.major - b.major || a.baseminor - b.baseminor);
}

/** chrdev_open() in `kernel`: replaces the file's operations with the driver's and calls its open; ENXIO when no driver has the number. */
export function chrdevOpenIn(kernel: Kernel, inode: Inode, file: File): void {
	const r = chrdevLookup(kernel, inode.rdev);
	if (!r) throw new Errno(ENXIO);
	file.f_op = r.fops;
	r.fops.open?.(inode, file);
}

/** noop_llseek(). */
function noopLlseek(file: File): number {
	return file.f_pos;
}

/**
 * def_chr_fops for an inode whose filesystem does not know its kernel: the
 * registry searched is the opener's (or the current process's); ENXIO when
 * there is neither.
 */
export const def_chr_fops: FileOperations = {
	open: (inode: Inode, file: File): void => {
		const kernel = file.opener?.kernel ?? currentOrNull()?.kernel;
		if (!kernel) throw new Errno(ENXIO);
		chrdevOpenIn(kernel, inode, file);
	},
	llseek: noopLlseek,
};

const boundFops = new WeakMap<Kernel, FileOperations>();

/** def_chr_fops bound to `kernel`'s registry: what devtmpfs gives its char nodes, so kernel-internal opens (no process) work too. */
export function chrdevFops(kernel: Kernel): FileOperations {
	let fops = boundFops.get(kernel);
	if (!fops) {
		fops = { open: (inode: Inode, file: File): void => chrdevOpenIn(kernel, inode, file), llseek: noopLlseek };
		boundFops.set(kernel, fops);
	}
	return fops;
}
