import t from "tap";
import { BOOT_EPOCH_NS, VirtualClock } from "./clock.ts";
import { bootKernel } from "./machine.ts";

t.test("timers fire in deadline order, equal deadlines in the order they were added", async (t) => {
	const c = new VirtualClock();
	const fired: string[] = [];
	c.addTimer(20, () => fired.push("b"));
	c.addTimer(10, () => fired.push("a"));
	c.addTimer(20, () => fired.push("c"));
	t.ok(c.advanceToNextTimer());
	t.equal(c.nowNs(), 10);
	t.ok(c.advanceToNextTimer());
	t.equal(c.nowNs(), 20);
	t.same(fired, ["a", "b", "c"]);
	t.notOk(c.advanceToNextTimer(), "none left");
	t.notOk(c.hasTimers());
});

t.test("a cancelled timer never fires and does not count as pending", async (t) => {
	const c = new VirtualClock();
	let fired = false;
	const tm = c.addTimer(5, () => void (fired = true));
	t.equal(tm.deadline, 5);
	t.ok(c.hasTimers());
	tm.cancel();
	t.notOk(c.hasTimers());
	t.notOk(c.advanceToNextTimer());
	t.equal(c.nowNs(), 0, "time did not move");
	t.equal(fired, false);
});

t.test("advance moves time and fires what falls due; a past deadline fires without moving time back", async (t) => {
	const c = new VirtualClock();
	const fired: number[] = [];
	c.addTimer(100, () => fired.push(100));
	c.addTimer(300, () => fired.push(300));
	c.advance(150);
	t.same(fired, [100]);
	c.addTimer(120, () => fired.push(120));
	t.ok(c.advanceToNextTimer());
	t.equal(c.nowNs(), 150);
	t.same(fired, [100, 120]);
});

t.test("a kernel's clock starts at 0 with CLOCK_REALTIME at 2025-05-15T00:00:00Z", async (t) => {
	const k = bootKernel();
	t.equal(k.clock.nowNs(), 0);
	t.equal(k.clock.realtimeBaseNs, BOOT_EPOCH_NS);
	t.equal(new Date(BOOT_EPOCH_NS / 1e6).toISOString(), "2025-05-15T00:00:00.000Z");
});
