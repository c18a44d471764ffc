import t from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runProgram } from "../../lib/cli/runProgram.ts";
import { chmod, close, errno, open, setrlimit, setuid, EMFILE, O_RDWR, RLIMIT_NOFILE } from "../../lib/libc/mod.ts";
import type { ProgramMain } from "../../lib/kernel/kernel.ts";
import { luo_create_session } from "./lib/lu_utils.ts";
import { main } from "./liveupdate.ts";

const here = new URL(".", import.meta.url).pathname;

/** Runs `prog` on a fresh mainline kernel; stdout and stderr merged as the kselftest runner merges them. */
async function run(prog: ProgramMain, argv: string[], cmdline = ""): Promise<{ exitCode: number; out: string }> {
	const dec = new TextDecoder();
	let out = "";
	const sink = (d: Uint8Array): void => {
		out += dec.decode(d);
	};
	const r = await runProgram(prog, { abi: "mainline", cmdline, argv, stdout: sink, stderr: sink });
	return { exitCode: r.exitCode, out };
}

t.test("liveupdate.ts passes its 15 tests on a mainline kernel", async (t) => {
	const r = await run(main, ["./liveupdate"]);
	t.equal(r.exitCode, 0);
	t.equal(r.out, readFileSync(join(here, "liveupdate.expected"), "utf8"));
	t.match(r.out, /^# PASSED: 15 \/ 15 tests passed\.$/m);
	t.match(r.out, /^# Totals: pass:15 fail:0 xfail:0 xpass:0 skip:0 error:0$/m);
});

t.test("without /dev/liveupdate (liveupdate=off) every test skips, with C's messages, and the run exits 0", async (t) => {
	const r = await run(main, ["./liveupdate"], "liveupdate=off");
	t.equal(r.exitCode, 0);
	t.equal(r.out, readFileSync(join(here, "liveupdate-nodev.expected"), "utf8"));
});

t.test("preserve_many_sessions skips when RLIMIT_NOFILE cannot be raised (no CAP_SYS_RESOURCE, hard limit 1024)", async (t) => {
	const unprivileged: ProgramMain = (argc, argv) => {
		if (chmod("/dev/liveupdate", 0o666) < 0) return 90;
		if (setrlimit(RLIMIT_NOFILE, { rlim_cur: 1024n, rlim_max: 1024n }) < 0) return 91;
		if (setuid(1000) < 0) return 92;
		return main(argc, argv);
	};
	const r = await run(unprivileged, ["./liveupdate", "-t", "preserve_many_sessions", "-t", "preserve_many_files"]);
	t.equal(r.exitCode, 0);
	t.match(r.out, /^#      SKIP      Insufficient privileges to set RLIMIT_NOFILE$/m);
	t.match(r.out, /^ok 1 liveupdate_device\.preserve_many_sessions # SKIP Insufficient privileges to set RLIMIT_NOFILE$/m);
	t.match(r.out, /^ok 2 liveupdate_device\.preserve_many_files$/m, "510 + 32 fds fit under 1024");
});

t.test("without raising RLIMIT_NOFILE, 2000 open sessions fail with EMFILE where the fd table is full", async (t) => {
	let failedAt = -1;
	let failure = 0;
	const body: ProgramMain = () => {
		const luo_fd = open("/dev/liveupdate", O_RDWR);
		if (luo_fd < 0) return 1;
		for (let i = 0; i < 2000; i++) {
			const fd = luo_create_session(luo_fd, `many-session-${i}`);
			if (fd < 0) {
				failedAt = i;
				failure = -fd;
				break;
			}
		}
		t.equal(errno, EMFILE, "errno is EMFILE");
		return close(luo_fd);
	};
	const r = await run(body, ["emfile"]);
	t.equal(r.exitCode, 0);
	t.equal(failure, EMFILE, "luo_create_session returned -EMFILE");
	t.equal(failedAt, 1024 - 4, "fds 0-2 and /dev/liveupdate, then 1020 sessions fill the default 1024");
});
