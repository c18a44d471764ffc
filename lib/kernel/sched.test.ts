import t from "tap";
import { bootKernel } from "./machine.ts";
import { spawnProgram } from "./exec.ts";
import { current, currentOrNull } from "./current.ts";
import { DeadlockError } from "./kernel.ts";
import { WaitQueue } from "./waitqueue.ts";
import { TaskExit } from "./sched.ts";

t.test("processes run one at a time in first-come order; a yield goes to the back of the queue", async (t) => {
	const k = bootKernel();
	const log: string[] = [];
	const ps = ["a", "b", "c"].map((name) => spawnProgram(k, async () => {
		const p = current();
		log.push(`${name}1`);
		await k.sched.yield(p);
		log.push(`${name}2`);
	}));
	for (const p of ps) await k.waitFor(p);
	t.same(log, ["a1", "b1", "c1", "a2", "b2", "c2"]);
});

t.test("current() is the running process; outside any process it throws", async (t) => {
	const k = bootKernel();
	let seen: unknown = null;
	const p = spawnProgram(k, () => {
		seen = current();
	});
	await k.waitFor(p);
	t.equal(seen, p);
	t.equal(currentOrNull(), null);
	t.throws(() => current(), /no current process/);
});

t.test("context-switch hooks see every process about to run", async (t) => {
	const k = bootKernel();
	const order: number[] = [];
	k.sched.onSwitch((p) => order.push(p.pid));
	const a = spawnProgram(k, async () => void (await k.sched.yield(current())));
	const b = spawnProgram(k, () => 0);
	await k.waitFor(a);
	await k.waitFor(b);
	t.same(order, [a.pid, b.pid, a.pid]);
});

t.test("waitEvent: true when a wake-up makes the condition hold; a wake-up without it sleeps on", async (t) => {
	const k = bootKernel();
	const q = new WaitQueue();
	let ready = false;
	let wakeups = 0;
	let result: boolean | null = null;
	const sleeper = spawnProgram(k, async () => {
		result = await k.sched.waitEvent(current(), [q], () => {
			wakeups++;
			return ready;
		}, null);
	});
	const waker = spawnProgram(k, async () => {
		const p = current();
		q.wakeUp();
		await k.sched.yield(p);
		ready = true;
		q.wakeUp();
	});
	await k.waitFor(waker);
	await k.waitFor(sleeper);
	t.equal(result, true);
	t.equal(wakeups, 3, "checked on entry and after each wake-up");
	t.notOk(q.active(), "the waiter left the queue");
	t.equal(k.clock.nowNs(), 0, "no time passed");
});

t.test("waitEvent: false after the timeout; the clock jumps only when every process sleeps", async (t) => {
	const k = bootKernel();
	const got: [string, boolean, number][] = [];
	const a = spawnProgram(k, async () => {
		got.push(["a", await k.sched.waitEvent(current(), [], () => false, 5e9), k.clock.nowNs()]);
	});
	const b = spawnProgram(k, async () => {
		got.push(["b", await k.sched.waitEvent(current(), [], () => false, 2e9), k.clock.nowNs()]);
	});
	await k.waitFor(a);
	await k.waitFor(b);
	t.same(got, [["b", false, 2e9], ["a", false, 5e9]]);
});

t.test("waitEvent returns at once for a condition that holds or a timeout of 0", async (t) => {
	const k = bootKernel();
	const results: boolean[] = [];
	const other: string[] = [];
	spawnProgram(k, () => void other.push("other ran"));
	const p = spawnProgram(k, async () => {
		results.push(await k.sched.waitEvent(current(), [], () => true, null));
		results.push(await k.sched.waitEvent(current(), [], () => false, 0));
		other.push("main done");
	});
	await k.waitFor(p);
	t.same(results, [true, false]);
	t.same(other, ["other ran", "main done"], "the first process ran to its end first, nothing blocked in between");
});

t.test("when every process sleeps for good, waitFor reports a deadlock with the sleeping pids", async (t) => {
	const k = bootKernel();
	const q = new WaitQueue();
	const p = spawnProgram(k, async () => void (await k.sched.waitEvent(current(), [q], () => false, null)));
	const err = await k.waitFor(p).then(() => null, (e: unknown) => e);
	t.type(err, DeadlockError);
	t.same((err as DeadlockError).blocked, [p.pid]);
	t.match((err as Error).message, /every process is asleep with no timer pending \(blocked pids: 2\)/);
});

t.test("blocking while not on the CPU is a kernel bug and throws", async (t) => {
	const k = bootKernel();
	const p = spawnProgram(k, () => 0);
	await t.rejects(k.sched.yield(p), /blocked while not running/);
	await k.waitFor(p);
	t.equal(new TaskExit(5).pid, 5);
});
