// SPDX-License-Identifier: GPL-2.0-only
/*
 * Programs using only kselftest.h, one per export: every result kind, the
 * two ksft_exit_skip() forms, bail-outs, and counters across fork.
 */
import { fork, set_errno, sleep, waitpid, ENOENT } from "luosim/libc";
import {
	KSFT_SKIP, ksft_exit_fail_msg, ksft_exit_fail_perror, ksft_exit_pass, ksft_exit_skip, ksft_finished, ksft_perror,
	ksft_print_cnts, ksft_print_header, ksft_print_msg, ksft_set_plan, ksft_test_result_code, ksft_test_result_error,
	ksft_test_result_fail, ksft_test_result_pass, ksft_test_result_skip, ksft_test_result_xfail, ksft_test_result_xpass,
} from "luosim/ksft";

/** Every result function once, then ksft_finished(). */
export function results(): void {
	ksft_print_header();
	ksft_set_plan(7);
	ksft_print_msg("hello %d\n", 42);
	ksft_test_result_pass("one\n");
	ksft_test_result_fail("two %s\n", "x");
	ksft_test_result_skip("three\n");
	ksft_test_result_xfail("four\n");
	ksft_test_result_xpass("five\n");
	ksft_test_result_error("six\n");
	ksft_test_result_code(KSFT_SKIP, "seven", "%s", "why");
	set_errno(ENOENT);
	ksft_perror("open");
	ksft_finished();
}

/** luo_test()'s skip when the device is missing: before any plan. */
export function skip_early(): void {
	ksft_exit_skip("Failed to open %s. Is the luo module loaded?\n", "/dev/liveupdate");
}

/** ksft_exit_skip() after a plan and a result. */
export function skip_late(): void {
	ksft_print_header();
	ksft_set_plan(3);
	ksft_test_result_pass("first\n");
	ksft_exit_skip("later\n");
}

/** luo_test()'s stage mismatch. */
export function fail_msg(): void {
	ksft_exit_fail_msg("Stage mismatch Requested stage %d, but system is in stage %d.\n(State session %s: %s)\n", 2, 1, "kexec_simple_state", "MISSING");
}

/** ksft_exit_fail_perror(). */
export function fail_perror(): void {
	set_errno(ENOENT);
	ksft_exit_fail_perror("open");
}

/**
 * Counters are per process: a child forked before the parent's first
 * result starts from zero; one forked after starts from the parent's
 * counts; neither changes the parent's.
 */
export async function counters(): Promise<number> {
	const early = fork(async () => {
		await sleep(1);
		ksft_test_result_pass("early child\n");
		ksft_print_cnts();
		return 0;
	});
	ksft_print_header();
	ksft_set_plan(2);
	ksft_test_result_pass("parent\n");
	await waitpid(early, null, 0);
	const late = fork(() => {
		ksft_test_result_pass("late child\n");
		ksft_exit_pass();
	});
	await waitpid(late, null, 0);
	ksft_test_result_pass("parent again\n");
	ksft_finished();
	return 1;
}
