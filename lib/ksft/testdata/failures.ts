// SPDX-License-Identifier: GPL-2.0-only
/*
 * digest §7.7's demo.c: a standalone TEST, a skip, a pass, EXPECT failures
 * that let the test go on, and an ASSERT failure that ends it.
 */
import { close, errno, open, ENOENT, EBUSY, O_RDWR } from "luosim/libc";
import {
	ASSERT_STREQ, EXPECT_EQ, EXPECT_LT, FIXTURE, FIXTURE_SETUP, FIXTURE_TEARDOWN, SKIP, TEST, TEST_F,
	TEST_HARNESS_MAIN, TH_LOG,
} from "luosim/ksft";

TEST("standalone", () => {
});

const liveupdate_device = FIXTURE("liveupdate_device", () => ({ fd1: 0, fd2: 0 }));

FIXTURE_SETUP(liveupdate_device, (self) => {
	self.fd1 = -1;
	self.fd2 = -1;
});

FIXTURE_TEARDOWN(liveupdate_device, (self) => {
	if (self.fd1 >= 0)
		close(self.fd1);
});

TEST_F(liveupdate_device, "basic_open_close", (self) => {
	self.fd1 = open("/dev/liveupdate", O_RDWR);
	if (self.fd1 < 0 && errno == ENOENT)
		return SKIP("/dev/liveupdate does not exist.");
});

TEST_F(liveupdate_device, "passes", () => {
});

TEST_F(liveupdate_device, "expect_fails", () => {
	const ret = -ENOENT;

	EXPECT_EQ(ret, -EBUSY);
	EXPECT_LT(3, 0);
	TH_LOG("still running after EXPECT");
});

TEST_F(liveupdate_device, "assert_fails", () => {
	const buf = "abc";

	ASSERT_STREQ(buf, "hello liveupdate");
	TH_LOG("not reached");
});

export const main = TEST_HARNESS_MAIN();
