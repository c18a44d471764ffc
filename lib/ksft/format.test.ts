import t from "tap";
import { compare, expectMessage, expectStrMessage, formatCnts, formatResultCode, KSFT_FAIL, KSFT_PASS, KSFT_SKIP, KSFT_XFAIL, KSFT_XPASS } from "./format.ts";

const zero = { pass: 0, fail: 0, xfail: 0, xpass: 0, xskip: 0, error: 0, plan: 0 };

t.test("ksft_test_result_code lines: directive after the name, two spaces before a bare message", async (t) => {
	t.equal(formatResultCode(KSFT_PASS, 1, "global.standalone", null), "ok 1 global.standalone\n");
	t.equal(formatResultCode(KSFT_FAIL, 4, "liveupdate_device.expect_fails", null), "not ok 4 liveupdate_device.expect_fails\n");
	t.equal(formatResultCode(KSFT_SKIP, 2, "f.t", "/dev/liveupdate does not exist."), "ok 2 f.t # SKIP /dev/liveupdate does not exist.\n");
	t.equal(formatResultCode(KSFT_XFAIL, 4, "f.big.small_only", "unknown"), "ok 4 f.big.small_only # XFAIL unknown\n");
	t.equal(formatResultCode(KSFT_XPASS, 3, "global.exit_xpass", "unknown"), "ok 3 global.exit_xpass # XPASS unknown\n");
	t.equal(formatResultCode(KSFT_PASS, 1, "x", "why"), "ok 1 x #  why\n");
	t.equal(formatResultCode(KSFT_FAIL, 1, "x", "why"), "not ok 1 x #  why\n");
	t.equal(formatResultCode(99, 1, "x", null), "not ok 1 x\n", "an unknown code is a failure");
});

t.test("ksft_print_cnts: skip note, plan mismatch, Totals", async (t) => {
	t.equal(formatCnts({ ...zero, pass: 2, fail: 2, xskip: 1, plan: 5 }),
		"# 1 skipped test(s) detected. Consider enabling relevant config options to improve coverage.\n" +
		"# Totals: pass:2 fail:2 xfail:0 xpass:0 skip:1 error:0\n");
	t.equal(formatCnts({ ...zero, pass: 1, plan: 3 }),
		"# Planned tests != run tests (3 != 1)\n# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0\n");
	t.equal(formatCnts(zero), "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:0\n");
	t.equal(formatCnts({ ...zero, error: 1, plan: 1 }), "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:1\n", "error counts as run");
});

t.test("numeric failure message: %jd for numbers, %ju for bigints, per side", async (t) => {
	t.equal(expectMessage("ret", -2, "==", "-EBUSY", -16), "Expected ret (-2) == -EBUSY (-16)");
	t.equal(expectMessage("3", 3, "<", "0", 0), "Expected 3 (3) < 0 (0)");
	t.equal(expectMessage("n", -1n, "==", "len", 4), "Expected n (18446744073709551615) == len (4)");
	t.equal(expectMessage("a", 1.9, ">", "b", true), "Expected a (1) > b (1)", "a double is truncated, true is 1");
	t.equal(expectMessage("0", 0, "!=", "ok", false), "Expected 0 (0) != ok (0)");
	t.equal(expectMessage("NULL", 0, "==", "p", -1, true), "Expected NULL (0) == p (18446744073709551615)", "pointers print unsigned");
	t.equal(expectMessage("NULL", 0, "==", "p", null, true), "Expected NULL (0) == p (0)");
});

t.test("string failure message ends in a period", async (t) => {
	t.equal(expectStrMessage("abc", "==", "hello liveupdate"), "Expected 'abc' == 'hello liveupdate'.");
	t.equal(expectStrMessage("a", "!=", "a"), "Expected 'a' != 'a'.");
});

t.test("compare: numbers, bigints, booleans and null as C values", async (t) => {
	t.ok(compare(1n, "==", 1));
	t.ok(compare(2, ">", 1n));
	t.ok(compare(null, "==", 0));
	t.ok(compare(true, "==", 1));
	t.notOk(compare(0, "!=", false));
	t.ok(compare(-1, "<", 0));
	t.ok(compare(3, "<=", 3));
	t.notOk(compare(3, ">=", 4));
	t.notOk(compare(NaN, "==", NaN));
});
