import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, poll, ppoll, pipe, write, read, close, fork, sleep, waitpid, clock_gettime, malloc, poke, peek,
	POLLIN, POLLOUT, POLLNVAL, POLLHUP, CLOCK_MONOTONIC, EFAULT, EINVAL, type PollFd, type Timespec,
} from "./mod.ts";

function nowNs(): number {
	const ts: Timespec = { tv_sec: 0, tv_nsec: 0 };
	clock_gettime(CLOCK_MONOTONIC, ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

t.test("poll: revents copied back; POLLNVAL for a closed fd; a negative fd is skipped", async (t) => {
	const r = await runTest(async () => {
		const p = new Int32Array(2);
		pipe(p);
		const fds: PollFd[] = [
			{ fd: p[0]!, events: POLLIN, revents: 0x55 },
			{ fd: p[1]!, events: POLLOUT, revents: 0 },
			{ fd: 40, events: POLLIN, revents: 0 },
			{ fd: -1, events: POLLIN, revents: 7 },
		];
		t.equal(await poll(fds, 4, 0), 2);
		t.equal(fds[0]!.revents, 0, "empty pipe: not readable");
		t.equal(fds[1]!.revents, POLLOUT);
		t.equal(fds[2]!.revents, POLLNVAL);
		t.equal(fds[3]!.revents, 0, "negative fd: revents cleared");
		write(p[1]!, Uint8Array.of(1), 1);
		t.equal(await poll(fds, 1, 0), 1);
		t.equal(fds[0]!.revents, POLLIN);
		close(p[1]!);
		read(p[0]!, new Uint8Array(1), 1);
		t.equal(await poll(fds, 1, 0), 1);
		t.equal(fds[0]!.revents, POLLHUP, "writer gone");
	});
	t.equal(r.status, 0);
});

t.test("poll sleeps on the virtual clock: timeout 0 returns at once, a timeout after exactly that time", async (t) => {
	const r = await runTest(async () => {
		const p = new Int32Array(2);
		pipe(p);
		const fds: PollFd[] = [{ fd: p[0]!, events: POLLIN, revents: 0 }];
		const t0 = nowNs();
		t.equal(await poll(fds, 1, 0), 0);
		t.equal(nowNs(), t0);
		t.equal(await poll(fds, 1, 250), 0, "timed out");
		t.equal(nowNs() - t0, 250_000_000);
	});
	t.equal(r.status, 0);
});

t.test("poll is woken by another process's write", async (t) => {
	const r = await runTest(async () => {
		const p = new Int32Array(2);
		pipe(p);
		const t0 = nowNs();
		const c = fork(async () => {
			await sleep(3);
			write(p[1]!, Uint8Array.of(9), 1);
			return 0;
		});
		const fds: PollFd[] = [{ fd: p[0]!, events: POLLIN, revents: 0 }];
		t.equal(await poll(fds, 1, -1), 1);
		t.equal(fds[0]!.revents, POLLIN);
		t.equal(nowNs() - t0, 3_000_000_000, "woken when the child wrote");
		await waitpid(c, null, 0);
	});
	t.equal(r.status, 0);
});

t.test("poll errors: EFAULT for a bad array or nfds beyond it, EINVAL for nfds over RLIMIT_NOFILE", async (t) => {
	const r = await runTest(async () => {
		const fds: PollFd[] = [{ fd: 0, events: POLLIN, revents: 0 }];
		t.equal(await poll(fds, 2, 0), -1);
		t.equal(errno, EFAULT, "nfds larger than the array");
		t.equal(await poll(16, 1, 0), -1);
		t.equal(errno, EFAULT, "bad address");
		t.equal(await poll(malloc(8), 5000, 0), -1);
		t.equal(errno, EINVAL);
		t.equal(fds[0]!.revents, 0, "unchanged on failure");
		t.equal(await poll([], 0, 10), 0, "nothing to poll: a pure sleep");
	});
	t.equal(r.status, 0);
});

t.test("poll on a struct pollfd array in user memory", async (t) => {
	const r = await runTest(async () => {
		const a = malloc(8);
		poke(a, Uint8Array.of(1, 0, 0, 0, 4, 0, 0, 0));
		t.equal(await poll(a, 1, 0), 1);
		t.same(peek(a + 6, 2), Uint8Array.of(4, 0), "revents POLLOUT on the console");
	});
	t.equal(r.status, 0);
});

t.test("ppoll: a timespec timeout, NULL for none; EINVAL for a bad timespec", async (t) => {
	const r = await runTest(async () => {
		const p = new Int32Array(2);
		pipe(p);
		const fds: PollFd[] = [{ fd: p[0]!, events: POLLIN, revents: 0 }];
		const t0 = nowNs();
		t.equal(await ppoll(fds, 1, { tv_sec: 1, tv_nsec: 500 }, null), 0);
		t.equal(nowNs() - t0, 1_000_000_500);
		t.equal(await ppoll(fds, 1, { tv_sec: 0, tv_nsec: 1_000_000_000 }, null), -1);
		t.equal(errno, EINVAL);
		write(p[1]!, Uint8Array.of(1), 1);
		t.equal(await ppoll(fds, 1, null), 1);
		t.equal(fds[0]!.revents, POLLIN);
	});
	t.equal(r.status, 0);
});
