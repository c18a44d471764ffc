/**
 * Anonymous pipes (fs/pipe.c: pipe_read, pipe_write, pipe_poll,
 * pipe_release, do_pipe2): a ring of 16 one-page buffers (64 KiB), small
 * writes merged into the last page, writes of up to PIPE_BUF bytes atomic,
 * O_DIRECT "packet mode" (each write one packet, each read at most one),
 * FIONREAD, F_GETPIPE_SZ and F_SETPIPE_SZ (without the per-user page
 * accounting). The inode is a 0600 FIFO on this kernel's pipefs; with no
 * path, /proc/PID/fd shows it as `pipe:[ino]`.
 *
 * luosim's read and write never sleep: where Linux would block (a read of
 * an empty pipe that still has writers, a write to a full pipe), luosim
 * returns EAGAIN, or the bytes written so far, as for O_NONBLOCK. Programs
 * poll() first (POLLIN / POLLOUT), and poll sleeps. A write with no reader
 * left sends SIGPIPE to the writer (which kills it: luosim has no signal
 * handlers) and fails with EPIPE.
 */
import { Inode, makedev, S_IFIFO } from "./inode.ts";
import type { SuperBlock } from "./inode.ts";
import { File, FMODE_READ, FMODE_WRITE } from "./file.ts";
import type { FileOperations, PollTable } from "./file.ts";
import { F_GETPIPE_SZ, F_SETPIPE_SZ, O_CLOEXEC, O_DIRECT, O_EXCL, O_NONBLOCK, O_RDONLY, O_WRONLY } from "./fcntl.ts";
import { FIONREAD, registerFcntl } from "./syscalls/fd.ts";
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from "./poll.ts";
import { PAGE_SIZE } from "../uaccess/vma.ts";
import { registerSyscall } from "../kernel/syscallTable.ts";
import { WaitQueue } from "../kernel/waitqueue.ts";
import { current, currentOrNull } from "../kernel/current.ts";
import { CAP_SYS_RESOURCE } from "../kernel/cred.ts";
import { sendSignal } from "../kernel/process.ts";
import { SIGPIPE } from "../kernel/signal.ts";
import { Errno, EAGAIN, EBADF, EBUSY, EINVAL, ENOIOCTLCMD, ENOPKG, EPERM, EPIPE } from "../kernel/errno.ts";
import type { Process } from "../kernel/process.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** PIPEFS_MAGIC. */
export const PIPEFS_MAGIC = 0x50495045;
/** PIPE_DEF_BUFFERS: pages in a new pipe. */
export const PIPE_DEF_BUFFERS = 16;
/** PIPE_BUF: writes up to this size are atomic. */
export const PIPE_BUF = 4096;

/** struct pipe_buffer: `len` bytes of `page` from `offset`. */
interface PipeBuffer {
	readonly page: Uint8Array;
	offset: number;
	len: number;
	/** PIPE_BUF_FLAG_PACKET (written by an O_DIRECT writer); otherwise CAN_MERGE. */
	readonly packet: boolean;
}

/** struct pipe_inode_info. */
export class PipeInodeInfo {
	readonly bufs: PipeBuffer[] = [];
	readers = 0;
	writers = 0;
	/** Pages the ring may hold (F_SETPIPE_SZ changes it). */
	maxUsage = PIPE_DEF_BUFFERS;
	readonly rdWait = new WaitQueue();
	readonly wrWait = new WaitQueue();

	/** pipe_full(). */
	full(): boolean {
		return this.bufs.length >= this.maxUsage;
	}

	/** Bytes waiting to be read (FIONREAD). */
	available(): number {
		return this.bufs.reduce((n, b) => n + b.len, 0);
	}
}

function pipeOf(file: File): PipeInodeInfo {
	return file.private_data as PipeInodeInfo;
}

/** pipe_read(). */
function pipeRead(file: File, count: number): Uint8Array {
	const pipe = pipeOf(file);
	if (count === 0) return new Uint8Array(0);
	const out = new Uint8Array(count);
	let ret = 0;
	let total = count;
	for (;;) {
		const buf = pipe.bufs[0];
		if (buf) {
			const chars = Math.min(buf.len, total);
			out.set(buf.page.subarray(buf.offset, buf.offset + chars), ret);
			ret += chars;
			buf.offset += chars;
			buf.len -= chars;
			if (buf.packet) {
				// The rest of a packet that did not fit is discarded.
				total = chars;
				buf.len = 0;
			}
			if (buf.len === 0) pipe.bufs.shift();
			total -= chars;
			if (total === 0) break;
			if (pipe.bufs.length > 0) continue;
		}
		if (pipe.writers === 0 || ret > 0) break;
		throw new Errno(EAGAIN);
	}
	if (ret > 0) pipe.wrWait.wakeUp(POLLOUT | POLLWRNORM);
	return out.subarray(0, ret);
}

/** pipe_write(). */
function pipeWrite(file: File, data: Uint8Array): number {
	const pipe = pipeOf(file);
	const total = data.length;
	if (total === 0) return 0;
	if (pipe.readers === 0) {
		const p = currentOrNull();
		if (p) sendSignal(p, SIGPIPE);
		throw new Errno(EPIPE);
	}
	const packet = (file.f_flags & O_DIRECT) !== 0;
	let ret = 0;
	// A tail shorter than a page goes first into the last page if it fits whole.
	const chars = total & (PAGE_SIZE - 1);
	const last = pipe.bufs[pipe.bufs.length - 1];
	if (chars && last && !last.packet && last.offset + last.len + chars <= PAGE_SIZE) {
		last.page.set(data.subarray(0, chars), last.offset + last.len);
		last.len += chars;
		ret = chars;
	}
	while (ret < total && !pipe.full()) {
		const n = Math.min(PAGE_SIZE, total - ret);
		const page = new Uint8Array(PAGE_SIZE);
		page.set(data.subarray(ret, ret + n));
		pipe.bufs.push({ page, offset: 0, len: n, packet });
		ret += n;
	}
	if (ret === 0) throw new Errno(EAGAIN);
	pipe.rdWait.wakeUp(POLLIN | POLLRDNORM);
	return ret;
}

/** pipe_poll(). */
function pipePoll(file: File, pt: PollTable | null): number {
	const pipe = pipeOf(file);
	if (file.f_mode & FMODE_READ) pt?.wait(pipe.rdWait);
	if (file.f_mode & FMODE_WRITE) pt?.wait(pipe.wrWait);
	let mask = 0;
	if (file.f_mode & FMODE_READ) {
		if (pipe.bufs.length > 0) mask |= POLLIN | POLLRDNORM;
		if (pipe.writers === 0) mask |= POLLHUP;
	}
	if (file.f_mode & FMODE_WRITE) {
		if (!pipe.full()) mask |= POLLOUT | POLLWRNORM;
		if (pipe.readers === 0) mask |= POLLERR;
	}
	return mask;
}

/** pipe_release(): the last reader or writer going wakes the other side. */
function pipeRelease(_inode: Inode, file: File): void {
	const pipe = pipeOf(file);
	if (file.f_mode & FMODE_READ) pipe.readers--;
	if (file.f_mode & FMODE_WRITE) pipe.writers--;
	if (!pipe.readers !== !pipe.writers) {
		pipe.rdWait.wakeUp();
		pipe.wrWait.wakeUp();
	}
}

/** pipe_ioctl(): FIONREAD stores the bytes waiting as an int. */
function pipeIoctl(file: File, cmd: number, arg: number): number {
	if (cmd !== FIONREAD) throw new Errno(ENOIOCTLCMD);
	current().mm.putUser(arg, 4, pipeOf(file).available());
	return 0;
}

/** pipefifo_fops. */
export const pipefifoFops: FileOperations = {
	read: (file, count) => pipeRead(file, count),
	write: (file, data) => pipeWrite(file, data),
	poll: pipePoll,
	release: pipeRelease,
	ioctl: pipeIoctl,
};

interface PipefsState {
	sb: SuperBlock;
	nextIno: number;
}

const pipefs = new WeakMap<Kernel, PipefsState>();

/** get_pipe_inode(): a 0600 FIFO inode on this kernel's pipefs, owned by the caller's fsuid/fsgid. */
function getPipeInode(p: Process): Inode {
	const k = p.kernel;
	let st = pipefs.get(k);
	if (!st) {
		const sb: SuperBlock = { fsType: "pipefs", dev: makedev(0, 13), magic: PIPEFS_MAGIC, root: null as unknown as Inode };
		st = { sb, nextIno: 1 };
		pipefs.set(k, st);
	}
	const pipe = new PipeInodeInfo();
	pipe.readers = pipe.writers = 1;
	return new Inode({ sb: st.sb, ino: st.nextIno++, mode: S_IFIFO | 0o600, uid: p.cred.fsuid, gid: p.cred.fsgid, fop: pipefifoFops, timeNs: k.clock.nowNs(), i_private: pipe });
}

/**
 * create_pipe_files(): the read end (O_RDONLY, with O_NONBLOCK if asked)
 * and the write end (O_WRONLY, with O_NONBLOCK and O_DIRECT if asked),
 * both stream files (not seekable).
 */
export function createPipeFiles(p: Process, flags: number): [File, File] {
	const inode = getPipeInode(p);
	const pipe = inode.i_private as PipeInodeInfo;
	const r = new File({ f_op: pipefifoFops, inode, path: null, f_flags: O_RDONLY | (flags & O_NONBLOCK), f_mode: FMODE_READ, opener: p });
	const w = new File({ f_op: pipefifoFops, inode, path: null, f_flags: O_WRONLY | (flags & (O_NONBLOCK | O_DIRECT)), f_mode: FMODE_WRITE, opener: p });
	r.private_data = w.private_data = pipe;
	return [r, w];
}

/**
 * do_pipe2(): installs both ends and writes `int fildes[2]`. EINVAL for a
 * flag other than O_CLOEXEC, O_NONBLOCK, O_DIRECT; ENOPKG for
 * O_NOTIFICATION_PIPE (no CONFIG_WATCH_QUEUE); EMFILE; EFAULT when
 * `fildes` cannot be written, with no fd left open.
 */
export function doPipe2(p: Process, fildes: number, flags: number): number {
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_EXCL)) throw new Errno(EINVAL);
	if (flags & O_EXCL) throw new Errno(ENOPKG);
	const [r, w] = createPipeFiles(p, flags);
	const cloexec = (flags & O_CLOEXEC) !== 0;
	const fds: number[] = [];
	try {
		fds.push(p.files.install(r, p.nofile, cloexec));
		fds.push(p.files.install(w, p.nofile, cloexec));
		const out = new Uint8Array(8);
		const v = new DataView(out.buffer);
		v.setInt32(0, fds[0]!, true);
		v.setInt32(4, fds[1]!, true);
		p.mm.copyToUser(fildes, out);
	} catch (e) {
		for (const fd of fds) p.files.remove(fd);
		r.put();
		w.put();
		throw e;
	}
	return 0;
}

/** /proc/sys/fs/pipe-max-size: the largest size an unprivileged F_SETPIPE_SZ may ask for. */
export const PIPE_MAX_SIZE = 1048576;

/** round_pipe_size(): a power of two of at least a page; 0 for more than 2 GiB. */
function roundPipeSize(size: number): number {
	if (size > 2 ** 31) return 0;
	if (size < PAGE_SIZE) return PAGE_SIZE;
	return 2 ** Math.ceil(Math.log2(size));
}

/** pipe_set_size(): EINVAL for 0 pages, EPERM above pipe-max-size without CAP_SYS_RESOURCE, EBUSY when the data would not fit. */
function pipeSetSize(p: Process, pipe: PipeInodeInfo, arg: number): number {
	const size = roundPipeSize(arg >>> 0);
	const slots = size / PAGE_SIZE;
	if (slots === 0) throw new Errno(EINVAL);
	if (slots > pipe.maxUsage && size > PIPE_MAX_SIZE && !p.cred.capable(CAP_SYS_RESOURCE)) throw new Errno(EPERM);
	if (slots < pipe.bufs.length) throw new Errno(EBUSY);
	pipe.maxUsage = slots;
	return size;
}

/** pipe_fcntl(): EBADF on a file that is not a pipe. */
function pipeFcntl(cmd: number): (p: Process, file: File, arg: number) => number {
	return (p, file, arg) => {
		if (file.f_op !== pipefifoFops) throw new Errno(EBADF);
		const pipe = pipeOf(file);
		return cmd === F_SETPIPE_SZ ? pipeSetSize(p, pipe, arg) : pipe.maxUsage * PAGE_SIZE;
	};
}

registerFcntl(F_GETPIPE_SZ, pipeFcntl(F_GETPIPE_SZ));
registerFcntl(F_SETPIPE_SZ, pipeFcntl(F_SETPIPE_SZ));

registerSyscall({
	nr: 22,
	name: "pipe",
	args: ["fd_pair"],
	status: "partial",
	note: "64 KiB pipe; read/write never sleep (EAGAIN or a short write where Linux would block): poll() first",
	impl: (p, a) => doPipe2(p, a[0]!, 0),
});

registerSyscall({
	nr: 293,
	name: "pipe2",
	args: ["fd_pair", "open_flags"],
	status: "partial",
	note: "O_CLOEXEC, O_NONBLOCK, O_DIRECT (packet mode); read/write never sleep (EAGAIN or a short write where Linux would block): poll() first",
	impl: (p, a) => doPipe2(p, a[0]!, a[1]!),
});
