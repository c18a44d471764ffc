// SPDX-License-Identifier: GPL-2.0

import { getpid, kill, sleep, stdout, SIGUSR1 } from "luosim/libc";

import { setrlimit, RLIMIT_CORE, type Rlimit } from "luosim/libc";
// <sys/prctl.h>: see main().

/* Avoid any inconsistencies */
TH_LOG_STREAM(stdout);

import { ASSERT_EQ, EXPECT_EQ, FIXTURE, FIXTURE_SETUP, FIXTURE_TEARDOWN, FIXTURE_TEARDOWN_PARENT, TEST, TEST_F, TEST_F_TIMEOUT, TEST_SIGNAL, TH_LOG, TH_LOG_STREAM, test_harness_run } from "luosim/ksft";

function test_helper(): void
{
	ASSERT_EQ(0, 0);
}

const standalone_pass = TEST("standalone_pass", () => {
	TH_LOG("before");
	ASSERT_EQ(0, 0);
	EXPECT_EQ(0, 0);
	test_helper();
	TH_LOG("after");
});

TEST("standalone_fail", () => {
	TH_LOG("before");
	EXPECT_EQ(0, 0);
	EXPECT_EQ(0, 1);
	ASSERT_EQ(0, 1);
	TH_LOG("after");
});

TEST_SIGNAL("signal_pass", SIGUSR1, () => {
	TH_LOG("before");
	ASSERT_EQ(0, 0);
	TH_LOG("after");
	kill(getpid(), SIGUSR1);
});

TEST_SIGNAL("signal_fail", SIGUSR1, () => {
	TH_LOG("before");
	ASSERT_EQ(0, 1);
	TH_LOG("after");
	kill(getpid(), SIGUSR1);
});

const fixture = FIXTURE("fixture", () => ({
	testpid: 0,
}));

FIXTURE_SETUP(fixture, (self) => {
	TH_LOG("setup");
	self.testpid = getpid();
});

FIXTURE_TEARDOWN(fixture, (self) => {
	TH_LOG("teardown same-process=%d", Number(self.testpid == getpid()));
});

const fixture_pass = TEST_F(fixture, "pass", (self, variant) => {
	TH_LOG("before");
	ASSERT_EQ(0, 0);
	test_helper();
	standalone_pass();
	TH_LOG("after");
});

TEST_F(fixture, "fail", (self, variant) => {
	TH_LOG("before");
	ASSERT_EQ(0, 1);
	fixture_pass(self, variant);
	TH_LOG("after");
});

TEST_F_TIMEOUT(fixture, "timeout", 1, async () => {
	TH_LOG("before");
	await sleep(2);
	TH_LOG("after");
});

const fixture_parent = FIXTURE("fixture_parent", () => ({
	testpid: 0,
}));

FIXTURE_SETUP(fixture_parent, (self) => {
	TH_LOG("setup");
	self.testpid = getpid();
});

FIXTURE_TEARDOWN_PARENT(fixture_parent, (self) => {
	TH_LOG("teardown same-process=%d", Number(self.testpid == getpid()));
});

TEST_F(fixture_parent, "pass", () => {
	TH_LOG("before");
	ASSERT_EQ(0, 0);
	TH_LOG("after");
});

const fixture_setup_failure = FIXTURE("fixture_setup_failure", () => ({
	testpid: 0,
}));

FIXTURE_SETUP(fixture_setup_failure, (self) => {
	TH_LOG("setup");
	self.testpid = getpid();
	ASSERT_EQ(0, 1);
});

FIXTURE_TEARDOWN(fixture_setup_failure, (self) => {
	TH_LOG("teardown same-process=%d", Number(self.testpid == getpid()));
});

TEST_F(fixture_setup_failure, "pass", () => {
	TH_LOG("before");
	ASSERT_EQ(0, 0);
	TH_LOG("after");
});

export function main(argc: number, argv: string[]): Promise<number>
{
	/*
	 * The harness uses abort() to signal assertion failures, which triggers coredumps.
	 * This may be useful to debug real failures but not for this selftest, disable them.
	 */
	const rlimit: Rlimit = {
		rlim_cur: 0n,
		rlim_max: 0n,
	};

	// prctl(PR_SET_DUMPABLE, 0, 0, 0, 0): luosim has no dumpable flag (and writes no core dumps).
	setrlimit(RLIMIT_CORE, rlimit);

	return test_harness_run(argc, argv);
}
