/**
 * Open file descriptions and file operations (include/linux/fs.h: struct
 * file, struct file_operations). An fd table slot points at a File; dup and
 * fork share it, with its offset and status flags.
 */
import type { Inode } from "./inode.ts";
import type { WaitQueue } from "../kernel/waitqueue.ts";
import type { VmaBacking } from "../uaccess/addressSpace.ts";
import type { Process } from "../kernel/process.ts";
import type { Mount } from "./mount.ts";

/** f_mode bits (include/linux/fs.h). */
export const FMODE_READ = 0x1;
export const FMODE_WRITE = 0x2;
export const FMODE_LSEEK = 0x4;
export const FMODE_PREAD = 0x8;
export const FMODE_PWRITE = 0x10;

/** Where a file was opened: the mount and inode, and the path text for /proc/self/fd. */
export interface FilePath {
	readonly inode: Inode;
	/** Absolute path as d_path() would print it. */
	readonly name: string;
}

/** poll_table: `poll_wait(file, q, pt)` registers the waiter on q. */
export interface PollTable {
	wait(q: WaitQueue): void;
}

/** The mapping request a driver's mmap sees (a subset of vm_area_struct). */
export interface MmapRequest {
	readonly pgoff: number;
	readonly length: number;
	readonly prot: number;
	readonly flags: number;
}

/**
 * struct file_operations. `ppos` is the file position to use and update
 * (f_pos, or the pread/pwrite offset). Every operation throws `Errno` on
 * failure. Defaults when absent (DESIGN rule 2): read/write → EINVAL,
 * ioctl → ENOTTY, mmap → ENODEV, poll → POLLIN|POLLOUT|POLLRDNORM|POLLWRNORM,
 * llseek → the VFS's generic_file_llseek on `inode.size`.
 */
export interface FileOperations {
	open?(inode: Inode, file: File): void;
	release?(inode: Inode, file: File): void;
	/** Returns at most `count` bytes read at `ppos.pos`, advancing it. */
	read?(file: File, count: number, ppos: { pos: number }): Uint8Array;
	/** Writes `data` at `ppos.pos` (or the end for O_APPEND, decided by the VFS), advancing it; returns bytes written. */
	write?(file: File, data: Uint8Array, ppos: { pos: number }): number;
	llseek?(file: File, offset: number, whence: number): number;
	/** unlocked_ioctl: `arg` is a user address or a plain integer. */
	ioctl?(file: File, cmd: number, arg: number): number;
	poll?(file: File, pt: PollTable | null): number;
	mmap?(file: File, req: MmapRequest): VmaBacking;
	/** fallocate: `mode` has passed vfs_fallocate's checks (EOPNOTSUPP when absent). */
	fallocate?(file: File, mode: number, offset: number, len: number): void;
	/** Directory listing for getdents64 (iterate_shared). */
	iterate?(file: File): { name: string; ino: number; type: number }[];
}

/** struct file. */
export class File {
	f_op: FileOperations;
	/** Every file has an inode; anonymous files use the anon_inode (fs/anon_inodes.c). */
	readonly inode: Inode;
	readonly path: FilePath | null;
	/** O_* status flags (O_APPEND, O_NONBLOCK, ... and the access mode). */
	f_flags: number;
	f_mode: number;
	f_pos = 0;
	/** Driver data (file->private_data). */
	private_data: unknown = undefined;
	/** Open-file-description references: fd slots, in-flight syscalls, mappings. */
	refcount = 1;
	/** The process that opened it, for drivers that care (f_owner-ish). */
	readonly opener: Process | null;
	/** file->f_path.mnt: the mount the VFS opened it through (Vfs.setFileMount); null for pipes and anonymous files. */
	mnt: Mount | null = null;

	constructor(init: { f_op: FileOperations; inode: Inode; path: FilePath | null; f_flags: number; f_mode: number; opener?: Process | null }) {
		this.f_op = init.f_op;
		this.inode = init.inode;
		this.path = init.path;
		this.f_flags = init.f_flags;
		this.f_mode = init.f_mode;
		this.opener = init.opener ?? null;
	}

	/** get_file(). */
	get(): this {
		this.refcount++;
		return this;
	}

	/** fput(): the last reference calls release. */
	put(): void {
		if (--this.refcount === 0) this.f_op.release?.(this.inode, this);
	}
}
