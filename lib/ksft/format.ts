/**
 * The text kselftest.h and kselftest_harness.h print, as pure functions of
 * their inputs: KSFT_* codes, result lines, the counts, and the failure
 * messages of ASSERT_* / EXPECT_*. No process, no output.
 */
import { vformat, type FormatArg } from "../libc/format.ts";

/** kselftest exit code: passed. */
export const KSFT_PASS = 0;
/** kselftest exit code: failed. */
export const KSFT_FAIL = 1;
/** kselftest exit code: failed as expected. */
export const KSFT_XFAIL = 2;
/** kselftest exit code: passed though expected to fail. */
export const KSFT_XPASS = 3;
/** kselftest exit code: skipped (the runner prints `ok … # SKIP`). */
export const KSFT_SKIP = 4;

/** `struct ksft_count` plus `ksft_plan`. */
export interface KsftCounts {
	pass: number;
	fail: number;
	xfail: number;
	xpass: number;
	xskip: number;
	error: number;
	plan: number;
}

/** ksft_test_num() of counts `c`. */
export function testNum(c: KsftCounts): number {
	return (c.pass + c.fail + c.xfail + c.xpass + c.xskip + c.error) >>> 0;
}

/** The lines ksft_print_cnts() prints for counts `c`. */
export function formatCnts(c: KsftCounts): string {
	const run = testNum(c);
	let s = "";
	if (c.xskip > 0) s += vformat("# %u skipped test(s) detected. Consider enabling relevant config options to improve coverage.\n", [c.xskip]);
	if (c.plan !== run) s += vformat("# Planned tests != run tests (%u != %u)\n", [c.plan, run]);
	s += vformat("# Totals: pass:%u fail:%u xfail:%u xpass:%u skip:%u error:%u\n", [c.pass, c.fail, c.xfail, c.xpass, c.xskip, c.error]);
	return s;
}

/** The counter ksft_test_result_code() bumps for `code`, and its line head. */
export function resultCode(code: number): { field: "pass" | "fail" | "xfail" | "xpass" | "xskip"; tap: string; directive: string } {
	switch (code) {
		case KSFT_PASS:
			return { field: "pass", tap: "ok", directive: "" };
		case KSFT_XFAIL:
			return { field: "xfail", tap: "ok", directive: " # XFAIL " };
		case KSFT_XPASS:
			return { field: "xpass", tap: "ok", directive: " # XPASS " };
		case KSFT_SKIP:
			return { field: "xskip", tap: "ok", directive: " # SKIP " };
		default:
			return { field: "fail", tap: "not ok", directive: "" };
	}
}

/**
 * The line ksft_test_result_code() prints as result number `num`. With a
 * message and no directive the separator is `#` and two spaces, as in C.
 */
export function formatResultCode(code: number, num: number, testName: string, msg: string | null): string {
	const r = resultCode(code);
	const directive = r.directive === "" && msg !== null ? " #  " : r.directive;
	return `${r.tap} ${num} ${testName}${directive}${msg ?? ""}\n`;
}

/** A value an ASSERT/EXPECT compares: C's integer, pointer or bool (null is NULL). */
export type Scalar = number | bigint | boolean | null | undefined;

/** The comparison operators, by their C spelling. */
export type Op = "==" | "!=" | "<" | "<=" | ">" | ">=";

function numeric(v: Scalar): number | bigint {
	if (typeof v === "bigint") return v;
	if (typeof v === "boolean") return v ? 1 : 0;
	return v ?? 0;
}

/** `a <op> b` on C values (a number and a bigint compare by value). */
export function compare(a: Scalar, op: Op, b: Scalar): boolean {
	const x = numeric(a);
	const y = numeric(b);
	switch (op) {
		case "==":
			return x == y;
		case "!=":
			return x != y;
		case "<":
			return x < y;
		case "<=":
			return x <= y;
		case ">":
			return x > y;
		case ">=":
			return x >= y;
	}
}

/** How a value prints: `%jd` (signed) or `%ju` (unsigned: bigints, and pointers). */
function printed(v: Scalar, pointer: boolean): { conv: string; arg: FormatArg } {
	const n = numeric(v);
	if (typeof n === "bigint") return { conv: "%ju", arg: n };
	return { conv: pointer ? "%ju" : "%jd", arg: Number.isFinite(n) ? Math.trunc(n) : 0 };
}

/**
 * The message of a failed numeric check: `Expected <eText> (<val>) <op>
 * <sText> (<val>)`. `pointers` prints both values unsigned (ASSERT_NULL).
 */
export function expectMessage(eText: string, expected: Scalar, op: Op, sText: string, seen: Scalar, pointers = false): string {
	const e = printed(expected, pointers);
	const s = printed(seen, pointers);
	return vformat(`Expected %s (${e.conv}) %s %s (${s.conv})`, [eText, e.arg, op, sText, s.arg]);
}

/** The message of a failed string check: `Expected '<a>' <op> '<b>'.` */
export function expectStrMessage(expected: string, op: "==" | "!=", seen: string): string {
	return `Expected '${expected}' ${op} '${seen}'.`;
}
