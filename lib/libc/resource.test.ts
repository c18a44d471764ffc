import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, getrlimit, setrlimit, prlimit, fork, waitpid, getpid, malloc, WEXITSTATUS,
	RLIMIT_NOFILE, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_AS, RLIM_INFINITY, EINVAL, EPERM, EFAULT, ESRCH, type Rlimit,
} from "./mod.ts";

t.test("getrlimit: init's defaults (NOFILE 1024/4096, STACK 8 MiB, CORE 0, AS unlimited); EINVAL, EFAULT", async (t) => {
	const r = await runTest(() => {
		const rl: Rlimit = { rlim_cur: 0n, rlim_max: 0n };
		t.equal(getrlimit(RLIMIT_NOFILE, rl), 0);
		t.same(rl, { rlim_cur: 1024n, rlim_max: 4096n });
		t.equal(getrlimit(RLIMIT_STACK, rl), 0);
		t.same(rl, { rlim_cur: 8388608n, rlim_max: RLIM_INFINITY });
		t.equal(getrlimit(RLIMIT_CORE, rl), 0);
		t.equal(rl.rlim_cur, 0n);
		t.equal(getrlimit(RLIMIT_AS, rl), 0);
		t.same(rl, { rlim_cur: RLIM_INFINITY, rlim_max: RLIM_INFINITY });
		t.equal(getrlimit(16, rl), -1);
		t.equal(errno, EINVAL);
		t.equal(getrlimit(RLIMIT_NOFILE, 16), -1);
		t.equal(errno, EFAULT, "a bad address");
		t.equal(getrlimit(RLIMIT_NOFILE, 0), 0, "NULL: prlimit64 with no old limit to store, as glibc calls it");
	});
	t.equal(r.status, 0);
});

t.test("setrlimit: EINVAL for cur > max; raising the hard limit needs privilege; children inherit", async (t) => {
	const r = await runTest(async () => {
		t.equal(setrlimit(RLIMIT_NOFILE, { rlim_cur: 200n, rlim_max: 100n }), -1);
		t.equal(errno, EINVAL);
		const rl: Rlimit = { rlim_cur: 0n, rlim_max: 0n };
		getrlimit(RLIMIT_NOFILE, rl);
		t.same(rl, { rlim_cur: 1024n, rlim_max: 4096n }, "unchanged");
		t.equal(setrlimit(RLIMIT_NOFILE, { rlim_cur: 2048n, rlim_max: 2048n }), 0);
		const c = fork(() => {
			const x: Rlimit = { rlim_cur: 0n, rlim_max: 0n };
			getrlimit(RLIMIT_NOFILE, x);
			return x.rlim_cur === 2048n ? 0 : 1;
		});
		const st = new Int32Array(1);
		await waitpid(c, st, 0);
		t.equal(WEXITSTATUS(st[0]!), 0, "inherited by fork");
		t.equal(setrlimit(RLIMIT_NOFILE, { rlim_cur: 4096n, rlim_max: 2000000n }), -1);
		t.equal(errno, EPERM, "above fs.nr_open even for root");
	});
	t.equal(r.status, 0);
	const u = await runTest(() => {
		t.equal(setrlimit(RLIMIT_NOFILE, { rlim_cur: 1024n, rlim_max: 8192n }), -1);
		t.equal(errno, EPERM, "raising the hard limit without CAP_SYS_RESOURCE");
		t.equal(setrlimit(RLIMIT_NOFILE, { rlim_cur: 4096n, rlim_max: 4096n }), 0, "soft up to hard is allowed");
		t.equal(setrlimit(RLIMIT_NOFILE, { rlim_cur: 100n, rlim_max: 100n }), 0, "lowering is allowed");
		t.equal(setrlimit(RLIMIT_NOFILE, { rlim_cur: 100n, rlim_max: 4096n }), -1);
		t.equal(errno, EPERM, "and cannot be undone");
	}, { uid: 1000 });
	t.equal(u.status, 0);
});

t.test("prlimit: old and new in one call, ESRCH for no such pid", async (t) => {
	const r = await runTest(() => {
		const old: Rlimit = { rlim_cur: 0n, rlim_max: 0n };
		t.equal(prlimit(0, RLIMIT_NOFILE, { rlim_cur: 10n, rlim_max: 4096n }, old), 0);
		t.same(old, { rlim_cur: 1024n, rlim_max: 4096n });
		t.equal(prlimit(getpid(), RLIMIT_NOFILE, null, old), 0);
		t.equal(old.rlim_cur, 10n);
		t.equal(prlimit(99999, RLIMIT_NOFILE, null, old), -1);
		t.equal(errno, ESRCH);
		const a = malloc(16);
		t.equal(prlimit(0, RLIMIT_NOFILE, null, a), 0, "a user address");
	});
	t.equal(r.status, 0);
});
