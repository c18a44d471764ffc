/**
 * debugfs (fs/debugfs/inode.c, fs/debugfs/file.c, fs/libfs.c simple_attr_*),
 * on the kernfs node tree. Unlike sysfs it uses plain mode bits (root may
 * open a 0400 file for write), the file operations are the creator's own
 * (a write to a file without a write op is EINVAL, from the VFS), and the
 * mount root is 0700. Every file is reached through the "full proxy": once
 * the file is removed, open gives ENOENT, read/write/ioctl/llseek EIO and
 * poll POLLHUP.
 *
 * Creation functions throw `Errno` where the C ones return ERR_PTR:
 * EEXIST for a duplicate name, ENODEV without CONFIG_DEBUG_FS.
 */
import { KernfsRoot, kernfsAddFile, kernfsCreateDir, kernfsCreateLink, kernfsFind, kernfsNodeOf, kernfsRemove, S_IALLUGO, S_IRUGO, S_IWUGO } from "./kernfs.ts";
import type { KernfsNode } from "./kernfs.ts";
import { makedev, S_IFMT, S_IFREG } from "./inode.ts";
import type { Inode, SuperBlock } from "./inode.ts";
import { FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE } from "./file.ts";
import { registerFilesystem } from "./fsTypes.ts";
import { POLLHUP } from "./poll.ts";
import type { File, FileOperations } from "./file.ts";
import { Errno, EACCES, EEXIST, EINVAL, EIO, ENODEV, ENOENT } from "../kernel/errno.ts";
import { kstrtobool, kstrtoll, kstrtoull } from "../kernel/kstrtox.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** DEBUGFS_MAGIC (include/uapi/linux/magic.h). */
export const DEBUGFS_MAGIC = 0x64626720;
/** DEBUGFS_DEFAULT_MODE: the mount root is root-only. */
export const DEBUGFS_DEFAULT_MODE = 0o700;

/** A debugfs dentry: the node debugfs_create_* return and debugfs_remove takes. */
export type DebugfsDentry = KernfsNode;

const states = new WeakMap<Kernel, KernfsRoot>();

function debugfsRoot(kernel: Kernel): KernfsRoot {
	if (!kernel.config.DEBUG_FS) throw new Errno(ENODEV);
	let root = states.get(kernel);
	if (!root) {
		root = new KernfsRoot({ fsType: "debugfs", magic: DEBUGFS_MAGIC, dev: makedev(0, 7), rootMode: DEBUGFS_DEFAULT_MODE, extraOpenPermCheck: false, now: () => kernel.clock.nowNs() });
		states.set(kernel, root);
	}
	return root;
}

/** The debugfs superblock (a single instance per kernel; every mount shares it). */
export function debugfsMount(kernel: Kernel): SuperBlock {
	return debugfsRoot(kernel);
}

registerFilesystem({
	name: "debugfs",
	mount(kernel, _source, _flags, data) {
		const sb = debugfsMount(kernel);
		if (data) debugfsApplyOptions(kernel, data);
		return sb;
	},
});

/**
 * Applies debugfs mount options ("mode=0755,uid=0,gid=0") to the root
 * directory. Unknown options are ignored, as debugfs always did; a bad
 * value is EINVAL.
 */
export function debugfsApplyOptions(kernel: Kernel, data: string): void {
	const root = debugfsRoot(kernel).root;
	const opts = new Map<string, number>();
	for (const opt of data.split(",")) {
		const eq = opt.indexOf("=");
		const key = eq >= 0 ? opt.slice(0, eq) : opt;
		const val = eq >= 0 ? opt.slice(eq + 1) : "";
		if (key !== "mode" && key !== "uid" && key !== "gid") continue;
		const n = key === "mode" ? (/^[0-7]+$/.test(val) ? parseInt(val, 8) : NaN) : /^[0-9]+$/.test(val) ? Number(val) : NaN;
		if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new Errno(EINVAL);
		opts.set(key, n);
	}
	// Every option is parsed before any is applied, so a bad one changes nothing.
	const mode = opts.get("mode");
	if (mode !== undefined) root.mode = (root.mode & S_IFMT) | (mode & S_IALLUGO);
	root.uid = opts.get("uid") ?? root.uid;
	root.gid = opts.get("gid") ?? root.gid;
}

/** start_creating(): the parent (debugfs root for null) must be live and must not hold `name`. */
function parentFor(kernel: Kernel, name: string, parent: DebugfsDentry | null): KernfsNode {
	const root = debugfsRoot(kernel);
	const dir = parent ?? root.node;
	if (dir.root !== root || !dir.active) throw new Errno(ENOENT);
	if (kernfsFind(dir, name)) {
		kernel.pr_err(`debugfs: File '${name}' in directory '${dir.parent ? dir.name : "/"}' already present!`);
		throw new Errno(EEXIST);
	}
	return dir;
}

/** debugfs_create_dir(): a 0755 directory. */
export function debugfsCreateDir(kernel: Kernel, name: string, parent: DebugfsDentry | null): DebugfsDentry {
	return kernfsCreateDir(parentFor(kernel, name, parent), name, 0o755);
}

/** debugfs_file_get(): EIO once the file has been removed. */
function debugfsFileGet(file: File): void {
	if (!kernfsNodeOf(file.inode)?.active) throw new Errno(EIO);
}

/** __full_proxy_fops_init(): the proxy has exactly the ops the real fops has (no mmap). */
function fullProxy(real: FileOperations): FileOperations {
	const proxy: FileOperations = {
		open(inode: Inode, file: File): void {
			if (!kernfsNodeOf(inode)?.active) throw new Errno(ENOENT);
			real.open?.(inode, file);
		},
		release(inode: Inode, file: File): void {
			real.release?.(inode, file);
		},
	};
	const { read, write, llseek, ioctl, poll } = real;
	if (read) {
		proxy.read = (file, count, ppos) => {
			debugfsFileGet(file);
			return read(file, count, ppos);
		};
	}
	if (write) {
		proxy.write = (file, data, ppos) => {
			debugfsFileGet(file);
			return write(file, data, ppos);
		};
	}
	if (llseek) {
		proxy.llseek = (file, offset, whence) => {
			debugfsFileGet(file);
			return llseek(file, offset, whence);
		};
	}
	if (ioctl) {
		proxy.ioctl = (file, cmd, arg) => {
			debugfsFileGet(file);
			return ioctl(file, cmd, arg);
		};
	}
	if (poll) proxy.poll = (file, pt) => (kernfsNodeOf(file.inode)?.active ? poll(file, pt) : POLLHUP);
	return proxy;
}

/**
 * debugfs_create_file(): a file with the caller's `fops`; `data` becomes
 * inode.i_private (fops.open usually copies it to file.private_data, see
 * `simpleOpen`). Without a file type in `mode` it is a regular file.
 */
export function debugfsCreateFile(kernel: Kernel, name: string, mode: number, parent: DebugfsDentry | null, data: unknown, fops: FileOperations): DebugfsDentry {
	const dir = parentFor(kernel, name, parent);
	if ((mode & S_IFMT) !== 0 && (mode & S_IFMT) !== S_IFREG) throw new Errno(EINVAL);
	return kernfsAddFile(dir, name, { mode, fops: fullProxy(fops), iPrivate: data });
}

/** debugfs_create_symlink(): a symlink whose text is `target`, verbatim. */
export function debugfsCreateSymlink(kernel: Kernel, name: string, parent: DebugfsDentry | null, target: string): DebugfsDentry {
	return kernfsCreateLink(parentFor(kernel, name, parent), name, target);
}

/** debugfs_lookup(): a live entry of `parent` (the root for null), or null. */
export function debugfsLookup(kernel: Kernel, name: string, parent: DebugfsDentry | null): DebugfsDentry | null {
	return kernfsFind(parent ?? debugfsRoot(kernel).node, name);
}

/** debugfs_remove() (= debugfs_remove_recursive): removes a file or a whole directory; null is a no-op. */
export function debugfsRemove(dentry: DebugfsDentry | null): void {
	kernfsRemove(dentry);
}

/** simple_open(): file.private_data = inode.i_private. */
export function simpleOpen(inode: Inode, file: File): void {
	file.private_data = inode.i_private;
}

/** simple_read_from_buffer(): up to `count` bytes of `data` at `ppos`, advancing it. */
export function simpleReadFromBuffer(count: number, ppos: { pos: number }, data: Uint8Array): Uint8Array {
	const pos = ppos.pos;
	if (pos < 0) throw new Errno(EINVAL);
	if (pos >= data.length || count === 0) return new Uint8Array(0);
	const out = data.slice(pos, Math.min(data.length, pos + count));
	ppos.pos = pos + out.length;
	return out;
}

/** How a DEFINE_DEBUGFS_ATTRIBUTE file reads and writes its value. */
export interface DebugfsAttribute {
	/** Reads the value from inode.i_private's object; throw an Errno to fail the read. */
	get?(data: unknown): bigint;
	/** Stores a parsed value; throw an Errno to fail the write. */
	set?(data: unknown, val: bigint): void;
	/** The printf format applied to the value; "%llu\n" by default. */
	fmt?(val: bigint): string;
	/** DEFINE_DEBUGFS_ATTRIBUTE_SIGNED: parse with kstrtoll instead of kstrtoull. */
	signed?: boolean;
}

interface SimpleAttr {
	data: unknown;
	getBuf: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * DEFINE_DEBUGFS_ATTRIBUTE(): fops for a number file (simple_attr_*): a read
 * at offset 0 formats the value once (EACCES without get), later reads
 * continue in that text; a write parses at most 23 bytes with kstrtoull
 * (base 0, one trailing newline; EINVAL/ERANGE) and returns the full write
 * length (EACCES without set). Not seekable.
 */
export function debugfsAttribute(def: DebugfsAttribute): FileOperations {
	const fmt = def.fmt ?? ((v: bigint): string => `${v}\n`);
	return {
		open(inode, file) {
			const attr: SimpleAttr = { data: inode.i_private, getBuf: new Uint8Array(0) };
			file.private_data = attr;
			// nonseekable_open(): lseek, pread and pwrite are ESPIPE.
			file.f_mode &= ~(FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE);
		},
		read(file, count, ppos) {
			const attr = file.private_data as SimpleAttr;
			if (!def.get) throw new Errno(EACCES);
			// Only the first 23 characters fit in get_buf[24].
			if (!(ppos.pos && attr.getBuf.length)) attr.getBuf = encoder.encode(fmt(def.get(attr.data))).slice(0, 23);
			return simpleReadFromBuffer(count, ppos, attr.getBuf);
		},
		write(file, data) {
			const attr = file.private_data as SimpleAttr;
			if (!def.set) throw new Errno(EACCES);
			const text = decoder.decode(data.subarray(0, 23));
			def.set(attr.data, def.signed ? kstrtoll(text) : kstrtoull(text));
			return data.length;
		},
	};
}

/** debugfs_create_mode_unsafe(): read-only fops without write bits, write-only without read bits. */
function createMode(kernel: Kernel, name: string, mode: number, parent: DebugfsDentry | null, data: unknown, rw: FileOperations, ro: FileOperations, wo: FileOperations): DebugfsDentry {
	const fops = !(mode & S_IWUGO) ? ro : !(mode & S_IRUGO) ? wo : rw;
	return debugfsCreateFile(kernel, name, mode, parent, data, fops);
}

/** A u64 variable shared with a debugfs file. */
export interface U64Ref {
	value: bigint;
}
/** A u32 variable shared with a debugfs file. */
export interface U32Ref {
	value: number;
}
/** A bool variable shared with a debugfs file. */
export interface BoolRef {
	value: boolean;
}

const u64Get = (d: unknown): bigint => (d as U64Ref).value;
const u64Set = (d: unknown, v: bigint): void => void ((d as U64Ref).value = v);
const fopsU64 = debugfsAttribute({ get: u64Get, set: u64Set });
const fopsU64Ro = debugfsAttribute({ get: u64Get });
const fopsU64Wo = debugfsAttribute({ set: u64Set });

/** debugfs_create_u64(): "%llu\n"; writes parse like kstrtoull (EINVAL on garbage). */
export function debugfsCreateU64(kernel: Kernel, name: string, mode: number, parent: DebugfsDentry | null, value: U64Ref): DebugfsDentry {
	return createMode(kernel, name, mode, parent, value, fopsU64, fopsU64Ro, fopsU64Wo);
}

const u32Get = (d: unknown): bigint => BigInt((d as U32Ref).value >>> 0);
// debugfs_u32_set() stores the low 32 bits of whatever was written.
const u32Set = (d: unknown, v: bigint): void => void ((d as U32Ref).value = Number(BigInt.asUintN(32, v)));
const fopsU32 = debugfsAttribute({ get: u32Get, set: u32Set });
const fopsU32Ro = debugfsAttribute({ get: u32Get });
const fopsU32Wo = debugfsAttribute({ set: u32Set });

/** debugfs_create_u32(): as u64, truncating written values to 32 bits as the kernel does. */
export function debugfsCreateU32(kernel: Kernel, name: string, mode: number, parent: DebugfsDentry | null, value: U32Ref): DebugfsDentry {
	return createMode(kernel, name, mode, parent, value, fopsU32, fopsU32Ro, fopsU32Wo);
}

/** debugfs_read_file_bool(): "Y\n" or "N\n". */
function readBool(file: File, count: number, ppos: { pos: number }): Uint8Array {
	return simpleReadFromBuffer(count, ppos, encoder.encode((file.private_data as BoolRef).value ? "Y\n" : "N\n"));
}

/** debugfs_write_file_bool(): kstrtobool of at most 3 bytes; text it cannot parse is ignored, and the write still returns its full length. */
function writeBool(file: File, data: Uint8Array): number {
	let v: boolean;
	try {
		v = kstrtobool(decoder.decode(data.subarray(0, 3)));
	} catch (e) {
		if (e instanceof Errno) return data.length;
		throw e;
	}
	(file.private_data as BoolRef).value = v;
	return data.length;
}

const fopsBool: FileOperations = { open: simpleOpen, read: readBool, write: writeBool };
const fopsBoolRo: FileOperations = { open: simpleOpen, read: readBool };
const fopsBoolWo: FileOperations = { open: simpleOpen, write: writeBool };

/** debugfs_create_bool(). */
export function debugfsCreateBool(kernel: Kernel, name: string, mode: number, parent: DebugfsDentry | null, value: BoolRef): DebugfsDentry {
	return createMode(kernel, name, mode, parent, value, fopsBool, fopsBoolRo, fopsBoolWo);
}

/** struct debugfs_blob_wrapper: the first `size` bytes of `data` are the file. */
export interface DebugfsBlobWrapper {
	data: Uint8Array;
	size: number;
}

const fopsBlob: FileOperations = {
	open: simpleOpen,
	read(file, count, ppos) {
		const blob = file.private_data as DebugfsBlobWrapper;
		return simpleReadFromBuffer(count, ppos, blob.data.subarray(0, blob.size));
	},
};

/** debugfs_create_blob(): a read-only binary file (mode & 0444; writes are EINVAL). */
export function debugfsCreateBlob(kernel: Kernel, name: string, mode: number, parent: DebugfsDentry | null, blob: DebugfsBlobWrapper): DebugfsDentry {
	return debugfsCreateFile(kernel, name, mode & 0o444, parent, blob, fopsBlob);
}
