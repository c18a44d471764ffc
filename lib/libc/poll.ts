/**
 * <poll.h>: poll, ppoll and the POLL* bits (include/uapi/asm-generic/poll.h;
 * glibc 2.36 poll() is the poll(2) system call on x86_64, ppoll() is
 * ppoll(2) with an 8-byte sigset size).
 *
 * `fds` is an array of `{fd, events, revents}` objects, copied to a
 * `struct pollfd[]` in user memory for the call and its `revents` copied
 * back; a user address of a struct pollfd array works too.
 */
import { Errno, EFAULT } from "../kernel/errno.ts";
import { callAsync, rawSyscallAsync, view, type Scratch } from "./sys.ts";
import { timespecArg, SIZEOF_TIMESPEC, type Timespec } from "./time.ts";
import { SIZEOF_POLLFD } from "../fs/poll.ts";

/* The POLL* bits and sizeof(struct pollfd) are the kernel's (lib/fs/poll.ts), glibc's values too. */
export {
	POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND, POLLMSG, POLLRDHUP,
	SIZEOF_POLLFD,
} from "../fs/poll.ts";
/** POLLREMOVE: in glibc's <bits/poll.h> only (an old /dev/poll bit no Linux driver reports). */
export const POLLREMOVE = 0x1000;

/** struct pollfd. */
export interface PollFd {
	fd: number;
	events: number;
	revents: number;
}

/** A `struct pollfd *`: objects, or a user address. */
export type PollFdsArg = PollFd[] | number;

function pollfdsIn(s: Scratch, fds: PollFdsArg, nfds: number): number {
	if (typeof fds === "number") return fds;
	if (nfds > fds.length) throw new Errno(EFAULT);
	const b = new Uint8Array(nfds * SIZEOF_POLLFD);
	const v = view(b);
	for (let i = 0; i < nfds; i++) {
		v.setInt32(i * 8, fds[i]!.fd, true);
		v.setInt16(i * 8 + 4, fds[i]!.events, true);
		v.setInt16(i * 8 + 6, fds[i]!.revents, true);
	}
	return s.bytes(b);
}

function pollfdsBack(s: Scratch, fds: PollFdsArg, nfds: number, addr: number): void {
	if (typeof fds === "number" || nfds === 0) return;
	const v = view(s.read(addr, nfds * SIZEOF_POLLFD));
	for (let i = 0; i < nfds; i++) fds[i]!.revents = v.getUint16(i * 8 + 6, true);
}

/**
 * poll(2): waits until one of `fds` is ready, `timeout` ms pass (0: do not
 * wait; negative: forever) on the virtual clock. Resolves to the number of
 * entries with nonzero `revents` (0 on timeout) or -1 with EFAULT, EINVAL
 * (`nfds` over RLIMIT_NOFILE), ENOMEM.
 */
export function poll(fds: PollFdsArg, nfds: number, timeout: number): Promise<number> {
	return callAsync(async (s) => {
		const addr = pollfdsIn(s, fds, nfds);
		const ret = await rawSyscallAsync(s.p, "poll", [addr, nfds, timeout]);
		if (ret >= 0) pollfdsBack(s, fds, nfds, addr);
		return ret;
	});
}

/**
 * ppoll(3): poll with a timespec timeout (null: forever). As glibc does,
 * the call gets a copy of `*tmo_p`, so the caller's timespec is not
 * updated with the time left. luosim has no signal handlers, so `sigmask`
 * (a user address or null) changes nothing a program can see.
 */
export function ppoll(fds: PollFdsArg, nfds: number, tmo_p: Timespec | number | null, sigmask: number | null = null): Promise<number> {
	return callAsync(async (s) => {
		const addr = pollfdsIn(s, fds, nfds);
		const ts = typeof tmo_p === "number" && tmo_p !== 0 ? s.bytes(s.read(tmo_p, SIZEOF_TIMESPEC)) : timespecArg(s, tmo_p);
		const ret = await rawSyscallAsync(s.p, "ppoll", [addr, nfds, ts, sigmask ?? 0, 8]);
		if (ret >= 0) pollfdsBack(s, fds, nfds, addr);
		return ret;
	});
}
