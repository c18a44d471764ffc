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

/** One initcall: its function name (as System.map has it) and body, returning 0 or -errno. */
export interface Initcall {
	readonly name: string;
	readonly fn: (kernel: Kernel) => number;
}

/** The late initcalls, in link order. */
export const lateInitcalls: readonly Initcall[] = [
	// lib/test_kho.c: module_init of a built-in module; it runs after KHO is up.
	{ name: "kho_test_init", fn: kho_test_init },
];

/**
 * do_initcalls(): runs every initcall once. A returned error is dropped, as
 * do_one_initcall() drops it (only initcall_debug, not modelled, prints it).
 */
export function do_initcalls(kernel: Kernel): void {
	for (const call of lateInitcalls) call.fn(kernel);
}
