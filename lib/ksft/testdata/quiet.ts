// SPDX-License-Identifier: GPL-2.0-only
/*
 * `#define TH_LOG_ENABLED 0`: TH_LOG and SKIP's note print nothing, failed
 * checks still do. The fixture is named by string, as C names it.
 */
import { EXPECT_EQ, FIXTURE, FIXTURE_SETUP, FIXTURE_TEARDOWN, SKIP, TEST, TEST_F, TEST_HARNESS_MAIN, TH_LOG, TH_LOG_ENABLED } from "luosim/ksft";

TH_LOG_ENABLED(0);

interface Q {
	n: number;
}

FIXTURE("q", (): Q => ({ n: 0 }));

FIXTURE_SETUP("q", (self: Q) => {
	self.n = 1;
});

FIXTURE_TEARDOWN("q", () => {
});

TEST_F("q", "quiet", (self: Q) => {
	TH_LOG("hidden");
	EXPECT_EQ(2, self.n);
});

TEST("skip_quiet", () => {
	return SKIP("hidden %s", "reason");
});

export const main = TEST_HARNESS_MAIN();
