/**
 * Blocking notifier chains (kernel/notifier.c, include/linux/notifier.h) as
 * far as KHO's RFC-v2 notifiers need them: a chain ordered by priority,
 * callbacks that return NOTIFY_* values, a call that stops at the first
 * callback whose result has NOTIFY_STOP_MASK, and the errno <-> NOTIFY
 * conversions that carry an error through the chain.
 *
 * luosim has one CPU and runs kernel code to completion, so the chain's
 * rwsem has nothing to exclude: a callback that unregisters itself is fine
 * (the walk holds a snapshot, as the kernel keeps `next` before calling).
 */
import { Errno, EEXIST, ENOENT } from "../kernel/errno.ts";

/** NOTIFY_DONE: "don't care". */
export const NOTIFY_DONE = 0x0000;
/** NOTIFY_OK: "suits me". */
export const NOTIFY_OK = 0x0001;
/** NOTIFY_STOP_MASK: stop calling the rest of the chain. */
export const NOTIFY_STOP_MASK = 0x8000;
/** NOTIFY_BAD: a veto (notifier_to_errno() makes it -EPERM). */
export const NOTIFY_BAD = NOTIFY_STOP_MASK | 0x0002;
/** NOTIFY_STOP: clean way to return from the notifier and stop further calls. */
export const NOTIFY_STOP = NOTIFY_OK | NOTIFY_STOP_MASK;

/**
 * notifier_from_errno(err): a NOTIFY value that carries `-err` (`err` is
 * negative, as kernel code returns it) and stops the chain; 0 gives NOTIFY_OK.
 */
export function notifier_from_errno(err: number): number {
	if (err) return NOTIFY_STOP_MASK | (NOTIFY_OK - err);
	return NOTIFY_OK;
}

/** notifier_to_errno(ret): the negative errno a NOTIFY value carries, or 0. */
export function notifier_to_errno(ret: number): number {
	ret &= ~NOTIFY_STOP_MASK;
	return ret > NOTIFY_OK ? NOTIFY_OK - ret : 0;
}

/**
 * struct notifier_block: `notifier_call(nb, action, data)` returns a NOTIFY
 * value. luosim also accepts a callback that throws an `Errno`: that is
 * taken as `notifier_from_errno(-errno)`, saving a try/catch around kernel
 * calls that throw. `priority`: higher runs first (default 0).
 */
export interface NotifierBlock<T> {
	notifier_call(nb: NotifierBlock<T>, action: number, data: T): number;
	priority?: number;
}

/** struct blocking_notifier_head: the registered blocks, highest priority first. */
export class BlockingNotifierHead<T> {
	private chain: NotifierBlock<T>[] = [];

	/**
	 * blocking_notifier_chain_register(): inserts `nb` after every block of
	 * the same or higher priority. Registering a block twice is EEXIST
	 * (notifier_chain_register's "already registered" WARN).
	 */
	register(nb: NotifierBlock<T>): void {
		if (this.chain.includes(nb)) throw new Errno(EEXIST);
		const prio = nb.priority ?? 0;
		let i = 0;
		while (i < this.chain.length && (this.chain[i]!.priority ?? 0) >= prio) i++;
		this.chain.splice(i, 0, nb);
	}

	/** blocking_notifier_chain_unregister(): ENOENT when `nb` is not on the chain. */
	unregister(nb: NotifierBlock<T>): void {
		const i = this.chain.indexOf(nb);
		if (i < 0) throw new Errno(ENOENT);
		this.chain.splice(i, 1);
	}

	/** True when `nb` is registered. */
	has(nb: NotifierBlock<T>): boolean {
		return this.chain.includes(nb);
	}

	/**
	 * blocking_notifier_call_chain(): calls each block in order with
	 * (action, data) until one returns a value with NOTIFY_STOP_MASK, and
	 * returns the last value (NOTIFY_DONE for an empty chain).
	 */
	call(action: number, data: T): number {
		let ret = NOTIFY_DONE;
		for (const nb of [...this.chain]) {
			try {
				ret = nb.notifier_call(nb, action, data);
			} catch (e) {
				if (!(e instanceof Errno)) throw e;
				ret = notifier_from_errno(-e.errno);
			}
			if (ret & NOTIFY_STOP_MASK) break;
		}
		return ret;
	}
}
