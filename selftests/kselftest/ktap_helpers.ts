// SPDX-License-Identifier: GPL-2.0
/*
 * ktap_helpers.ts: tools/testing/selftests/kselftest/ktap_helpers.sh for
 * luosim programs (the shell tests' KTAP output, as vmtest.sh sources it).
 *
 * The shell keeps its counters in script variables; here they are the
 * fields of one KtapHelpers, made in the program's main. `echo` with
 * unquoted expansions splits words on whitespace and drops empty ones, so
 * an empty description leaves no double space: `ok 1 # SKIP`. The shell
 * functions that `exit` return the status instead, for the caller to exit
 * with.
 */
import { printf } from "luosim/libc";
import { KSFT_FAIL, KSFT_PASS } from "luosim/ksft";

/** An unquoted shell expansion: its words. */
function words(...expansions: string[]): string[] {
	return expansions.flatMap((s) => s.split(/[ \t\n]+/).filter((w) => w !== ""));
}

/** echo: its arguments joined by single spaces, and a newline. */
function echo(args: string[]): void {
	printf("%s\n", args.join(" "));
}

/** The state and functions of ktap_helpers.sh. */
export class KtapHelpers {
	KTAP_TESTNO = 1;
	KTAP_CNT_PASS = 0;
	KTAP_CNT_FAIL = 0;
	KTAP_CNT_XFAIL = 0;
	KTAP_CNT_SKIP = 0;
	KSFT_NUM_TESTS = 0;

	ktap_print_header(): void {
		echo(["TAP version 13"]);
	}

	ktap_print_msg(...msg: string[]): void {
		echo(["#", ...words(...msg)]);
	}

	ktap_set_plan(n: number): void {
		this.KSFT_NUM_TESTS = n;
		echo([`1..${this.KSFT_NUM_TESTS}`]);
	}

	ktap_skip_all(...msg: string[]): void {
		printf("1..0 # SKIP ");
		echo(words(...msg));
	}

	private __ktap_test(result: string, description: string, directive = ""): void {
		const directive_str = directive !== "" ? `# ${directive}` : "";
		echo(words(result, String(this.KTAP_TESTNO), description, directive_str));
		this.KTAP_TESTNO++;
	}

	ktap_test_pass(description: string): void {
		this.__ktap_test("ok", description);
		this.KTAP_CNT_PASS++;
	}

	ktap_test_skip(description: string): void {
		this.__ktap_test("ok", description, "SKIP");
		this.KTAP_CNT_SKIP++;
	}

	ktap_test_xfail(description: string): void {
		this.__ktap_test("ok", description, "XFAIL");
		this.KTAP_CNT_XFAIL++;
	}

	ktap_test_fail(description: string): void {
		this.__ktap_test("not ok", description);
		this.KTAP_CNT_FAIL++;
	}

	/** ktap_test_result DESCRIPTION COMMAND...: pass if the command succeeds. */
	ktap_test_result(description: string, ok: boolean): void {
		if (ok) this.ktap_test_pass(description);
		else this.ktap_test_fail(description);
	}

	/** Prints `Bail out! ` and the message, then the totals; the status to exit with. */
	ktap_exit_fail_msg(...msg: string[]): number {
		echo(["Bail out! ", ...words(...msg)]);
		this.ktap_print_totals();
		return KSFT_FAIL;
	}

	/** Prints the totals; the status to exit with: pass unless some planned test did not pass, skip or xfail. */
	ktap_finished(): number {
		this.ktap_print_totals();
		return this.KTAP_CNT_PASS + this.KTAP_CNT_SKIP + this.KTAP_CNT_XFAIL === this.KSFT_NUM_TESTS ? KSFT_PASS : KSFT_FAIL;
	}

	ktap_print_totals(): void {
		if (this.KTAP_CNT_SKIP > 0) echo([`# ${this.KTAP_CNT_SKIP} skipped test(s) detected. `, "Consider enabling relevant config options to improve coverage."]);
		echo([`# Totals: pass:${this.KTAP_CNT_PASS} fail:${this.KTAP_CNT_FAIL} xfail:${this.KTAP_CNT_XFAIL} xpass:0 skip:${this.KTAP_CNT_SKIP} error:0`]);
	}
}
