// SPDX-License-Identifier: GPL-2.0-only
/*
 * digest §7.8: a fixture with two variants; `small_only` fails under
 * `big`, where XFAIL_ADD expects it to.
 */
import { ASSERT_LE, EXPECT_GT, FIXTURE, FIXTURE_SETUP, FIXTURE_TEARDOWN, FIXTURE_VARIANT, FIXTURE_VARIANT_ADD, TEST_F, TEST_HARNESS_MAIN, XFAIL_ADD } from "luosim/ksft";

const f = FIXTURE<{ size: number }, { size: number }>("f", () => ({ size: 0 }));

FIXTURE_VARIANT(f);

FIXTURE_VARIANT_ADD(f, "small", { size: 1 });

FIXTURE_VARIANT_ADD(f, "big", { size: 100 });

FIXTURE_SETUP(f, (self, variant) => {
	self.size = variant.size;
});

FIXTURE_TEARDOWN(f, () => {
});

TEST_F(f, "positive", (self) => {
	EXPECT_GT(self.size, 0);
});

TEST_F(f, "small_only", (self) => {
	ASSERT_LE(self.size, 10);
});

XFAIL_ADD(f, "big", "small_only");

export const main = TEST_HARNESS_MAIN();
