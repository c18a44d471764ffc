import t from "tap";
import { fileURLToPath } from "node:url";
import { run, User } from "../testing.ts";
import { sysFork } from "./process.ts";
import { MAX_ARG_STRLEN } from "./execve.ts";
import { writeProgramFile } from "../binfmt.ts";
import { enableStrace } from "../strace.ts";
import { E2BIG, EACCES, EFAULT, ENAMETOOLONG, ENOENT, ENOEXEC, ENOTDIR } from "../errno.ts";
import { CAP_FULL_SET } from "../cred.ts";
import { RLIMIT_STACK } from "../process.ts";
import { W_EXITCODE } from "../signal.ts";
import { MS_NOEXEC, MS_NOSUID } from "../../fs/mount.ts";
import { tmpfsMount } from "../../fs/tmpfs.ts";
import { runs } from "./testdata/exec-probe.ts";
import type { Kernel } from "../kernel.ts";

const PROBE = fileURLToPath(new URL("./testdata/exec-probe.ts", import.meta.url));
const SLEEPER = new URL("./testdata/exec-sleeper.ts", import.meta.url);
const NOMAIN = fileURLToPath(new URL("./testdata/exec-nomain.ts", import.meta.url));
const THROWS = fileURLToPath(new URL("./testdata/exec-throws.ts", import.meta.url));
const AT_FDCWD = -100;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;

/** A file at `path` with `text` and `mode`, made by the kernel (owned by root). */
function writeFile(k: Kernel, path: string, text: string, mode = 0o755): void {
	const f = k.vfs.open(null, path, 0o1 | 0o100 | 0o1000, mode);
	k.vfs.kernelWrite(f, new TextEncoder().encode(text));
	f.put();
}

/** execve(path, argv, NULL) from `u`. */
function execve(u: User, path: string | number, argv: readonly string[] | number, envp: readonly string[] | number = 0): Promise<number> {
	return u.sysAsync("execve", path, typeof argv === "number" ? argv : u.strArray(argv), typeof envp === "number" ? envp : u.strArray(envp));
}

t.beforeEach(() => {
	runs.length = 0;
});

t.test("execve runs the program in the same process with the new argv; the old code never resumes", async (t) => {
	let resumed = false;
	const r = await run(async (u) => {
		writeProgramFile(u.kernel, "/tmp/a-very-long-program-name", PROBE);
		await execve(u, "/tmp/a-very-long-program-name", ["probe", "7", "x y"]);
		resumed = true;
	});
	t.equal(r.status, W_EXITCODE(7));
	t.equal(resumed, false);
	t.equal(runs.length, 1);
	t.same(runs[0]!.argv, ["probe", "7", "x y"]);
	t.equal(runs[0]!.argc, 3);
	t.equal(runs[0]!.pid, r.p.pid, "the same pid");
	t.equal(runs[0]!.comm, "a-very-long-pro", "comm is the file's basename, 15 characters");
	t.same(r.p.argv, ["probe", "7", "x y"]);
});

t.test("execve closes close-on-exec fds, keeps the others, and starts with an empty address space and errno 0", async (t) => {
	const r = await run(async (u) => {
		writeProgramFile(u.kernel, "/tmp/probe", PROBE);
		const keep = u.sys("openat", AT_FDCWD, "/dev/null", O_RDONLY, 0);
		const drop = u.sys("openat", AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC, 0);
		t.same([keep, drop], [0, 1]);
		u.p.errno = 5;
		await execve(u, "/tmp/probe", ["probe"]);
	});
	t.equal(r.status, 0);
	t.same(runs[0]!.fds, [0]);
	t.equal(runs[0]!.vmas, 0, "no mapping survives");
	t.equal(runs[0]!.errno, 0);
});

t.test("a forked child execs; the parent gets the new program's status", async (t) => {
	await run(async (u) => {
		writeProgramFile(u.kernel, "/tmp/probe", PROBE);
		const child = sysFork(u.p, async () => {
			const c = new User();
			await execve(c, "/tmp/probe", ["probe", "33"]);
			return 1;
		});
		const st = u.alloc(4);
		t.equal(await u.sysAsync("wait4", child, st, 0, 0), child);
		t.equal(u.i32(st), W_EXITCODE(33));
		t.equal(runs[0]!.pid, child);
	});
});

t.test("execve: ENOENT, ENOTDIR, EFAULT and ENAMETOOLONG for the file name; nothing changes", async (t) => {
	await run(async (u) => {
		writeProgramFile(u.kernel, "/tmp/probe", PROBE);
		t.equal(await execve(u, "/tmp/missing", ["x"]), -ENOENT);
		t.equal(await execve(u, "", ["x"]), -ENOENT);
		t.equal(await execve(u, "/tmp/probe/x", ["x"]), -ENOTDIR);
		t.equal(await execve(u, 8, ["x"]), -EFAULT);
		t.equal(await execve(u, `/${"a".repeat(5000)}`, ["x"]), -ENAMETOOLONG);
	});
	t.equal(runs.length, 0);
});

t.test("execve: EACCES for a directory, a device, a file without x, a noexec mount", async (t) => {
	await run(async (u) => {
		const k = u.kernel;
		writeProgramFile(k, "/tmp/nox", PROBE, 0o644);
		k.vfs.mkdirP("/mnt");
		k.vfs.mount(null, "/mnt", tmpfsMount(k, { mode: 0o755 }), MS_NOEXEC, "tmpfs");
		writeProgramFile(k, "/mnt/probe", PROBE);
		t.equal(await execve(u, "/tmp", ["x"]), -EACCES);
		t.equal(await execve(u, "/dev/null", ["x"]), -EACCES);
		t.equal(await execve(u, "/tmp/nox", ["x"]), -EACCES, "even root needs one x bit");
		t.equal(await execve(u, "/mnt/probe", ["x"]), -EACCES);
	});
	t.equal(runs.length, 0);
});

t.test("execve needs x for the caller's class but not read permission", async (t) => {
	const k = (await run((u) => {
		writeProgramFile(u.kernel, "/tmp/ownerx", PROBE, 0o744);
		writeProgramFile(u.kernel, "/tmp/xonly", PROBE, 0o111);
	})).kernel;
	await run(async (u) => {
		t.equal(await execve(u, "/tmp/ownerx", ["x"]), -EACCES);
		t.equal(await execve(u, "/tmp/xonly", ["xonly", "3"]), 0);
	}, { kernel: k, uid: 1000 }).then((r) => t.equal(r.status, W_EXITCODE(3)));
});

t.test("execve: ENOEXEC for a file that is not a luosim program", async (t) => {
	await run(async (u) => {
		const k = u.kernel;
		const cases: [string, string][] = [
			["empty", ""],
			["elf", "\x7fELF\x02\x01\x01"],
			["script", `#!/bin/sh\n${PROBE}\n`],
			["relative", "#!luosim\n./exec-probe.ts\n"],
			["space", `#!luosim\n${PROBE} \n`],
			["magic only", "#!luosim\n"],
			["crlf", `#!luosim\r\n${PROBE}\n`],
		];
		for (const [name, text] of cases) {
			writeFile(k, "/tmp/bad", text);
			t.equal(await execve(u, "/tmp/bad", ["x"]), -ENOEXEC, name);
		}
		writeFile(k, "/tmp/ok", `#!luosim\n${PROBE}\n# anything after the second line is ignored\n`);
		writeFile(k, "/tmp/url", `#!luosim\nfile://${PROBE}`);
		const child = sysFork(u.p, async () => void (await execve(new User(), "/tmp/url", ["url", "4"])));
		const st = u.alloc(4);
		await u.sysAsync("wait4", child, st, 0, 0);
		t.equal(u.i32(st), W_EXITCODE(4), "a file: URL without a final newline");
		await execve(u, "/tmp/ok", ["ok", "5"]);
	}).then((r) => t.equal(r.status, W_EXITCODE(5)));
});

t.test("execve: ENOENT for a missing module; ENOEXEC for a module without main or one that fails to load", async (t) => {
	const r = await run(async (u) => {
		const k = u.kernel;
		writeProgramFile(k, "/tmp/gone", "/nonexistent/luosim/program.ts");
		writeProgramFile(k, "/tmp/nomain", NOMAIN);
		writeProgramFile(k, "/tmp/throws", THROWS);
		t.equal(await execve(u, "/tmp/gone", ["x"]), -ENOENT);
		t.equal(await execve(u, "/tmp/nomain", ["x"]), -ENOEXEC);
		t.equal(await execve(u, "/tmp/throws", ["x"]), -ENOEXEC);
		t.equal(u.sys("getpid"), u.p.pid, "still the old program");
	});
	const log = r.kernel.log.all().map((rec) => rec.text);
	t.ok(log.some((l) => l.includes("exec-nomain.ts: no main(argc, argv) export")));
	t.ok(log.some((l) => l.includes("exec-throws: broken at load")));
});

t.test("execve: EFAULT for a bad argv array or string; E2BIG for a string over 32 pages or past the stack limit", async (t) => {
	await run(async (u) => {
		writeProgramFile(u.kernel, "/tmp/probe", PROBE);
		t.equal(await execve(u, "/tmp/probe", 8), -EFAULT);
		t.equal(await execve(u, "/tmp/probe", u.u64s(8n, 0n)), -EFAULT);
		t.equal(await execve(u, "/tmp/probe", ["x"], u.u64s(8n, 0n)), -EFAULT, "the environment is checked too");
		t.equal(await execve(u, "/tmp/probe", ["x", "y".repeat(MAX_ARG_STRLEN)]), -E2BIG);
		const edge = sysFork(u.p, async () => void (await execve(new User(), "/tmp/probe", ["x", "y".repeat(MAX_ARG_STRLEN - 1)])));
		await u.sysAsync("wait4", edge, 0, 0, 0);
		t.equal(runs.length, 1, "32 pages with the NUL fit");
		runs.length = 0;
		const many = Array.from({ length: 40 }, () => "z".repeat(4000));
		u.sys("setrlimit", RLIMIT_STACK, u.u64s(256n * 1024n, 256n * 1024n));
		t.equal(await execve(u, "/tmp/probe", many), -E2BIG, "160 KB of arguments over a 128 KB limit");
		u.sys("setrlimit", RLIMIT_STACK, u.u64s(1n << 23n, 1n << 23n));
		await execve(u, "/tmp/probe", many);
	});
	t.equal(runs.length, 1, "2 MB of room with an 8 MB stack");
	t.equal(runs[0]!.argc, 40);
});

t.test("execve with a NULL argv runs the program with argv [\"\"] and warns once", async (t) => {
	const r = await run(async (u) => {
		writeProgramFile(u.kernel, "/tmp/probe", PROBE);
		await execve(u, "/tmp/probe", 0);
	});
	t.same(runs[0]!.argv, [""]);
	t.ok(r.kernel.log.all().some((rec) => rec.text === "process 'program' launched '/tmp/probe' with NULL argv: empty string added"));
});

t.test("execve of a set-user-ID root file gives euid 0 and root's capabilities; not on a nosuid mount", async (t) => {
	const k = (await run((u) => {
		writeProgramFile(u.kernel, "/tmp/suid", PROBE, 0o4755);
		u.kernel.vfs.mkdirP("/nosuid");
		u.kernel.vfs.mount(null, "/nosuid", tmpfsMount(u.kernel, { mode: 0o755 }), MS_NOSUID, "tmpfs");
		writeProgramFile(u.kernel, "/nosuid/suid", PROBE, 0o4755);
	})).kernel;
	await run(async (u) => void (await execve(u, "/tmp/suid", ["suid"])), { kernel: k, uid: 1000 });
	await run(async (u) => void (await execve(u, "/nosuid/suid", ["suid"])), { kernel: k, uid: 1000 });
	t.same(runs.map((r) => [r.uid, r.euid, r.suid, r.capEffective]), [
		[1000, 0, 0, CAP_FULL_SET],
		[1000, 1000, 1000, 0n],
	]);
});

t.test("setpgid on a child that has called execve is EACCES", async (t) => {
	await run(async (u) => {
		writeProgramFile(u.kernel, "/tmp/sleeper", SLEEPER);
		const child = sysFork(u.p, async () => void (await execve(new User(), "/tmp/sleeper", ["sleeper", "5"])));
		t.equal(u.sys("setpgid", child, 0), 0, "before the exec");
		await u.sysAsync("nanosleep", u.u64s(1n, 0n), 0);
		t.equal(u.sys("setpgid", child, 0), -13 /* EACCES */);
		await u.sysAsync("wait4", child, 0, 0, 0);
	});
});

t.test("strace shows a successful execve before the new program's calls", async (t) => {
	const lines: string[] = [];
	await run(async (u) => {
		enableStrace(u.kernel, (l) => lines.push(l));
		writeProgramFile(u.kernel, "/tmp/sleeper", SLEEPER);
		await execve(u, "/tmp/sleeper", ["sleeper", "0"], ["A=1", "B=2"]);
	});
	t.match(lines[0]!, /^execve\("\/tmp\/sleeper", \["sleeper", "0"\], 0x[0-9a-f]+ \/\* 2 vars \*\/\) = 0$/);
	t.same(lines.slice(1), ["exit_group(0) = ?", "+++ exited with 0 +++"], "main's return is exit_group(2)");
});
