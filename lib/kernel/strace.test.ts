import t from "tap";
import { run, User } from "./testing.ts";
import { disableStrace, enableStrace, registerIoctlName } from "./strace.ts";
import { sysFork } from "./syscalls/process.ts";
import { SIGABRT, SIGKILL } from "./signal.ts";
import { sendSignal } from "./process.ts";
import type { Kernel } from "./kernel.ts";

const AT_FDCWD = -100;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;

/** Runs `body` with strace on and returns the lines, addresses of anonymous memory replaced by ADDR. */
async function trace(body: (u: User) => number | void | Promise<number | void>, opts: { raw?: boolean; setup?: (k: Kernel) => void } = {}): Promise<string[]> {
	const lines: string[] = [];
	await run((u) => {
		opts.setup?.(u.kernel);
		enableStrace(u.kernel, (l) => lines.push(l));
		return body(u);
	});
	return opts.raw ? lines : lines.map((l) => l.replace(/0x7e[0-9a-f]{10}/g, "ADDR"));
}

t.test("file calls print as strace prints them", async (t) => {
	const lines = await trace((u) => {
		const buf = u.alloc(64);
		const fd = u.sys("openat", AT_FDCWD, "/dev/zero", O_RDONLY, 0);
		u.sys("read", fd, buf, 4);
		u.sys("read", fd, buf, 40);
		u.sys("read", fd, 8, 16);
		const out = u.sys("openat", AT_FDCWD, "/tmp/f", O_WRONLY | O_CREAT | O_TRUNC, 0o644);
		u.sys("write", out, u.str("hi \"there\"\n"), 11);
		u.sys("close", fd);
		u.sys("close", fd);
		u.sys("openat", AT_FDCWD, "/nonexistent", O_RDONLY, 0);
		return 3;
	});
	t.same(lines, [
		'openat(AT_FDCWD, "/dev/zero", O_RDONLY) = 0',
		'read(0, "\\0\\0\\0\\0", 4) = 4',
		`read(0, "${"\\0".repeat(32)}"..., 40) = 40`,
		"read(0, 0x8, 16) = -1 EFAULT (Bad address)",
		'openat(AT_FDCWD, "/tmp/f", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 1',
		'write(1, "hi \\"there\\"\\n", 11) = 11',
		"close(0) = 0",
		"close(0) = -1 EBADF (Bad file descriptor)",
		'openat(AT_FDCWD, "/nonexistent", O_RDONLY) = -1 ENOENT (No such file or directory)',
		"exit_group(3) = ?",
		"+++ exited with 3 +++",
	]);
});

t.test("ioctl: _IOC() for an unknown command, a registered name otherwise", async (t) => {
	const lines = await trace((u) => {
		const fd = u.sys("openat", AT_FDCWD, "/dev/null", O_RDONLY, 0);
		const f = u.p.files.get(fd);
		f.f_op = { ...f.f_op, ioctl: () => 0 };
		const arg = u.alloc(16);
		u.sys("ioctl", fd, 0xc010fe00, arg);
		registerIoctlName(0x4010fe07, "LUOSIM_TEST_IOCTL");
		u.sys("ioctl", fd, 0x4010fe07, 0);
	});
	t.same(lines.slice(1, 3), [
		"ioctl(0, _IOC(_IOC_READ|_IOC_WRITE, 0xfe, 0, 0x10), ADDR) = 0",
		"ioctl(0, LUOSIM_TEST_IOCTL, 0) = 0",
	]);
});

t.test("memory, time and process calls", async (t) => {
	const lines = await trace(async (u) => {
		const a = u.sys("mmap", 0, 4096, 3, 0x22, -1, 0);
		u.sys("mprotect", a, 4096, 0);
		u.sys("munmap", a, 4096);
		u.sys("mmap", 0, 0, 3, 0x22, -1, 0);
		const ts = u.alloc(16);
		u.sys("clock_gettime", 1, ts);
		u.sys("clock_gettime", 42, ts);
		await u.sysAsync("nanosleep", u.u64s(1n, 500n), 0);
		u.sys("prlimit64", 0, 7, u.u64s(64n, 4096n), ts);
		u.sys("getpid");
		u.sys("uname", u.alloc(390));
		u.sys("kill", 999, SIGKILL);
		u.sys("setuid", -1);
		u.sys("exit_group", 0);
	});
	t.same(lines, [
		"mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ADDR",
		"mprotect(ADDR, 4096, PROT_NONE) = 0",
		"munmap(ADDR, 4096) = 0",
		"mmap(NULL, 0, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 EINVAL (Invalid argument)",
		"clock_gettime(CLOCK_MONOTONIC, {tv_sec=0, tv_nsec=0}) = 0",
		"clock_gettime(0x2a /* CLOCK_??? */, ADDR) = -1 EINVAL (Invalid argument)",
		"nanosleep({tv_sec=1, tv_nsec=500}, NULL) = 0",
		"prlimit64(0, RLIMIT_NOFILE, {rlim_cur=64, rlim_max=4*1024}, {rlim_cur=1024, rlim_max=4*1024}) = 0",
		"getpid() = 2",
		'uname({sysname="Linux", nodename="luosim", ...}) = 0',
		"kill(999, SIGKILL) = -1 ESRCH (No such process)",
		"setuid(-1) = -1 EINVAL (Invalid argument)",
		"exit_group(0) = ?",
		"+++ exited with 0 +++",
	]);
});

t.test("poll prints events on entry and revents after the result", async (t) => {
	const lines = await trace(async (u) => {
		const fd = u.sys("openat", AT_FDCWD, "/dev/null", O_RDONLY, 0);
		const fds = u.bytes(Uint8Array.of(fd, 0, 0, 0, 2, 0, 0, 0));
		const f = u.p.files.get(fd);
		f.f_op = { ...f.f_op, poll: () => 0x2 | 0x8 };
		await u.sysAsync("poll", fds, 1, 5000);
		f.f_op = { ...f.f_op, poll: () => 0 };
		await u.sysAsync("poll", fds, 1, 5000);
	});
	t.same(lines.slice(1, 3), [
		"poll([{fd=0, events=POLLPRI}], 1, 5000) = 1 ([{fd=0, revents=POLLPRI|POLLERR}])",
		"poll([{fd=0, events=POLLPRI}], 1, 5000) = 0 (Timeout)",
	]);
});

t.test("a fatal signal to the caller ends its call with = ? and +++ killed by", async (t) => {
	const lines = await trace((u) => {
		u.sys("kill", u.p.pid, SIGABRT);
	});
	t.same(lines, ["kill(2, SIGABRT) = ?", "+++ killed by SIGABRT +++"]);
});

t.test("several processes: [pid N] prefixes, fork() = N, unfinished and resumed calls, a sleeper killed", async (t) => {
	const lines = await trace(async (u) => {
		const ts = u.u64s(1n, 0n);
		const a = sysFork(u.p, async () => {
			const c = new User();
			await c.sysAsync("nanosleep", ts, 0);
			return 3;
		});
		const st = u.alloc(4);
		await u.sysAsync("wait4", a, st, 0, 0);
		const b = sysFork(u.p, async () => void (await new User().sysAsync("nanosleep", ts, 0)));
		await u.sysAsync("sched_yield");
		u.sys("kill", b, SIGKILL);
		await u.sysAsync("wait4", -1, st, 0, 0);
	}, { raw: true });
	t.same(lines, [
		"[pid     2] fork() = 3",
		"[pid     2] wait4(3,  <unfinished ...>",
		"[pid     3] nanosleep({tv_sec=1, tv_nsec=0}, NULL) = 0",
		"[pid     3] exit_group(3) = ?",
		"[pid     3] +++ exited with 3 +++",
		"<... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 3",
		"[pid     2] fork() = 4",
		"[pid     4] nanosleep({tv_sec=1, tv_nsec=0},  <unfinished ...>",
		"[pid     2] sched_yield() = 0",
		"[pid     2] kill(4, SIGKILL) = 0",
		"[pid     4] <... nanosleep resumed> <unfinished ...>) = ?",
		"[pid     4] +++ killed by SIGKILL +++",
		"wait4(-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 4",
		"exit_group(0) = ?",
		"+++ exited with 0 +++",
	]);
});

t.test("a sleeper killed from outside any call: its whole head, then <unfinished ...>) = ?", async (t) => {
	const lines = await trace(async (u) => {
		const b = sysFork(u.p, async () => void (await new User().sysAsync("nanosleep", new User().u64s(9n, 0n), 0)));
		u.kernel.clock.addTimer(1e9, () => sendSignal(u.kernel.processes.get(b)!, SIGKILL));
		await u.sysAsync("wait4", b, 0, 0, 0);
	}, { raw: true });
	t.same(lines, [
		"[pid     2] fork() = 3",
		"[pid     2] wait4(3,  <unfinished ...>",
		"[pid     3] nanosleep({tv_sec=9, tv_nsec=0},  <unfinished ...>) = ?",
		"[pid     3] +++ killed by SIGKILL +++",
		"<... wait4 resumed>NULL, 0, NULL) = 3",
		"exit_group(0) = ?",
		"+++ exited with 0 +++",
	]);
});

t.test("enableStrace again changes the sink; disableStrace stops the output", async (t) => {
	const first: string[] = [];
	const second: string[] = [];
	await run((u) => {
		enableStrace(u.kernel, (l) => first.push(l));
		u.sys("getpid");
		enableStrace(u.kernel, (l) => second.push(l));
		u.sys("getppid");
		disableStrace(u.kernel);
		u.sys("getuid");
	});
	t.same(first, ["getpid() = 2"]);
	t.same(second, ["getppid() = 1"]);
});

t.test("the same program traces to the same lines on every run", async (t) => {
	const body = async (u: User): Promise<void> => {
		for (let i = 0; i < 3; i++) sysFork(u.p, async () => void (await new User().sysAsync("nanosleep", new User().u64s(BigInt(3 - i), 0n), 0)));
		for (let i = 0; i < 3; i++) await u.sysAsync("wait4", -1, 0, 0, 0);
	};
	const a = await trace(body, { raw: true });
	const b = await trace(body, { raw: true });
	t.same(a, b);
	t.ok(a.length > 10);
});

t.test("a call abandoned by a caught JS exception does not hold back other processes' lines", async (t) => {
	const lines = await trace(async (u) => {
		const child = sysFork(u.p, () => 0);
		u.kernel.strace!.enter(u.p, { nr: 9999, name: "broken", args: [], status: "unsupported", note: "", impl: () => 0 }, []);
		await u.sysAsync("wait4", child, 0, 0, 0);
	}, { raw: true });
	t.same(lines, [
		"[pid     2] fork() = 3",
		"[pid     2] wait4(3,  <unfinished ...>",
		"[pid     3] exit_group(0) = ?",
		"[pid     3] +++ exited with 0 +++",
		"<... wait4 resumed>NULL, 0, NULL) = 3",
		"exit_group(0) = ?",
		"+++ exited with 0 +++",
	]);
});
