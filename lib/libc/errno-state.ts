/**
 * libc-internal: the state behind <errno.h>'s `errno`.
 *
 * Each process keeps its own errno in `Process.errno` (glibc's errno is
 * thread-local; here it is per process). The exported binding shows the
 * running process's value: libc updates it after every call it makes and,
 * through a scheduler hook registered the first time a kernel's process
 * calls into libc, at every context switch. So `errno` read right after a
 * failing call, or after an `await` that let other processes run, is the
 * caller's own, as in C.
 */
import { currentOrNull } from "../kernel/current.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { Process } from "../kernel/process.ts";

/** The calling process's errno (read it like C's `errno`; assign it with `set_errno`). */
export let errno = 0;

const hooked = new WeakSet<Kernel>();
/** The kernel hooked last: the calls in a row come from one kernel, and this saves the set lookup. */
let lastHooked: Kernel | null = null;

/** `errno = v` (an imported binding cannot be assigned). */
export function set_errno(v: number): void {
	errno = v;
	const p = currentOrNull();
	if (p) p.errno = v;
}

/**
 * libc-internal: called at every libc entry with the running process. Makes
 * sure the binding follows context switches of `p`'s kernel and shows `p`'s
 * value now.
 */
export function errnoEnter(p: Process): void {
	const k = p.kernel;
	if (k !== lastHooked) {
		if (!hooked.has(k)) {
			hooked.add(k);
			k.sched.onSwitch((next) => {
				errno = next.errno;
			});
		}
		lastHooked = k;
	}
	errno = p.errno;
}

/** libc-internal: a call by `p` failed with `err`; C's `errno = err`. */
export function errnoSet(p: Process, err: number): void {
	p.errno = err;
	errno = err;
}
