import t from "tap";
import { run, User } from "../testing.ts";
import { sysFork } from "./process.ts";
import { EFAULT, EINVAL, EPERM, ESRCH } from "../errno.ts";
import { NR_OPEN, RLIMIT_CORE, RLIMIT_NOFILE, RLIMIT_STACK, RLIM_INFINITY } from "../process.ts";

/** The two u64 of a struct rlimit at `addr`. */
function rlimitAt(u: User, addr: number): bigint[] {
	return u.i64s(addr, 2).map((v) => BigInt.asUintN(64, v));
}

t.test("prlimit64 reads init's defaults: NOFILE 1024/4096, STACK 8 MiB/unlimited, CORE 0", async (t) => {
	await run((u) => {
		const old = u.alloc(16);
		t.equal(u.sys("prlimit64", 0, RLIMIT_NOFILE, 0, old), 0);
		t.same(rlimitAt(u, old), [1024n, 4096n]);
		t.equal(u.sys("prlimit64", 0, RLIMIT_STACK, 0, old), 0);
		t.same(rlimitAt(u, old), [8n << 20n, RLIM_INFINITY]);
		t.equal(u.sys("getrlimit", RLIMIT_CORE, old), 0);
		t.same(rlimitAt(u, old), [0n, RLIM_INFINITY]);
	});
});

t.test("prlimit64 sets a new limit and returns the old one in the same call", async (t) => {
	await run((u) => {
		const old = u.alloc(16);
		t.equal(u.sys("prlimit64", 0, RLIMIT_NOFILE, u.u64s(64n, 2048n), old), 0);
		t.same(rlimitAt(u, old), [1024n, 4096n], "the limits before the call");
		t.equal(u.p.nofile, 64, "the fd limit in force");
		t.equal(u.sys("getrlimit", RLIMIT_NOFILE, old), 0);
		t.same(rlimitAt(u, old), [64n, 2048n]);
	}, { uid: 1000 });
});

t.test("lowering the hard limit is allowed to anyone; raising it needs CAP_SYS_RESOURCE", async (t) => {
	await run((u) => {
		t.equal(u.sys("setrlimit", RLIMIT_NOFILE, u.u64s(100n, 200n)), 0);
		t.equal(u.sys("setrlimit", RLIMIT_NOFILE, u.u64s(100n, 201n)), -EPERM);
		t.equal(u.sys("setrlimit", RLIMIT_NOFILE, u.u64s(200n, 200n)), 0, "the soft limit up to the hard one");
	}, { uid: 1000 });
	await run((u) => {
		t.equal(u.sys("setrlimit", RLIMIT_NOFILE, u.u64s(100n, 200n)), 0);
		t.equal(u.sys("setrlimit", RLIMIT_NOFILE, u.u64s(100000n, 100000n)), 0, "root raises it again");
	});
});

t.test("EINVAL for an unknown resource and for cur > max; nothing changes", async (t) => {
	await run((u) => {
		const old = u.alloc(16);
		t.equal(u.sys("prlimit64", 0, 16, 0, old), -EINVAL);
		t.equal(u.sys("prlimit64", 0, -1, 0, old), -EINVAL);
		t.equal(u.sys("getrlimit", 99, old), -EINVAL);
		t.equal(u.sys("setrlimit", RLIMIT_NOFILE, u.u64s(10n, 5n)), -EINVAL);
		t.equal(u.p.nofile, 1024);
	});
});

t.test("RLIMIT_NOFILE above fs.nr_open is EPERM even for root", async (t) => {
	await run((u) => {
		t.equal(u.sys("setrlimit", RLIMIT_NOFILE, u.u64s(1n, BigInt(NR_OPEN) + 1n)), -EPERM);
		t.equal(u.sys("setrlimit", RLIMIT_NOFILE, u.u64s(BigInt(NR_OPEN), BigInt(NR_OPEN))), 0);
		t.equal(u.sys("setrlimit", RLIMIT_NOFILE, u.u64s(RLIM_INFINITY, RLIM_INFINITY)), -EPERM);
	});
});

t.test("prlimit64 on another process: ESRCH; EPERM unless the same user or CAP_SYS_RESOURCE", async (t) => {
	await run(async (u) => {
		const old = u.alloc(16);
		const child = sysFork(u.p, async () => {
			const c = new User();
			await c.sysAsync("nanosleep", c.u64s(1n, 0n), 0);
		});
		t.equal(u.sys("prlimit64", 999, RLIMIT_NOFILE, 0, old), -ESRCH);
		t.equal(u.sys("prlimit64", child, RLIMIT_NOFILE, u.u64s(10n, 10n), old), 0, "its own child");
		t.equal(u.p.kernel.processes.get(child)!.nofile, 10);
		t.equal(u.sys("prlimit64", 1, RLIMIT_NOFILE, 0, old), -EPERM, "init runs as root");
		await u.sysAsync("wait4", child, 0, 0, 0);
	}, { uid: 1000 });
	await run((u) => {
		const old = u.alloc(16);
		t.equal(u.sys("prlimit64", 1, RLIMIT_NOFILE, 0, old), 0, "root may look at init");
	});
});

t.test("EFAULT: a bad new limit changes nothing; a bad old pointer fails after the new limit is set", async (t) => {
	await run((u) => {
		t.equal(u.sys("setrlimit", RLIMIT_NOFILE, 8), -EFAULT);
		t.equal(u.sys("prlimit64", 0, RLIMIT_NOFILE, 8, 0), -EFAULT);
		t.equal(u.p.nofile, 1024);
		t.equal(u.sys("getrlimit", RLIMIT_NOFILE, 8), -EFAULT);
		t.equal(u.sys("prlimit64", 0, RLIMIT_NOFILE, u.u64s(50n, 4096n), 8), -EFAULT);
		t.equal(u.p.nofile, 50, "as in Linux, the new limit is in force");
	});
});

t.test("a forked child inherits the limits", async (t) => {
	await run(async (u) => {
		u.sys("setrlimit", RLIMIT_NOFILE, u.u64s(77n, 4096n));
		const child = sysFork(u.p, () => new User().p.nofile);
		const st = u.alloc(4);
		await u.sysAsync("wait4", child, st, 0, 0);
		t.equal((u.i32(st) >> 8) & 0xff, 77);
	});
});
