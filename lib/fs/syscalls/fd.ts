/**
 * dup, dup2, dup3, fcntl, ioctl (fs/file.c, fs/fcntl.c, fs/ioctl.c). The
 * duplicated fds share one open file description: offset and status
 * flags. Other modules add fcntl commands (F_ADD_SEALS, F_GETPIPE_SZ …)
 * with `registerFcntl`.
 */
import { registerSyscall } from "../../kernel/syscallTable.ts";
import { Errno, EBADF, EINVAL, ENOIOCTLCMD, ENOTTY, EPERM } from "../../kernel/errno.ts";
import { S_ISREG } from "../inode.ts";
import { FMODE_PATH } from "../vfs.ts";
import {
	F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, FD_CLOEXEC, O_APPEND, O_ASYNC, O_CLOEXEC, O_DIRECT,
	O_NOATIME, O_NONBLOCK,
} from "../fcntl.ts";
import { ownerOrCapable } from "../permission.ts";
import { fdget, fdgetRaw, installFd } from "./util.ts";
import type { File } from "../file.ts";
import type { Process } from "../../kernel/process.ts";

/** Generic ioctls (include/uapi/asm-generic/ioctls.h). */
export const FIONCLEX = 0x5450;
export const FIOCLEX = 0x5451;
export const FIOASYNC = 0x5452;
export const FIONBIO = 0x5421;
export const FIONREAD = 0x541b;

/** The status flags F_SETFL may change (SETFL_MASK, with FASYNC stored as a flag: luosim sends no SIGIO). */
const SETFL_MASK = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;

/** An fcntl command another module implements: gets the File and the raw argument. */
export type FcntlHandler = (p: Process, file: File, arg: number) => number;

const fcntlHandlers = new Map<number, FcntlHandler>();

/** Adds an fcntl command (memfd seals, pipe sizes …); fcntl on an O_PATH fd is EBADF before the handler runs. */
export function registerFcntl(cmd: number, handler: FcntlHandler): void {
	fcntlHandlers.set(cmd, handler);
}

/** dup(2): the lowest free fd, without close-on-exec. */
export function sysDup(p: Process, oldfd: number): number {
	return installFd(p, fdgetRaw(p, oldfd).get(), false);
}

/** do_dup2(): `file` at exactly `newfd` (EBADF at or past RLIMIT_NOFILE), closing what was there. */
function doDup2(p: Process, file: File, newfd: number, cloexec: boolean): number {
	if (!Number.isInteger(newfd) || newfd < 0 || newfd >= p.nofile) throw new Errno(EBADF);
	p.files.replace(newfd, file.get(), p.nofile, cloexec)?.put();
	return newfd;
}

/** dup3(2): EINVAL for flags other than O_CLOEXEC or for oldfd == newfd. */
export function sysDup3(p: Process, oldfd: number, newfd: number, flags: number): number {
	if (flags & ~O_CLOEXEC) throw new Errno(EINVAL);
	if (oldfd === newfd) throw new Errno(EINVAL);
	if (!Number.isInteger(newfd) || newfd < 0 || newfd >= p.nofile) throw new Errno(EBADF);
	return doDup2(p, fdgetRaw(p, oldfd), newfd, (flags & O_CLOEXEC) !== 0);
}

/** dup2(2): onto itself it only checks that oldfd is open. */
export function sysDup2(p: Process, oldfd: number, newfd: number): number {
	if (oldfd === newfd) {
		fdgetRaw(p, oldfd);
		return newfd;
	}
	return sysDup3(p, oldfd, newfd, 0);
}

/** setfl(): only SETFL_MASK changes; O_NOATIME needs ownership (EPERM). */
function setfl(p: Process, file: File, arg: number): number {
	if (arg & O_NOATIME && !(file.f_flags & O_NOATIME) && !ownerOrCapable(p.cred, file.inode)) throw new Errno(EPERM);
	file.f_flags = (arg & SETFL_MASK) | (file.f_flags & ~SETFL_MASK);
	return 0;
}

/** fcntl(2). */
export function sysFcntl(p: Process, fd: number, cmd: number, arg: number): number {
	const file = fdgetRaw(p, fd);
	const pathOk = cmd === F_DUPFD || cmd === F_DUPFD_CLOEXEC || cmd === F_GETFD || cmd === F_SETFD || cmd === F_GETFL;
	if (file.f_mode & FMODE_PATH && !pathOk) throw new Errno(EBADF);
	switch (cmd) {
		case F_DUPFD:
		case F_DUPFD_CLOEXEC:
			if (!Number.isInteger(arg) || arg < 0 || arg >= p.nofile) throw new Errno(EINVAL);
			return installFd(p, file.get(), cmd === F_DUPFD_CLOEXEC, arg);
		case F_GETFD:
			return p.files.getCloexec(fd) ? FD_CLOEXEC : 0;
		case F_SETFD:
			p.files.setCloexec(fd, (arg & FD_CLOEXEC) !== 0);
			return 0;
		case F_GETFL:
			return file.f_flags;
		case F_SETFL:
			return setfl(p, file, arg);
	}
	const handler = fcntlHandlers.get(cmd);
	if (!handler) throw new Errno(EINVAL);
	return handler(p, file, arg);
}

/**
 * ioctl(2): FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC and FIONREAD (on a
 * regular file) here; anything else goes to the driver, ENOTTY without one.
 */
export function sysIoctl(p: Process, fd: number, cmd: number, arg: number): number {
	const file = fdget(p, fd);
	cmd >>>= 0;
	switch (cmd) {
		case FIOCLEX:
			p.files.setCloexec(fd, true);
			return 0;
		case FIONCLEX:
			p.files.setCloexec(fd, false);
			return 0;
		case FIONBIO:
		case FIOASYNC: {
			const on = p.mm.getUser(arg, 4) !== 0;
			const flag = cmd === FIONBIO ? O_NONBLOCK : O_ASYNC;
			file.f_flags = on ? file.f_flags | flag : file.f_flags & ~flag;
			return 0;
		}
		case FIONREAD:
			if (S_ISREG(file.inode.mode)) {
				p.mm.putUser(arg, 4, file.inode.size - file.f_pos);
				return 0;
			}
			break;
	}
	if (!file.f_op.ioctl) throw new Errno(ENOTTY);
	try {
		return file.f_op.ioctl(file, cmd, arg);
	} catch (e) {
		if (e instanceof Errno && e.errno === ENOIOCTLCMD) throw new Errno(ENOTTY);
		throw e;
	}
}

registerSyscall({
	nr: 32, name: "dup", args: ["fd"], status: "supported", note: "lowest free fd, sharing the open file description; EMFILE at RLIMIT_NOFILE", ret: "fd",
	impl: (p, a) => sysDup(p, a[0]!),
});
registerSyscall({
	nr: 33, name: "dup2", args: ["fd", "int"], status: "supported", note: "closes newfd first; onto itself a no-op; EBADF for newfd >= RLIMIT_NOFILE; the new fd is not close-on-exec", ret: "fd",
	impl: (p, a) => sysDup2(p, a[0]!, a[1]!),
});
registerSyscall({
	nr: 292, name: "dup3", args: ["fd", "int", "open_flags"], status: "supported", note: "O_CLOEXEC only (else EINVAL); EINVAL when oldfd == newfd", ret: "fd",
	impl: (p, a) => sysDup3(p, a[0]!, a[1]!, a[2]!),
});
registerSyscall({
	nr: 72, name: "fcntl", args: ["fd", "fcntl_cmd", "fcntl_arg"], status: "partial",
	note: "F_DUPFD, F_DUPFD_CLOEXEC (EINVAL for arg >= RLIMIT_NOFILE), F_GETFD, F_SETFD, F_GETFL, F_SETFL (O_APPEND, O_NONBLOCK, O_ASYNC (no SIGIO), O_DIRECT, O_NOATIME); commands other modules register; no locks, leases or owners (EINVAL)",
	impl: (p, a) => sysFcntl(p, a[0]!, a[1]!, a[2]!),
});
registerSyscall({
	nr: 16, name: "ioctl", args: ["fd", "ioctl_cmd", "ioctl_arg"], status: "supported",
	note: "FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIONREAD (regular files) in the VFS; the rest to the driver's unlocked_ioctl, ENOTTY without one; EBADF for O_PATH",
	impl: (p, a) => sysIoctl(p, a[0]!, a[1]!, a[2]!),
});
