/**
 * sysfs: kobjects as directories and their attributes as files, on kernfs
 * (fs/sysfs/dir.c, file.c, group.c, symlink.c, mount.c; lib/kobject.c;
 * kernel/ksysfs.c for /sys/kernel).
 *
 * Attributes are kobj_attributes of dynamic kobjects (kobj_sysfs_ops), so
 * every attribute file has both kernfs ops: the mode decides who may open
 * it (write-open of a file without a write bit is EACCES even for root),
 * and a missing show/store is EIO when called. `show` returns the text (at
 * most PAGE_SIZE-1 bytes reach the reader); `store` gets the text of one
 * write() call (at most PAGE_SIZE bytes, UTF-8 decoded) and its byte count,
 * and returns the count write() returns, or throws an Errno.
 */
import { KernfsRoot, kernfsCreateDir, kernfsCreateEmptyDir, kernfsCreateLink, kernfsFind, kernfsRemove, S_IRUGO, S_IXUGO } from "./kernfs.ts";
import { kernfsCreateFile, kernfsNotify } from "./kernfsFile.ts";
import { PAGE_SIZE } from "../uaccess/vma.ts";
import type { KernfsNode, KernfsOps } from "./kernfs.ts";
import type { SuperBlock } from "./inode.ts";
import { makedev } from "./inode.ts";
import { registerFilesystem } from "./fsTypes.ts";
import { Errno, EEXIST, EIO } from "../kernel/errno.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** SYSFS_MAGIC (include/uapi/linux/magic.h). */
export const SYSFS_MAGIC = 0x62656572;

/** struct kobject, as far as sysfs needs it: a name, a parent and its directory. */
export class Kobject {
	readonly kernel: Kernel;
	readonly name: string;
	readonly parent: Kobject | null;
	/** kobj->sd: its sysfs directory. */
	readonly sd: KernfsNode;

	constructor(kernel: Kernel, name: string, parent: Kobject | null, sd: KernfsNode) {
		this.kernel = kernel;
		this.name = name;
		this.parent = parent;
		this.sd = sd;
	}
}

/** struct kobj_attribute. */
export interface KobjAttribute {
	name: string;
	/** Permission bits (0444, 0644, 0200 …). */
	mode: number;
	show?(kobj: Kobject, attr: KobjAttribute): string;
	store?(kobj: Kobject, attr: KobjAttribute, buf: string, count: number): number;
}

/** __ATTR_RO(name): mode 0444. */
export function kobjAttrRO(name: string, show: NonNullable<KobjAttribute["show"]>): KobjAttribute {
	return { name, mode: 0o444, show };
}

/** __ATTR_RW(name): mode 0644. */
export function kobjAttrRW(name: string, show: NonNullable<KobjAttribute["show"]>, store: NonNullable<KobjAttribute["store"]>): KobjAttribute {
	return { name, mode: 0o644, show, store };
}

/** __ATTR_WO(name): mode 0200. */
export function kobjAttrWO(name: string, store: NonNullable<KobjAttribute["store"]>): KobjAttribute {
	return { name, mode: 0o200, store };
}

/** struct attribute_group: attributes, in a subdirectory when `name` is set. */
export interface AttributeGroup {
	name?: string;
	attrs: readonly KobjAttribute[];
}

interface SysfsState {
	root: KernfsRoot;
	kernelKobj: Kobject;
}

const states = new WeakMap<Kernel, SysfsState>();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Text up to this long is encoded by hand when it is ASCII. */
const SHORT_TEXT = 64;

/**
 * The UTF-8 of what show returned. Attributes are mostly a few ASCII
 * bytes, which a copy loop encodes several times faster than TextEncoder.
 */
function encodeShow(text: string): Uint8Array {
	const n = text.length;
	if (n > SHORT_TEXT) return encoder.encode(text);
	const out = new Uint8Array(n);
	for (let i = 0; i < n; i++) {
		const c = text.charCodeAt(i);
		if (c > 0x7f) return encoder.encode(text);
		out[i] = c;
	}
	return out;
}

function kobjOf(kn: KernfsNode): Kobject {
	return kn.parent!.priv as Kobject;
}

function attrOf(kn: KernfsNode): KobjAttribute {
	return kn.priv as KobjAttribute;
}

/**
 * sysfs_file_kfops_rw: sysfs_kf_seq_show + kobj_attr_show, sysfs_kf_write
 * + kobj_attr_store.
 */
const sysfsKfops: KernfsOps = {
	seqShow(of) {
		const attr = attrOf(of.kn);
		if (!attr.show) throw new Errno(EIO);
		const bytes = encodeShow(attr.show(kobjOf(of.kn), attr));
		if (bytes.length < PAGE_SIZE) return bytes;
		kobjOf(of.kn).kernel.pr_warn(`fill_read_buffer: ${attr.show.name || attr.name} returned bad count`);
		return bytes.subarray(0, PAGE_SIZE - 1);
	},
	write(of, buf) {
		if (buf.length === 0) return 0;
		const attr = attrOf(of.kn);
		if (!attr.store) throw new Errno(EIO);
		return attr.store(kobjOf(of.kn), attr, decoder.decode(buf), buf.length);
	},
};

/** sysfs_warn_dup(). */
function warnDup(kernel: Kernel, parent: KernfsNode, name: string): void {
	kernel.pr_warn(`sysfs: cannot create duplicate filename '${parent.path()}/${name}'`);
}

/** Runs a kernfs creation, reporting a duplicate name as sysfs does. */
function create<T>(kernel: Kernel, parent: KernfsNode, name: string, fn: () => T): T {
	try {
		return fn();
	} catch (e) {
		if (e instanceof Errno && e.errno === EEXIST) warnDup(kernel, parent, name);
		throw e;
	}
}

function state(kernel: Kernel): SysfsState {
	let s = states.get(kernel);
	if (s) return s;
	const root = new KernfsRoot({
		fsType: "sysfs",
		magic: SYSFS_MAGIC,
		dev: makedev(0, 22),
		rootMode: S_IRUGO | S_IXUGO,
		extraOpenPermCheck: true,
		now: () => kernel.clock.nowNs(),
	});
	const kobj = addKobject(kernel, root.node, "kernel", null);
	// debugfs_init(): the mount point exists whenever debugfs is built in.
	if (kernel.config.DEBUG_FS) kernfsCreateEmptyDir(kobj.sd, "debug");
	s = { root, kernelKobj: kobj };
	states.set(kernel, s);
	return s;
}

function addKobject(kernel: Kernel, parentNode: KernfsNode, name: string, parent: Kobject | null): Kobject {
	// kobject_set_name_vargs(): a '/' cannot be part of a sysfs name.
	const clean = name.replaceAll("/", "!");
	let sd: KernfsNode;
	try {
		sd = create(kernel, parentNode, clean, () => kernfsCreateDir(parentNode, clean, 0o755));
	} catch (e) {
		if (e instanceof Errno && e.errno === EEXIST) {
			kernel.pr_err(`kobject_add_internal failed for ${clean} with -EEXIST, don't try to register things with the same name in the same directory.`);
		}
		throw e;
	}
	const kobj = new Kobject(kernel, clean, parent, sd);
	sd.priv = kobj;
	return kobj;
}

/** The sysfs superblock of this kernel (one per kernel, like one per network namespace). */
export function sysfsMount(kernel: Kernel): SuperBlock {
	return state(kernel).root;
}

/** kernel_kobj: /sys/kernel, with the empty /sys/kernel/debug mount point. */
export function kernelKobj(kernel: Kernel): Kobject {
	return state(kernel).kernelKobj;
}

/**
 * kobject_create_and_add(): a directory under `parent` (or /sys). Throws
 * EEXIST for a name already there (the C function returns NULL), ENOENT
 * when the parent was deleted.
 */
export function kobjectCreateAndAdd(kernel: Kernel, name: string, parent: Kobject | null): Kobject {
	return addKobject(kernel, parent ? parent.sd : state(kernel).root.node, name, parent);
}

/** kobject_del(): removes the directory and everything in it; open files then fail with ENODEV. */
export function kobjectDel(kobj: Kobject): void {
	kernfsRemove(kobj.sd);
}

function addAttr(kobj: Kobject, dir: KernfsNode, attr: KobjAttribute): KernfsNode {
	return create(kobj.kernel, dir, attr.name, () => kernfsCreateFile(dir, attr.name, { mode: attr.mode, size: PAGE_SIZE, priv: attr, ops: sysfsKfops }));
}

/** sysfs_create_file(): EEXIST for a duplicate name, ENOENT on a deleted kobject. */
export function sysfsCreateFile(kobj: Kobject, attr: KobjAttribute): void {
	addAttr(kobj, kobj.sd, attr);
}

/** sysfs_remove_file(): nothing happens if the attribute is not there. */
export function sysfsRemoveFile(kobj: Kobject, attr: KobjAttribute | string): void {
	const kn = kernfsFind(kobj.sd, typeof attr === "string" ? attr : attr.name);
	if (kn?.type === "file") kernfsRemove(kn);
}

/**
 * sysfs_create_group(): the attributes, in a 0755 subdirectory if the group
 * is named. On failure nothing of the group is left behind.
 */
export function sysfsCreateGroup(kobj: Kobject, grp: AttributeGroup): void {
	const dir = grp.name ? create(kobj.kernel, kobj.sd, grp.name, () => kernfsCreateDir(kobj.sd, grp.name!, 0o755, kobj)) : kobj.sd;
	const made: KernfsNode[] = [];
	try {
		for (const attr of grp.attrs) made.push(addAttr(kobj, dir, attr));
	} catch (e) {
		if (grp.name) kernfsRemove(dir);
		else for (const kn of made) kernfsRemove(kn);
		throw e;
	}
}

/** sysfs_remove_group(). */
export function sysfsRemoveGroup(kobj: Kobject, grp: AttributeGroup): void {
	if (grp.name) {
		kernfsRemove(kernfsFind(kobj.sd, grp.name));
		return;
	}
	for (const attr of grp.attrs) sysfsRemoveFile(kobj, attr);
}

/** sysfs_create_link(): `name` in kobj's directory pointing at `target`'s (relative path, "../../x"). */
export function sysfsCreateLink(kobj: Kobject, target: Kobject, name: string): void {
	create(kobj.kernel, kobj.sd, name, () => kernfsCreateLink(kobj.sd, name, target.sd));
}

/** sysfs_remove_link(). */
export function sysfsRemoveLink(kobj: Kobject, name: string): void {
	const kn = kernfsFind(kobj.sd, name);
	if (kn?.type === "link") kernfsRemove(kn);
}

/**
 * sysfs_notify(kobj, dir, attr): pollers of the attribute (in subdirectory
 * `dir` if given) see POLLPRI|POLLERR until they read it again from offset
 * 0. Nothing happens if the attribute does not exist or nobody has it open.
 */
export function sysfsNotify(kobj: Kobject, dir: string | null, attr: string | null): void {
	let kn: KernfsNode | null = kobj.sd;
	if (dir) kn = kernfsFind(kn, dir);
	if (kn && attr) kn = kernfsFind(kn, attr);
	if (kn) kernfsNotify(kn);
}

registerFilesystem({ name: "sysfs", mount: (kernel) => sysfsMount(kernel) });
