// SPDX-License-Identifier: GPL-2.0-only
/*
 * How the harness reads a test's end: exit() with each kselftest code, a
 * signal test that dies by another signal or exits normally, SIGKILL.
 */
import { exit, getpid, kill, SIGKILL, SIGTERM, SIGUSR1 } from "luosim/libc";
import { KSFT_FAIL, KSFT_PASS, KSFT_SKIP, KSFT_XFAIL, KSFT_XPASS, TEST, TEST_HARNESS_MAIN, TEST_SIGNAL } from "luosim/ksft";

TEST("exit_pass", () => {
	exit(KSFT_PASS);
});

TEST("exit_xpass", () => {
	exit(KSFT_XPASS);
});

TEST("exit_fail", () => {
	exit(KSFT_FAIL);
});

TEST("exit_xfail", () => {
	exit(KSFT_XFAIL);
});

TEST("exit_skip", () => {
	exit(KSFT_SKIP);
});

TEST_SIGNAL("signal_other", SIGUSR1, () => {
	kill(getpid(), SIGTERM);
});

TEST_SIGNAL("signal_none", SIGUSR1, () => {
});

TEST("killed", () => {
	kill(getpid(), SIGKILL);
});

export const main = TEST_HARNESS_MAIN();
