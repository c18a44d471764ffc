import t from "tap";
import { runTest } from "../libc/testing.ts";
import {
	errno, pipe, pipe2, read, write, close, lseek, fcntl, ioctl, fork, poll, fstat, readlink, Stat,
	O_CLOEXEC, O_NONBLOCK, O_DIRECT, O_RDONLY, O_WRONLY, O_EXCL, O_APPEND, F_GETFD, F_GETFL, FD_CLOEXEC, SEEK_SET,
	F_GETPIPE_SZ, F_SETPIPE_SZ, EBADF, EBUSY, EPERM,
	POLLIN, POLLOUT, POLLHUP, POLLERR, EAGAIN, EPIPE, ESPIPE, EINVAL, EFAULT, ENOPKG,
	WIFSIGNALED, WTERMSIG, SIGPIPE, S_IFIFO, type PollFd,
} from "../libc/mod.ts";
import { createPipeFiles, PipeInodeInfo } from "./pipe.ts";
import { FIONREAD } from "./syscalls/fd.ts";
import { Errno } from "../kernel/errno.ts";
import { current } from "../kernel/current.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function rd(fd: number, n: number): string | number {
	const buf = new Uint8Array(n);
	const got = read(fd, buf, n);
	return got < 0 ? -errno : dec.decode(buf.subarray(0, got));
}

function wr(fd: number, text: string | Uint8Array): number {
	const b = typeof text === "string" ? enc.encode(text) : text;
	const n = write(fd, b, b.length);
	return n < 0 ? -errno : n;
}

/** Runs `body` as a process of a fresh kernel; the process must exit 0. */
async function run(body: () => void | Promise<void>): Promise<void> {
	const r = await runTest(async () => {
		await body();
		return 0;
	});
	if (r.status !== 0) throw new Error(`exit status ${r.status}: ${r.stderr}`);
}

t.test("pipe() installs the read end and the write end at the lowest free fds", async (t) => {
	await run(() => {
		const p = new Int32Array(2);
		t.equal(pipe(p), 0);
		t.same([...p], [3, 4]);
		t.equal(fcntl(p[0]!, F_GETFL) & 3, O_RDONLY);
		t.equal(fcntl(p[1]!, F_GETFL) & 3, O_WRONLY);
		t.equal(fcntl(p[0]!, F_GETFD), 0);
		const st = new Stat();
		t.equal(fstat(p[0]!, st), 0);
		t.equal(st.st_mode, S_IFIFO | 0o600);
		t.equal(st.st_size, 0);
		const buf = new Uint8Array(64);
		const n = readlink(`/proc/self/fd/${p[0]}`, buf, 64);
		t.equal(dec.decode(buf.subarray(0, n)), `pipe:[${st.st_ino}]`);
	});
});

t.test("data written is read back in order; a read returns what is there", async (t) => {
	await run(() => {
		const p = new Int32Array(2);
		pipe(p);
		t.equal(wr(p[1]!, "hello "), 6);
		t.equal(wr(p[1]!, "world"), 5);
		t.equal(rd(p[0]!, 3), "hel");
		t.equal(rd(p[0]!, 100), "lo world");
	});
});

t.test("an empty pipe with a writer is EAGAIN; without writers it is EOF", async (t) => {
	await run(() => {
		const p = new Int32Array(2);
		pipe(p);
		t.equal(rd(p[0]!, 10), -EAGAIN);
		wr(p[1]!, "last");
		close(p[1]!);
		t.equal(rd(p[0]!, 10), "last", "data written before the close is still read");
		t.equal(rd(p[0]!, 10), "");
		t.equal(rd(p[0]!, 10), "");
	});
});

t.test("a write with no reader kills the writer with SIGPIPE", async (t) => {
	await run(async () => {
		const p = new Int32Array(2);
		pipe(p);
		close(p[0]!);
		const done = new Int32Array(2);
		pipe(done);
		const pid = fork(() => {
			wr(p[1]!, "x");
			return 0;
		});
		const child = current().kernel.processes.get(pid)!;
		close(done[1]!);
		await poll([{ fd: done[0]!, events: POLLIN, revents: 0 }], 1, -1);
		t.ok(WIFSIGNALED(child.exitStatus!));
		t.equal(WTERMSIG(child.exitStatus!), SIGPIPE);
	});
});

t.test("outside any process a write with no reader is just EPIPE", async (t) => {
	const { bootKernel } = await import("../kernel/machine.ts");
	const k = bootKernel();
	const [r, w] = createPipeFiles(k.init, 0);
	r.put();
	try {
		w.f_op.write!(w, Uint8Array.of(1), { pos: 0 });
		t.fail("no EPIPE");
	} catch (e) {
		t.ok(e instanceof Errno && e.errno === EPIPE);
	}
	w.put();
});

t.test("lseek on a pipe is ESPIPE", async (t) => {
	await run(() => {
		const p = new Int32Array(2);
		pipe(p);
		t.equal(lseek(p[0]!, 0, SEEK_SET), -1);
		t.equal(errno, ESPIPE);
		t.equal(lseek(p[1]!, 0, SEEK_SET), -1);
		t.equal(errno, ESPIPE);
	});
});

t.test("pipe2 takes O_CLOEXEC and O_NONBLOCK; other flags are EINVAL, O_NOTIFICATION_PIPE ENOPKG", async (t) => {
	await run(() => {
		const p = new Int32Array(2);
		t.equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
		t.equal(fcntl(p[0]!, F_GETFD), FD_CLOEXEC);
		t.equal(fcntl(p[1]!, F_GETFD), FD_CLOEXEC);
		t.ok(fcntl(p[0]!, F_GETFL) & O_NONBLOCK);
		t.ok(fcntl(p[1]!, F_GETFL) & O_NONBLOCK);
		const q = new Int32Array([-7, -7]);
		t.equal(pipe2(q, O_APPEND), -1);
		t.equal(errno, EINVAL);
		t.same([...q], [-7, -7], "nothing written on failure");
		t.equal(pipe2(q, O_EXCL), -1);
		t.equal(errno, ENOPKG);
		t.equal(pipe2(q, 0), 0);
		t.same([...q], [5, 6], "failed calls left no fds behind");
	});
});

t.test("a bad fd array is EFAULT and leaves no fd installed", async (t) => {
	await run(() => {
		t.equal(pipe(16), -1);
		t.equal(errno, EFAULT);
		const p = new Int32Array(2);
		pipe(p);
		t.same([...p], [3, 4]);
	});
});

t.test("the pipe holds 16 pages; a full pipe takes no more until a whole page is read", async (t) => {
	await run(() => {
		const p = new Int32Array(2);
		pipe(p);
		const big = new Uint8Array(70000).fill(0x61);
		t.equal(wr(p[1]!, big), 65536, "a write to a filling pipe is short");
		t.equal(wr(p[1]!, "x"), -EAGAIN);
		t.equal((rd(p[0]!, 1) as string).length, 1);
		t.equal(wr(p[1]!, "x"), -EAGAIN, "16 pages are still in use");
		t.equal((rd(p[0]!, 4095) as string).length, 4095);
		t.equal(wr(p[1]!, "xyz"), 3);
	});
});

t.test("small writes share a page; a PIPE_BUF write never splits", async (t) => {
	await run(() => {
		const p = new Int32Array(2);
		pipe(p);
		for (let i = 0; i < 15; i++) wr(p[1]!, new Uint8Array(4096));
		wr(p[1]!, new Uint8Array(4000));
		t.equal(wr(p[1]!, new Uint8Array(96)), 96, "fits in the last page");
		t.equal(wr(p[1]!, new Uint8Array(1)), -EAGAIN);
		t.equal(rd(p[0]!, 4096).toString().length, 4096);
		t.equal(wr(p[1]!, new Uint8Array(4096)), 4096);
	});
});

t.test("O_DIRECT pipes keep each write a packet", async (t) => {
	await run(() => {
		const p = new Int32Array(2);
		pipe2(p, O_DIRECT);
		t.equal(fcntl(p[0]!, F_GETFL) & O_DIRECT, 0, "only the write end is in packet mode");
		t.ok(fcntl(p[1]!, F_GETFL) & O_DIRECT);
		wr(p[1]!, "one");
		wr(p[1]!, "two");
		wr(p[1]!, "three");
		t.equal(rd(p[0]!, 100), "one");
		t.equal(rd(p[0]!, 2), "tw", "a short read drops the rest of the packet");
		t.equal(rd(p[0]!, 100), "three");
	});
});

t.test("poll masks: POLLIN with data, POLLOUT with room, POLLHUP without writers, POLLERR without readers", async (t) => {
	await run(async () => {
		const p = new Int32Array(2);
		pipe(p);
		const fds: PollFd[] = [
			{ fd: p[0]!, events: POLLIN | POLLOUT, revents: 0 },
			{ fd: p[1]!, events: POLLIN | POLLOUT, revents: 0 },
		];
		t.equal(await poll(fds, 2, 0), 1);
		t.same([fds[0]!.revents, fds[1]!.revents], [0, POLLOUT]);
		wr(p[1]!, "x");
		await poll(fds, 2, 0);
		t.same([fds[0]!.revents, fds[1]!.revents], [POLLIN, POLLOUT]);
		wr(p[1]!, new Uint8Array(65535));
		await poll(fds, 2, 0);
		t.same([fds[0]!.revents, fds[1]!.revents], [POLLIN, 0], "full");
		const q = new Int32Array(2);
		pipe(q);
		close(q[0]!);
		const qf: PollFd[] = [{ fd: q[1]!, events: POLLOUT, revents: 0 }];
		await poll(qf, 1, 0);
		t.equal(qf[0]!.revents, POLLOUT | POLLERR);
		close(p[1]!);
		await poll(fds, 1, 0);
		t.equal(fds[0]!.revents, POLLIN | POLLHUP);
	});
});

t.test("a reader sleeping in poll wakes when another process writes or closes", async (t) => {
	await run(async () => {
		const p = new Int32Array(2);
		pipe(p);
		const done = new Int32Array(2);
		pipe(done);
		const pid = fork(async () => {
			close(p[1]!);
			const fds: PollFd[] = [{ fd: p[0]!, events: POLLIN, revents: 0 }];
			if ((await poll(fds, 1, -1)) !== 1 || fds[0]!.revents !== POLLIN) return 1;
			if (rd(p[0]!, 10) !== "ping") return 2;
			if ((await poll(fds, 1, -1)) !== 1 || (fds[0]!.revents as number) !== POLLHUP) return 3;
			return rd(p[0]!, 10) === "" ? 0 : 4;
		});
		const child = current().kernel.processes.get(pid)!;
		close(done[1]!);
		await poll([], 0, 10);
		wr(p[1]!, "ping");
		await poll([], 0, 10);
		close(p[1]!);
		await poll([{ fd: done[0]!, events: POLLIN, revents: 0 }], 1, -1);
		t.equal(child.exitStatus, 0);
	});
});

t.test("the pipe info counts readers and writers", async (t) => {
	const { bootKernel } = await import("../kernel/machine.ts");
	const k = bootKernel();
	const [r, w] = createPipeFiles(k.init, 0);
	const info = r.private_data as PipeInodeInfo;
	t.equal(info.readers, 1);
	t.equal(info.writers, 1);
	w.f_op.write!(w, Uint8Array.of(1, 2, 3), { pos: 0 });
	t.equal(info.available(), 3);
	w.put();
	t.equal(info.writers, 0);
	r.put();
	t.equal(info.readers, 0);
});

t.test("FIONREAD tells the bytes waiting; F_GETPIPE_SZ and F_SETPIPE_SZ read and change the capacity", async (t) => {
	await run(async () => {
		const p = new Int32Array(2);
		pipe(p);
		const n = new Uint8Array(4);
		wr(p[1]!, "12345");
		t.equal(ioctl(p[0]!, FIONREAD, n), 0);
		t.equal(new DataView(n.buffer).getInt32(0, true), 5);
		t.equal(fcntl(p[0]!, F_GETPIPE_SZ), 65536);
		t.equal(fcntl(p[1]!, F_SETPIPE_SZ, 5000), 8192, "rounded up to a power of two of pages");
		t.equal(fcntl(p[0]!, F_GETPIPE_SZ), 8192, "both ends share the pipe");
		// 20000 = 4 pages + 3616: the 3616-byte tail goes into the first page first, then one full page fits.
		t.equal(wr(p[1]!, new Uint8Array(20000)), 3616 + 4096, "the small pipe fills at two pages");
		t.equal(fcntl(p[1]!, F_SETPIPE_SZ, 1), -1);
		t.equal(errno, EBUSY, "the data would not fit in one page");
		t.equal(fcntl(p[1]!, F_SETPIPE_SZ, 0), -1);
		t.equal(errno, EBUSY, "0 rounds up to one page, still too small");
		t.equal(fcntl(p[1]!, F_SETPIPE_SZ, 2 ** 31 + 1), -1);
		t.equal(errno, EINVAL);
		t.equal(fcntl(p[1]!, F_SETPIPE_SZ, 1 << 20), 1 << 20, "root may grow it");
		t.equal(fcntl(0, F_GETPIPE_SZ), -1);
		t.equal(errno, EBADF, "not a pipe");
	});
});

t.test("an unprivileged F_SETPIPE_SZ above pipe-max-size is EPERM", async (t) => {
	const r = await runTest(() => {
		const p = new Int32Array(2);
		pipe(p);
		t.equal(fcntl(p[1]!, F_SETPIPE_SZ, (1 << 20) + 1), -1);
		t.equal(errno, EPERM);
		t.equal(fcntl(p[1]!, F_SETPIPE_SZ, 1 << 20), 1 << 20);
		return 0;
	}, { uid: 1000 });
	t.equal(r.status, 0, r.stderr);
});
