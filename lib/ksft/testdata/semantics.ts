// SPDX-License-Identifier: GPL-2.0-only
/*
 * Harness semantics beyond the digest's runs: checks in a forked child,
 * failure handlers, an async teardown after a failed ASSERT, a signal test
 * with a fixture, SKIP in setup, and every kind of check message.
 */
import { fork, getpid, kill, usleep, waitpid, WTERMSIG, SIGUSR1 } from "luosim/libc";
import {
	ASSERT_EQ, ASSERT_NULL, ASSERT_TRUE, EXPECT_EQ, EXPECT_FALSE, EXPECT_NULL, EXPECT_STREQ, EXPECT_STRNE, EXPECT_TRUE,
	FIXTURE, FIXTURE_SETUP, FIXTURE_TEARDOWN, SKIP, TEST, TEST_F, TEST_F_SIGNAL, TEST_HARNESS_MAIN, TH_LOG,
} from "luosim/ksft";

const fx = FIXTURE("fx", () => ({ pid: 0 }));

FIXTURE_SETUP(fx, () => {
});

FIXTURE_TEARDOWN(fx, () => {
	TH_LOG("teardown in %s", "fx");
});

TEST_F(fx, "assert_in_child", async () => {
	const st = new Int32Array(1);
	const pid = fork(() => {
		ASSERT_EQ(1, 2);
		return 0;
	});
	await waitpid(pid, st, 0);
	TH_LOG("child died by signal %d", WTERMSIG(st[0]!));
});

TEST_F(fx, "handler_skip", () => {
	ASSERT_EQ(1, 2, () => SKIP("skipped in handler"));
	TH_LOG("not reached");
});

TEST_F(fx, "expect_handler", () => {
	EXPECT_EQ(1, 2, () => TH_LOG("in handler"));
	TH_LOG("goes on");
});

TEST_F_SIGNAL(fx, "by_signal", SIGUSR1, () => {
	kill(getpid(), SIGUSR1);
});

const afx = FIXTURE("afx");

FIXTURE_SETUP(afx, () => {
});

FIXTURE_TEARDOWN(afx, async () => {
	await usleep(1000);
	TH_LOG("async teardown done");
});

TEST_F(afx, "assert_async", async () => {
	await usleep(10);
	ASSERT_TRUE(0);
	TH_LOG("not reached");
});

const sk = FIXTURE("sk");

FIXTURE_SETUP(sk, () => {
	return SKIP("no %s", "device");
});

FIXTURE_TEARDOWN(sk, () => {
	TH_LOG("teardown in %s", "sk");
});

TEST_F(sk, "skipped", () => {
	TH_LOG("not reached");
});

TEST("messages", () => {
	EXPECT_STRNE("a", "a");
	EXPECT_STREQ("a", "b");
	ASSERT_NULL(0);
	EXPECT_NULL(5);
	EXPECT_FALSE(1);
	EXPECT_TRUE(false);
	EXPECT_EQ(1n << 63n, 0n);
	EXPECT_EQ(
		-1, 4);
});

export const main = TEST_HARNESS_MAIN();
