/**
 * tools/testing/selftests/kselftest.h in TS: the plain KTAP reporting API
 * of kernel selftests, printing the same bytes.
 *
 * Version: the upstream text of 2025 (ksft_test_result_code,
 * ksft_test_result_xpass, ksft_exit_fail_perror, and the "skipped test(s)
 * detected" line of ksft_print_cnts); digest-selftests.md §7.1-7.2.
 *
 * The counters and the plan are C statics (`static struct ksft_count
 * ksft_cnt; static unsigned int ksft_plan;`): each process has its own,
 * copied at fork (static.ts), so a forked child's results never reach its
 * parent's Totals, as in C.
 *
 * Output goes to stdout through libc's printf, one write(2) per call: what
 * C's line-buffered stdout (set by ksft_print_header) writes for a call
 * that ends its line. The exit functions call exit(3) and never return.
 *
 * Environment: luosim processes have no environment yet (getenv() is always
 * NULL), so the variables read here also come from `ksft_host_env`, which
 * starts from the host's environment (`KSFT_TAP_LEVEL=1 npx luosim run …`)
 * and which a runner or test may change before it starts a program:
 * - `KSFT_TAP_LEVEL`: set (to anything) means a nested run, and
 *   ksft_print_header() prints no `TAP version 13`, as in C;
 * - `LUOSIM_KSFT_SKIP_EXIT`: the exit status ksft_exit_skip() and
 *   ksft_exit_xfail() use instead of 4 and 2. node-tap fails a file that
 *   exits 4 even when its TAP says `1..0 # SKIP` (anchors.md §5.3); with
 *   `LUOSIM_KSFT_SKIP_EXIT=0` a skipped program is a skip there. Unset
 *   (standalone runs, `luosim selftests`) the kselftest codes stay.
 */
import { StaticObject } from "./static.ts";
import { errno, exit, getenv, printf, strerror, vformat, type FormatArg } from "../libc/mod.ts";
import { KSFT_FAIL, KSFT_PASS, KSFT_SKIP, KSFT_XFAIL, KSFT_XPASS, formatCnts, formatResultCode, resultCode, testNum, type KsftCounts } from "./format.ts";

export { KSFT_PASS, KSFT_FAIL, KSFT_XFAIL, KSFT_XPASS, KSFT_SKIP, type KsftCounts } from "./format.ts";

/** The stand-ins for environment variables described in the module comment. */
export const ksft_host_env: { KSFT_TAP_LEVEL: string | null; LUOSIM_KSFT_SKIP_EXIT: string | null } = {
	KSFT_TAP_LEVEL: process.env.KSFT_TAP_LEVEL ?? null,
	LUOSIM_KSFT_SKIP_EXIT: process.env.LUOSIM_KSFT_SKIP_EXIT ?? null,
};

function env(name: keyof typeof ksft_host_env): string | null {
	return getenv(name) ?? ksft_host_env[name];
}

const FIELDS = ["pass", "fail", "xfail", "xpass", "xskip", "error", "plan"] as const;
type Field = (typeof FIELDS)[number];
/** ksft_cnt (six unsigned ints) followed by ksft_plan. */
const ksftStatics = new StaticObject(FIELDS.length * 4);

/** The calling process's counters and plan. */
export function ksft_counts(): KsftCounts {
	const v = ksftStatics.read();
	const c = {} as KsftCounts;
	FIELDS.forEach((f, i) => (c[f] = v.getUint32(i * 4, true)));
	return c;
}

function setField(f: Field, value: number): void {
	const b = new Uint8Array(4);
	new DataView(b.buffer).setUint32(0, value >>> 0, true);
	ksftStatics.write(FIELDS.indexOf(f) * 4, b);
}

function inc(f: Field): void {
	setField(f, ksft_counts()[f] + 1);
}

/** ksft_test_num(): the number of results reported so far. */
export function ksft_test_num(): number {
	return testNum(ksft_counts());
}

/** ksft_inc_pass_cnt(): counts one pass result without printing. */
export function ksft_inc_pass_cnt(): void {
	inc("pass");
}
/** ksft_inc_fail_cnt(): counts one fail result without printing. */
export function ksft_inc_fail_cnt(): void {
	inc("fail");
}
/** ksft_inc_xfail_cnt(): counts one xfail result without printing. */
export function ksft_inc_xfail_cnt(): void {
	inc("xfail");
}
/** ksft_inc_xpass_cnt(): counts one xpass result without printing. */
export function ksft_inc_xpass_cnt(): void {
	inc("xpass");
}
/** ksft_inc_xskip_cnt(): counts one xskip result without printing. */
export function ksft_inc_xskip_cnt(): void {
	inc("xskip");
}
/** ksft_inc_error_cnt(): counts one error result without printing. */
export function ksft_inc_error_cnt(): void {
	inc("error");
}
/** ksft_get_pass_cnt(): the calling process's pass count. */
export function ksft_get_pass_cnt(): number {
	return ksft_counts().pass;
}
/** ksft_get_fail_cnt(): the calling process's fail count. */
export function ksft_get_fail_cnt(): number {
	return ksft_counts().fail;
}
/** ksft_get_xfail_cnt(): the calling process's xfail count. */
export function ksft_get_xfail_cnt(): number {
	return ksft_counts().xfail;
}
/** ksft_get_xpass_cnt(): the calling process's xpass count. */
export function ksft_get_xpass_cnt(): number {
	return ksft_counts().xpass;
}
/** ksft_get_xskip_cnt(): the calling process's xskip count. */
export function ksft_get_xskip_cnt(): number {
	return ksft_counts().xskip;
}
/** ksft_get_error_cnt(): the calling process's error count. */
export function ksft_get_error_cnt(): number {
	return ksft_counts().error;
}

/** A literal for a printf format: `%` doubled. */
function lit(s: string): string {
	return s.replaceAll("%", "%%");
}

/**
 * ksft_print_header(): `TAP version 13`, unless KSFT_TAP_LEVEL is set.
 * (C also makes stdout line-buffered; luosim's stdio has no buffer.)
 */
export function ksft_print_header(): void {
	if (!env("KSFT_TAP_LEVEL")) printf("TAP version 13\n");
}

/** ksft_set_plan(n): `1..n`. */
export function ksft_set_plan(plan: number): void {
	setField("plan", plan);
	printf("1..%u\n", plan);
}

/** ksft_print_cnts(): the skip note, the plan mismatch note and the Totals line. */
export function ksft_print_cnts(): void {
	for (const line of formatCnts(ksft_counts()).split(/(?<=\n)/)) printf("%s", line);
}

/** ksft_print_msg(fmt, ...): `# ` + the message (which supplies its own `\n`). */
export function ksft_print_msg(fmt: string, ...args: FormatArg[]): void {
	printf(`# ${fmt}`, ...args);
}

/** ksft_perror(msg): `# msg: <strerror(errno)> (<errno>)`. */
export function ksft_perror(msg: string): void {
	const err = errno;
	ksft_print_msg("%s: %s (%d)\n", msg, strerror(err), err);
}

/** Counts one result of kind `f` and prints `head` (with the number) followed by the message. */
function result(f: Field, head: string, fmt: string, args: FormatArg[]): void {
	inc(f);
	printf(lit(vformat(head, [ksft_test_num()])) + fmt, ...args);
}

/** ksft_test_result_pass(fmt, ...): `ok N ` + message. */
export function ksft_test_result_pass(fmt: string, ...args: FormatArg[]): void {
	result("pass", "ok %u ", fmt, args);
}

/** ksft_test_result_fail(fmt, ...): `not ok N ` + message. */
export function ksft_test_result_fail(fmt: string, ...args: FormatArg[]): void {
	result("fail", "not ok %u ", fmt, args);
}

/** ksft_test_result(condition, fmt, ...): pass if `condition` is true (nonzero), else fail. */
export function ksft_test_result(condition: unknown, fmt: string, ...args: FormatArg[]): void {
	if (condition) ksft_test_result_pass(fmt, ...args);
	else ksft_test_result_fail(fmt, ...args);
}

/** ksft_test_result_xfail(fmt, ...): `ok N # XFAIL ` + message. */
export function ksft_test_result_xfail(fmt: string, ...args: FormatArg[]): void {
	result("xfail", "ok %u # XFAIL ", fmt, args);
}

/** ksft_test_result_xpass(fmt, ...): `ok N # XPASS ` + message. */
export function ksft_test_result_xpass(fmt: string, ...args: FormatArg[]): void {
	result("xpass", "ok %u # XPASS ", fmt, args);
}

/** ksft_test_result_skip(fmt, ...): `ok N # SKIP ` + message. */
export function ksft_test_result_skip(fmt: string, ...args: FormatArg[]): void {
	result("xskip", "ok %u # SKIP ", fmt, args);
}

/** ksft_test_result_error(fmt, ...): `not ok N # error ` + message. */
export function ksft_test_result_error(fmt: string, ...args: FormatArg[]): void {
	result("error", "not ok %u # error ", fmt, args);
}

/** ksft_test_result_report(result, fmt, ...): the result function of a KSFT_* code; nothing for another value. */
export function ksft_test_result_report(code: number, fmt: string, ...args: FormatArg[]): void {
	switch (code) {
		case KSFT_PASS:
			return ksft_test_result_pass(fmt, ...args);
		case KSFT_FAIL:
			return ksft_test_result_fail(fmt, ...args);
		case KSFT_XFAIL:
			return ksft_test_result_xfail(fmt, ...args);
		case KSFT_XPASS:
			return ksft_test_result_xpass(fmt, ...args);
		case KSFT_SKIP:
			return ksft_test_result_skip(fmt, ...args);
	}
}

/**
 * ksft_test_result_code(exit_code, test_name, fmt, ...): the harness's
 * result line, `ok N name`, `not ok N name`, `ok N name # SKIP msg` ...
 * `fmt` may be null (no message). It ends the line itself.
 */
export function ksft_test_result_code(code: number, testName: string, fmt: string | null, ...args: FormatArg[]): void {
	inc(resultCode(code).field);
	const msg = fmt === null ? null : vformat(fmt, args, { errno });
	printf("%s", formatResultCode(code, ksft_test_num(), testName, msg));
}

/** ksft_exit_pass(): counts, then exit(KSFT_PASS). */
export function ksft_exit_pass(): never {
	ksft_print_cnts();
	return exit(KSFT_PASS);
}

/** ksft_exit_fail(): counts, then exit(KSFT_FAIL). */
export function ksft_exit_fail(): never {
	ksft_print_cnts();
	return exit(KSFT_FAIL);
}

/** ksft_exit(condition): ksft_exit_pass() if `condition` is true (nonzero), else ksft_exit_fail(). */
export function ksft_exit(condition: unknown): never {
	return condition ? ksft_exit_pass() : ksft_exit_fail();
}

/** ksft_finished(): ksft_exit(plan == pass + xpass + xfail + skip). */
export function ksft_finished(): never {
	const c = ksft_counts();
	return ksft_exit(c.plan === ((c.pass + c.xpass + c.xfail + c.xskip) >>> 0));
}

/** The exit status for a kselftest code under LUOSIM_KSFT_SKIP_EXIT (see the module comment). */
function skipExit(code: number): number {
	const v = env("LUOSIM_KSFT_SKIP_EXIT");
	return v !== null && /^\d+$/.test(v) ? Number(v) : code;
}

/** ksft_exit_xfail(): counts, then exit(KSFT_XFAIL). */
export function ksft_exit_xfail(): never {
	ksft_print_cnts();
	return exit(skipExit(KSFT_XFAIL));
}

/** ksft_exit_xpass(): counts, then exit(KSFT_XPASS). */
export function ksft_exit_xpass(): never {
	ksft_print_cnts();
	return exit(KSFT_XPASS);
}

/** ksft_exit_fail_msg(fmt, ...): `Bail out! ` + message, counts, exit(KSFT_FAIL). */
export function ksft_exit_fail_msg(fmt: string, ...args: FormatArg[]): never {
	printf(`Bail out! ${fmt}`, ...args);
	ksft_print_cnts();
	return exit(KSFT_FAIL);
}

/** ksft_exit_fail_perror(msg): `Bail out! msg: <strerror(errno)> (<errno>)`, counts, exit(KSFT_FAIL). */
export function ksft_exit_fail_perror(msg: string): never {
	const err = errno;
	return ksft_exit_fail_msg("%s: %s (%d)\n", msg, strerror(err), err);
}

/**
 * ksft_exit_skip(fmt, ...): with no plan and no result yet, `1..0 # SKIP `
 * + message and exit(KSFT_SKIP) without counts. Otherwise (the misuse the
 * C FIXME describes) it counts a skip and prints `ok <1 + count> # SKIP `
 * + message, one more than the skip's own number, as C does, then the
 * counts, then exit(KSFT_SKIP). `fmt` null prints no message.
 */
export function ksft_exit_skip(fmt: string | null, ...args: FormatArg[]): never {
	const c = ksft_counts();
	let head: string;
	if (c.plan || testNum(c)) {
		inc("xskip");
		head = vformat("ok %u # SKIP ", [1 + ksft_test_num()]);
	} else head = "1..0 # SKIP ";
	printf(lit(head) + (fmt ?? ""), ...args);
	if (ksft_test_num()) ksft_print_cnts();
	return exit(skipExit(KSFT_SKIP));
}
