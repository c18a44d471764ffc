import t from "tap";
import { runProgramKexec } from "../../lib/cli/kexecRun.ts";
import { Machine } from "../../lib/kernel/machine.ts";
import { spawnProgram } from "../../lib/kernel/exec.ts";
import { openConsole } from "../../lib/fs/console.ts";
import { chmod, setrlimit, setuid, RLIMIT_NOFILE } from "../../lib/libc/mod.ts";
import type { Kernel, ProgramMain } from "../../lib/kernel/kernel.ts";
import { create_state_file, fail_exit, luo_create_session, luo_test } from "./lib/lu_utils.ts";
import { main as kexec_simple } from "./luo_kexec_simple.ts";
import { main as stress_sessions } from "./luo_stress_sessions.ts";
import { checkOutput, collector, programs } from "./testing.ts";

for (const p of programs) {
	t.test(`${p.name}: luosim run --abi mainline --kexec prints its TEST PASSED line in stage 2`, async (t) => {
		const c = collector();
		const r = await runProgramKexec(p.main, { abi: "mainline", argv: [`./${p.name}`], stdout: c.sink, stderr: c.sink });
		t.equal(r.exitCode, 0);
		checkOutput(t, c.text(), p);
	});
}

/** Runs `prog ARGV` on `k` with the console into `sink`; its exit code (or -1 if the kernel stopped). */
async function runOn(k: Kernel, prog: ProgramMain, argv: string[], sink: (d: Uint8Array) => void): Promise<number> {
	const con = openConsole(k, { stdout: sink, stderr: sink });
	const p = spawnProgram(k, prog, { argv, stdio: con });
	for (const f of con) f.put();
	const out = await k.waitForOutcome(p);
	return out.kind === "exited" ? (out.status >> 8) & 0xff : -1;
}

t.test("stage 2 on a kernel that was not kexec'd bails out: stage mismatch, state session MISSING", async (t) => {
	const k = new Machine().boot({ abi: "mainline" });
	const c = collector();
	t.equal(await runOn(k, kexec_simple, ["./luo_kexec_simple", "-s", "2"], c.sink), 1);
	t.equal(c.text(), "Bail out! Stage mismatch Requested stage 2, but system is in stage 1.\n" +
		"(State session kexec_simple_state: MISSING)\n" +
		"# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:0\n");
});

t.test("stage 1 twice without a kexec: the state session exists already (EEXIST)", async (t) => {
	const k = new Machine().boot({ abi: "mainline" });
	t.equal(await runOn(k, kexec_simple, ["./luo_kexec_simple"], () => {}), 0, "the first stage 1 leaves its daemon");
	const c = collector();
	t.equal(await runOn(k, kexec_simple, ["./luo_kexec_simple"], c.sink), 1);
	t.match(c.text(), /^Bail out! \[create_state_file:\d+\] luo_create_session for state tracking \(errno: File exists\)$/m);
});

t.test("the programs skip (exit 4) on a kernel without /dev/liveupdate", async (t) => {
	for (const p of programs) {
		const c = collector();
		const r = await runProgramKexec(p.main, { abi: "mainline", cmdline: "liveupdate=off", argv: [`./${p.name}`], stdout: c.sink, stderr: c.sink });
		t.equal(r.exitCode, 4, p.name);
		t.equal(c.text(), "1..0 # SKIP Failed to open /dev/liveupdate. Is the luo module loaded?\n", p.name);
	}
});

t.test("luo_stress_sessions skips when RLIMIT_NOFILE cannot be raised (no CAP_SYS_RESOURCE, hard limit 1024)", async (t) => {
	const k = new Machine().boot({ abi: "mainline" });
	const unprivileged: ProgramMain = (argc, argv) => {
		if (chmod("/dev/liveupdate", 0o666) < 0) return 90;
		if (setrlimit(RLIMIT_NOFILE, { rlim_cur: 1024n, rlim_max: 1024n }) < 0) return 91;
		if (setuid(1000) < 0) return 92;
		return stress_sessions(argc, argv);
	};
	const c = collector();
	t.equal(await runOn(k, unprivileged, ["./luo_stress_sessions"], c.sink), 4);
	t.equal(c.text(), "# [STAGE 1] Increasing ulimit for open files...\n1..0 # SKIP Insufficient privileges to set RLIMIT_NOFILE\n");
});

t.test("luo_stress_sessions' stage 1 without its RLIMIT step fails with EMFILE, as the C would", async (t) => {
	const k = new Machine().boot({ abi: "mainline" });
	/* run_stage_1 of luo_stress_sessions.c, minus luo_ensure_nofile_limit() */
	const run_stage_1 = (luo_fd: number): void => {
		create_state_file(luo_fd, "kexec_many_state", 999, 2);
		for (let i = 0; i < 2000; i++) {
			const name = `many-test-${i}`;
			if (luo_create_session(luo_fd, name) < 0)
				fail_exit("luo_create_session for '%s' at index %d", name, i);
		}
	};
	const c = collector();
	t.equal(await runOn(k, (argc, argv) => luo_test(argc, argv, "kexec_many_state", run_stage_1, () => {}), ["./stage1"], c.sink), 1);
	t.match(c.text(), /^Bail out! \[run_stage_1:\d+\] luo_create_session for 'many-test-1019' at index 1019 \(errno: Too many open files\)$/m,
		"fds 0-2, /dev/liveupdate and the state session, then 1019 sessions fill the default soft limit of 1024");
});
