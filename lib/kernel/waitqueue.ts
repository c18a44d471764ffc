/**
 * Wait queues (include/linux/wait.h). A waiter is a callback; `wakeUp`
 * calls every waiter registered at that moment. Processes sleep on queues
 * through `Scheduler.waitEvent`, which re-checks its condition after each
 * wake-up, as `wait_event_interruptible` does.
 */

/** A registered waiter; `remove()` takes it off the queue. */
export interface WaitQueueEntry {
	remove(): void;
}

/** `wait_queue_head_t`. `key` is the poll mask passed to the waiters (0 when unknown). */
export class WaitQueue {
	private waiters = new Set<(key: number) => void>();

	/** `add_wait_queue`: the callback runs on every wake-up until removed. */
	add(fn: (key: number) => void): WaitQueueEntry {
		this.waiters.add(fn);
		return { remove: (): void => void this.waiters.delete(fn) };
	}

	/** `wake_up` / `wake_up_poll(q, key)`. */
	wakeUp(key = 0): void {
		for (const fn of [...this.waiters]) fn(key);
	}

	/** `waitqueue_active`. */
	active(): boolean {
		return this.waiters.size > 0;
	}
}
