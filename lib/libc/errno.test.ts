import t from "tap";
import { runTest } from "./testing.ts";
import { errno, set_errno, close, fork, waitpid, sleep, open, getpid, O_RDONLY, EBADF, ENOENT, EINVAL, E2BIG, EHWPOISON } from "./mod.ts";

t.test("errno is set by a failing call, left alone by a successful one, and set_errno assigns it", async (t) => {
	const r = await runTest(() => {
		t.equal(errno, 0, "starts at 0");
		t.equal(close(99), -1);
		t.equal(errno, EBADF);
		t.ok(getpid() > 0);
		t.equal(errno, EBADF, "success does not clear it");
		set_errno(0);
		t.equal(errno, 0);
		set_errno(EINVAL);
		t.equal(errno, EINVAL);
	});
	t.equal(r.status, 0);
});

t.test("each process has its own errno; the binding follows context switches", async (t) => {
	const r = await runTest(async () => {
		t.equal(open("/nope", O_RDONLY), -1);
		t.equal(errno, ENOENT);
		const c = fork(async () => {
			const mine = errno === ENOENT ? 0 : 1;
			close(1234);
			await sleep(1);
			return errno === EBADF ? mine : 2;
		});
		await sleep(2);
		t.equal(errno, ENOENT, "the child's EBADF did not leak into the parent");
		const st = new Int32Array(1);
		await waitpid(c, st, 0);
		t.equal(st[0]! >> 8, 0, "the child saw its own errno after its sleep");
		t.equal(errno, ENOENT);
	});
	t.equal(r.status, 0);
});

t.test("errno constants are Linux x86_64's", async (t) => {
	t.equal(E2BIG, 7);
	t.equal(EHWPOISON, 133);
});
