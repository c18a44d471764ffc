import t from "tap";
import { runTest } from "../libc/testing.ts";
import {
	errno, open, read, write, close, fork, poll, ppoll, pipe, malloc, poke, peek,
	O_RDONLY, O_RDWR, POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLWRNORM,
	EFAULT, EINVAL, timespecBytes, timespecFrom, type PollFd, type Timespec,
} from "../libc/mod.ts";
import { RLIMIT_NOFILE } from "../kernel/process.ts";
// Registers pipe(2), which boot does not import (yet).
import "./pipe.ts";
import { kernelKobj, kobjectCreateAndAdd, kobjAttrRO, sysfsCreateFile, sysfsNotify } from "./sysfs.ts";
import type { Kobject } from "./sysfs.ts";
import { debugfsCreateFile } from "./debugfs.ts";
import { syscallAsync } from "../kernel/syscallTable.ts";
import { current } from "../kernel/current.ts";
import { DEFAULT_POLLMASK, POLLMSG, POLLRDBAND, POLLRDHUP, POLLWRBAND } from "./poll.ts";

const enc = new TextEncoder();

// These tests use only the syscalls of this module and the VFS: the clock
// is read from the kernel, sleeping is poll(NULL, 0, ms), and a parent
// waits for its children by polling a pipe whose write end only they hold.

function nowMs(): number {
	return current().kernel.clock.nowNs() / 1e6;
}

async function msleep(ms: number): Promise<void> {
	await poll([], 0, ms);
}

/** A pipe for `fork`ed children to inherit; `wait()` returns once every child holding it has exited. */
function exitPipe(): { wait(): Promise<void> } {
	const p = new Int32Array(2);
	pipe(p);
	let closed = false;
	return {
		async wait(): Promise<void> {
			if (!closed) close(p[1]!);
			closed = true;
			const fds: PollFd[] = [{ fd: p[0]!, events: POLLIN, revents: 0 }];
			while (!(fds[0]!.revents & POLLHUP)) if ((await poll(fds, 1, -1)) < 0) throw new Error(`poll: errno ${errno}`);
			close(p[0]!);
		},
	};
}

function say(text: string): void {
	const b = enc.encode(text);
	write(1, b, b.length);
}

/** /sys/kernel/luotest/state, whose kobject the test body can notify. */
function withStateAttr(): { setup: (k: Parameters<typeof kernelKobj>[0]) => void; kobj: () => Kobject } {
	let kobj: Kobject | null = null;
	return {
		setup: (k) => {
			kobj = kobjectCreateAndAdd(k, "luotest", kernelKobj(k));
			sysfsCreateFile(kobj, kobjAttrRO("state", () => "normal\n"));
		},
		kobj: () => kobj!,
	};
}

t.test("the POLL* constants are the uapi values", async (t) => {
	t.same(
		[POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND, POLLMSG, POLLRDHUP],
		[1, 2, 4, 8, 0x10, 0x20, 0x40, 0x80, 0x100, 0x200, 0x400, 0x2000],
	);
	t.equal(DEFAULT_POLLMASK, 0x145);
});

t.test("a child blocked in poll(POLLPRI, 5000 ms) on an attribute wakes on sysfs_notify", async (t) => {
	const attr = withStateAttr();
	const r = await runTest(async () => {
		const fd = open("/sys/kernel/luotest/state", O_RDONLY);
		read(fd, new Uint8Array(64), 64);
		const children = exitPipe();
		fork(async () => {
			const fds: PollFd[] = [{ fd, events: POLLPRI, revents: 0 }];
			const t0 = nowMs();
			const n = await poll(fds, 1, 5000);
			say(`child: poll=${n} revents=${fds[0]!.revents} after ${nowMs() - t0} ms\n`);
			return 0;
		});
		await msleep(1000);
		say("parent: notify\n");
		sysfsNotify(attr.kobj(), null, "state");
		await children.wait();
		return 0;
	}, { setup: attr.setup });
	t.equal(r.status, 0, r.stderr);
	t.equal(r.stdout, `parent: notify\nchild: poll=1 revents=${POLLPRI | POLLERR} after 1000 ms\n`);
});

t.test("without a notify, poll(POLLPRI, 5000 ms) returns 0 at virtual 5000 ms", async (t) => {
	const attr = withStateAttr();
	const r = await runTest(async () => {
		const fd = open("/sys/kernel/luotest/state", O_RDONLY);
		read(fd, new Uint8Array(64), 64);
		const fds: PollFd[] = [{ fd, events: POLLPRI, revents: 0 }];
		const t0 = nowMs();
		const n = await poll(fds, 1, 5000);
		say(`poll=${n} revents=${fds[0]!.revents} after ${nowMs() - t0} ms\n`);
		return 0;
	}, { setup: attr.setup });
	t.equal(r.stdout, "poll=0 revents=0 after 5000 ms\n");
});

t.test("a sysfs file opened but not yet read polls POLLPRI|POLLERR at once", async (t) => {
	const attr = withStateAttr();
	const r = await runTest(async () => {
		const fd = open("/sys/kernel/luotest/state", O_RDONLY);
		const fds: PollFd[] = [{ fd, events: POLLIN | POLLPRI, revents: 0 }];
		say(`${await poll(fds, 1, 5000)} ${fds[0]!.revents} ${nowMs()}\n`);
		return 0;
	}, { setup: attr.setup });
	t.equal(r.stdout, `1 ${POLLIN | POLLPRI | POLLERR} 0\n`);
});

t.test("three processes interleaving poll, sleep and writes print the same output on every run", async (t) => {
	const program = async (): Promise<number> => {
		const a = new Int32Array(2);
		const b = new Int32Array(2);
		pipe(a);
		pipe(b);
		const children = exitPipe();
		fork(async () => {
			close(a[1]!);
			close(b[1]!);
			const fds: PollFd[] = [
				{ fd: a[0]!, events: POLLIN, revents: 0 },
				{ fd: b[0]!, events: POLLIN, revents: 0 },
			];
			let open_ = 2;
			while (open_ > 0) {
				const n = await poll(fds, 2, 400);
				if (n === 0) say(`${nowMs()} reader: timeout\n`);
				for (const f of fds) {
					if (f.revents & POLLIN) {
						const buf = new Uint8Array(32);
						const got = read(f.fd, buf, 32);
						say(`${nowMs()} reader: fd ${f.fd} "${new TextDecoder().decode(buf.subarray(0, got))}"\n`);
					} else if (f.revents & POLLHUP) {
						say(`${nowMs()} reader: fd ${f.fd} hangup\n`);
						f.fd = -1;
						open_--;
					}
				}
			}
			return 0;
		});
		fork(async () => {
			close(a[0]!);
			close(b[0]!);
			close(a[1]!);
			for (let i = 0; i < 3; i++) {
				await msleep(500);
				const m = enc.encode(`w${i}`);
				write(b[1]!, m, m.length);
			}
			return 0;
		});
		close(a[0]!);
		close(b[0]!);
		close(b[1]!);
		for (let i = 0; i < 2; i++) {
			await msleep(800);
			const m = enc.encode(`p${i}`);
			write(a[1]!, m, m.length);
		}
		close(a[1]!);
		await children.wait();
		say(`${nowMs()} parent: done\n`);
		return 0;
	};
	const first = await runTest(program);
	const second = await runTest(program);
	t.equal(first.status, 0, first.stderr);
	t.equal(second.stdout, first.stdout);
	t.equal(
		first.stdout,
		[
			"400 reader: timeout",
			'500 reader: fd 5 "w0"',
			'800 reader: fd 3 "p0"',
			'1000 reader: fd 5 "w1"',
			"1400 reader: timeout",
			'1500 reader: fd 5 "w2"',
			"1500 reader: fd 5 hangup",
			'1600 reader: fd 3 "p1"',
			"1600 reader: fd 3 hangup",
			"1600 parent: done",
			"",
		].join("\n"),
	);
});

t.test("events are masked by what was asked, plus POLLERR and POLLHUP", async (t) => {
	const r = await runTest(async () => {
		const p = new Int32Array(2);
		pipe(p);
		write(p[1]!, Uint8Array.of(1), 1);
		const fds: PollFd[] = [{ fd: p[0]!, events: POLLOUT, revents: 0 }];
		t.equal(await poll(fds, 1, 0), 0, "readable, but only POLLOUT was asked");
		close(p[1]!);
		t.equal(await poll(fds, 1, 0), 1);
		t.equal(fds[0]!.revents, POLLHUP, "POLLHUP is always reported");
		return 0;
	});
	t.equal(r.status, 0, r.stderr);
});

t.test("a file without a poll op reports DEFAULT_POLLMASK", async (t) => {
	const r = await runTest(async () => {
		const fd = open("/sys/kernel/debug/plain", O_RDWR);
		const fds: PollFd[] = [{ fd, events: 0xffff, revents: 0 }];
		t.equal(await poll(fds, 1, -1), 1);
		t.equal(fds[0]!.revents, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
		return 0;
	}, { setup: (k) => debugfsCreateFile(k, "plain", 0o600, null, null, {}) });
	t.equal(r.status, 0, r.stderr);
});

t.test("poll errors: EFAULT for an unreadable array, EINVAL for nfds over RLIMIT_NOFILE", async (t) => {
	const r = await runTest(async () => {
		t.equal(await poll(16, 1, 0), -1);
		t.equal(errno, EFAULT);
		t.equal(await poll(0, 0, 0), 0, "no fds, no array needed");
		current().rlimits[RLIMIT_NOFILE] = { cur: 8n, max: 8n };
		const fds: PollFd[] = Array.from({ length: 9 }, () => ({ fd: -1, events: 0, revents: 0 }));
		t.equal(await poll(fds, 9, 0), -1);
		t.equal(errno, EINVAL);
		t.equal(await poll(fds, 8, 0), 0);
		return 0;
	});
	t.equal(r.status, 0, r.stderr);
});

t.test("poll with a negative timeout waits until woken; with nfds 0 it is a sleep", async (t) => {
	const r = await runTest(async () => {
		const t0 = nowMs();
		t.equal(await poll([], 0, 1234), 0);
		t.equal(nowMs() - t0, 1234);
		const p = new Int32Array(2);
		pipe(p);
		const children = exitPipe();
		fork(async () => {
			await msleep(3000);
			write(p[1]!, Uint8Array.of(7), 1);
			return 0;
		});
		const fds: PollFd[] = [{ fd: p[0]!, events: POLLIN, revents: 0 }];
		t.equal(await poll(fds, 1, -1), 1);
		t.equal(nowMs() - t0, 4234);
		await children.wait();
		return 0;
	});
	t.equal(r.status, 0, r.stderr);
});

t.test("ppoll: NULL waits forever, a timespec times out, bad timespecs are EINVAL", async (t) => {
	const r = await runTest(async () => {
		const p = new Int32Array(2);
		pipe(p);
		const fds: PollFd[] = [{ fd: p[0]!, events: POLLIN, revents: 0 }];
		const children = exitPipe();
		fork(async () => {
			await msleep(2000);
			write(p[1]!, Uint8Array.of(7), 1);
			return 0;
		});
		t.equal(await ppoll(fds, 1, null), 1);
		t.equal(nowMs(), 2000);
		await children.wait();
		read(p[0]!, new Uint8Array(1), 1);
		const ts: Timespec = { tv_sec: 1, tv_nsec: 500_000_000 };
		t.equal(await ppoll(fds, 1, ts), 0);
		t.same(ts, { tv_sec: 1, tv_nsec: 500_000_000 }, "glibc hands the kernel a copy of the timeout");
		t.equal(nowMs(), 3500);
		const zero: Timespec = { tv_sec: 0, tv_nsec: 0 };
		t.equal(await ppoll(fds, 1, zero), 0);
		t.equal(nowMs(), 3500, "a zero timeout does not sleep");
		for (const bad of [{ tv_sec: -1, tv_nsec: 0 }, { tv_sec: 0, tv_nsec: 1_000_000_000 }, { tv_sec: 0, tv_nsec: -1 }]) {
			t.equal(await ppoll(fds, 1, bad), -1);
			t.equal(errno, EINVAL);
		}
		return 0;
	});
	t.equal(r.status, 0, r.stderr);
});

t.test("ppoll checks the sigset size and address and writes the time left back to *tsp", async (t) => {
	const r = await runTest(async () => {
		const p = new Int32Array(2);
		pipe(p);
		const ufds = malloc(8);
		poke(ufds, Uint8Array.of(p[0]!, 0, 0, 0, POLLIN, 0, 0, 0));
		const ts = malloc(16);
		poke(ts, Uint8Array.of(5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
		const set = malloc(8);
		const self = current();
		t.equal(await syscallAsync(self, "ppoll", [ufds, 1, 0, set, 16]), -EINVAL);
		t.equal(await syscallAsync(self, "ppoll", [ufds, 1, 0, 16, 8]), -EFAULT);
		t.equal(await syscallAsync(self, "ppoll", [16, 1, ts, 0, 8]), -EFAULT);
		t.same([...peek(ts, 16)], [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
		write(p[1]!, Uint8Array.of(1), 1);
		t.equal(await syscallAsync(self, "ppoll", [ufds, 1, ts, set, 8]), 1);
		t.same([...peek(ufds, 8)], [p[0]!, 0, 0, 0, POLLIN, 0, POLLIN, 0], "only revents is written");
		t.same(timespecFrom(peek(ts, 16)), { tv_sec: 5, tv_nsec: 0 }, "ready at once: all of the time left");
		read(p[0]!, new Uint8Array(1), 1);
		poke(ts, timespecBytes({ tv_sec: 2, tv_nsec: 0 }));
		const children = exitPipe();
		fork(async () => {
			await msleep(1250);
			write(p[1]!, Uint8Array.of(1), 1);
			return 0;
		});
		t.equal(await syscallAsync(self, "ppoll", [ufds, 1, ts, 0, 0]), 1);
		t.same(timespecFrom(peek(ts, 16)), { tv_sec: 0, tv_nsec: 750_000_000 }, "woken after 1.25 s of 2 s");
		await children.wait();
		read(p[0]!, new Uint8Array(1), 1);
		t.equal(await syscallAsync(self, "ppoll", [ufds, 1, ts, 0, 0]), 0);
		t.same(timespecFrom(peek(ts, 16)), { tv_sec: 0, tv_nsec: 0 }, "timed out: nothing left");
		poke(ts, timespecBytes({ tv_sec: 0, tv_nsec: 0 }));
		t.equal(await syscallAsync(self, "ppoll", [ufds, 1, ts, 0, 0]), 0);
		t.same(timespecFrom(peek(ts, 16)), { tv_sec: 0, tv_nsec: 0 });
		return 0;
	});
	t.equal(r.status, 0, r.stderr);
});
