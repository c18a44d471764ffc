/**
 * The deterministic uniprocessor scheduler (DESIGN rule 8; the shape of
 * kernel/sched/core.c schedule() and kernel/sched/wait.c on one CPU).
 *
 * Exactly one process runs at a time. The scheduler resumes the head of the
 * run queue and waits until that process blocks (enters a blocking call) or
 * exits, then picks the next one, first come first served. When no process
 * can run, the virtual clock jumps to the next timer. Same input, same
 * order, same output.
 */
import type { VirtualClock, Timer } from "./clock.ts";
import type { WaitQueue, WaitQueueEntry } from "./waitqueue.ts";
import type { Process } from "./process.ts";
import { currentOrNull, setCurrent } from "./current.ts";

/**
 * Thrown inside a process's JS stack to unwind it after the process has
 * exited (exit(), abort(), a fatal signal to itself). The scheduler catches
 * it; programs must not.
 */
export class TaskExit extends Error {
	constructor(readonly pid: number) {
		super(`process ${pid} has exited`);
	}
}

/** Why `Scheduler.run` returned ("stopped": the kernel is gone, see `stop`). */
export type RunResult = "done" | "idle" | "stopped";

/** One CPU's run queue and the switch logic. */
export class Scheduler {
	private runqueue: Process[] = [];
	private running: Process | null = null;
	private switchOut: (() => void) | null = null;
	/** Called with the process about to run (libc swaps its errno in). */
	private switchHooks: ((p: Process) => void)[] = [];
	private halted = false;

	constructor(private readonly clock: VirtualClock) {}

	/** The process on the CPU, or null between switches. */
	get current(): Process | null {
		return this.running;
	}

	/** Registers a context-switch hook. */
	onSwitch(fn: (p: Process) => void): void {
		this.switchHooks.push(fn);
	}

	/** wake_up_new_task(): queues a new process whose body is `body`. */
	start(p: Process, body: () => void): void {
		p.resumeFn = body;
		p.state = "runnable";
		this.runqueue.push(p);
	}

	/** try_to_wake_up(): a blocked process goes to the back of the run queue. */
	wake(p: Process): void {
		if (p.state !== "blocked") return;
		p.state = "runnable";
		this.runqueue.push(p);
	}

	/**
	 * The CPU stops for good (reboot, kexec, panic): no process of this
	 * kernel runs again; `run` returns "stopped" once the running one, if
	 * any, has unwound.
	 */
	stop(): void {
		this.halted = true;
		this.runqueue = [];
	}

	/** True once `stop` has been called. */
	get stopped(): boolean {
		return this.halted;
	}

	/** Takes a process off the run queue (it died before running again). */
	dequeue(p: Process): void {
		const i = this.runqueue.indexOf(p);
		if (i >= 0) this.runqueue.splice(i, 1);
	}

	/** Ends the current process's turn: called when its JS body has returned or unwound. */
	taskDone(p: Process): void {
		if (this.running === p && this.switchOut) {
			const out = this.switchOut;
			this.switchOut = null;
			out();
		}
	}

	/** schedule() from the current process: it sleeps until woken. */
	private block(p: Process): Promise<void> {
		if (this.running !== p) throw new Error(`luosim: process ${p.pid} blocked while not running`);
		p.state = "blocked";
		return new Promise<void>((resolve) => {
			p.resumeFn = resolve;
			const out = this.switchOut;
			this.switchOut = null;
			out?.();
		});
	}

	/** sched_yield(): the current process goes to the back of the run queue. */
	async yield(p: Process): Promise<void> {
		const done = this.block(p);
		this.wake(p);
		await done;
	}

	/**
	 * wait_event_interruptible_timeout(): sleeps on `queues` until `cond()`
	 * holds (true) or `timeoutNs` passes on the virtual clock (false). A null
	 * timeout waits forever. A fatal signal kills the sleeper where it sleeps.
	 */
	async waitEvent(p: Process, queues: readonly WaitQueue[], cond: () => boolean, timeoutNs: number | null): Promise<boolean> {
		if (cond()) return true;
		if (timeoutNs !== null && timeoutNs <= 0) return false;
		let timedOut = false;
		const entries: WaitQueueEntry[] = queues.map((q) => q.add(() => this.wake(p)));
		let timer: Timer | null = null;
		if (timeoutNs !== null) {
			timer = this.clock.addTimer(this.clock.nowNs() + timeoutNs, () => {
				timedOut = true;
				this.wake(p);
			});
		}
		const cleanup = (): void => {
			for (const e of entries) e.remove();
			timer?.cancel();
		};
		p.blockCleanup = cleanup;
		try {
			for (;;) {
				await this.block(p);
				if (cond()) return true;
				if (timedOut) return false;
			}
		} finally {
			p.blockCleanup = null;
			cleanup();
		}
	}

	/**
	 * Runs processes until `until()` holds ("done"), nothing can run and no
	 * timer is pending ("idle": every process left is blocked for good), or
	 * the CPU is stopped ("stopped").
	 */
	async run(until: () => boolean): Promise<RunResult> {
		for (;;) {
			if (until()) return "done";
			if (this.halted) return "stopped";
			const p = this.runqueue.shift();
			if (!p) {
				if (this.clock.advanceToNextTimer()) continue;
				return "idle";
			}
			const resume = p.resumeFn;
			p.resumeFn = null;
			if (!resume) continue;
			p.state = "running";
			this.running = p;
			setCurrent(p);
			for (const fn of this.switchHooks) fn(p);
			await new Promise<void>((resolve) => {
				this.switchOut = resolve;
				resume();
			});
			this.running = null;
			// After a kexec the next kernel may already have a process on the CPU.
			if (currentOrNull() === p) setCurrent(null);
		}
	}
}
