/**
 * LUO subsystems of the seed era (drivers/misc/liveupdate/luo_subsystems.c,
 * seed 000 patches 06 and 07): kernel subsystems that register to take
 * part in a live update with prepare/freeze/cancel/finish callbacks and
 * one u64 each, carried to the next kernel as a property of the LUO FDT's
 * `/subsystems` node ("subsystems-v1"), named after the subsystem.
 *
 * As in the seed, FINISH reads every registered subsystem's data from the
 * incoming FDT first and panics for one that the old kernel did not have.
 * luosim differs only for freeze: a failing freeze cancels nothing here,
 * because luo_core rolls back every participant (review C7).
 */
import { Errno, EBUSY, EEXIST, ENOENT, ENOSPC } from "../../kernel/errno.ts";
import { cpu_to_le64, fdt_add_subnode, fdt_getprop, fdt_node_check_compatible, fdt_setprop, fdt_setprop_string, fdt_strerror, fdt_subnode_offset, le64_ld } from "../../fdt/libfdt.ts";
import { liveupdate_state_normal, liveupdate_state_updated, luo_state_read_enter, luo_state_read_exit } from "./luo_internal.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** struct liveupdate_subsystem: `name` is unique; the callbacks are optional and get `arg`. */
export interface LiveupdateSubsystem {
	readonly name: string;
	readonly arg?: unknown;
	/** Returns the u64 for the next kernel (`data` is its current value); throws Errno. */
	prepare?(kernel: Kernel, arg: unknown, data: bigint): bigint;
	/** Returns the new u64; throws Errno. */
	freeze?(kernel: Kernel, arg: unknown, data: bigint): bigint;
	cancel?(kernel: Kernel, arg: unknown, data: bigint): void;
	/** In the new kernel at FINISH, with the data the old kernel handed over. */
	finish?(kernel: Kernel, arg: unknown, data: bigint): void;
}

const LUO_SUBSYSTEMS_NODE_NAME = "subsystems";
const LUO_SUBSYSTEMS_COMPATIBLE = "subsystems-v1";
const PR = "luo_subsystems: ";

/** A registered subsystem and its `private_data` (the struct's field in the seed). */
interface Entry {
	readonly h: LiveupdateSubsystem;
	private_data: bigint;
}

interface SubsystemsState {
	list: Entry[];
	fdtOut: Uint8Array | null;
	fdtIn: Uint8Array | null;
}

const states = new WeakMap<Kernel, SubsystemsState>();

function subsystems(kernel: Kernel): SubsystemsState {
	let st = states.get(kernel);
	if (!st) {
		st = { list: [], fdtOut: null, fdtIn: null };
		states.set(kernel, st);
	}
	return st;
}

/** Runs `body` under the read lock when LUO is NORMAL or UPDATED, else EBUSY. */
function whenNormalOrUpdated(kernel: Kernel, body: (st: SubsystemsState) => void): void {
	luo_state_read_enter(kernel);
	try {
		if (!liveupdate_state_normal(kernel) && !liveupdate_state_updated(kernel)) throw new Errno(EBUSY);
		body(subsystems(kernel));
	} finally {
		luo_state_read_exit(kernel);
	}
}

/**
 * liveupdate_register_subsystem(): EBUSY outside NORMAL/UPDATED, EEXIST for
 * the same object or another with the same name.
 */
export function liveupdate_register_subsystem(kernel: Kernel, h: LiveupdateSubsystem): void {
	whenNormalOrUpdated(kernel, (st) => {
		for (const e of st.list) {
			if (e.h === h) {
				kernel.pr_warn(`${PR}Subsystem '${h.name}' already registered.`);
				throw new Errno(EEXIST);
			}
			if (e.h.name === h.name) {
				kernel.pr_err(`${PR}Subsystem with name '${h.name}' already registered.`);
				throw new Errno(EEXIST);
			}
		}
		st.list.push({ h, private_data: 0n });
	});
}

/** liveupdate_unregister_subsystem(): EBUSY outside NORMAL/UPDATED, ENOENT when `h` is not registered. */
export function liveupdate_unregister_subsystem(kernel: Kernel, h: LiveupdateSubsystem): void {
	whenNormalOrUpdated(kernel, (st) => {
		const i = st.list.findIndex((e) => e.h === h);
		if (i < 0) {
			kernel.pr_warn(`${PR}Subsystem handler '${h.name}' not found for unregistration.`);
			throw new Errno(ENOENT);
		}
		st.list.splice(i, 1);
	});
}

/**
 * liveupdate_get_subsystem_data(): in the new kernel while UPDATED, the u64
 * the old kernel handed over for `h.name`; ENOENT otherwise (normal boot,
 * not UPDATED, no such property, or one that is not 8 bytes).
 */
export function liveupdate_get_subsystem_data(kernel: Kernel, h: LiveupdateSubsystem): bigint {
	const fdt = subsystems(kernel).fdtIn;
	if (!fdt || !liveupdate_state_updated(kernel)) throw new Errno(ENOENT);
	const len = [0];
	const prop = fdt_getprop(fdt, fdt_subnode_offset(fdt, 0, LUO_SUBSYSTEMS_NODE_NAME), h.name, len);
	if (!prop || len[0] !== 8) throw new Errno(ENOENT);
	return le64_ld(prop);
}

/** luo_subsystems_fdt_setup(): the `/subsystems` node with a 0 for each subsystem; ENOSPC on a libfdt failure. */
export function luo_subsystems_fdt_setup(kernel: Kernel, fdt: Uint8Array): void {
	const st = subsystems(kernel);
	let ret = fdt_add_subnode(fdt, 0, LUO_SUBSYSTEMS_NODE_NAME);
	const node = ret;
	if (ret >= 0) ret = fdt_setprop_string(fdt, node, "compatible", LUO_SUBSYSTEMS_COMPATIBLE);
	for (const e of st.list) {
		if (ret < 0) break;
		ret = fdt_setprop(fdt, node, e.h.name, cpu_to_le64(0n));
	}
	if (ret < 0) {
		kernel.pr_err(`${PR}Failed to setup 'subsystems' node to FDT: ${fdt_strerror(ret)}`);
		throw new Errno(ENOSPC);
	}
	st.fdtOut = fdt;
}

/** luo_subsystems_startup(): the incoming `/subsystems` node must exist with its compatible, else panic. */
export function luo_subsystems_startup(kernel: Kernel, fdt: Uint8Array): void {
	const node = fdt_subnode_offset(fdt, 0, LUO_SUBSYSTEMS_NODE_NAME);
	if (node < 0) kernel.panic("Failed to find /subsystems node");
	const ret = fdt_node_check_compatible(fdt, node, LUO_SUBSYSTEMS_COMPATIBLE);
	if (ret) kernel.panic(`FDT '${LUO_SUBSYSTEMS_NODE_NAME}' is incompatible with '${LUO_SUBSYSTEMS_COMPATIBLE}' [${ret}]`);
	subsystems(kernel).fdtIn = fdt;
}

/** __luo_do_subsystems_cancel_calls(boundary): cancel for each subsystem before `boundary` (all when null). */
function cancelCalls(kernel: Kernel, st: SubsystemsState, boundary: Entry | null): void {
	for (const e of st.list) {
		if (e === boundary) break;
		e.h.cancel?.(kernel, e.h.arg, e.private_data);
		e.private_data = 0n;
	}
}

/** luo_subsystems_commit_data_to_fdt(): ENOENT when a property cannot be written (the seed's errno). */
function commitDataToFdt(kernel: Kernel, st: SubsystemsState): void {
	const fdt = st.fdtOut!;
	const node = fdt_subnode_offset(fdt, 0, LUO_SUBSYSTEMS_NODE_NAME);
	for (const e of st.list) {
		const ret = fdt_setprop(fdt, node, e.h.name, cpu_to_le64(e.private_data));
		if (ret < 0) {
			kernel.pr_err(`${PR}Failed to set FDT property for subsystem '${e.h.name}' ${fdt_strerror(ret)}`);
			throw new Errno(ENOENT);
		}
	}
}

/**
 * luo_do_subsystems_prepare_calls(): prepare for each subsystem in
 * registration order, then the data into the FDT. A failing prepare
 * cancels the ones before it; a failed FDT write cancels them all.
 */
export function luo_do_subsystems_prepare_calls(kernel: Kernel): void {
	const st = subsystems(kernel);
	for (const e of st.list) {
		if (!e.h.prepare) continue;
		try {
			e.private_data = e.h.prepare(kernel, e.h.arg, e.private_data);
		} catch (err) {
			if (!(err instanceof Errno)) throw err;
			kernel.pr_err(`${PR}Subsystem '${e.h.name}' prepare callback failed [${-err.errno}]`);
			cancelCalls(kernel, st, e);
			throw err;
		}
	}
	try {
		commitDataToFdt(kernel, st);
	} catch (err) {
		cancelCalls(kernel, st, null);
		throw err;
	}
}

/** luo_do_subsystems_freeze_calls(): freeze for each subsystem, then the data into the FDT; the first error is thrown. */
export function luo_do_subsystems_freeze_calls(kernel: Kernel): void {
	const st = subsystems(kernel);
	for (const e of st.list) {
		if (!e.h.freeze) continue;
		try {
			e.private_data = e.h.freeze(kernel, e.h.arg, e.private_data);
		} catch (err) {
			if (err instanceof Errno) kernel.pr_err(`${PR}Subsystem '${e.h.name}' freeze callback failed [${-err.errno}]`);
			throw err;
		}
	}
	commitDataToFdt(kernel, st);
}

/** luo_do_subsystems_cancel_calls(): cancel for every subsystem, data written back as 0. */
export function luo_do_subsystems_cancel_calls(kernel: Kernel): void {
	const st = subsystems(kernel);
	cancelCalls(kernel, st, null);
	commitDataToFdt(kernel, st);
}

/**
 * luo_do_subsystems_finish_calls(): loads each registered subsystem's data
 * from the incoming FDT (panics for one the old kernel did not hand over),
 * then calls finish with it.
 */
export function luo_do_subsystems_finish_calls(kernel: Kernel): void {
	const st = subsystems(kernel);
	const fdt = st.fdtIn;
	if (fdt) {
		const node = fdt_subnode_offset(fdt, 0, LUO_SUBSYSTEMS_NODE_NAME);
		for (const e of st.list) {
			const len = [0];
			const prop = fdt_getprop(fdt, node, e.h.name, len);
			if (!prop || len[0] !== 8) kernel.panic(`In FDt node '/${LUO_SUBSYSTEMS_NODE_NAME}' can't find property '${e.h.name}': ${fdt_strerror(node)}`);
			e.private_data = le64_ld(prop);
		}
	}
	for (const e of st.list) e.h.finish?.(kernel, e.h.arg, e.private_data);
}

/** luo_subsystems_fdt_setup()'s FDT is gone (LUO's FDT was destroyed). */
export function luo_subsystems_fdt_destroyed(kernel: Kernel): void {
	subsystems(kernel).fdtOut = null;
}
