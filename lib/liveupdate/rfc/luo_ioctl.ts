/**
 * /dev/liveupdate of the seed era (drivers/misc/liveupdate/luo_ioctl.c of
 * seed 000 patch 10 for `rfc-v2`, kernel/liveupdate/luo_ioctl.c of seed 001
 * for `v2`): the misc device and one dispatcher per generation, each
 * matching the full command number of its own uapi header, so any other
 * number (another generation's included) is ENOTTY.
 *
 * open: CAP_SYS_ADMIN or EACCES, then O_EXCL is EINVAL; any number of opens;
 * no release (closing changes nothing). The device exists only while LUO
 * runs (review C4; seed 001's liveupdate_init()).
 *
 * FD_PRESERVE takes a reference on the file (fget; EBADF for a bad fd) that
 * LUO keeps until FD_UNPRESERVE (review F3). When the struct cannot be
 * copied back after a successful preserve, the file is unregistered again
 * and the result is EFAULT (review F2; seed 001 does it, the RFC v2 code
 * did not). FD_RESTORE installs a close-on-exec fd (EMFILE before anything
 * is retrieved); if the copy-out then fails, the fd stays open, as in the seed.
 */
import { Errno, EACCES, EFAULT, EINVAL, EMFILE, ENOTTY } from "../../kernel/errno.ts";
import { CAP_SYS_ADMIN } from "../../kernel/cred.ts";
import { current } from "../../kernel/current.ts";
import { registerIoctlName } from "../../kernel/strace.ts";
import { O_EXCL } from "../../fs/fcntl.ts";
import { MISC_DYNAMIC_MINOR, miscRegister } from "../../fs/miscdev.ts";
import { _IOC_NR, _IOC_TYPE } from "../../uaccess/ioctl.ts";
import * as rfc from "../uapi/rfc-v2.ts";
import * as v2 from "../uapi/v2.ts";
import { liveupdate_get_state, type LuoState } from "./luo_internal.ts";
import { luo_cancel, luo_finish, luo_freeze, luo_prepare, luo_running } from "./luo_core.ts";
import { luo_register_file, luo_register_file_token, luo_retrieve_file, luo_unregister_file } from "./luo_files.ts";
import { luo_ioctl_selftests } from "./luo_selftests.ts";
import type { File, FileOperations } from "../../fs/file.ts";
import type { Inode } from "../../fs/inode.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import type { Process } from "../../kernel/process.ts";

const PR = "luo_ioctl: ";

/** enum liveupdate_state of each generation. UNDEFINED has no rfc-v2 number; the device never sees it (it appears after startup). */
const RFC_STATE: Readonly<Record<LuoState, number>> = {
	undefined: -1,
	normal: rfc.LIVEUPDATE_STATE_NORMAL,
	prepared: rfc.LIVEUPDATE_STATE_PREPARED,
	frozen: rfc.LIVEUPDATE_STATE_FROZEN,
	updated: rfc.LIVEUPDATE_STATE_UPDATED,
};
const V2_STATE: Readonly<Record<LuoState, number>> = {
	undefined: v2.LIVEUPDATE_STATE_UNDEFINED,
	normal: v2.LIVEUPDATE_STATE_NORMAL,
	prepared: v2.LIVEUPDATE_STATE_PREPARED,
	frozen: v2.LIVEUPDATE_STATE_FROZEN,
	updated: v2.LIVEUPDATE_STATE_UPDATED,
};

/** luo_open(). */
function luo_open(_inode: Inode, file: File): void {
	if (!current().cred.capable(CAP_SYS_ADMIN)) throw new Errno(EACCES);
	if (file.f_flags & O_EXCL) throw new Errno(EINVAL);
}

/** GET_STATE: the state as the running generation numbers it, 4 bytes. */
function getState(kernel: Kernel, p: Process, arg: number, table: Readonly<Record<LuoState, number>>): void {
	p.mm.putUser(arg, 4, table[liveupdate_get_state(kernel)] >>> 0);
}

/** FD_PRESERVE's copy-out (F2): a fault unregisters the file again and is EFAULT. */
function preserveCopyOut(kernel: Kernel, p: Process, arg: number, fd: number, flags: number, token: bigint, layout: typeof rfc.liveupdate_fd): void {
	try {
		layout.toUser(p.mm, arg, { fd, flags, token });
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		luo_unregister_file(kernel, token);
		throw new Errno(EFAULT);
	}
}

/** fget(fd) for LUO: the file with a new reference, EBADF for a bad fd. */
function fget(p: Process, fd: number): File {
	return p.files.get(fd).get();
}

/** FD_UNPRESERVE: the token behind the pointer. */
function fdUnpreserve(kernel: Kernel, p: Process, arg: number): void {
	luo_unregister_file(kernel, BigInt.asUintN(64, BigInt(p.mm.getUser(arg, 8))));
}

/**
 * luo_ioctl_fd_restore(): an fd slot first (EMFILE), then the file, then the
 * fd is installed and copied out. Both generations' struct liveupdate_fd
 * have the same layout.
 */
function fdRestore(kernel: Kernel, p: Process, arg: number): void {
	const req = rfc.liveupdate_fd.fromUser(p.mm, arg);
	let free = 0;
	while (p.files.has(free)) free++;
	if (free >= p.nofile) throw new Errno(EMFILE);
	const file = luo_retrieve_file(kernel, req.token);
	const fd = p.files.install(file, p.nofile, true);
	rfc.liveupdate_fd.toUser(p.mm, arg, { ...req, fd });
}

/** The rfc-v2 dispatcher (seed 000 luo_ioctl()). */
function rfcIoctl(kernel: Kernel, p: Process, cmd: number, arg: number): number {
	switch (cmd) {
		case rfc.LIVEUPDATE_IOCTL_GET_STATE:
			getState(kernel, p, arg, RFC_STATE);
			return 0;
		case rfc.LIVEUPDATE_IOCTL_EVENT_PREPARE:
			luo_prepare(kernel);
			return 0;
		case rfc.LIVEUPDATE_IOCTL_EVENT_FREEZE:
			luo_freeze(kernel);
			return 0;
		case rfc.LIVEUPDATE_IOCTL_EVENT_FINISH:
			luo_finish(kernel);
			return 0;
		case rfc.LIVEUPDATE_IOCTL_EVENT_CANCEL:
			luo_cancel(kernel);
			return 0;
		case rfc.LIVEUPDATE_IOCTL_FD_PRESERVE: {
			const req = rfc.liveupdate_fd.fromUser(p.mm, arg);
			const file = fget(p, req.fd);
			let token: bigint;
			try {
				token = luo_register_file(kernel, file);
			} catch (e) {
				file.put();
				throw e;
			}
			preserveCopyOut(kernel, p, arg, req.fd, req.flags, token, rfc.liveupdate_fd);
			return 0;
		}
		case rfc.LIVEUPDATE_IOCTL_FD_UNPRESERVE:
			fdUnpreserve(kernel, p, arg);
			return 0;
		case rfc.LIVEUPDATE_IOCTL_FD_RESTORE:
			fdRestore(kernel, p, arg);
			return 0;
		case rfc.LIVEUPDATE_IOCTL_SELFTESTS:
			return luo_ioctl_selftests(kernel, p, arg);
	}
	return unknown(kernel, cmd);
}

/** The v2 dispatcher (seed 001 luo_ioctl()). */
function v2Ioctl(kernel: Kernel, p: Process, cmd: number, arg: number): number {
	switch (cmd) {
		case v2.LIVEUPDATE_IOCTL_GET_STATE:
			getState(kernel, p, arg, V2_STATE);
			return 0;
		case v2.LIVEUPDATE_IOCTL_PREPARE:
			luo_prepare(kernel);
			return 0;
		case v2.LIVEUPDATE_IOCTL_FINISH:
			luo_finish(kernel);
			return 0;
		case v2.LIVEUPDATE_IOCTL_CANCEL:
			luo_cancel(kernel);
			return 0;
		case v2.LIVEUPDATE_IOCTL_FD_PRESERVE: {
			const req = v2.liveupdate_fd.fromUser(p.mm, arg);
			const file = fget(p, req.fd);
			try {
				luo_register_file_token(kernel, req.token, file);
			} catch (e) {
				file.put();
				throw e;
			}
			preserveCopyOut(kernel, p, arg, req.fd, req.flags, req.token, v2.liveupdate_fd);
			return 0;
		}
		case v2.LIVEUPDATE_IOCTL_FD_UNPRESERVE:
			fdUnpreserve(kernel, p, arg);
			return 0;
		case v2.LIVEUPDATE_IOCTL_FD_RESTORE:
			fdRestore(kernel, p, arg);
			return 0;
	}
	return unknown(kernel, cmd);
}

function unknown(kernel: Kernel, cmd: number): never {
	kernel.pr_warn(`${PR}ioctl: unknown command nr: 0x${_IOC_NR(cmd).toString(16)}`);
	throw new Errno(ENOTTY);
}

/** luo_ioctl(): ENOTTY for another ioctl type, then the running generation's dispatcher. */
function luo_ioctl(_file: File, cmd: number, arg: number): number {
	const p = current();
	const kernel = p.kernel;
	cmd = cmd >>> 0;
	if (_IOC_TYPE(cmd) !== rfc.LIVEUPDATE_IOCTL_TYPE) throw new Errno(ENOTTY);
	return kernel.abi === "v2" ? v2Ioctl(kernel, p, cmd, arg) : rfcIoctl(kernel, p, cmd, arg);
}

/** The file operations of /dev/liveupdate: open and unlocked_ioctl only, as in the seeds. */
export const liveupdateFops: FileOperations = {
	open: luo_open,
	ioctl: luo_ioctl,
};

/**
 * liveupdate_init() (module_init): registers /dev/liveupdate (dynamic
 * minor, mode 0600) when LUO runs; 0 without a device otherwise, and at
 * once on a mainline kernel. A registration failure is logged and returned.
 */
export function liveupdate_init(kernel: Kernel): number {
	if (!luo_running(kernel)) return 0;
	try {
		miscRegister(kernel, { name: "liveupdate", minor: MISC_DYNAMIC_MINOR, fops: liveupdateFops });
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		kernel.pr_err(`${PR}Failed to register misc device 'liveupdate': ${-e.errno}`);
		return -e.errno;
	}
	return 0;
}

// strace's names. Where rfc-v2 and v2 give one number two names, strace prints both, as it does for any ambiguous ioctl.
registerIoctlName(rfc.LIVEUPDATE_IOCTL_FD_PRESERVE, "LIVEUPDATE_IOCTL_FD_PRESERVE");
registerIoctlName(v2.LIVEUPDATE_IOCTL_FD_PRESERVE, "LIVEUPDATE_IOCTL_FD_PRESERVE");
registerIoctlName(rfc.LIVEUPDATE_IOCTL_FD_UNPRESERVE, "LIVEUPDATE_IOCTL_FD_UNPRESERVE");
registerIoctlName(rfc.LIVEUPDATE_IOCTL_FD_RESTORE, "LIVEUPDATE_IOCTL_FD_RESTORE");
registerIoctlName(rfc.LIVEUPDATE_IOCTL_GET_STATE, "LIVEUPDATE_IOCTL_GET_STATE");
registerIoctlName(rfc.LIVEUPDATE_IOCTL_EVENT_PREPARE, "LIVEUPDATE_IOCTL_EVENT_PREPARE or LIVEUPDATE_IOCTL_PREPARE");
registerIoctlName(rfc.LIVEUPDATE_IOCTL_EVENT_FREEZE, "LIVEUPDATE_IOCTL_EVENT_FREEZE");
registerIoctlName(rfc.LIVEUPDATE_IOCTL_EVENT_CANCEL, "LIVEUPDATE_IOCTL_CANCEL or LIVEUPDATE_IOCTL_EVENT_CANCEL");
registerIoctlName(rfc.LIVEUPDATE_IOCTL_EVENT_FINISH, "LIVEUPDATE_IOCTL_EVENT_FINISH or LIVEUPDATE_IOCTL_FINISH");
registerIoctlName(rfc.LIVEUPDATE_IOCTL_SELFTESTS, "LIVEUPDATE_IOCTL_SELFTESTS");
