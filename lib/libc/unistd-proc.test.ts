import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, set_errno, getpid, getppid, getuid, geteuid, getgid, getegid, setuid, setgid, setsid, fork, execve,
	_exit, exit, sleep, usleep, sysconf, getpagesize, waitpid, write, read, pipe, close, clock_gettime, setrlimit,
	WIFEXITED, WEXITSTATUS, CLOCK_MONOTONIC, RLIMIT_NOFILE,
	_SC_PAGESIZE, _SC_PAGE_SIZE, _SC_OPEN_MAX, _SC_CLK_TCK, _SC_NPROCESSORS_ONLN, _SC_ARG_MAX,
	open, O_WRONLY, O_CREAT, O_RDONLY, O_CLOEXEC,
	EPERM, ENOENT, EINVAL, EFAULT, EACCES, type Timespec,
} from "./mod.ts";

t.test("ids: pid, ppid, uid/gid of root and of an unprivileged program", async (t) => {
	let pid = 0;
	const r = await runTest(() => {
		pid = getpid();
		t.equal(getppid(), 1, "child of init");
		t.equal(getuid(), 0);
		t.equal(geteuid(), 0);
		t.equal(getgid(), 0);
		t.equal(getegid(), 0);
	});
	t.equal(r.status, 0);
	t.ok(pid > 1);
	const u = await runTest(() => {
		t.equal(getuid(), 1000);
		t.equal(geteuid(), 1000);
		t.equal(getgid(), 1000);
		t.equal(setuid(0), -1);
		t.equal(errno, EPERM, "no CAP_SETUID");
		t.equal(setgid(0), -1);
		t.equal(errno, EPERM);
		t.equal(getuid(), 1000, "unchanged");
		t.equal(setuid(1000), 0, "to its own uid");
	}, { uid: 1000 });
	t.equal(u.status, 0);
});

t.test("setuid as root drops privilege for good", async (t) => {
	const r = await runTest(() => {
		t.equal(setgid(100), 0);
		t.equal(getgid(), 100);
		t.equal(setuid(1000), 0);
		t.equal(getuid(), 1000);
		t.equal(geteuid(), 1000);
		t.equal(setuid(0), -1);
		t.equal(errno, EPERM);
	});
	t.equal(r.status, 0);
});

t.test("setsid: a new session for a non-leader, EPERM for a group leader", async (t) => {
	const r = await runTest(async () => {
		t.equal(setsid(), -1, "spawned programs lead their process group");
		t.equal(errno, EPERM);
		const child = fork(() => {
			const sid = setsid();
			return sid === getpid() ? 0 : 1;
		});
		const st = new Int32Array(1);
		t.equal(await waitpid(child, st, 0), child);
		t.equal(WEXITSTATUS(st[0]!), 0, "the child's new session id is its pid");
	});
	t.equal(r.status, 0);
});

t.test("fork: the child shares fds, gets its own pid and errno, its return value is its status", async (t) => {
	const r = await runTest(async () => {
		const fds = new Int32Array(2);
		t.equal(pipe(fds), 0);
		set_errno(EINVAL);
		const parent = getpid();
		const child = fork(() => {
			if (errno !== EINVAL) return 10;
			if (getppid() !== parent) return 11;
			set_errno(0);
			write(fds[1]!, new TextEncoder().encode("hi"), 2);
			return 7;
		});
		t.ok(child > parent);
		const st = new Int32Array(1);
		t.equal(await waitpid(child, st, 0), child);
		t.equal(WIFEXITED(st[0]!), 1);
		t.equal(WEXITSTATUS(st[0]!), 7);
		t.equal(errno, EINVAL, "the child's errno is its own");
		const b = new Uint8Array(2);
		t.equal(read(fds[0]!, b, 2), 2);
		t.equal(new TextDecoder().decode(b), "hi");
		close(fds[0]!);
	});
	t.equal(r.status, 0);
});

t.test("execve: a missing program is ENOENT, a non-program file ENOEXEC or EACCES, a bad pointer EFAULT", async (t) => {
	const r = await runTest(async () => {
		t.equal(await execve("/nonexistent", ["x"]), -1);
		t.equal(errno, ENOENT);
		t.equal(await execve("/dev/null", ["null"]), -1);
		t.equal(errno, EACCES, "not a regular file");
		t.equal(await execve(0, ["x"]), -1);
		t.equal(errno, EFAULT);
	});
	t.equal(r.status, 0);
});

t.test("execve runs a program file: new argv, close-on-exec fds closed, the old code never resumes", async (t) => {
	let resumed = false;
	const r = await runTest(async () => {
		const prog = `#!luosim\n${new URL("./testdata/exec-args.ts", import.meta.url).pathname}\n`;
		const fd = open("/tmp/prog", O_WRONLY | O_CREAT, 0o755);
		t.equal(write(fd, new TextEncoder().encode(prog), prog.length), prog.length);
		t.equal(close(fd), 0);
		t.equal(open("/dev/null", O_RDONLY | O_CLOEXEC), 3);
		const st = new Int32Array(1);
		const child = fork(async () => {
			await execve("/tmp/prog", ["prog", "one", "two"]);
			resumed = true;
			return 99;
		});
		t.equal(await waitpid(child, st, 0), child);
		t.equal(WEXITSTATUS(st[0]!), 3, "the new program's exit status");
	});
	t.equal(r.status, 0);
	t.equal(resumed, false);
	t.equal(r.stdout, "argv[0] = prog\nargv[1] = one\nargv[2] = two\nfcntl(3, F_GETFD) = -1 EBADF\n");
});

t.test("_exit and exit end the process with the status & 0xff and never return", async (t) => {
	let after = false;
	const r = await runTest(() => {
		_exit(300);
		after = true;
	});
	t.equal(r.status, (300 & 0xff) << 8);
	t.equal(after, false);
	const e = await runTest(() => {
		exit(3);
	});
	t.equal(e.status, 3 << 8);
});

t.test("sleep and usleep advance the virtual clock by exactly the time asked", async (t) => {
	const r = await runTest(async () => {
		const a: Timespec = { tv_sec: 0, tv_nsec: 0 };
		const b: Timespec = { tv_sec: 0, tv_nsec: 0 };
		clock_gettime(CLOCK_MONOTONIC, a);
		t.equal(await sleep(2), 0);
		t.equal(await usleep(1500), 0);
		clock_gettime(CLOCK_MONOTONIC, b);
		t.equal((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec), 2_001_500_000);
	});
	t.equal(r.status, 0);
});

t.test("sysconf: page size, open max from RLIMIT_NOFILE, clock ticks, one CPU; EINVAL otherwise", async (t) => {
	const r = await runTest(() => {
		t.equal(sysconf(_SC_PAGESIZE), 4096);
		t.equal(sysconf(_SC_PAGE_SIZE), 4096);
		t.equal(getpagesize(), 4096);
		t.equal(sysconf(_SC_OPEN_MAX), 1024);
		t.equal(setrlimit(RLIMIT_NOFILE, { rlim_cur: 64n, rlim_max: 4096n }), 0);
		t.equal(sysconf(_SC_OPEN_MAX), 64);
		t.equal(sysconf(_SC_CLK_TCK), 100);
		t.equal(sysconf(_SC_NPROCESSORS_ONLN), 1);
		set_errno(0);
		t.equal(sysconf(_SC_ARG_MAX), -1);
		t.equal(errno, EINVAL);
		t.equal(sysconf(-5), -1);
		t.equal(errno, EINVAL);
	});
	t.equal(r.status, 0);
});
