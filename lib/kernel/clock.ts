/**
 * The virtual clock and its timers (models kernel/time/hrtimer.c as far as
 * luosim needs it). Time only moves when the scheduler finds every process
 * waiting and jumps to the next timer, so every run prints the same thing.
 */

/** Nanoseconds per second, per millisecond. */
export const NSEC_PER_SEC = 1_000_000_000;
export const NSEC_PER_MSEC = 1_000_000;

/**
 * CLOCK_REALTIME at boot: 2025-05-15T00:00:00Z (the seed's date), in ns.
 * Exactly representable as a double; add monotonic time in bigint where
 * nanoseconds matter (clock_gettime does).
 */
export const BOOT_EPOCH_NS = 1_747_267_200 * NSEC_PER_SEC;

/** A pending timer; `cancel()` removes it. */
export interface Timer {
	readonly deadline: number;
	cancel(): void;
}

interface TimerEntry {
	deadline: number;
	seq: number;
	fn: () => void;
	cancelled: boolean;
}

/** The machine's monotonic virtual clock, in nanoseconds since boot. */
export class VirtualClock {
	private now = 0;
	private seq = 0;
	private timers: TimerEntry[] = [];
	/** Wall-clock offset: CLOCK_REALTIME = boot epoch + monotonic. */
	readonly realtimeBaseNs: number;

	constructor(realtimeBaseNs = 0) {
		this.realtimeBaseNs = realtimeBaseNs;
	}

	/** CLOCK_MONOTONIC / CLOCK_BOOTTIME in ns. */
	nowNs(): number {
		return this.now;
	}

	/** Runs `fn` when the clock reaches `deadline` (ns); timers with equal deadlines fire in the order they were added. */
	addTimer(deadline: number, fn: () => void): Timer {
		const entry: TimerEntry = { deadline, seq: this.seq++, fn, cancelled: false };
		let i = this.timers.length;
		while (i > 0 && this.timers[i - 1]!.deadline > deadline) i--;
		this.timers.splice(i, 0, entry);
		return {
			deadline,
			cancel: (): void => {
				entry.cancelled = true;
			},
		};
	}

	/** True when a live timer is pending. */
	hasTimers(): boolean {
		this.dropCancelled();
		return this.timers.length > 0;
	}

	/** Jumps to the earliest pending timer and fires every timer due then; returns false if none is pending. */
	advanceToNextTimer(): boolean {
		this.dropCancelled();
		const first = this.timers[0];
		if (!first) return false;
		if (first.deadline > this.now) this.now = first.deadline;
		this.fireDue();
		return true;
	}

	/** Fires the timers whose deadline has passed, in order. */
	fireDue(): void {
		while (this.timers.length > 0 && this.timers[0]!.deadline <= this.now) {
			const t = this.timers.shift()!;
			if (!t.cancelled) t.fn();
		}
	}

	/** Moves the clock forward by `ns` (kernel work that takes time), firing what falls due. */
	advance(ns: number): void {
		this.now += ns;
		this.fireDue();
	}

	private dropCancelled(): void {
		while (this.timers.length > 0 && this.timers[0]!.cancelled) this.timers.shift();
	}
}
