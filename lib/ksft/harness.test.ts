import t from "tap";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { exitCode, normalizeSites, runProgramOutput } from "./testing.ts";
import { main as skipMain } from "./testdata/liveupdate-skip.ts";
import { main as failuresMain } from "./testdata/failures.ts";
import { main as variantsMain } from "./testdata/variants.ts";
import { main as exitsMain } from "./testdata/exits.ts";
import { main as misuseMain } from "./testdata/misuse.ts";
import { main as semanticsMain } from "./testdata/semantics.ts";
import { main as quietMain } from "./testdata/quiet.ts";

/** `file:line` of the first line of testdata/`file` containing `text`, as the harness prints it. */
function at(file: string, text: string | RegExp): string {
	const lines = readFileSync(fileURLToPath(new URL(`./testdata/${file}`, import.meta.url)), "utf8").split("\n");
	const i = lines.findIndex((l) => (typeof text === "string" ? l.includes(text) : text.test(l)));
	if (i < 0) throw new Error(`${text} not in ${file}`);
	return `${file}:${i + 1}`;
}

const SKIPS = "skipped test(s) detected. Consider enabling relevant config options to improve coverage.";

t.test("digest §7.6: every test skips in its prologue; PASSED, the skip note, exit 0", async (t) => {
	const names = [
		"basic_open_close", "exclusive_open", "create_duplicate_session", "create_distinct_sessions", "preserve_memfd",
		"preserve_multiple_memfds", "preserve_complex_scenario", "preserve_unsupported_fd", "prevent_double_preservation",
		"create_session_no_null_termination", "create_session_empty_name", "get_session_name",
		"get_session_name_max_length", "preserve_many_sessions", "preserve_many_files",
	];
	let expected = "TAP version 13\n1..15\n# Starting 15 tests from 1 test cases.\n";
	names.forEach((name, i) => {
		const reason = i < 2 ? "/dev/liveupdate does not exist." : "/dev/liveupdate does not exist";
		expected += `#  RUN           liveupdate_device.${name} ...\n`;
		expected += `#      SKIP      ${reason}\n`;
		expected += `#            OK  liveupdate_device.${name}\n`;
		expected += `ok ${i + 1} liveupdate_device.${name} # SKIP ${reason}\n`;
	});
	expected += `# PASSED: 15 / 15 tests passed.\n# 15 ${SKIPS}\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:15 error:0\n`;
	const r = await runProgramOutput(skipMain, ["./liveupdate"], { cmdline: "liveupdate=off" });
	t.equal(r.merged, expected);
	t.equal(exitCode(r.status), 0);
	t.equal(r.stderr, "#      SKIP      /dev/liveupdate does not exist.\n".repeat(2) + "#      SKIP      /dev/liveupdate does not exist\n".repeat(13), "SKIP notes go to stderr");
});

t.test("digest §7.7: EXPECT goes on, ASSERT stops, SKIP, a standalone TEST; exit 1", async (t) => {
	// The digest's run, from the 6.12 harness, plus the newer skip note before Totals.
	const digest = `TAP version 13
1..5
# Starting 5 tests from 2 test cases.
#  RUN           global.standalone ...
#            OK  global.standalone
ok 1 global.standalone
#  RUN           liveupdate_device.basic_open_close ...
#      SKIP      /dev/liveupdate does not exist.
#            OK  liveupdate_device.basic_open_close
ok 2 liveupdate_device.basic_open_close # SKIP /dev/liveupdate does not exist.
#  RUN           liveupdate_device.passes ...
#            OK  liveupdate_device.passes
ok 3 liveupdate_device.passes
#  RUN           liveupdate_device.expect_fails ...
# demo.c:31:expect_fails:Expected ret (-2) == -EBUSY (-16)
# demo.c:32:expect_fails:Expected 3 (3) < 0 (0)
# demo.c:33:expect_fails:still running after EXPECT
# expect_fails: Test failed
#          FAIL  liveupdate_device.expect_fails
not ok 4 liveupdate_device.expect_fails
#  RUN           liveupdate_device.assert_fails ...
# demo.c:39:assert_fails:Expected 'abc' == 'hello liveupdate'.
# assert_fails: Test terminated by assertion
#          FAIL  liveupdate_device.assert_fails
not ok 5 liveupdate_device.assert_fails
# FAILED: 3 / 5 tests passed.
# 1 ${SKIPS}
# Totals: pass:2 fail:2 xfail:0 xpass:0 skip:1 error:0
`;
	// The digest's run was on a kernel without /dev/liveupdate.
	const r = await runProgramOutput(failuresMain, ["./demo"], { cmdline: "liveupdate=off" });
	t.equal(normalizeSites(r.merged), normalizeSites(digest));
	t.equal(exitCode(r.status), 1);
	t.equal(r.stderr, [
		"#      SKIP      /dev/liveupdate does not exist.",
		`# ${at("failures.ts", "EXPECT_EQ(ret")}:expect_fails:Expected ret (-2) == -EBUSY (-16)`,
		`# ${at("failures.ts", "EXPECT_LT(3")}:expect_fails:Expected 3 (3) < 0 (0)`,
		`# ${at("failures.ts", "still running")}:expect_fails:still running after EXPECT`,
		"# expect_fails: Test failed",
		`# ${at("failures.ts", "ASSERT_STREQ(buf")}:assert_fails:Expected 'abc' == 'hello liveupdate'.`,
		"# assert_fails: Test terminated by assertion",
		"",
	].join("\n"), "file:line of the TS source; notes on stderr, the rest on stdout");
});

t.test("digest §7.8: variants run variant by variant; an expected failure is XFAIL and passes", async (t) => {
	const r = await runProgramOutput(variantsMain, ["./variants"]);
	t.equal(r.merged, `TAP version 13
1..4
# Starting 4 tests from 2 test cases.
#  RUN           f.small.positive ...
#            OK  f.small.positive
ok 1 f.small.positive
#  RUN           f.small.small_only ...
#            OK  f.small.small_only
ok 2 f.small.small_only
#  RUN           f.big.positive ...
#            OK  f.big.positive
ok 3 f.big.positive
#  RUN           f.big.small_only ...
# ${at("variants.ts", "ASSERT_LE(self")}:small_only:Expected self.size (100) <= 10 (10)
# small_only: Test terminated by assertion
#          FAIL  f.big.small_only
ok 4 f.big.small_only # XFAIL unknown
# PASSED: 4 / 4 tests passed.
# Totals: pass:3 fail:0 xfail:1 xpass:0 skip:0 error:0
`);
	t.equal(exitCode(r.status), 0);
});

t.test("how a test ended: exit codes, unexpected signals, SIGKILL", async (t) => {
	const r = await runProgramOutput(exitsMain, ["./exits"]);
	t.equal(r.merged, `TAP version 13
1..8
# Starting 8 tests from 1 test cases.
#  RUN           global.exit_pass ...
#            OK  global.exit_pass
ok 1 global.exit_pass
#  RUN           global.exit_xpass ...
#            OK  global.exit_xpass
ok 2 global.exit_xpass # XPASS unknown
#  RUN           global.exit_fail ...
# exit_fail: Test failed
#          FAIL  global.exit_fail
not ok 3 global.exit_fail
#  RUN           global.exit_xfail ...
#            OK  global.exit_xfail
ok 4 global.exit_xfail # XFAIL unknown
#  RUN           global.exit_skip ...
#            OK  global.exit_skip
ok 5 global.exit_skip # SKIP unknown
#  RUN           global.signal_other ...
# signal_other: Test terminated unexpectedly by signal 15
#          FAIL  global.signal_other
not ok 6 global.signal_other
#  RUN           global.signal_none ...
# signal_none: Test exited normally instead of by signal (code: 0)
#          FAIL  global.signal_none
not ok 7 global.signal_none
#  RUN           global.killed ...
# killed: Test terminated unexpectedly by signal 9
#          FAIL  global.killed
not ok 8 global.killed
# FAILED: 4 / 8 tests passed.
# 1 ${SKIPS}
# Totals: pass:1 fail:4 xfail:1 xpass:1 skip:1 error:0
`);
	t.equal(exitCode(r.status), 1);
});

t.test("digest §7.11: plain-API calls inside tests print with the test process's own counters", async (t) => {
	const r = await runProgramOutput(misuseMain, ["./misuse"]);
	t.equal(r.merged, `TAP version 13
1..2
# Starting 2 tests from 2 test cases.
#  RUN           state.normal ...
ok 2 # SKIP Setup: Cannot open /dev/liveupdate (errno 2).
# 1 ${SKIPS}
# Planned tests != run tests (2 != 1)
# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0
#            OK  state.normal
ok 1 state.normal # SKIP unknown
#  RUN           sysfs.sysfs_normal ...
ok 2 # SKIP Sysfs state file not accessible (-2)
#            OK  sysfs.sysfs_normal
ok 2 sysfs.sysfs_normal
# PASSED: 2 / 2 tests passed.
# 1 ${SKIPS}
# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:1 error:0
`, "the harness's Totals count neither stray result");
	t.equal(exitCode(r.status), 0);
});

t.test("checks in forked children, failure handlers, async teardown, SKIP in setup, check messages", async (t) => {
	const r = await runProgramOutput(semanticsMain, ["./semantics"]);
	const s = (text: string | RegExp): string => at("semantics.ts", text);
	t.equal(r.merged, `TAP version 13
1..7
# Starting 7 tests from 4 test cases.
#  RUN           global.messages ...
# ${s('EXPECT_STRNE("a"')}:messages:Expected 'a' != 'a'.
# ${s('EXPECT_STREQ("a"')}:messages:Expected 'a' == 'b'.
# ${s("EXPECT_NULL(5)")}:messages:Expected NULL (0) == 5 (5)
# ${s("EXPECT_FALSE(1)")}:messages:Expected 0 (0) == 1 (1)
# ${s("EXPECT_TRUE(false)")}:messages:Expected 0 (0) != false (0)
# ${s("EXPECT_EQ(1n")}:messages:Expected 1n << 63n (9223372036854775808) == 0n (0)
# ${s(/EXPECT_EQ\($/)}:messages:Expected -1 (-1) == 4 (4)
# messages: Test failed
#          FAIL  global.messages
not ok 1 global.messages
#  RUN           fx.assert_in_child ...
# ${s("ASSERT_EQ(1, 2);")}:assert_in_child:Expected 1 (1) == 2 (2)
# ${s('"teardown in %s", "fx"')}:assert_in_child:teardown in fx
# ${s("child died by")}:assert_in_child:child died by signal 6
# assert_in_child: Test failed
#          FAIL  fx.assert_in_child
not ok 2 fx.assert_in_child
#  RUN           fx.handler_skip ...
# ${s("ASSERT_EQ(1, 2, ()")}:handler_skip:Expected 1 (1) == 2 (2)
#      SKIP      skipped in handler
# ${s('"teardown in %s", "fx"')}:handler_skip:teardown in fx
#            OK  fx.handler_skip
ok 3 fx.handler_skip # SKIP skipped in handler
#  RUN           fx.expect_handler ...
# ${s("EXPECT_EQ(1, 2, ()")}:expect_handler:Expected 1 (1) == 2 (2)
# ${s("EXPECT_EQ(1, 2, ()")}:expect_handler:in handler
# ${s("goes on")}:expect_handler:goes on
# ${s('"teardown in %s", "fx"')}:expect_handler:teardown in fx
# expect_handler: Test failed
#          FAIL  fx.expect_handler
not ok 4 fx.expect_handler
#  RUN           fx.by_signal ...
#            OK  fx.by_signal
ok 5 fx.by_signal
#  RUN           afx.assert_async ...
# ${s("ASSERT_TRUE(0)")}:assert_async:Expected 0 (0) != 0 (0)
# ${s("async teardown done")}:assert_async:async teardown done
# assert_async: Test terminated by assertion
#          FAIL  afx.assert_async
not ok 6 afx.assert_async
#  RUN           sk.skipped ...
#      SKIP      no device
#            OK  sk.skipped
ok 7 sk.skipped # SKIP no device
# FAILED: 3 / 7 tests passed.
# 2 ${SKIPS}
# Totals: pass:1 fail:4 xfail:0 xpass:0 skip:2 error:0
`);
	t.equal(exitCode(r.status), 1);
});

t.test("TH_LOG_ENABLED(0) silences TH_LOG and SKIP's note, not failed checks; fixtures named by string", async (t) => {
	const r = await runProgramOutput(quietMain, ["./quiet"]);
	t.equal(r.merged, `TAP version 13
1..2
# Starting 2 tests from 2 test cases.
#  RUN           global.skip_quiet ...
#            OK  global.skip_quiet
ok 1 global.skip_quiet # SKIP hidden reason
#  RUN           q.quiet ...
# ${at("quiet.ts", "EXPECT_EQ(2")}:quiet:Expected 2 (2) == self.n (1)
# quiet: Test failed
#          FAIL  q.quiet
not ok 2 q.quiet
# FAILED: 1 / 2 tests passed.
# 1 ${SKIPS}
# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:1 error:0
`);
	t.equal(exitCode(r.status), 1);
});
