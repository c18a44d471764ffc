import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, fork, wait, waitpid, sleep, abort, kill, getpid, malloc, peek,
	WNOHANG, WIFEXITED, WEXITSTATUS, WIFSIGNALED, WTERMSIG, WCOREDUMP, WIFSTOPPED, WIFCONTINUED, WSTOPSIG,
	SIGKILL, SIGABRT, SIGTERM, ECHILD, EINVAL,
} from "./mod.ts";

t.test("W* macros decode wait statuses as glibc does", async (t) => {
	t.equal(WIFEXITED(0x0300), 1);
	t.equal(WEXITSTATUS(0x0300), 3);
	t.equal(WIFSIGNALED(0x0300), 0);
	t.equal(WIFSIGNALED(9), 1);
	t.equal(WTERMSIG(9), 9);
	t.equal(WIFEXITED(9), 0);
	t.equal(WCOREDUMP(0x86), 0x80);
	t.equal(WTERMSIG(0x86), 6);
	t.equal(WIFSTOPPED(0x137f), 1);
	t.equal(WSTOPSIG(0x137f), 0x13);
	t.equal(WIFSIGNALED(0x137f), 0, "a stop is not a death by signal");
	t.equal(WIFCONTINUED(0xffff), 1);
	t.equal(WIFSIGNALED(0xffff), 0);
});

t.test("waitpid: exit status, death by signal, WNOHANG, ECHILD", async (t) => {
	const r = await runTest(async () => {
		const st = new Int32Array(1);
		const a = fork(() => 42);
		t.equal(await waitpid(a, st, 0), a);
		t.equal(WIFEXITED(st[0]!), 1);
		t.equal(WEXITSTATUS(st[0]!), 42);

		const b = fork(async () => {
			await sleep(100);
			return 0;
		});
		t.equal(await waitpid(b, st, WNOHANG), 0, "still running");
		t.equal(kill(b, SIGKILL), 0);
		t.equal(await waitpid(b, st, 0), b);
		t.equal(WIFSIGNALED(st[0]!), 1);
		t.equal(WTERMSIG(st[0]!), SIGKILL);

		const c = fork(() => {
			abort();
		});
		t.equal(await waitpid(c, st, 0), c);
		t.equal(WIFSIGNALED(st[0]!), 1);
		t.equal(WTERMSIG(st[0]!), SIGABRT, "abort() is killed by signal 6");

		t.equal(await waitpid(-1, st, 0), -1);
		t.equal(errno, ECHILD, "no children left");
		t.equal(await waitpid(getpid() + 100, null, 0), -1);
		t.equal(errno, ECHILD);
		t.equal(await waitpid(-1, st, 0x4000), -1);
		t.equal(errno, EINVAL, "unknown option bit");
	});
	t.equal(r.status, 0);
});

t.test("wait: any child, status through a user address or NULL", async (t) => {
	const r = await runTest(async () => {
		const a = fork(() => 1);
		const b = fork(async () => {
			await sleep(1);
			return 2;
		});
		const addr = malloc(4);
		t.equal(await wait(addr), a, "the first to exit");
		t.equal(WEXITSTATUS(new DataView(peek(addr, 4).buffer).getInt32(0, true)), 1);
		t.equal(await wait(null), b);
		t.equal(await wait(null), -1);
		t.equal(errno, ECHILD);
	});
	t.equal(r.status, 0);
});

t.test("a program killed by SIGTERM from its parent", async (t) => {
	const r = await runTest(async () => {
		const st = new Int32Array(1);
		const c = fork(async () => {
			await sleep(10);
			return 0;
		});
		await sleep(1);
		t.equal(kill(c, SIGTERM), 0);
		t.equal(await waitpid(c, st, 0), c);
		t.equal(WTERMSIG(st[0]!), SIGTERM);
	});
	t.equal(r.status, 0);
});
