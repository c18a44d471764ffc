/**
 * The seed-era LUO's shared state (drivers/misc/liveupdate/luo_internal.h
 * and the state half of luo_core.c in seed 000): the global
 * `luo_state`, `luo_state_rwsem`, the state names, and the hook that
 * luo_sysfs uses to be told about transitions. Per kernel, in a WeakMap.
 *
 * The state includes UNDEFINED (review C1): it is what a kernel reports
 * until luo_startup() has run, so a new kernel goes UNDEFINED → UPDATED and
 * never shows "normal" on the way.
 *
 * luo_state_rwsem: luosim runs kernel code to completion and no LUO path
 * sleeps while holding it, so it is never contended and the seed's
 * `down_write_killable()` failure (EAGAIN, "event canceled by user") cannot
 * occur. Taking it while it is held can only be a path re-entering LUO
 * under the lock (a participant's callback calling back into LUO), which
 * deadlocks in Linux; here it throws a JS Error, like KHO's kho_out.lock.
 */
import type { Kernel } from "../../kernel/kernel.ts";

/** enum liveupdate_state, by name (each generation's uAPI numbers them its own way). */
export type LuoState = "undefined" | "normal" | "prepared" | "frozen" | "updated";

/** luo_state_str[] (with the C1 fix's "undefined"): what sysfs prints. */
export function luo_state_str(state: LuoState): string {
	return state;
}

/** luo_state_rwsem: counts readers and one writer; contention is a deadlock here (see above). */
export class LuoRwsem {
	private readers = 0;
	private writer = false;

	/** down_read(). */
	down_read(): void {
		if (this.writer) throw new Error("luo_state_rwsem: down_read while write-held: deadlock (LUO re-entered from a callback?)");
		this.readers++;
	}

	/** up_read(). */
	up_read(): void {
		this.readers--;
	}

	/** down_write_killable(): uncontended in luosim, so it always succeeds or is a deadlock. */
	down_write(): void {
		if (this.writer || this.readers > 0) throw new Error("luo_state_rwsem: down_write while held: deadlock (LUO re-entered from a callback?)");
		this.writer = true;
	}

	/** up_write(). */
	up_write(): void {
		this.writer = false;
	}
}

/** One kernel's LUO core state. */
export interface LuoCoreState {
	state: LuoState;
	readonly rwsem: LuoRwsem;
	/** luo_sysfs_notify(), once luo_sysfs has initialized (luo_sysfs_initialized). */
	sysfsNotify: (() => void) | null;
}

const states = new WeakMap<Kernel, LuoCoreState>();

/** The LUO state of `kernel` (UNDEFINED until luo_startup runs). */
export function luoCore(kernel: Kernel): LuoCoreState {
	let st = states.get(kernel);
	if (!st) {
		st = { state: "undefined", rwsem: new LuoRwsem(), sysfsNotify: null };
		states.set(kernel, st);
	}
	return st;
}

/** READ_ONCE(luo_state): liveupdate_get_state(). */
export function liveupdate_get_state(kernel: Kernel): LuoState {
	return luoCore(kernel).state;
}

/** __luo_set_state(): sets the state and notifies sysfs pollers, without a log line. */
export function __luo_set_state(kernel: Kernel, state: LuoState): void {
	const st = luoCore(kernel);
	st.state = state;
	st.sysfsNotify?.();
}

/** luo_set_state(): "Switched from [%s] to [%s] state", then __luo_set_state(). */
export function luo_set_state(kernel: Kernel, state: LuoState): void {
	kernel.pr_info(`luo_core: Switched from [${luo_state_str(liveupdate_get_state(kernel))}] to [${luo_state_str(state)}] state`);
	__luo_set_state(kernel, state);
}

/** liveupdate_state_normal(). */
export function liveupdate_state_normal(kernel: Kernel): boolean {
	return liveupdate_get_state(kernel) === "normal";
}

/** liveupdate_state_updated(). */
export function liveupdate_state_updated(kernel: Kernel): boolean {
	return liveupdate_get_state(kernel) === "updated";
}

/** luo_state_read_enter(): down_read(&luo_state_rwsem). */
export function luo_state_read_enter(kernel: Kernel): void {
	luoCore(kernel).rwsem.down_read();
}

/** luo_state_read_exit(): up_read(&luo_state_rwsem). */
export function luo_state_read_exit(kernel: Kernel): void {
	luoCore(kernel).rwsem.up_read();
}

/** True on a kernel of the seed era (rfc-v2, v2), where this LUO runs. */
export function luoSeedEra(kernel: Kernel): boolean {
	return kernel.abi === "rfc-v2" || kernel.abi === "v2";
}
