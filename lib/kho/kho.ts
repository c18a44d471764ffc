/**
 * Kexec HandOver as of the LUO RFC v2 seed (include/linux/kexec_handover.h,
 * kernel/kexec_handover.c at v6.16 with seed patches 01-03): the public
 * API in one import, and the boot-time hook that brings KHO up in a kernel.
 *
 * Every function takes the kernel first (Linux has one global KHO; luosim
 * has one per booted Kernel). With CONFIG_KEXEC_HANDOVER off, the int
 * functions fail with EOPNOTSUPP, kho_restore_folio() returns null and
 * kho_is_enabled() false, as the header's stubs do. With the config on but
 * `kho=` not set (the default), memory can still be tracked but
 * kho_finalize()/kho_abort() are EOPNOTSUPP and there is no debugfs tree.
 *
 * See docs/kho.md for the model and where it departs from Linux.
 */
import type { Kernel } from "../kernel/kernel.ts";
import { Errno } from "../kernel/errno.ts";
import { kstrtobool } from "../kernel/kstrtox.ts";
import { folio_put } from "../mm/folio.ts";
import { kho_debugfs_init, kho_in_debugfs_init, kho_out_debugfs_init } from "./kho_debugfs.ts";
import { kho_finalize_fops, kho_out_alloc_fdt } from "./kho_out.ts";
import { khoPopulate } from "./kho_in.ts";
import { kho_parse_scratch_size, kho_reserve_scratch, kho_scratch_default_params, kho_scratch_release, type KhoScratch, type KhoScratchParams } from "./kho_scratch.ts";
import { khoState } from "./kho_state.ts";
import { khoPopulateMainline } from "./mainline/kho_in.ts";
import { kho_init_mainline } from "./mainline/kho_init.ts";

export {
	KEXEC_KHO_ABORT,
	KEXEC_KHO_FINALIZE,
	kho_abort,
	kho_add_subtree,
	kho_finalize,
	kho_preserve_folio,
	kho_preserve_phys,
	kho_unpreserve_folio,
	kho_unpreserve_phys,
	register_kho_notifier,
	unregister_kho_notifier,
	type KhoNotifierBlock,
} from "./kho_out.ts";
export { khoPopulate, kho_restore_folio, kho_retrieve_subtree, kho_in_fdt_phys } from "./kho_in.ts";
export { khoHandoverAddress, SETUP_KEXEC_KHO } from "./kho_handover.ts";
export { KHO_FDT_COMPATIBLE, PROP_PRESERVED_MEMORY_MAP, PROP_SUB_FDT, KhoSerialization } from "./kho_state.ts";
export type { KhoScratch } from "./kho_scratch.ts";
export { NOTIFY_BAD, NOTIFY_DONE, NOTIFY_OK, NOTIFY_STOP, NOTIFY_STOP_MASK, notifier_from_errno, notifier_to_errno } from "./notifier.ts";

/** The first 1 MiB: never handed out on x86 (setup_arch reserves it). */
const X86_RESERVED_LOW_BYTES = 1024 * 1024;

/**
 * kho_is_enabled(): KHO is configured, enabled (`kho=`, default
 * CONFIG_KEXEC_HANDOVER_ENABLE_DEFAULT) and its boot-time setup worked.
 * One answer for both eras: the flag lives in the shared state.
 */
export function kho_is_enabled(kernel: Kernel): boolean {
	return kernel.config.KEXEC_HANDOVER && khoState(kernel).enable;
}

/** The scratch areas (kho_scratch[]): where kexec must load the next kernel's segments. */
export function khoScratchAreas(kernel: Kernel): readonly KhoScratch[] {
	return khoState(kernel).scratch.map((a) => ({ ...a }));
}

/** Whether KHO is finalized now (kho_out.finalized, what out/finalize reads). */
export function kho_is_finalized(kernel: Kernel): boolean {
	return khoState(kernel).out.finalized;
}

/**
 * The part of x86 setup_arch() KHO depends on: the first 1 MiB is
 * reserved, so no page the kernel hands out has physical address 0, which
 * KHO's serialized pointers use for NULL (KHOSER_LOAD_PTR, kho_get_fdt).
 */
function x86_reserve_low_memory(kernel: Kernel): void {
	const buddy = kernel.buddy;
	const end = Math.min(X86_RESERVED_LOW_BYTES / 4096, buddy.nr_pages);
	for (let p = 0; p < end; p++) if (buddy.page_is_free(p)) buddy.reserve(p, 1);
}

/**
 * early_param(): the handler runs for each `name=` in order (a later good
 * value wins); one that fails prints the kernel's "Malformed early option".
 */
function earlyParam(kernel: Kernel, name: string, handler: (val: string | null) => void): void {
	for (const p of kernel.cmdline.params) {
		if (p.key !== name) continue;
		try {
			handler(p.value);
		} catch (e) {
			if (!(e instanceof Errno)) throw e;
			kernel.pr_warn(`Malformed early option '${name}'`);
		}
	}
}

/**
 * kho_init() (late_initcall): the root FDT page and the debugfs tree (in/
 * only on a KHO boot). A failure gives the scratch areas back and disables
 * KHO, as in Linux.
 */
function kho_init(kernel: Kernel): void {
	const st = khoState(kernel);
	if (!st.enable) return;
	const fdt = kho_out_alloc_fdt(kernel);
	let ok = fdt !== null;
	if (ok) {
		st.out.ser.fdt = fdt;
		ok = kho_debugfs_init(kernel) === 0 && kho_out_debugfs_init(kernel, kho_finalize_fops(kernel)) === 0;
		if (!ok) {
			folio_put(fdt!);
			st.out.ser.fdt = null;
		}
	}
	if (!ok) {
		for (const a of st.scratch) kho_scratch_release(kernel.buddy, a);
		st.enable = false;
		return;
	}
	if (st.in.fdtPhys) kho_in_debugfs_init(kernel, st.in.fdtPhys);
}

/**
 * Brings KHO up in a freshly constructed kernel, before anything allocates
 * (early_param parsing, kho_populate, kho_memory_init, kho_init, in boot
 * order). `handoverPhys` is the setup_data address the previous kernel's
 * khoHandoverAddress() gave the kexec code, or null on a cold boot or a
 * kexec without KHO. With an address it reads the handover from physical
 * memory, reserves what was preserved and poisons the rest (khoPopulate);
 * a first boot with `kho=on` reserves fresh scratch areas instead. Also
 * reserves the first 1 MiB, as x86 does. Called once per kernel.
 *
 * The era follows `kernel.abi`: "mainline" reads and builds mainline KHO
 * (lib/kho/mainline/: radix map, "kho-v4" root FDT, no finalize); the
 * seed generations ("rfc-v2", "v2") the finalize-era KHO of this file.
 * `kho=` defaults to CONFIG_KEXEC_HANDOVER_ENABLE_DEFAULT in both.
 */
export function khoInit(kernel: Kernel, handoverPhys: number | null): void {
	const st = khoState(kernel);
	if (st.booted) throw new Error("khoInit: KHO is already initialized in this kernel");
	st.booted = true;
	x86_reserve_low_memory(kernel);
	const params: KhoScratchParams = kho_scratch_default_params();
	const mainline = kernel.abi === "mainline";
	if (kernel.config.KEXEC_HANDOVER) {
		st.enable = kernel.config.KEXEC_HANDOVER_ENABLE_DEFAULT;
		earlyParam(kernel, "kho", (v) => {
			st.enable = kstrtobool(v ?? "");
		});
		earlyParam(kernel, "kho_scratch", (v) => kho_parse_scratch_size(kernel, v, params));
	}
	if (handoverPhys !== null) (mainline ? khoPopulateMainline : khoPopulate)(kernel, handoverPhys);
	if (!kernel.config.KEXEC_HANDOVER) return;
	if (!st.in.scratchPhys && st.enable) {
		const areas = kho_reserve_scratch(kernel.buddy, params);
		if (areas) st.scratch = areas;
		else st.enable = false;
	}
	if (mainline) kho_init_mainline(kernel);
	else kho_init(kernel);
}
