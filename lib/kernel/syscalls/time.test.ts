import t from "tap";
import { run, User } from "../testing.ts";
import { sysFork } from "./process.ts";
import {
	CLOCK_BOOTTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC_RAW, CLOCK_PROCESS_CPUTIME_ID, CLOCK_REALTIME,
	CLOCK_REALTIME_COARSE, CLOCK_TAI, CLOCK_THREAD_CPUTIME_ID, TIMER_ABSTIME, TICK_NSEC,
} from "./time.ts";
import { EFAULT, EINVAL, EOPNOTSUPP } from "../errno.ts";

const EPOCH = 1747267200n;

/** clock_gettime(id) as [sec, nsec], or the error. */
function now(u: User, id: number): bigint[] | number {
	const ts = u.alloc(16);
	const r = u.sys("clock_gettime", id, ts);
	return r < 0 ? r : u.i64s(ts, 2);
}

t.test("clock_gettime at boot: MONOTONIC 0, REALTIME 2025-05-15T00:00:00Z, CPU clocks 0", async (t) => {
	await run((u) => {
		for (const id of [CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_MONOTONIC_COARSE]) t.same(now(u, id), [0n, 0n], `clock ${id}`);
		for (const id of [CLOCK_REALTIME, CLOCK_REALTIME_COARSE, CLOCK_TAI]) t.same(now(u, id), [EPOCH, 0n], `clock ${id}`);
		t.same(now(u, CLOCK_PROCESS_CPUTIME_ID), [0n, 0n]);
		t.same(now(u, CLOCK_THREAD_CPUTIME_ID), [0n, 0n]);
	});
});

t.test("clock_gettime follows the virtual clock; the COARSE clocks stop at the last 4 ms tick", async (t) => {
	await run(async (u) => {
		t.equal(await u.sysAsync("nanosleep", u.u64s(1n, 5_000_123n), 0), 0);
		t.same(now(u, CLOCK_MONOTONIC), [1n, 5_000_123n]);
		t.same(now(u, CLOCK_REALTIME), [EPOCH + 1n, 5_000_123n]);
		t.same(now(u, CLOCK_MONOTONIC_COARSE), [1n, 4_000_000n]);
		t.same(now(u, CLOCK_REALTIME_COARSE), [EPOCH + 1n, 4_000_000n]);
		t.same(now(u, CLOCK_PROCESS_CPUTIME_ID), [0n, 0n], "sleeping uses no CPU");
	});
});

t.test("clock_gettime: EINVAL for the alarm clocks, unknown and CPU-clock ids; EFAULT for a bad pointer", async (t) => {
	await run((u) => {
		for (const id of [8, 9, 10, 12, -1, -6]) t.equal(now(u, id), -EINVAL, `clock ${id}`);
		t.equal(u.sys("clock_gettime", CLOCK_MONOTONIC, 0), -EFAULT);
		t.equal(u.sys("clock_gettime", 99, 0), -EINVAL, "the clock is checked first");
	});
});

t.test("clock_getres: 1 ns, 4 ms for the COARSE clocks; NULL is allowed; EINVAL, EFAULT", async (t) => {
	await run((u) => {
		const ts = u.alloc(16);
		t.equal(u.sys("clock_getres", CLOCK_MONOTONIC, ts), 0);
		t.same(u.i64s(ts, 2), [0n, 1n]);
		t.equal(u.sys("clock_getres", CLOCK_REALTIME_COARSE, ts), 0);
		t.same(u.i64s(ts, 2), [0n, BigInt(TICK_NSEC)]);
		t.equal(u.sys("clock_getres", CLOCK_REALTIME, 0), 0);
		t.equal(u.sys("clock_getres", 8, 0), -EINVAL);
		t.equal(u.sys("clock_getres", CLOCK_REALTIME, 8), -EFAULT);
	});
});

t.test("gettimeofday: CLOCK_REALTIME in microseconds, UTC timezone; NULL arguments; EFAULT", async (t) => {
	await run(async (u) => {
		await u.sysAsync("nanosleep", u.u64s(0n, 2_500_999n), 0);
		const tv = u.alloc(16);
		const tz = u.bytes(new Uint8Array(8).fill(0xff));
		t.equal(u.sys("gettimeofday", tv, tz), 0);
		t.same(u.i64s(tv, 2), [EPOCH, 2500n]);
		t.same([...u.read(tz, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
		t.equal(u.sys("gettimeofday", 0, 0), 0);
		t.equal(u.sys("gettimeofday", 8, 0), -EFAULT);
		t.equal(u.sys("gettimeofday", tv, 8), -EFAULT);
	});
});

t.test("time: the seconds of CLOCK_REALTIME, also stored at tloc; EFAULT", async (t) => {
	await run((u) => {
		t.equal(u.sys("time", 0), Number(EPOCH));
		const tloc = u.alloc(8);
		t.equal(u.sys("time", tloc), Number(EPOCH));
		t.same(u.i64s(tloc, 1), [EPOCH]);
		t.equal(u.sys("time", 8), -EFAULT);
	});
});

t.test("nanosleep sleeps exactly the time asked for and leaves rem alone", async (t) => {
	await run(async (u) => {
		const rem = u.bytes(new Uint8Array(16).fill(0xaa));
		t.equal(await u.sysAsync("nanosleep", u.u64s(3n, 7n), rem), 0);
		t.equal(u.kernel.clock.nowNs(), 3_000_000_007);
		t.same([...u.read(rem, 16)], new Array(16).fill(0xaa));
		t.equal(await u.sysAsync("nanosleep", u.u64s(0n, 0n), 0), 0, "a zero sleep");
		t.equal(u.kernel.clock.nowNs(), 3_000_000_007);
	});
});

t.test("nanosleep: EINVAL for tv_nsec out of range or a negative time; EFAULT; nothing slept", async (t) => {
	await run(async (u) => {
		t.equal(await u.sysAsync("nanosleep", u.u64s(0n, 1_000_000_000n), 0), -EINVAL);
		t.equal(await u.sysAsync("nanosleep", u.u64s(0n, -1n), 0), -EINVAL);
		t.equal(await u.sysAsync("nanosleep", u.u64s(-1n, 0n), 0), -EINVAL);
		t.equal(await u.sysAsync("nanosleep", 8, 0), -EFAULT);
		t.equal(u.kernel.clock.nowNs(), 0);
	});
});

t.test("sleepers wake in deadline order, the same on every run", async (t) => {
	const order: number[] = [];
	await run(async (u) => {
		for (const ms of [30n, 10n, 20n, 10n]) {
			sysFork(u.p, async () => {
				const c = new User();
				await c.sysAsync("nanosleep", c.u64s(0n, ms * 1_000_000n), 0);
				order.push(Number(ms) * 10 + c.p.pid);
			});
		}
		for (let i = 0; i < 4; i++) await u.sysAsync("wait4", -1, 0, 0, 0);
	});
	t.same(order, [100 + 4, 100 + 6, 200 + 5, 300 + 3], "pid 4 and 6 wake at 10 ms in the order they went to sleep");
});

t.test("clock_nanosleep: relative sleeps on REALTIME, MONOTONIC, BOOTTIME and TAI", async (t) => {
	await run(async (u) => {
		for (const id of [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI]) {
			t.equal(await u.sysAsync("clock_nanosleep", id, 0, u.u64s(1n, 0n), 0), 0);
		}
		t.equal(u.kernel.clock.nowNs(), 4_000_000_000);
	});
});

t.test("clock_nanosleep TIMER_ABSTIME: until the clock reads req; at once when it has passed", async (t) => {
	await run(async (u) => {
		t.equal(await u.sysAsync("clock_nanosleep", CLOCK_MONOTONIC, TIMER_ABSTIME, u.u64s(2n, 500n), 0), 0);
		t.equal(u.kernel.clock.nowNs(), 2_000_000_500);
		t.equal(await u.sysAsync("clock_nanosleep", CLOCK_REALTIME, TIMER_ABSTIME, u.u64s(EPOCH + 5n, 0n), 0), 0);
		t.equal(u.kernel.clock.nowNs(), 5_000_000_000);
		t.equal(await u.sysAsync("clock_nanosleep", CLOCK_MONOTONIC, TIMER_ABSTIME, u.u64s(1n, 0n), 0), 0);
		t.equal(u.kernel.clock.nowNs(), 5_000_000_000, "in the past: no sleep");
	});
});

t.test("clock_nanosleep: EINVAL for an unknown clock, EOPNOTSUPP for clocks without nsleep, then EFAULT and EINVAL for req", async (t) => {
	await run(async (u) => {
		const ok = u.u64s(1n, 0n);
		for (const id of [8, 10, 12, -1]) t.equal(await u.sysAsync("clock_nanosleep", id, 0, ok, 0), -EINVAL, `clock ${id}`);
		for (const id of [CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_THREAD_CPUTIME_ID, CLOCK_PROCESS_CPUTIME_ID]) {
			t.equal(await u.sysAsync("clock_nanosleep", id, 0, 8, 0), -EOPNOTSUPP, `clock ${id}, before reading req`);
		}
		t.equal(await u.sysAsync("clock_nanosleep", CLOCK_MONOTONIC, 0, 8, 0), -EFAULT);
		t.equal(await u.sysAsync("clock_nanosleep", CLOCK_MONOTONIC, 0, u.u64s(0n, 2_000_000_000n), 0), -EINVAL);
		t.equal(u.kernel.clock.nowNs(), 0);
	});
});
