// SPDX-License-Identifier: GPL-2.0-only
/*
 * digest §7.11: RFC v2's liveupdate.c calls the plain kselftest.h API
 * inside harness tests: ksft_exit_skip() in a FIXTURE_SETUP and
 * ksft_test_result_skip() in a TEST_F. The test processes print with their
 * own copies of the counters.
 */
import {
	FIXTURE, FIXTURE_SETUP, FIXTURE_TEARDOWN, TEST_F, TEST_HARNESS_MAIN, ksft_exit_skip, ksft_test_result_skip,
} from "luosim/ksft";

const state = FIXTURE("state", () => ({ fd: 0 }));

FIXTURE_SETUP(state, () => {
	ksft_exit_skip("Setup: Cannot open %s (errno %d).\n", "/dev/liveupdate", 2);
});

FIXTURE_TEARDOWN(state, () => {
});

TEST_F(state, "normal", () => {
});

const sysfs = FIXTURE("sysfs", () => ({ fd: 0 }));

FIXTURE_SETUP(sysfs, () => {
});

FIXTURE_TEARDOWN(sysfs, () => {
});

TEST_F(sysfs, "sysfs_normal", () => {
	ksft_test_result_skip("Sysfs state file not accessible (%d)\n", -2);
});

export const main = TEST_HARNESS_MAIN();
