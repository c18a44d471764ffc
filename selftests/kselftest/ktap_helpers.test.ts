import t from "tap";
import { exitCode, runProgramOutput } from "../../lib/ksft/testing.ts";
import { KtapHelpers } from "./ktap_helpers.ts";

/** Runs `body` in a luosim program with a fresh KtapHelpers; its stdout and exit code. */
async function ktap(body: (k: KtapHelpers) => number | void): Promise<{ out: string; code: number }> {
	const r = await runProgramOutput(() => body(new KtapHelpers()) ?? 0, ["./sh"], { abi: "mainline" });
	return { out: r.stdout, code: exitCode(r.status) };
}

t.test("header, plan, results numbered in order, totals: ktap_finished passes when every planned test passed, skipped or xfailed", async (t) => {
	const r = await ktap((k) => {
		k.ktap_print_header();
		k.ktap_set_plan(4);
		k.ktap_test_pass("KHO succeeded");
		k.ktap_test_skip("CONFIG_X=y is missing");
		k.ktap_test_xfail("known  broken");
		k.ktap_test_result("true", true);
		return k.ktap_finished();
	});
	t.equal(r.code, 0);
	t.equal(
		r.out,
		[
			"TAP version 13",
			"1..4",
			"ok 1 KHO succeeded",
			"ok 2 CONFIG_X=y is missing # SKIP",
			"ok 3 known broken # XFAIL",
			"ok 4 true",
			"# 1 skipped test(s) detected.  Consider enabling relevant config options to improve coverage.",
			"# Totals: pass:2 fail:0 xfail:1 xpass:0 skip:1 error:0",
			"",
		].join("\n"),
	);
});

t.test("a failure, or fewer results than planned, makes ktap_finished fail", async (t) => {
	const failed = await ktap((k) => {
		k.ktap_set_plan(2);
		k.ktap_test_fail("KHO failed");
		k.ktap_test_result("false", false);
		return k.ktap_finished();
	});
	t.equal(failed.code, 1);
	t.equal(failed.out, "1..2\nnot ok 1 KHO failed\nnot ok 2 false\n# Totals: pass:0 fail:2 xfail:0 xpass:0 skip:0 error:0\n");
	const short = await ktap((k) => {
		k.ktap_set_plan(2);
		k.ktap_test_pass("one");
		return k.ktap_finished();
	});
	t.equal(short.code, 1);
});

t.test("echo's word splitting: an empty description leaves no double space; messages, skip_all, bail out", async (t) => {
	const r = await ktap((k) => {
		k.ktap_test_skip("");
		k.ktap_print_msg("a  b", "c");
		k.ktap_skip_all("no", "kernel support");
		return k.ktap_exit_fail_msg("went  wrong");
	});
	t.equal(r.code, 1);
	t.equal(
		r.out,
		[
			"ok 1 # SKIP",
			"# a b c",
			"1..0 # SKIP no kernel support",
			"Bail out!  went wrong",
			"# 1 skipped test(s) detected.  Consider enabling relevant config options to improve coverage.",
			"# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0",
			"",
		].join("\n"),
	);
});
