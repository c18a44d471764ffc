import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, clock_gettime, clock_getres, nanosleep, clock_nanosleep, malloc, peek,
	CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME, TIMER_ABSTIME, EINVAL, EFAULT, type Timespec,
} from "./mod.ts";

function ns(ts: Timespec): number {
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

t.test("clock_gettime: monotonic starts near boot and only moves when time passes; EINVAL, EFAULT", async (t) => {
	const r = await runTest(async () => {
		const a: Timespec = { tv_sec: -1, tv_nsec: -1 };
		t.equal(clock_gettime(CLOCK_MONOTONIC, a), 0);
		t.ok(a.tv_sec >= 0 && a.tv_nsec >= 0 && a.tv_nsec < 1e9);
		const b: Timespec = { tv_sec: 0, tv_nsec: 0 };
		t.equal(clock_gettime(CLOCK_MONOTONIC, b), 0);
		t.equal(ns(b), ns(a), "no time passes without a sleep");
		t.equal(clock_gettime(CLOCK_REALTIME, b), 0);
		t.equal(clock_gettime(CLOCK_BOOTTIME, b), 0);
		const keep: Timespec = { tv_sec: 5, tv_nsec: 6 };
		t.equal(clock_gettime(99, keep), -1);
		t.equal(errno, EINVAL);
		t.same(keep, { tv_sec: 5, tv_nsec: 6 }, "unchanged on failure");
		t.equal(clock_gettime(CLOCK_MONOTONIC, 0), -1);
		t.equal(errno, EFAULT);
		const addr = malloc(16);
		t.equal(clock_gettime(CLOCK_MONOTONIC, addr), 0);
		t.equal(peek(addr, 16).length, 16);
		const res: Timespec = { tv_sec: 9, tv_nsec: 9 };
		t.equal(clock_getres(CLOCK_MONOTONIC, res), 0);
		t.same(res, { tv_sec: 0, tv_nsec: 1 }, "hrtimer resolution 1 ns");
	});
	t.equal(r.status, 0);
});

t.test("nanosleep: exact virtual time; EINVAL for a bad timespec, EFAULT for a bad pointer", async (t) => {
	const r = await runTest(async () => {
		const a: Timespec = { tv_sec: 0, tv_nsec: 0 };
		const b: Timespec = { tv_sec: 0, tv_nsec: 0 };
		clock_gettime(CLOCK_MONOTONIC, a);
		t.equal(await nanosleep({ tv_sec: 1, tv_nsec: 250 }, null), 0);
		clock_gettime(CLOCK_MONOTONIC, b);
		t.equal(ns(b) - ns(a), 1_000_000_250);
		t.equal(await nanosleep({ tv_sec: 0, tv_nsec: 1_000_000_000 }, null), -1);
		t.equal(errno, EINVAL);
		t.equal(await nanosleep({ tv_sec: -1, tv_nsec: 0 }, null), -1);
		t.equal(errno, EINVAL);
		t.equal(await nanosleep(0, null), -1);
		t.equal(errno, EFAULT);
	});
	t.equal(r.status, 0);
});

t.test("clock_nanosleep returns the error number and leaves errno; TIMER_ABSTIME sleeps until then", async (t) => {
	const r = await runTest(async () => {
		const a: Timespec = { tv_sec: 0, tv_nsec: 0 };
		clock_gettime(CLOCK_MONOTONIC, a);
		t.equal(await clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, { tv_sec: a.tv_sec + 2, tv_nsec: a.tv_nsec }), 0);
		const b: Timespec = { tv_sec: 0, tv_nsec: 0 };
		clock_gettime(CLOCK_MONOTONIC, b);
		t.equal(ns(b) - ns(a), 2e9);
		t.equal(await clock_nanosleep(CLOCK_MONOTONIC, 0, { tv_sec: 0, tv_nsec: -1 }), EINVAL);
		t.equal(errno, 0, "errno untouched");
	});
	t.equal(r.status, 0);
});
