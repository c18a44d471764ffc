/**
 * /sys/kernel/liveupdate/state (drivers/misc/liveupdate/luo_sysfs.c, seed
 * 000 patch 11; CONFIG_LIVEUPDATE_SYSFS_API, on with CONFIG_LIVEUPDATE in
 * luosim): a 0444 attribute printing the state name and a newline
 * (`normal`, `prepared`, `frozen`, `updated`), with sysfs_notify() on every
 * transition so that a poller sees POLLPRI.
 *
 * As in the seed, the file exists whenever LUO is built, even when
 * `liveupdate=off` (or KHO off) keeps LUO from starting (review C4 only
 * removes /dev/liveupdate); then it shows `undefined`, the C1 state a kernel
 * is in before LUO starts.
 */
import { Errno } from "../../kernel/errno.ts";
import { kernelKobj, kobjAttrRO, sysfsCreateGroup, sysfsNotify } from "../../fs/sysfs.ts";
import { liveupdate_get_state, luo_state_str, luoCore, luoSeedEra } from "./luo_internal.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** LUO_DIR_NAME: the group's directory under /sys/kernel. */
export const LUO_DIR_NAME = "liveupdate";

/**
 * luo_init() (a subsys_initcall in the seed; after luo_startup here too):
 * creates the group and from then on notifies pollers of each transition.
 * 0 at once on a mainline kernel or without CONFIG_LIVEUPDATE.
 */
export function luo_sysfs_init(kernel: Kernel): number {
	if (!luoSeedEra(kernel) || !kernel.config.LIVEUPDATE) return 0;
	const kobj = kernelKobj(kernel);
	try {
		sysfsCreateGroup(kobj, {
			name: LUO_DIR_NAME,
			attrs: [kobjAttrRO("state", () => `${luo_state_str(liveupdate_get_state(kernel))}\n`)],
		});
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		kernel.pr_err("Failed to create group");
		return -e.errno;
	}
	luoCore(kernel).sysfsNotify = (): void => sysfsNotify(kobj, LUO_DIR_NAME, "state");
	// luo_sysfs.c has no pr_fmt: the line is bare.
	kernel.pr_info("Initialized");
	return 0;
}
