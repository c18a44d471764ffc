/**
 * `current` (arch/x86/include/asm/current.h): the process on the CPU. libc
 * reads it to know whose syscall it is making.
 */
import type { Process } from "./process.ts";

let cur: Process | null = null;

/** Set by the scheduler at each context switch. */
export function setCurrent(p: Process | null): void {
	cur = p;
}

/** The running process; throws if code calls into luosim from outside any process. */
export function current(): Process {
	if (!cur) throw new Error("luosim: no current process (call libc from a program run by the kernel, e.g. kernel.spawn or luosim run)");
	return cur;
}

/** The running process, or null outside any process. */
export function currentOrNull(): Process | null {
	return cur;
}
