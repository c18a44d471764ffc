// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shape of upstream liveupdate.c's fixture and skip logic (digest
 * §2.1, §7.6) on a kernel without /dev/liveupdate: every test opens the
 * device first and skips when it is missing; only the first two tests put
 * a final '.' in the reason.
 */
import { close, errno, open, ENOENT, O_RDWR } from "luosim/libc";
import { ASSERT_GE, FIXTURE, FIXTURE_SETUP, FIXTURE_TEARDOWN, SKIP, TEST_F, TEST_HARNESS_MAIN } from "luosim/ksft";

const LIVEUPDATE_DEV = "/dev/liveupdate";

const liveupdate_device = FIXTURE("liveupdate_device", () => ({ fd1: 0, fd2: 0 }));

FIXTURE_SETUP(liveupdate_device, (self) => {
	self.fd1 = -1;
	self.fd2 = -1;
});

FIXTURE_TEARDOWN(liveupdate_device, (self) => {
	if (self.fd1 >= 0)
		close(self.fd1);
	if (self.fd2 >= 0)
		close(self.fd2);
});

const WITH_PERIOD = ["basic_open_close", "exclusive_open"];
const TESTS = [
	...WITH_PERIOD, "create_duplicate_session", "create_distinct_sessions", "preserve_memfd",
	"preserve_multiple_memfds", "preserve_complex_scenario", "preserve_unsupported_fd",
	"prevent_double_preservation", "create_session_no_null_termination", "create_session_empty_name",
	"get_session_name", "get_session_name_max_length", "preserve_many_sessions", "preserve_many_files",
];

for (const name of TESTS) {
	TEST_F(liveupdate_device, name, (self) => {
		self.fd1 = open(LIVEUPDATE_DEV, O_RDWR);
		if (self.fd1 < 0 && errno == ENOENT)
			return SKIP(WITH_PERIOD.includes(name) ? "%s does not exist." : "%s does not exist", LIVEUPDATE_DEV);
		ASSERT_GE(self.fd1, 0);
	});
}

export const main = TEST_HARNESS_MAIN();
