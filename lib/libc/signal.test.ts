import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, kill, raise, abort, getpid, strsignal,
	SIGTERM, SIGABRT, SIGCHLD, SIGKILL, SIGUSR1, SIGWINCH, ESRCH, EINVAL, EPERM,
} from "./mod.ts";

t.test("kill: signal 0 checks; ESRCH, EINVAL, EPERM", async (t) => {
	const r = await runTest(() => {
		t.equal(kill(getpid(), 0), 0);
		t.equal(kill(99999, 0), -1);
		t.equal(errno, ESRCH);
		t.equal(kill(getpid(), 65), -1);
		t.equal(errno, EINVAL);
		t.equal(kill(getpid(), -1), -1);
		t.equal(errno, EINVAL);
	});
	t.equal(r.status, 0);
	const u = await runTest(() => {
		t.equal(kill(1, SIGTERM), -1);
		t.equal(errno, EPERM, "an unprivileged process cannot signal init (root's)");
	}, { uid: 1000 });
	t.equal(u.status, 0);
});

t.test("raise: a fatal signal kills the caller; an ignored one returns 0", async (t) => {
	let after = false;
	const r = await runTest(() => {
		t.equal(raise(SIGCHLD), 0);
		t.equal(raise(SIGWINCH), 0);
		raise(SIGUSR1);
		after = true;
	});
	t.equal(r.status & 0x7f, SIGUSR1);
	t.equal(after, false);
	const k = await runTest(() => {
		kill(getpid(), SIGKILL);
	});
	t.equal(k.status & 0x7f, SIGKILL);
});

t.test("abort: killed by signal 6", async (t) => {
	let after = false;
	const r = await runTest(() => {
		abort();
		after = true;
	});
	t.equal(r.status & 0x7f, SIGABRT);
	t.equal(after, false);
});

t.test("strsignal texts", async (t) => {
	t.equal(strsignal(SIGABRT), "Aborted");
	t.equal(strsignal(SIGKILL), "Killed");
	t.equal(strsignal(SIGTERM), "Terminated");
});
