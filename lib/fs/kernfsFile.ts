/**
 * kernfs files (fs/kernfs/file.c). A node with `KernfsOps` is served here
 * as the kernel serves sysfs attributes: a single-record seq_file (show
 * renders at a read from offset 0, later reads page through that
 * snapshot), one write() = one call of the write op with at most
 * PAGE_SIZE bytes, and a per-node event counter that kernfs_notify bumps
 * and poll compares with what each open file last rendered.
 */
import { kernfsAddFile, kernfsNodeOf, S_IRUGO, S_IWUGO } from "./kernfs.ts";
import type { KernfsNode, KernfsOpenNode, KernfsOps } from "./kernfs.ts";
import { FMODE_READ, FMODE_WRITE } from "./file.ts";
import type { File, FileOperations, PollTable } from "./file.ts";
import type { Inode } from "./inode.ts";
import { DEFAULT_POLLMASK, POLLERR, POLLPRI } from "./poll.ts";
import { WaitQueue } from "../kernel/waitqueue.ts";
import { PAGE_SIZE } from "../uaccess/vma.ts";
import { Errno, EACCES, EINVAL, ENODEV } from "../kernel/errno.ts";

/**
 * __kernfs_create_file(): a regular file served by `ops` (EEXIST for a
 * taken name, ENOENT under a removed directory, ENOTDIR under a file).
 * Files with plain file operations are kernfsAddFile's.
 */
export function kernfsCreateFile(parent: KernfsNode, name: string, spec: { mode: number; size?: number; priv?: unknown; ops: KernfsOps }): KernfsNode {
	return kernfsAddFile(parent, name, { ...spec, fops: kernfsFileFops });
}

const EMPTY: Uint8Array = new Uint8Array(0);

/** struct kernfs_open_node, with its wait queue made when the first poller comes: most opens never poll. */
class OpenNode implements KernfsOpenNode {
	event = 1;
	files = 0;
	private waitq: WaitQueue | null = null;

	get poll(): WaitQueue {
		return (this.waitq ??= new WaitQueue());
	}
}

/** struct kernfs_open_file with its seq_file state (single record, one page or more). */
export class KernfsOpenFile {
	readonly kn: KernfsNode;
	readonly file: File;
	/** The node's event count when show last ran for this open file. */
	event = 0;
	/** seq_file: the rendered record, the unread window [from, from+count), the record index, the position read so far. */
	buf: Uint8Array = EMPTY;
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

/** Takes up to `max` bytes off the front of the unread window: a copy (the read's result). */
function seqTake(of: KernfsOpenFile, max: number): Uint8Array {
	const n = Math.min(of.count, max);
	const buf = of.buf;
	const from = of.from;
	if (from === 0 && n === buf.length) {
		// The whole record in one read (the usual case): the record itself is the result, no copy.
		// Nothing reads it again: the window is empty now and another read renders anew.
		of.count = 0;
		of.from = n;
		return buf;
	}
	const part = new Uint8Array(n);
	// Attributes are a few bytes: a loop copies them faster than a subarray view.
	if (n > 64) part.set(buf.subarray(from, from + n));
	else for (let i = 0; i < n; i++) part[i] = buf[from + i]!;
	of.from += n;
	of.count -= n;
	return part;
}

/**
 * seq_read_iter() over single_start: a read at offset 0 renders the record
 * (calling show), later reads page through that snapshot, and a read past
 * it is EOF. A read elsewhere than where the last one stopped renders again.
 */
function kernfsSeqRead(file: File, count: number, ppos: { pos: number }): Uint8Array {
	const of = openFileOf(file);
	// kernfs_file_read_iter() without a read op: a node that cannot show is EINVAL.
	if (!of.kn.ops!.seqShow) throw new Errno(EINVAL);
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
	// At most two pieces: the rest of the window, then the start of a new rendering.
	const head = of.count ? seqTake(of, count) : EMPTY;
	let tail = EMPTY;
	if (of.count === 0) {
		try {
			// kernfs_seq_start(): a removed node fails even at EOF.
			if (!of.kn.active) throw new Errno(ENODEV);
			if (of.index === 0) {
				of.buf = seqShow(of);
				of.index = 1;
				of.from = 0;
				of.count = of.buf.length;
				tail = seqTake(of, count - head.length);
			}
		} catch (e) {
			if (!(e instanceof Errno) || head.length === 0) throw e;
		}
	}
	const copied = head.length + tail.length;
	ppos.pos += copied;
	of.readPos += copied;
	if (tail.length === 0) return head;
	if (head.length === 0) return tail;
	const out = new Uint8Array(copied);
	out.set(head);
	out.set(tail, head.length);
	return out;
}

/**
 * kernfs_fop_open(): ENODEV for a removed node; with the extra check, a
 * write-open needs a write op and a write bit in the mode, a read-open a
 * show op and a read bit (EACCES even for root).
 */
function kernfsOpen(inode: Inode, file: File): void {
	const kn = kernfsNodeOf(inode)!;
	if (!kn.active) throw new Errno(ENODEV);
	const ops = kn.ops!;
	if (kn.root.extraOpenPermCheck) {
		if (file.f_mode & FMODE_WRITE && (!(inode.mode & S_IWUGO) || !ops.write)) throw new Errno(EACCES);
		if (file.f_mode & FMODE_READ && (!(inode.mode & S_IRUGO) || !ops.seqShow)) throw new Errno(EACCES);
	}
	const of = new KernfsOpenFile(kn, file);
	file.private_data = of;
	// A new open node starts at event 1 and a new open file at 0, so poll reports a change until the first read.
	kn.openNode ??= new OpenNode();
	kn.openNode.files++;
}

/** kernfs_fop_release() / kernfs_put_open_node(): the last close drops the event counter. */
function kernfsRelease(inode: Inode, file: File): void {
	const kn = kernfsNodeOf(inode)!;
	const on = kn.openNode;
	if (!on || !(file.private_data instanceof KernfsOpenFile)) return;
	if (--on.files === 0) kn.openNode = null;
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
