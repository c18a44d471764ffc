/**
 * Built-in initcalls (init/main.c do_initcalls, include/linux/init.h): the
 * code that Linux links into the kernel and runs once per boot after the
 * core is up. luosim's boot (the Kernel constructor) calls do_initcalls()
 * last, when filesystems, KHO and /boot/vmlinuz are in place, which is
 * where late_initcall()s run.
 *
 * This is the registration point for built-in modules: add an entry to
 * `lateInitcalls` (link order is list order).
 */
import type { Kernel } from "./kernel.ts";
import { kho_test_init } from "../test_kho/test_kho.ts";
import { kho_test_init_mainline } from "../test_kho/test_kho_mainline.ts";
import { luo_startup } from "../liveupdate/rfc/luo_core.ts";
import { luo_sysfs_init } from "../liveupdate/rfc/luo_sysfs.ts";
import { liveupdate_init } from "../liveupdate/rfc/luo_ioctl.ts";
import { memfd_luo_init } from "../mm/memfd_luo.ts";
import { liveupdate_early_init, liveupdate_ioctl_init, luo_late_startup } from "../liveupdate/mainline/luo_core.ts";
import { memfd_luo_v1_init } from "../liveupdate/rfc/memfd_luo.ts";

/** One initcall: its function name (as System.map has it) and body, returning 0 or -errno. */
export interface Initcall {
	readonly name: string;
	readonly fn: (kernel: Kernel) => number;
}

/** The late initcalls, in link order. */
export const lateInitcalls: readonly Initcall[] = [
	// lib/test_kho.c: module_init of a built-in module; it runs after KHO is up.
	{ name: "kho_test_init", fn: kho_test_init },
	// lib/test_kho.c of mainline (KHO without finalize): the same module for the mainline generation.
	{ name: "kho_test_init_mainline", fn: kho_test_init_mainline },
	// drivers/misc/liveupdate (seed era): luo_startup (an early_initcall there), luo_sysfs's luo_init, then the device.
	{ name: "luo_startup", fn: luo_startup },
	{ name: "luo_init", fn: luo_sysfs_init },
	{ name: "liveupdate_init", fn: liveupdate_init },
	// luosim's seed-era memfd handler (memfd-v1): a file handler, after the LUO core (rfc-v2, v2 only).
	{ name: "memfd_luo_v1_init", fn: memfd_luo_v1_init },
	// kernel/liveupdate/luo_core.c (mainline only): its early_initcall reads the previous kernel's
	// LUO state first; then the outgoing state and /dev/liveupdate, before any file handler.
	{ name: "liveupdate_early_init", fn: liveupdate_early_init },
	{ name: "luo_late_startup", fn: luo_late_startup },
	{ name: "liveupdate_ioctl_init", fn: liveupdate_ioctl_init },
	// mm/memfd_luo.c: late_initcall, a file handler, so after the LUO core (mainline only).
	{ name: "memfd_luo_init", fn: memfd_luo_init },
];

/**
 * do_initcalls(): runs every initcall once. A returned error is dropped, as
 * do_one_initcall() drops it (only initcall_debug, not modelled, prints it).
 */
export function do_initcalls(kernel: Kernel): void {
	for (const call of lateInitcalls) call.fn(kernel);
}
