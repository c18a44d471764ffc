/**
 * The seed-era LUO core (drivers/misc/liveupdate/luo_core.c, seed 000
 * patches 04 and 05, with the review's fixes): the state machine, its
 * coupling to KHO, the LUO FDT, startup, and liveupdate_reboot().
 *
 * PREPARE is kho_finalize(), whose FINALIZE notifier runs LUO's prepare;
 * CANCEL is kho_abort(), whose ABORT notifier runs LUO's cancel. So the
 * errnos are KHO's where KHO decides: a second PREPARE is EEXIST, CANCEL in
 * NORMAL or UPDATED is ENOENT, PREPARE in UPDATED is EINVAL (the notifier
 * refuses), and `echo 1 > /sys/kernel/debug/kho/out/finalize` is a PREPARE
 * (`echo 0` a CANCEL). FREEZE outside PREPARED and FINISH outside UPDATED
 * are EINVAL.
 *
 * The LUO FDT ("luo-v1", 1 MiB, `/file-descriptors` and `/subsystems`) is
 * built in the FINALIZE notifier, preserved with kho_preserve_phys() and
 * added as KHO subtree "LUO"; the next kernel finds it with
 * kho_retrieve_subtree() and starts UPDATED (a malformed one panics).
 *
 * Review fixes: C1 (UNDEFINED until startup), C2 (a failed prepare frees
 * the LUO FDT, so nothing is left behind and the next PREPARE works), C4
 * (LUO off or KHO off: no notifier, no device, state stays UNDEFINED).
 * C7, luosim's choice since the review left it open: a failed freeze
 * cancels every participant (all of them had prepared), aborts KHO and
 * returns to NORMAL, where the seed leaves KHO finalized and cancels only
 * the participants before the failing one.
 */
import { Errno, EINVAL, ENOENT, ENOMEM } from "../../kernel/errno.ts";
import { fdt_create_empty_tree, fdt_node_check_compatible, fdt_setprop_string } from "../../fdt/libfdt.ts";
import {
	KEXEC_KHO_ABORT, KEXEC_KHO_FINALIZE, NOTIFY_BAD, kho_abort, kho_add_subtree, kho_finalize, kho_preserve_phys,
	kho_retrieve_subtree, kho_unpreserve_phys, notifier_from_errno, register_kho_notifier, type KhoNotifierBlock, type KhoSerialization,
} from "../../kho/kho.ts";
import { khoReadFdt } from "../../kho/kho_state.ts";
import { PFN_PHYS, get_order } from "../../mm/physmem.ts";
import { liveupdate_disable, liveupdate_enabled, registerLiveupdateReboot } from "../liveupdate.ts";
import { __luo_set_state, liveupdate_get_state, luo_set_state, luo_state_str, luoCore, luoSeedEra, type LuoState } from "./luo_internal.ts";
import {
	luo_do_files_cancel_calls, luo_do_files_finish_calls, luo_do_files_freeze_calls, luo_do_files_prepare_calls, luo_files_fdt_destroyed,
	luo_files_fdt_setup, luo_files_startup,
} from "./luo_files.ts";
import {
	luo_do_subsystems_cancel_calls, luo_do_subsystems_finish_calls, luo_do_subsystems_freeze_calls, luo_do_subsystems_prepare_calls,
	luo_subsystems_fdt_destroyed, luo_subsystems_fdt_setup, luo_subsystems_startup,
} from "./luo_subsystems.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** LUO_FDT_SIZE: SZ_1M. */
export const LUO_FDT_SIZE = 1 << 20;
/** LUO_KHO_ENTRY_NAME: the KHO subtree. */
export const LUO_KHO_ENTRY_NAME = "LUO";
/** LUO_COMPATIBLE. */
export const LUO_COMPATIBLE = "luo-v1";
const LUO_FDT_ORDER = get_order(LUO_FDT_SIZE);
const PR = "luo_core: ";

/** The outgoing LUO FDT: its first frame (files and subsystems hold views of its bytes). */
interface LuoFdtOut {
	readonly pfn: number;
}

const fdtOut = new WeakMap<Kernel, LuoFdtOut>();

function errnoOf(e: unknown): number {
	if (e instanceof Errno) return e.errno;
	throw e;
}

/** "Can't switch to [%s] from [%s] state". */
function cantSwitch(kernel: Kernel, to: LuoState): Errno {
	kernel.pr_warn(`${PR}Can't switch to [${luo_state_str(to)}] from [${luo_state_str(liveupdate_get_state(kernel))}] state`);
	return new Errno(EINVAL);
}

/** Runs `body` with luo_state_rwsem held for writing. */
function locked<T>(kernel: Kernel, body: () => T): T {
	const sem = luoCore(kernel).rwsem;
	sem.down_write();
	try {
		return body();
	} finally {
		sem.up_write();
	}
}

/**
 * Frees the outgoing LUO FDT; `unpreserve` first when it was preserved
 * (luo_fdt_destroy(); EBUSY inside KHO's abort is ignored, as the seed
 * ignores it: KHO has dropped all tracking by then anyway).
 */
function luo_fdt_free(kernel: Kernel, unpreserve: boolean): void {
	const out = fdtOut.get(kernel);
	if (!out) return;
	if (unpreserve) {
		try {
			kho_unpreserve_phys(kernel, PFN_PHYS(out.pfn), LUO_FDT_SIZE);
		} catch (e) {
			errnoOf(e);
		}
	}
	kernel.buddy.__free_pages(out.pfn, LUO_FDT_ORDER);
	fdtOut.delete(kernel);
	luo_files_fdt_destroyed(kernel);
	luo_subsystems_fdt_destroyed(kernel);
}

/** luo_fdt_destroy(). */
function luo_fdt_destroy(kernel: Kernel): void {
	luo_fdt_free(kernel, true);
}

/** luo_fdt_setup(): builds, preserves and hands to KHO the outgoing LUO FDT; on failure nothing is left. */
function luo_fdt_setup(kernel: Kernel, ser: KhoSerialization): void {
	const pfn = kernel.buddy.alloc_pages(LUO_FDT_ORDER);
	if (pfn === null) {
		kernel.pr_err(`${PR}failed to allocate FDT memory`);
		throw new Errno(ENOMEM);
	}
	const pm = kernel.machine.physmem;
	pm.clearPages(pfn, 1 << LUO_FDT_ORDER);
	const fdt = pm.pages(pfn, 1 << LUO_FDT_ORDER);
	fdtOut.set(kernel, { pfn });
	let preserved = false;
	try {
		const ret = fdt_create_empty_tree(fdt, LUO_FDT_SIZE) || fdt_setprop_string(fdt, 0, "compatible", LUO_COMPATIBLE);
		if (ret) throw new Errno(-ret);
		luo_files_fdt_setup(kernel, fdt);
		luo_subsystems_fdt_setup(kernel, fdt);
		kho_preserve_phys(kernel, PFN_PHYS(pfn), LUO_FDT_SIZE);
		preserved = true;
		kho_add_subtree(ser, LUO_KHO_ENTRY_NAME, PFN_PHYS(pfn));
	} catch (e) {
		const err = errnoOf(e);
		luo_fdt_free(kernel, preserved);
		kernel.pr_err(`${PR}failed to prepare LUO FDT: ${-err}`);
		throw e;
	}
}

/** luo_do_prepare_calls(): files, then subsystems; a subsystem failure cancels the files. */
function luo_do_prepare_calls(kernel: Kernel): void {
	luo_do_files_prepare_calls(kernel);
	try {
		luo_do_subsystems_prepare_calls(kernel);
	} catch (e) {
		luo_do_files_cancel_calls(kernel);
		throw e;
	}
}

/** luo_do_cancel_calls(): files, then subsystems. */
function luo_do_cancel_calls(kernel: Kernel): void {
	luo_do_files_cancel_calls(kernel);
	luo_do_subsystems_cancel_calls(kernel);
}

/**
 * __luo_prepare() (the KHO FINALIZE notifier): EINVAL unless NORMAL; builds
 * the LUO FDT and runs the prepare calls; PREPARED on success. A failure
 * undoes everything it did (C2) and is thrown.
 */
function __luo_prepare(kernel: Kernel, ser: KhoSerialization): void {
	locked(kernel, () => {
		if (liveupdate_get_state(kernel) !== "normal") throw cantSwitch(kernel, "prepared");
		luo_fdt_setup(kernel, ser);
		try {
			luo_do_prepare_calls(kernel);
		} catch (e) {
			luo_fdt_destroy(kernel);
			throw e;
		}
		luo_set_state(kernel, "prepared");
	});
}

/** __luo_cancel() (the KHO ABORT notifier): EINVAL unless PREPARED or FROZEN; cancel calls, FDT freed, NORMAL. */
function __luo_cancel(kernel: Kernel): void {
	locked(kernel, () => {
		const s = liveupdate_get_state(kernel);
		if (s !== "prepared" && s !== "frozen") throw cantSwitch(kernel, "normal");
		luo_do_cancel_calls(kernel);
		luo_fdt_destroy(kernel);
		luo_set_state(kernel, "normal");
	});
}

/** luo_kho_notifier(): FINALIZE → __luo_prepare, ABORT → __luo_cancel, as notifier_from_errno. */
function luo_kho_notifier(kernel: Kernel): KhoNotifierBlock {
	return {
		notifier_call: (_nb, cmd, data): number => {
			try {
				if (cmd === KEXEC_KHO_FINALIZE && data) __luo_prepare(kernel, data);
				else if (cmd === KEXEC_KHO_ABORT) __luo_cancel(kernel);
				else return NOTIFY_BAD;
			} catch (e) {
				return notifier_from_errno(-errnoOf(e));
			}
			return notifier_from_errno(0);
		},
	};
}

/** luo_prepare(): kho_finalize(); throws its error (EEXIST when already prepared, EOPNOTSUPP without KHO). */
export function luo_prepare(kernel: Kernel): void {
	kho_finalize(kernel);
}

/** luo_cancel(): kho_abort(); throws its error (ENOENT when KHO is not finalized: NORMAL or UPDATED). */
export function luo_cancel(kernel: Kernel): void {
	kho_abort(kernel);
}

/**
 * luo_freeze(): PREPARED → FROZEN through the freeze calls; EINVAL from any
 * other state. When a freeze call fails, every participant is cancelled,
 * KHO is aborted and LUO is NORMAL again (luosim's C7 choice); its error is
 * thrown.
 */
export function luo_freeze(kernel: Kernel): void {
	let failure: unknown = null;
	locked(kernel, () => {
		if (liveupdate_get_state(kernel) !== "prepared") throw cantSwitch(kernel, "frozen");
		try {
			luo_do_files_freeze_calls(kernel);
			luo_do_subsystems_freeze_calls(kernel);
			luo_set_state(kernel, "frozen");
		} catch (e) {
			errnoOf(e);
			failure = e;
		}
	});
	if (failure === null) return;
	// KHO's ABORT notifier runs __luo_cancel: every participant's cancel, the FDT freed, NORMAL.
	try {
		kho_abort(kernel);
	} catch (e) {
		kernel.pr_err(`${PR}failed to abort KHO after a failed freeze: ${-errnoOf(e)}`);
	}
	throw failure;
}

/** luo_finish(): UPDATED → NORMAL through the finish calls (files, then subsystems); EINVAL from any other state. */
export function luo_finish(kernel: Kernel): void {
	locked(kernel, () => {
		if (liveupdate_get_state(kernel) !== "updated") throw cantSwitch(kernel, "normal");
		luo_do_files_finish_calls(kernel);
		luo_do_subsystems_finish_calls(kernel);
		luo_set_state(kernel, "normal");
	});
}

/**
 * liveupdate_reboot(): reboot(LINUX_REBOOT_CMD_KEXEC) freezes a PREPARED
 * LUO (0 in any other state); a failed freeze is its -errno, which fails
 * the reboot.
 */
function liveupdate_reboot_rfc(kernel: Kernel): number {
	if (liveupdate_get_state(kernel) !== "prepared") return 0;
	try {
		luo_freeze(kernel);
		return 0;
	} catch (e) {
		return -errnoOf(e);
	}
}

/**
 * luo_startup() (an early_initcall in the seed; the first of LUO's late
 * initcalls here): with LUO and KHO on, registers the KHO notifier and the
 * reboot hook and takes the incoming LUO FDT if there is one (UPDATED) or
 * starts NORMAL. Returns 0 at once on a mainline kernel.
 */
export function luo_startup(kernel: Kernel): number {
	if (!luoSeedEra(kernel) || !kernel.config.LIVEUPDATE) return 0;
	// liveupdate_enabled() is false when KHO is off, with the seed's warning (luo_startup's first check).
	if (!liveupdate_enabled(kernel)) return 0;
	try {
		register_kho_notifier(kernel, luo_kho_notifier(kernel));
	} catch (e) {
		liveupdate_disable(kernel);
		kernel.pr_warn(`${PR}Failed to register with KHO [${-errnoOf(e)}]`);
		return 0;
	}
	registerLiveupdateReboot(kernel, liveupdate_reboot_rfc);
	let phys: number;
	try {
		phys = kho_retrieve_subtree(kernel, LUO_KHO_ENTRY_NAME);
	} catch (e) {
		const err = errnoOf(e);
		if (err !== ENOENT) kernel.panic(`failed to retrieve FDT '${LUO_KHO_ENTRY_NAME}' from KHO: ${-err}`);
		__luo_set_state(kernel, "normal");
		return 0;
	}
	const fdt = khoReadFdt(kernel, phys);
	const ret = fdt_node_check_compatible(fdt, 0, LUO_COMPATIBLE);
	if (ret) kernel.panic(`FDT '${LUO_KHO_ENTRY_NAME}' is incompatible with '${LUO_COMPATIBLE}' [${ret}]`);
	__luo_set_state(kernel, "updated");
	luo_files_startup(kernel, fdt);
	luo_subsystems_startup(kernel, fdt);
	return 0;
}

/** Whether LUO runs in `kernel` (started and not disabled): what gates /dev/liveupdate (C4). */
export function luo_running(kernel: Kernel): boolean {
	return luoSeedEra(kernel) && liveupdate_enabled(kernel) && liveupdate_get_state(kernel) !== "undefined";
}

/** The outgoing LUO FDT's physical address while one exists (PREPARED/FROZEN), else null. */
export function luo_fdt_out_phys(kernel: Kernel): number | null {
	const out = fdtOut.get(kernel);
	return out ? PFN_PHYS(out.pfn) : null;
}
