/**
 * What every LUO generation shares (include/linux/liveupdate.h and the
 * top of luo_core.c: drivers/misc/liveupdate/luo_core.c in seed 000,
 * kernel/liveupdate/luo_core.c in seed 001 and mainline):
 *
 * - `liveupdate_enabled(kernel)`: the `liveupdate=` early_param (kstrtobool,
 *   default off), forced off with the kernel's warning when KHO is disabled,
 *   as luo_startup()/luo_early_startup() do;
 * - `liveupdate_reboot(kernel)`: the call reboot(LINUX_REBOOT_CMD_KEXEC)
 *   makes before the kexec (seed 000 patch 12 "reboot: call
 *   liveupdate_reboot() before kexec"); each generation's core registers
 *   its own body with `registerLiveupdateReboot`.
 *
 * Per-kernel state lives in WeakMaps here, as everywhere in luosim.
 */
import { Errno, EINVAL } from "../kernel/errno.ts";
import { kstrtobool } from "../kernel/kstrtox.ts";
import { kho_is_enabled } from "../kho/kho.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** The body of liveupdate_reboot() for one kernel: 0 or -errno. */
export type LiveupdateRebootFn = (kernel: Kernel) => number;

const enabled = new WeakMap<Kernel, boolean>();
const rebootHooks = new WeakMap<Kernel, LiveupdateRebootFn>();

/**
 * pr_fmt of luo_core.c is KBUILD_MODNAME ": ". The seed builds luo_core.o
 * as its own object ("luo_core"); mainline links luo-y into luo.o ("luo").
 */
export function luoPrefix(kernel: Kernel): string {
	return kernel.abi === "mainline" ? "luo: " : "luo_core: ";
}

/**
 * early_param("liveupdate", early_liveupdate_param): each `liveupdate=` in
 * order through kstrtobool; a value it refuses (or a bare `liveupdate`,
 * which hands the handler NULL) keeps the previous one and prints the
 * kernel's "Malformed early option" line.
 */
function early_liveupdate_param(kernel: Kernel): boolean {
	let on = false;
	for (const p of kernel.cmdline.params) {
		if (p.key !== "liveupdate") continue;
		try {
			if (p.value === null) throw new Errno(EINVAL);
			on = kstrtobool(p.value);
		} catch (e) {
			if (!(e instanceof Errno)) throw e;
			kernel.pr_warn("Malformed early option 'liveupdate'");
		}
	}
	return on;
}

/**
 * liveupdate_enabled(): LUO is configured, `liveupdate=` said yes, and KHO
 * is enabled. Decided once per kernel, the first time anything asks (LUO's
 * own startup does, at boot): when KHO is off, LUO is switched off with
 * "Disabling liveupdate because KHO is disabled", which luo_startup()
 * prints only if `liveupdate=` had asked for it.
 */
export function liveupdate_enabled(kernel: Kernel): boolean {
	let on = enabled.get(kernel);
	if (on !== undefined) return on;
	on = kernel.config.LIVEUPDATE && early_liveupdate_param(kernel);
	if (!kho_is_enabled(kernel)) {
		if (on) kernel.pr_warn(`${luoPrefix(kernel)}Disabling liveupdate because KHO is disabled`);
		on = false;
	}
	enabled.set(kernel, on);
	return on;
}

/**
 * Switches LUO off for good in this kernel: what luo_startup() does when it
 * cannot register with KHO (review C4: then nothing of LUO may appear).
 */
export function liveupdate_disable(kernel: Kernel): void {
	liveupdate_enabled(kernel);
	enabled.set(kernel, false);
}

/**
 * Installs the generation's liveupdate_reboot() body for `kernel` (one per
 * kernel; a second one replaces the first, as only one LUO core runs).
 */
export function registerLiveupdateReboot(kernel: Kernel, fn: LiveupdateRebootFn): void {
	rebootHooks.set(kernel, fn);
}

/**
 * liveupdate_reboot(): called by kernel_kexec() before the reboot notifiers;
 * 0 lets the kexec go on, -errno aborts it and reboot(2) returns the error.
 * 0 when no LUO core registered a body (LUO off or not built).
 */
export function liveupdate_reboot(kernel: Kernel): number {
	const fn = rebootHooks.get(kernel);
	return fn ? fn(kernel) : 0;
}
