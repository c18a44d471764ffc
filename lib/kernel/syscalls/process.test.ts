import t from "tap";
import { run, User } from "../testing.ts";
import { sysFork, SIZEOF_UTSNAME, utsNodename } from "./process.ts";
import { EAGAIN, ECHILD, EFAULT, EINVAL, ENOSYS, EPERM, ESRCH } from "../errno.ts";
import { CAP_SYS_ADMIN, CAP_SETUID } from "../cred.ts";
import { SIGKILL, SIGTERM, SIGCHLD, SIGSTOP, SIGCONT, W_EXITCODE, W_SIGNALED } from "../signal.ts";
import { UTS_RELEASE, UTS_VERSION } from "../utsname.ts";
import { bootKernel } from "../machine.ts";
import { spawnProgram } from "../exec.ts";
import type { Process } from "../process.ts";

const WNOHANG = 1;

/** A forked child running `body` with its own User. */
function fork(u: User, body: (c: User) => number | void | Promise<number | void>): number {
	return sysFork(u.p, () => body(new User()));
}

t.test("getpid, getppid and the ids of root and of an unprivileged process", async (t) => {
	const r = await run((u) => {
		t.equal(u.sys("getpid"), u.p.pid);
		t.equal(u.sys("getppid"), 1, "a spawned program is a child of init");
		t.equal(u.sys("getuid"), 0);
		t.equal(u.sys("geteuid"), 0);
		t.equal(u.sys("getgid"), 0);
		t.equal(u.sys("getegid"), 0);
	});
	t.equal(r.status, 0);
	t.equal(r.kernel.init.ppid, 0, "init's parent is 0");
	await run((u) => {
		t.equal(u.sys("getuid"), 1000);
		t.equal(u.sys("geteuid"), 1000);
		t.equal(u.sys("getgid"), 1001);
		t.equal(u.sys("getegid"), 1001);
	}, { uid: 1000, gid: 1001 });
});

t.test("setuid by root to another uid sets every uid and drops all capabilities", async (t) => {
	await run((u) => {
		t.equal(u.sys("setuid", 1000), 0);
		const c = u.p.cred;
		t.same([c.uid, c.euid, c.suid, c.fsuid], [1000, 1000, 1000, 1000]);
		t.equal(c.capEffective, 0n);
		t.equal(c.capPermitted, 0n);
		t.equal(u.sys("setuid", 0), -EPERM, "no way back");
	});
});

t.test("setuid(0) by root keeps root and its capabilities", async (t) => {
	await run((u) => {
		t.equal(u.sys("setuid", 0), 0);
		t.ok(u.p.cred.capable(CAP_SYS_ADMIN));
	});
});

t.test("setuid without CAP_SETUID: only the real or saved uid; EPERM otherwise", async (t) => {
	await run((u) => {
		t.equal(u.sys("setuid", 1000), 0, "its own uid");
		t.equal(u.sys("setuid", 0), -EPERM);
		t.equal(u.sys("setuid", 1001), -EPERM);
		t.equal(u.sys("getuid"), 1000, "unchanged after EPERM");
	}, { uid: 1000 });
	await run((u) => {
		// Real 1000, saved 2000: the saved uid is allowed.
		const c = u.p.cred.clone();
		c.suid = 2000;
		u.p.cred = c;
		t.equal(u.sys("setuid", 2000), 0);
		t.equal(u.sys("geteuid"), 2000);
		t.equal(u.sys("getuid"), 1000, "without CAP_SETUID the real uid stays");
	}, { uid: 1000 });
});

t.test("setuid(-1) and setgid(-1) are EINVAL, even for root", async (t) => {
	await run((u) => {
		t.equal(u.sys("setuid", -1), -EINVAL);
		t.equal(u.sys("setgid", 0xffffffff), -EINVAL);
		t.ok(u.p.cred.capable(CAP_SETUID), "nothing changed");
	});
});

t.test("setgid: root sets all gids; others only the real or saved gid", async (t) => {
	await run((u) => {
		t.equal(u.sys("setgid", 100), 0);
		const c = u.p.cred;
		t.same([c.gid, c.egid, c.sgid, c.fsgid], [100, 100, 100, 100]);
	});
	await run((u) => {
		t.equal(u.sys("setgid", 0), -EPERM);
		t.equal(u.sys("setgid", 1000), 0);
		t.equal(u.sys("getegid"), 1000);
	}, { uid: 1000 });
});

t.test("setsid: EPERM for a group leader; a forked child gets a new session and group", async (t) => {
	await run(async (u) => {
		t.equal(u.sys("setsid"), -EPERM, "spawned programs lead their group");
		const pid = fork(u, (c) => {
			const sid = c.sys("setsid");
			if (sid !== c.p.pid || c.p.pgid !== c.p.pid || c.sys("getsid", 0) !== c.p.pid) return 1;
			return c.sys("setsid") === -EPERM ? 0 : 2;
		});
		const st = u.alloc(4);
		t.equal(await u.sysAsync("wait4", pid, st, 0, 0), pid);
		t.equal(u.i32(st), W_EXITCODE(0));
	});
});

t.test("getpgid, getpgrp, getsid: 0 is the caller; ESRCH for no such process", async (t) => {
	await run((u) => {
		t.equal(u.sys("getpgid", 0), u.p.pgid);
		t.equal(u.sys("getpgrp"), u.p.pgid);
		t.equal(u.sys("getpgid", u.p.pid), u.p.pid);
		t.equal(u.sys("getsid", 0), 1);
		t.equal(u.sys("getpgid", 1), 1, "another process");
		t.equal(u.sys("getpgid", 999), -ESRCH);
		t.equal(u.sys("getsid", 999), -ESRCH);
	});
});

t.test("setpgid: a child into its own group and back; the errors of kernel/sys.c", async (t) => {
	await run(async (u) => {
		const child = fork(u, async (c) => {
			await c.sysAsync("nanosleep", c.u64s(1n, 0n), 0);
			return 0;
		});
		t.equal(u.sys("setpgid", child, -1), -EINVAL, "negative pgid");
		t.equal(u.sys("setpgid", 1, 0), -ESRCH, "not a child");
		t.equal(u.sys("setpgid", 999, 0), -ESRCH);
		t.equal(u.sys("setpgid", child, 0), 0, "a group of its own");
		t.equal(u.sys("getpgid", child), child);
		t.equal(u.sys("setpgid", child, u.p.pgid), 0, "back into the parent's group");
		t.equal(u.sys("getpgid", child), u.p.pgid);
		t.equal(u.sys("setpgid", child, 4242), -EPERM, "no such group in the session");
		t.equal(u.sys("setpgid", 0, 0), 0, "the caller into its own group (it is one already)");
		await u.sysAsync("wait4", child, 0, 0, 0);
		const leader = fork(u, (c) => (c.sys("setsid") > 0 && c.sys("setpgid", 0, 0) === -EPERM ? 0 : 1));
		const st = u.alloc(4);
		await u.sysAsync("wait4", leader, st, 0, 0);
		t.equal(u.i32(st), W_EXITCODE(0), "a session leader cannot move");
	});
	await run(async (u) => {
		const child = fork(u, (c) => {
			c.sys("setsid");
			return 0;
		});
		await u.sysAsync("sched_yield");
		t.equal(u.sys("setpgid", child, 0), -EPERM, "a child in another session (a zombie still counts)");
		await u.sysAsync("wait4", child, 0, 0, 0);
	});
});

t.test("kill: a fatal signal ends the target; sig 0 only checks; ESRCH, EINVAL", async (t) => {
	await run(async (u) => {
		const child = fork(u, async (c) => {
			await c.sysAsync("nanosleep", c.u64s(100n, 0n), 0);
			return 0;
		});
		t.equal(u.sys("kill", child, 0), 0, "the child exists");
		t.equal(u.sys("kill", child, 65), -EINVAL);
		t.equal(u.sys("kill", child, -1), -EINVAL);
		t.equal(u.sys("kill", 999, SIGKILL), -ESRCH);
		t.equal(u.sys("kill", -2147483648, SIGKILL), -ESRCH);
		t.equal(u.sys("kill", child, SIGCHLD), 0, "ignored by default");
		t.equal(u.sys("kill", child, SIGSTOP), 0, "no job control: nothing happens");
		t.equal(u.sys("kill", child, SIGTERM), 0);
		const st = u.alloc(4);
		t.equal(await u.sysAsync("wait4", child, st, 0, 0), child);
		t.equal(u.i32(st), W_SIGNALED(SIGTERM));
		t.equal(u.sys("kill", 999, 0), -ESRCH);
	});
});

t.test("kill: EPERM for another user's process without CAP_KILL; allowed for the same uid", async (t) => {
	const k = bootKernel();
	const root: Process = spawnProgram(k, async () => {
		await new User().sysAsync("nanosleep", new User().u64s(10n, 0n), 0);
	});
	const other: Process = spawnProgram(k, async () => {
		await new User().sysAsync("nanosleep", new User().u64s(10n, 0n), 0);
	}, { uid: 1000 });
	await run((u) => {
		t.equal(u.sys("kill", root.pid, 0), -EPERM);
		t.equal(u.sys("kill", root.pid, SIGKILL), -EPERM);
		t.equal(u.sys("kill", 1, SIGKILL), -EPERM, "init");
		t.equal(u.sys("kill", other.pid, SIGKILL), 0, "same real uid");
	}, { kernel: k, uid: 1000 });
	t.equal(other.exitStatus, W_SIGNALED(SIGKILL));
	t.notOk(root.exited);
	await run((u) => {
		t.equal(u.sys("kill", 1, SIGKILL), 0, "root may; init ignores it");
		t.equal(u.sys("kill", root.pid, SIGKILL), 0);
	}, { kernel: k });
	t.notOk(k.init.exited);
	t.equal(root.exitStatus, W_SIGNALED(SIGKILL));
});

t.test("kill: SIGCONT to another user's process of the same session is allowed", async (t) => {
	await run(async (u) => {
		const child = fork(u, async (c) => {
			await c.sysAsync("nanosleep", c.u64s(1n, 0n), 0);
			return 0;
		});
		u.sys("setuid", 1000);
		t.equal(u.sys("kill", child, SIGTERM), -EPERM);
		t.equal(u.sys("kill", child, SIGCONT), 0);
		await u.sysAsync("wait4", child, 0, 0, 0);
	});
});

t.test("kill of the caller itself with a fatal signal ends it inside the call", async (t) => {
	let after = false;
	const r = await run((u) => {
		u.sys("kill", u.p.pid, SIGTERM);
		after = true;
	});
	t.equal(r.status, W_SIGNALED(SIGTERM));
	t.equal(after, false);
});

t.test("kill(0) signals the caller's group, the caller last; kill(-pgid) another group; ESRCH for an empty group", async (t) => {
	const r = await run(async (u) => {
		const a = fork(u, async (c) => void (await c.sysAsync("nanosleep", c.u64s(10n, 0n), 0)));
		const b = fork(u, async (c) => void (await c.sysAsync("nanosleep", c.u64s(10n, 0n), 0)));
		u.sys("setpgid", b, 0);
		await u.sysAsync("sched_yield");
		t.equal(u.sys("kill", -b, SIGKILL), 0);
		t.equal(u.sys("kill", -4242, SIGKILL), -ESRCH);
		const st = u.alloc(4);
		t.equal(await u.sysAsync("wait4", b, st, 0, 0), b);
		t.equal(u.i32(st), W_SIGNALED(SIGKILL));
		t.equal(u.p.kernel.processes.get(a)!.exited, false);
		u.sys("kill", 0, SIGTERM);
		return 5;
	});
	t.equal(r.status, W_SIGNALED(SIGTERM));
	t.equal([...r.kernel.processes.values()].filter((q) => q.pid !== 1 && !q.exited).length, 0, "the group member died too");
});

t.test("kill(-1) reaches every process but init and the caller; EPERM targets do not count; ESRCH with none", async (t) => {
	const k = bootKernel();
	const victims = [0, 1000].map((uid) => spawnProgram(k, async () => {
		await new User().sysAsync("nanosleep", new User().u64s(10n, 0n), 0);
	}, { uid }));
	await run((u) => {
		t.equal(u.sys("kill", -1, SIGKILL), 0, "EPERM for the root process is not reported");
	}, { kernel: k, uid: 1000 });
	t.equal(victims[1]!.exitStatus, W_SIGNALED(SIGKILL));
	t.notOk(victims[0]!.exited);
	await run((u) => {
		t.equal(u.sys("kill", -1, 0), 0);
		t.equal(u.sys("kill", -1, SIGKILL), 0);
		t.equal(u.sys("kill", -1, SIGKILL), -ESRCH, "nobody left");
	}, { kernel: k });
	t.ok(victims[0]!.exited);
});

t.test("tkill and tgkill: the thread is the process; EINVAL and ESRCH", async (t) => {
	await run(async (u) => {
		const child = fork(u, async (c) => void (await c.sysAsync("nanosleep", c.u64s(10n, 0n), 0)));
		t.equal(u.sys("tkill", 0, SIGKILL), -EINVAL);
		t.equal(u.sys("tgkill", child, 0, SIGKILL), -EINVAL);
		t.equal(u.sys("tgkill", 0, child, SIGKILL), -EINVAL);
		t.equal(u.sys("tkill", 999, SIGKILL), -ESRCH);
		t.equal(u.sys("tgkill", u.p.pid, child, SIGKILL), -ESRCH, "tid of another thread group");
		t.equal(u.sys("tgkill", child, child, 99), -EINVAL);
		t.equal(u.sys("tgkill", child, child, 0), 0);
		t.equal(u.sys("tkill", child, SIGKILL), 0);
		const st = u.alloc(4);
		await u.sysAsync("wait4", child, st, 0, 0);
		t.equal(u.i32(st), W_SIGNALED(SIGKILL));
	});
});

t.test("exit and exit_group end the process with status & 0xff and do not return", async (t) => {
	for (const name of ["exit", "exit_group"]) {
		let after = false;
		const r = await run((u) => {
			u.sys(name, 0x1ff);
			after = true;
		});
		t.equal(r.status, W_EXITCODE(0xff), name);
		t.equal(after, false);
	}
});

t.test("wait4: status of an exited child, of a killed one, rusage zeroed, ECHILD when none is left", async (t) => {
	await run(async (u) => {
		const st = u.alloc(4);
		const ru = u.bytes(new Uint8Array(144).fill(0xee));
		const a = fork(u, () => 42);
		t.equal(await u.sysAsync("wait4", -1, st, 0, ru), a);
		t.equal(u.i32(st), W_EXITCODE(42));
		t.same([...u.read(ru, 144)].filter((b) => b !== 0), [], "struct rusage is all zero");
		const b = fork(u, async (c) => void (await c.sysAsync("nanosleep", c.u64s(50n, 0n), 0)));
		t.equal(await u.sysAsync("wait4", b, st, WNOHANG, 0), 0, "WNOHANG while it runs");
		u.sys("kill", b, SIGKILL);
		t.equal(await u.sysAsync("wait4", b, 0, 0, 0), b, "NULL status");
		t.equal(await u.sysAsync("wait4", -1, st, 0, 0), -ECHILD);
		t.equal(await u.sysAsync("wait4", -1, st, WNOHANG, 0), -ECHILD);
	});
});

t.test("wait4: ECHILD for a process that is not a child; EINVAL for an unknown option; ESRCH for INT_MIN", async (t) => {
	await run(async (u) => {
		const c = fork(u, () => 0);
		t.equal(await u.sysAsync("wait4", 1, 0, 0, 0), -ECHILD);
		t.equal(await u.sysAsync("wait4", -1, 0, 0x10, 0), -EINVAL);
		t.equal(await u.sysAsync("wait4", -2147483648, 0, 0, 0), -ESRCH);
		t.equal(await u.sysAsync("wait4", c, 0, 0, 0), c, "the child is still there");
	});
});

t.test("wait4: children are reported oldest first; a group wait only sees its group", async (t) => {
	await run(async (u) => {
		const a = fork(u, () => 1);
		const b = fork(u, () => 2);
		const c = fork(u, () => 3);
		u.sys("setpgid", c, 0);
		await u.sysAsync("sched_yield");
		t.equal(await u.sysAsync("wait4", -c, 0, 0, 0), c);
		t.equal(await u.sysAsync("wait4", -c, 0, 0, 0), -ECHILD);
		t.equal(await u.sysAsync("wait4", 0, 0, 0, 0), a);
		t.equal(await u.sysAsync("wait4", -1, 0, 0, 0), b);
	});
});

t.test("wait4: a bad status pointer is EFAULT after the child was reaped", async (t) => {
	await run(async (u) => {
		const c = fork(u, () => 7);
		t.equal(await u.sysAsync("wait4", c, 8, 0, 0), -EFAULT);
		t.equal(await u.sysAsync("wait4", c, 0, 0, 0), -ECHILD, "already reaped");
	});
});

t.test("fork: the child runs after the parent blocks, in creation order; raw fork without a body is ENOSYS; clone is ENOSYS", async (t) => {
	const order: string[] = [];
	await run(async (u) => {
		for (const name of ["a", "b", "c"]) fork(u, () => void order.push(name));
		order.push("parent");
		await u.sysAsync("wait4", -1, 0, 0, 0);
		t.equal(u.sys("fork"), -ENOSYS);
		t.equal(u.sys("clone", 0, 0, 0, 0, 0), -ENOSYS);
	});
	t.same(order, ["parent", "a", "b", "c"]);
});

t.test("fork: EAGAIN once the user has RLIMIT_NPROC processes; root is exempt", async (t) => {
	await run(async (u) => {
		u.sys("prlimit64", 0, 6, u.u64s(2n, 2n), 0);
		const a = sysFork(u.p, () => 0);
		t.ok(a > 0);
		t.equal(sysFork(u.p, () => 0), -EAGAIN, "this process and its child are two");
		await u.sysAsync("wait4", a, 0, 0, 0);
		t.ok(sysFork(u.p, () => 0) > 0, "room again after the reap");
	}, { uid: 1000 });
	await run((u) => {
		u.sys("prlimit64", 0, 6, u.u64s(1n, 1n), 0);
		t.ok(sysFork(u.p, () => 0) > 0);
	});
});

t.test("vfork runs the child like fork", async (t) => {
	await run(async (u) => {
		const c = sysFork(u.p, () => 9, "vfork");
		const st = u.alloc(4);
		t.equal(await u.sysAsync("wait4", c, st, 0, 0), c);
		t.equal(u.i32(st), W_EXITCODE(9));
	});
});

t.test("sched_yield lets the other runnable processes run first", async (t) => {
	const order: string[] = [];
	await run(async (u) => {
		fork(u, () => void order.push("child"));
		order.push("before");
		t.equal(await u.sysAsync("sched_yield"), 0);
		order.push("after");
		await u.sysAsync("wait4", -1, 0, 0, 0);
	});
	t.same(order, ["before", "child", "after"]);
});

t.test("uname: the six fields; nodename from hostname=; EFAULT", async (t) => {
	await run((u) => {
		const buf = u.alloc(SIZEOF_UTSNAME);
		t.equal(u.sys("uname", buf), 0);
		const b = u.read(buf, SIZEOF_UTSNAME);
		const field = (i: number): string => {
			const f = b.subarray(i * 65, i * 65 + 65);
			return new TextDecoder().decode(f.subarray(0, f.indexOf(0)));
		};
		t.same([0, 1, 2, 3, 4, 5].map(field), ["Linux", "luosim", UTS_RELEASE, UTS_VERSION, "x86_64", "(none)"]);
		t.equal(u.sys("uname", 0), -EFAULT);
	});
	await run((u) => {
		const buf = u.alloc(SIZEOF_UTSNAME);
		u.sys("uname", buf);
		t.equal(new TextDecoder().decode(u.read(buf + 65, 4)), "box2");
	}, { boot: { cmdline: "hostname=box1 hostname=box2" } });
	t.equal(utsNodename(bootKernel({ cmdline: `hostname=${"x".repeat(80)}` })).length, 64, "cut to __NEW_UTS_LEN");
});
