import t from "tap";
import { exitCode, runProgramOutput } from "./testing.ts";
import { ksft_host_env } from "./kselftest.ts";
import * as plain from "./testdata/plain.ts";

const SKIPS = "skipped test(s) detected. Consider enabling relevant config options to improve coverage.";

t.test("every result function, ksft_perror, ksft_finished short of the plan exits 1", async (t) => {
	const r = await runProgramOutput(plain.results, ["./results"]);
	t.equal(r.stdout, `TAP version 13
1..7
# hello 42
ok 1 one
not ok 2 two x
ok 3 # SKIP three
ok 4 # XFAIL four
ok 5 # XPASS five
not ok 6 # error six
ok 7 seven # SKIP why
# open: No such file or directory (2)
# 2 ${SKIPS}
# Totals: pass:1 fail:1 xfail:1 xpass:1 skip:2 error:1
`);
	t.equal(r.stderr, "");
	t.equal(exitCode(r.status), 1);
});

t.test("ksft_exit_skip before any plan: `1..0 # SKIP`, no Totals, exit 4 (digest §7.8)", async (t) => {
	const r = await runProgramOutput(plain.skip_early, ["./luo_kexec_simple"]);
	t.equal(r.stdout, "1..0 # SKIP Failed to open /dev/liveupdate. Is the luo module loaded?\n");
	t.equal(exitCode(r.status), 4);
});

t.test("ksft_exit_skip after results: numbered one too high, then the counts, exit 4", async (t) => {
	const r = await runProgramOutput(plain.skip_late, ["./late"]);
	t.equal(r.stdout, `TAP version 13
1..3
ok 1 first
ok 3 # SKIP later
# 1 ${SKIPS}
# Planned tests != run tests (3 != 2)
# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0
`);
	t.equal(exitCode(r.status), 4);
});

t.test("ksft_exit_fail_msg and ksft_exit_fail_perror bail out with the counts, exit 1 (digest §7.8)", async (t) => {
	const a = await runProgramOutput(plain.fail_msg, ["./luo_kexec_simple"]);
	t.equal(a.stdout, "Bail out! Stage mismatch Requested stage 2, but system is in stage 1.\n(State session kexec_simple_state: MISSING)\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:0\n");
	t.equal(exitCode(a.status), 1);
	const b = await runProgramOutput(plain.fail_perror, ["./p"]);
	t.equal(b.stdout, "Bail out! open: No such file or directory (2)\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:0\n");
	t.equal(exitCode(b.status), 1);
});

t.test("counters are C statics: a fork child has its own copy from the fork on", async (t) => {
	const r = await runProgramOutput(plain.counters, ["./counters"]);
	t.equal(r.stdout, `TAP version 13
1..2
ok 1 parent
ok 1 early child
# Planned tests != run tests (0 != 1)
# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0
ok 2 late child
# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0
ok 2 parent again
# Totals: pass:2 fail:0 xfail:0 xpass:0 skip:0 error:0
`);
	t.equal(exitCode(r.status), 0);
});

t.test("KSFT_TAP_LEVEL drops the version line; LUOSIM_KSFT_SKIP_EXIT=0 makes a skip exit 0 for node-tap", async (t) => {
	const saved = { ...ksft_host_env };
	t.teardown(() => Object.assign(ksft_host_env, saved));
	ksft_host_env.KSFT_TAP_LEVEL = "1";
	const nested = await runProgramOutput(plain.skip_late, ["./late"]);
	t.match(nested.stdout, /^1\.\.3\n/);
	ksft_host_env.KSFT_TAP_LEVEL = null;
	ksft_host_env.LUOSIM_KSFT_SKIP_EXIT = "0";
	const skipped = await runProgramOutput(plain.skip_early, ["./p"]);
	t.equal(skipped.stdout, "1..0 # SKIP Failed to open /dev/liveupdate. Is the luo module loaded?\n");
	t.equal(exitCode(skipped.status), 0);
	const failed = await runProgramOutput(plain.fail_msg, ["./p"]);
	t.equal(exitCode(failed.status), 1, "a failure still fails");
});
