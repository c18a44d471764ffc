/**
 * poll(2) and ppoll(2) (fs/select.c: do_sys_poll, do_poll, do_pollfd,
 * poll_select_set_timeout, poll_select_finish) and the POLL* bits
 * (include/uapi/asm-generic/poll.h).
 *
 * The first pass over the fds registers the caller on every wait queue the
 * files' poll ops name; then the caller sleeps (Scheduler.waitEvent) until
 * a wake-up makes some fd ready or the timeout passes on the virtual clock,
 * and every wake-up re-polls all fds, as do_poll's loop does. luosim has no
 * signal handlers, so poll never returns EINTR and ppoll's signal mask
 * (checked for size and readability) changes nothing.
 */
import { registerSyscall } from "../kernel/syscallTable.ts";
import { Errno, EINVAL } from "../kernel/errno.ts";
import { NSEC_PER_MSEC, NSEC_PER_SEC } from "../kernel/clock.ts";
import type { Process } from "../kernel/process.ts";
import type { WaitQueue } from "../kernel/waitqueue.ts";
import type { File, PollTable } from "./file.ts";

export const POLLIN = 0x0001;
export const POLLPRI = 0x0002;
export const POLLOUT = 0x0004;
export const POLLERR = 0x0008;
export const POLLHUP = 0x0010;
export const POLLNVAL = 0x0020;
export const POLLRDNORM = 0x0040;
export const POLLRDBAND = 0x0080;
export const POLLWRNORM = 0x0100;
export const POLLWRBAND = 0x0200;
export const POLLMSG = 0x0400;
export const POLLRDHUP = 0x2000;

/** DEFAULT_POLLMASK: what vfs_poll() reports for a file without a poll op. */
export const DEFAULT_POLLMASK = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

/** sizeof(struct pollfd): int fd; short events; short revents. */
export const SIZEOF_POLLFD = 8;
/** sizeof(struct __kernel_timespec). */
const SIZEOF_TIMESPEC = 16;
/** sizeof(sigset_t) in the kernel (_NSIG / 8). */
const SIZEOF_SIGSET = 8;

/** vfs_poll(): the file's poll op, or DEFAULT_POLLMASK when it has none. */
export function vfsPoll(file: File, pt: PollTable | null): number {
	return file.f_op.poll ? file.f_op.poll(file, pt) : DEFAULT_POLLMASK;
}

interface PollEntry {
	fd: number;
	events: number;
	revents: number;
}

/** do_pollfd(): one fd's revents (0 for a negative fd, POLLNVAL for a closed one). */
function doPollfd(p: Process, e: PollEntry, pt: PollTable | null): number {
	let mask = 0;
	if (e.fd >= 0) {
		if (!p.files.has(e.fd)) mask = POLLNVAL;
		else mask = vfsPoll(p.files.get(e.fd), pt) & (e.events | POLLERR | POLLHUP);
	}
	e.revents = mask & 0xffff;
	return mask;
}

/**
 * do_poll(): `endNs` is the absolute virtual time to give up at, null to
 * wait forever, 0 not to wait at all (the kernel's zero end_time).
 */
async function doPoll(p: Process, entries: PollEntry[], endNs: number | null): Promise<number> {
	const queues: WaitQueue[] = [];
	const pass = (pt: PollTable | null): number => {
		let count = 0;
		for (const e of entries) {
			if (doPollfd(p, e, pt)) {
				count++;
				// Found something: no point registering on the remaining queues.
				pt = null;
			}
		}
		return count;
	};
	let count = pass(endNs === 0 ? null : { wait: (q) => void queues.push(q) });
	if (count || endNs === 0) return count;
	const clock = p.kernel.clock;
	const timeoutNs = endNs === null ? null : Math.max(0, endNs - clock.nowNs());
	await p.kernel.sched.waitEvent(p, queues, () => (count = pass(null)) > 0, timeoutNs);
	return count;
}

/**
 * do_sys_poll(): EINVAL if `nfds` exceeds RLIMIT_NOFILE, EFAULT if the
 * array cannot be read or the revents cannot be written back.
 */
export async function doSysPoll(p: Process, ufds: number, nfds: number, endNs: number | null): Promise<number> {
	if (nfds > p.nofile) throw new Errno(EINVAL);
	const raw = nfds > 0 ? p.mm.copyFromUser(ufds, nfds * SIZEOF_POLLFD) : new Uint8Array(0);
	const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
	const entries: PollEntry[] = [];
	for (let i = 0; i < nfds; i++) entries.push({ fd: v.getInt32(i * SIZEOF_POLLFD, true), events: v.getUint16(i * SIZEOF_POLLFD + 4, true), revents: 0 });
	const count = await doPoll(p, entries, endNs);
	const out = new Uint8Array(2);
	const ov = new DataView(out.buffer);
	entries.forEach((e, i) => {
		ov.setUint16(0, e.revents, true);
		p.mm.copyToUser(ufds + i * SIZEOF_POLLFD + 6, out);
	});
	return count;
}

/** poll_select_set_timeout(): the absolute end time (0 for a zero timeout); EINVAL for an invalid timespec. */
function endTime(p: Process, sec: number, nsec: number): number {
	if (sec < 0 || nsec < 0 || nsec >= NSEC_PER_SEC) throw new Errno(EINVAL);
	if (sec === 0 && nsec === 0) return 0;
	return p.kernel.clock.nowNs() + sec * NSEC_PER_SEC + nsec;
}

/** poll(2): `timeout` in ms, negative for no timeout. */
export function sysPoll(p: Process, ufds: number, nfds: number, timeoutMs: number): Promise<number> {
	const ms = timeoutMs | 0;
	const end = ms >= 0 ? endTime(p, Math.floor(ms / 1000), (ms % 1000) * NSEC_PER_MSEC) : null;
	return doSysPoll(p, ufds, nfds >>> 0, end);
}

/**
 * ppoll(2): `tsp` a struct timespec * (0 waits forever); EINVAL for a
 * negative time, a tv_nsec outside [0, 1e9) or a sigset size other than 8.
 * Writes the time left back to *tsp (not for a zero timeout; a write fault
 * there is ignored, as Linux does).
 */
export async function sysPpoll(p: Process, ufds: number, nfds: number, tsp: number, sigmask: number, sigsetsize: number): Promise<number> {
	let end: number | null = null;
	if (tsp) {
		const raw = p.mm.copyFromUser(tsp, SIZEOF_TIMESPEC);
		const ts = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
		end = endTime(p, Number(ts.getBigInt64(0, true)), Number(ts.getBigInt64(8, true)));
	}
	if (sigmask) {
		if (sigsetsize !== SIZEOF_SIGSET) throw new Errno(EINVAL);
		p.mm.copyFromUser(sigmask, SIZEOF_SIGSET);
	}
	try {
		return await doSysPoll(p, ufds, nfds >>> 0, end);
	} finally {
		if (tsp && end !== 0) writeRemaining(p, tsp, end!);
	}
}

/** poll_select_finish(): the time left until `endNs`, never negative. */
function writeRemaining(p: Process, tsp: number, endNs: number): void {
	const left = BigInt(Math.max(0, endNs - p.kernel.clock.nowNs()));
	const buf = new Uint8Array(SIZEOF_TIMESPEC);
	const v = new DataView(buf.buffer);
	v.setBigInt64(0, left / BigInt(NSEC_PER_SEC), true);
	v.setBigInt64(8, left % BigInt(NSEC_PER_SEC), true);
	try {
		p.mm.copyToUser(tsp, buf);
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
	}
}

registerSyscall({
	nr: 7,
	name: "poll",
	args: ["pollfds", "uint", "int"],
	status: "supported",
	note: "fs/select.c do_sys_poll; sleeps on the files' wait queues under the virtual clock; no EINTR (no signal handlers)",
	implAsync: (p, a) => sysPoll(p, a[0]!, a[1]!, a[2]!),
});

registerSyscall({
	nr: 271,
	name: "ppoll",
	args: ["pollfds", "uint", "timespec_in", "sigset", "size"],
	status: "partial",
	note: "as poll with a timespec (time left written back); the signal mask is checked (size 8, readable) but not applied: luosim has no signal handlers",
	implAsync: (p, a) => sysPpoll(p, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!),
});
