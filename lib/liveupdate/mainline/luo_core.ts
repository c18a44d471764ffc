/**
 * The mainline LUO core (kernel/liveupdate/luo_core.c): the handover
 * header `struct luo_ser` ("luo-v5") in the KHO subtree "LUO", the boot
 * steps, liveupdate_reboot(), and /dev/liveupdate.
 *
 * Boot (lib/kernel/initcall.ts runs these in this order):
 * - liveupdate_early_init (early_initcall): with KHO enabled, the previous
 *   kernel's "LUO" subtree; none (ENOENT) is a normal boot; any other
 *   error, a blob shorter than 32 bytes or another compatible panics, as
 *   luo_restore_fail() does. Logs "Retrieved live update data, liveupdate
 *   number: N", takes the session blocks and the FLB page, frees the header.
 * - luo_late_startup: a new outgoing luo_ser (liveupdate_num + 1, 1 after a
 *   cold boot), the outgoing FLB page, kho_add_subtree("LUO", 32 bytes); a
 *   failure switches LUO off.
 * - liveupdate_ioctl_init: /dev/liveupdate (misc, dynamic minor, 0600
 *   root) when LUO is enabled.
 *
 * /dev/liveupdate has one opener at a time (EBUSY); every open
 * deserializes the incoming sessions once and fails with EIO, on this and
 * every later open, if that failed. Its ioctls are CREATE_SESSION and
 * RETRIEVE_SESSION, dispatched as luo_ioctl() does. There is no capability
 * check: the node's mode is the only gate. There is no
 * /sys/kernel/liveupdate in mainline.
 *
 * liveupdate_reboot() (installed with registerLiveupdateReboot() of
 * lib/liveupdate/liveupdate.ts, called by kernel_kexec): luosim's versions
 * check (luo_versions.ts, seed 002; ENOEXEC), then the outgoing sessions
 * are serialized, then the FLBs; an error is returned to reboot(2) and
 * nothing is left serialized. There is no kho_finalize().
 *
 * luosim difference: early and late initcalls both run from
 * lateInitcalls, so the early step runs just before the late ones (after
 * KHO's own init, as upstream); nothing in between depends on the order.
 */
import { Errno, EINVAL, EBUSY, EIO, ENOENT, ENOIOCTLCMD, errnoName } from "../../kernel/errno.ts";
import { current } from "../../kernel/current.ts";
import { registerIoctlName } from "../../kernel/strace.ts";
import * as uapi from "../uapi/mainline.ts";
import { miscRegister, MISC_DYNAMIC_MINOR } from "../../fs/miscdev.ts";
import { reserveFd } from "../../fs/syscalls/util.ts";
import { _IOC_NR } from "../../uaccess/ioctl.ts";
import { folio_pfn, type Folio } from "../../mm/folio.ts";
import { PFN_PHYS } from "../../mm/physmem.ts";
import {
	kho_add_subtree, kho_alloc_preserve, kho_is_enabled, kho_restore_free, kho_retrieve_subtree, kho_unpreserve_free,
} from "../../kho/mainline/kho.ts";
import { liveupdate_disable, liveupdate_enabled, registerLiveupdateReboot } from "../liveupdate.ts";
import {
	LIVEUPDATE_CMD_BASE, LIVEUPDATE_IOCTL_CREATE_SESSION, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, liveupdate_ioctl_create_session,
	liveupdate_ioctl_retrieve_session,
} from "../uapi/mainline.ts";
import { LUO_ABI_COMPATIBLE, LUO_ABI_COMPAT_LEN, LUO_KHO_ENTRY_NAME, luo_ser } from "./luo_abi.ts";
import { luo_flb_serialize, luo_flb_setup_incoming, luo_flb_setup_outgoing } from "./luo_flb.ts";
import { luo_versions_check } from "./luo_versions.ts";
import {
	luo_session_create, luo_session_deserialize, luo_session_retrieve, luo_session_serialize, luo_session_setup_incoming,
	luo_session_setup_outgoing,
} from "./luo_session.ts";
import { cmdView, copy_struct_from_user, luo_ucmd_respond, type LuoUcmd } from "./luo_internal.ts";
import type { File, FileOperations } from "../../fs/file.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** luo_global and the device's in_use, per kernel. */
interface LuoGlobal {
	/** The previous kernel's liveupdate number (0 after a cold boot). */
	liveupdate_num: bigint;
	luo_ser_out: Folio | null;
	in_use: boolean;
}

const globals = new WeakMap<Kernel, LuoGlobal>();

function luoGlobal(kernel: Kernel): LuoGlobal {
	let g = globals.get(kernel);
	if (!g) {
		g = { liveupdate_num: 0n, luo_ser_out: null, in_use: false };
		globals.set(kernel, g);
	}
	return g;
}

function pe(errno: number): string {
	return `-${errnoName(errno)}`;
}

/** luo_early_startup(): 0, or the -errno that makes liveupdate_early_init panic. */
function luo_early_startup(kernel: Kernel): number {
	// liveupdate_enabled() switches LUO off, with its warning, when KHO is.
	liveupdate_enabled(kernel);
	if (!kho_is_enabled(kernel)) return 0;
	let blob: { phys: number; size: number };
	try {
		blob = kho_retrieve_subtree(kernel, LUO_KHO_ENTRY_NAME);
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		if (e.errno === ENOENT) return 0;
		kernel.pr_err(`luo: failed to retrieve LUO state '${LUO_KHO_ENTRY_NAME}' from KHO: ${pe(e.errno)}`);
		return -e.errno;
	}
	if (blob.size < luo_ser.size) {
		kernel.pr_err(`luo: LUO state is too small (${blob.size} < ${luo_ser.size})`);
		return -EINVAL;
	}
	const ser = luo_ser.decode(kernel.buddy.pm.read(blob.phys, luo_ser.size));
	// strncmp(compatible, LUO_ABI_COMPATIBLE, LUO_ABI_COMPAT_LEN): decode stops at the NUL as strncmp does.
	if (ser.compatible.slice(0, LUO_ABI_COMPAT_LEN) !== LUO_ABI_COMPATIBLE) {
		kernel.pr_err(`luo: LUO state is incompatible with '${LUO_ABI_COMPATIBLE}'`);
		return -EINVAL;
	}
	const g = luoGlobal(kernel);
	g.liveupdate_num = ser.liveupdate_num;
	kernel.pr_info(`luo: Retrieved live update data, liveupdate number: ${BigInt.asIntN(64, ser.liveupdate_num)}`);
	try {
		luo_session_setup_incoming(kernel, Number(ser.sessions_pa));
		luo_flb_setup_incoming(kernel, ser.flbs_pa);
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		return -e.errno;
	}
	kho_restore_free(kernel, blob.phys);
	return 0;
}

/**
 * liveupdate_early_init() (early_initcall): installs this generation's
 * liveupdate_reboot() and reads the previous kernel's LUO state; a state
 * that cannot be read panics. 0 at once on a seed-era kernel.
 */
export function liveupdate_early_init(kernel: Kernel): number {
	if (kernel.abi !== "mainline") return 0;
	registerLiveupdateReboot(kernel, liveupdate_reboot);
	const err = luo_early_startup(kernel);
	if (err) {
		liveupdate_disable(kernel);
		kernel.panic(`The incoming tree failed to initialize properly [${pe(-err)}], disabling live update`);
	}
	return 0;
}

/** luo_state_setup(): the outgoing luo_ser, registered as KHO subtree "LUO". */
function luo_state_setup(kernel: Kernel): void {
	const g = luoGlobal(kernel);
	let folio: Folio;
	try {
		folio = kho_alloc_preserve(kernel, luo_ser.size);
	} catch (e) {
		kernel.pr_err("luo: failed to allocate/preserve LUO state memory");
		throw e;
	}
	const phys = PFN_PHYS(folio_pfn(folio));
	const mem = kernel.buddy.pm.page(folio_pfn(folio));
	try {
		mem.set(luo_ser.encode({ compatible: LUO_ABI_COMPATIBLE, liveupdate_num: g.liveupdate_num + 1n }));
		const v = cmdView(mem);
		luo_session_setup_outgoing(kernel, (pa) => v.setBigUint64(luo_ser.offsetOf("sessions_pa"), BigInt(pa), true));
		v.setBigUint64(luo_ser.offsetOf("flbs_pa"), luo_flb_setup_outgoing(kernel), true);
		kho_add_subtree(kernel, LUO_KHO_ENTRY_NAME, phys, luo_ser.size);
	} catch (e) {
		kho_unpreserve_free(kernel, folio);
		if (e instanceof Errno) kernel.pr_err(`luo: failed to prepare LUO state: ${-e.errno}`);
		throw e;
	}
	g.luo_ser_out = folio;
}

/** luo_late_startup() (late_initcall): the outgoing state; a failure switches LUO off. 0 or -errno. */
export function luo_late_startup(kernel: Kernel): number {
	if (kernel.abi !== "mainline" || !liveupdate_enabled(kernel)) return 0;
	try {
		luo_state_setup(kernel);
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		liveupdate_disable(kernel);
		return -e.errno;
	}
	return 0;
}

/**
 * liveupdate_reboot() of mainline: 0 when LUO is off; the sessions'
 * serialization error as -errno (nothing changed); else the FLBs are
 * written and every later session operation waits for good.
 */
export function liveupdate_reboot(kernel: Kernel): number {
	if (!liveupdate_enabled(kernel)) return 0;
	try {
		// Seed 002's versions check, before anything is serialized (luo_versions.ts has the policy).
		luo_versions_check(kernel);
		luo_session_serialize(kernel);
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		return -e.errno;
	}
	luo_flb_serialize(kernel);
	return 0;
}

/** The physical address of this kernel's outgoing luo_ser (the "LUO" subtree), or null when LUO did not set it up. */
export function luo_state_phys(kernel: Kernel): number | null {
	const f = luoGlobal(kernel).luo_ser_out;
	return f ? PFN_PHYS(folio_pfn(f)) : null;
}

/** The previous kernel's liveupdate number as this kernel read it (0 on a cold boot). */
export function luo_liveupdate_num(kernel: Kernel): bigint {
	return luoGlobal(kernel).liveupdate_num;
}

/** Shared by both ioctls: fd, session, response, install (the fd is close-on-exec). */
function luo_ioctl_session_fd(ucmd: LuoUcmd, size: number, get: (kernel: Kernel, name: Uint8Array) => File): void {
	const p = ucmd.p;
	reserveFd(p);
	const v = cmdView(ucmd.cmd);
	v.setInt32(4, p.files.lowestFree(), true);
	const file = get(p.kernel, ucmd.cmd.subarray(8, size));
	try {
		luo_ucmd_respond(ucmd, size);
	} catch (e) {
		file.put();
		throw e;
	}
	p.files.install(file, p.nofile, true);
}

interface LuoIoctlOp {
	readonly size: number;
	readonly min_size: number;
	readonly ioctl_num: number;
	execute(ucmd: LuoUcmd): void;
}

/** luo_ioctl_ops[], indexed by nr - LIVEUPDATE_CMD_BASE; min_size is offsetofend(name). */
const luo_ioctl_ops: readonly LuoIoctlOp[] = [
	{
		size: liveupdate_ioctl_create_session.size,
		min_size: 72,
		ioctl_num: LIVEUPDATE_IOCTL_CREATE_SESSION,
		execute: (ucmd) => luo_ioctl_session_fd(ucmd, liveupdate_ioctl_create_session.size, luo_session_create),
	},
	{
		size: liveupdate_ioctl_retrieve_session.size,
		min_size: 72,
		ioctl_num: LIVEUPDATE_IOCTL_RETRIEVE_SESSION,
		execute: (ucmd) => luo_ioctl_session_fd(ucmd, liveupdate_ioctl_retrieve_session.size, luo_session_retrieve),
	},
];

/**
 * luo_ioctl(): EINVAL for a number other than 0x00/0x01, EFAULT when the
 * size cannot be read, ENOTTY (ENOIOCTLCMD) when the full command
 * differs, EINVAL below the minimum size, E2BIG for a non-zero unknown
 * tail, then the command.
 */
function luo_ioctl(_file: File, cmd: number, arg: number): number {
	const p = current();
	const nr = _IOC_NR(cmd);
	if (nr - LIVEUPDATE_CMD_BASE >= luo_ioctl_ops.length) throw new Errno(EINVAL);
	const user_size = p.mm.getUser(arg, 4);
	const op = luo_ioctl_ops[nr - LIVEUPDATE_CMD_BASE]!;
	if (op.ioctl_num !== cmd >>> 0) throw new Errno(ENOIOCTLCMD);
	if (user_size < op.min_size) throw new Errno(EINVAL);
	op.execute({ p, ubuffer: arg, user_size, cmd: copy_struct_from_user(p, op.size, arg, user_size) });
	return 0;
}

function luoFops(kernel: Kernel): FileOperations {
	const g = luoGlobal(kernel);
	return {
		open: (): void => {
			if (g.in_use) throw new Errno(EBUSY);
			g.in_use = true;
			if (luo_session_deserialize(kernel)) {
				g.in_use = false;
				throw new Errno(EIO);
			}
		},
		release: (): void => {
			g.in_use = false;
		},
		ioctl: luo_ioctl,
	};
}

/** liveupdate_ioctl_init() (late_initcall): /dev/liveupdate when LUO is enabled; 0 or -errno. */
export function liveupdate_ioctl_init(kernel: Kernel): number {
	if (kernel.abi !== "mainline" || !liveupdate_enabled(kernel)) return 0;
	try {
		miscRegister(kernel, { name: "liveupdate", minor: MISC_DYNAMIC_MINOR, fops: luoFops(kernel), mode: 0o600 });
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		return -e.errno;
	}
	return 0;
}

// strace shows the mainline commands by name (numbers distinct from the seed era's).
for (const name of ["LIVEUPDATE_IOCTL_CREATE_SESSION", "LIVEUPDATE_IOCTL_RETRIEVE_SESSION", "LIVEUPDATE_SESSION_PRESERVE_FD", "LIVEUPDATE_SESSION_RETRIEVE_FD", "LIVEUPDATE_SESSION_FINISH", "LIVEUPDATE_SESSION_GET_NAME"] as const) {
	registerIoctlName(uapi[name], name);
}
