// SPDX-License-Identifier: GPL-2.0-only

/*
 * Copyright (c) 2025, Google LLC.
 * Pasha Tatashin <pasha.tatashin@soleen.com>
 */

/* luosim: the RFC v2 liveupdate.c (seed 000 patch 14/16; its twin is ../rfc-v2/liveupdate.ts) cut
 * down to what seed 001's ABI ("[PATCH v2 16/32] liveupdate: luo_ioctl: add ioctl interface")
 * still offers: no SELFTESTS ioctl (so no `subsystem` fixture and no unused `page_size`) and no
 * FREEZE ioctl (so no sysfs_frozen), the events renamed LIVEUPDATE_IOCTL_PREPARE/CANCEL, and the
 * states renumbered with UNDEFINED = 0. That leaves state.normal, prepared, sysfs_normal and
 * sysfs_prepared, in the C's order and with its messages. luo_state_str[] names UNDEFINED too:
 * with NORMAL = 1 the C's table would start with a NULL that strcmp() dereferences. */
import { close, errno, ioctl, open, read, strerror,
	EACCES, EIO, ENOENT, NULL, O_RDONLY, O_RDWR } from "luosim/libc";
import { ASSERT_EQ, FIXTURE, FIXTURE_SETUP, FIXTURE_TEARDOWN, TEST_F, TEST_HARNESS_MAIN,
	ksft_exit_skip, ksft_print_msg, ksft_test_result_skip } from "luosim/ksft";
import {
	LIVEUPDATE_IOCTL_CANCEL, LIVEUPDATE_IOCTL_GET_STATE, LIVEUPDATE_IOCTL_PREPARE,
	LIVEUPDATE_STATE_FROZEN, LIVEUPDATE_STATE_NORMAL, LIVEUPDATE_STATE_PREPARED, LIVEUPDATE_STATE_UNDEFINED, LIVEUPDATE_STATE_UPDATED,
} from "luosim/uapi/v2";

const state = FIXTURE("state", () => ({
	state: 0,
	fd: 0,
}));

const LUO_DEVICE = "/dev/liveupdate";
const LUO_SYSFS_STATE = "/sys/kernel/liveupdate/state";

const luo_state_str: readonly string[] = Object.assign([], {
	[LIVEUPDATE_STATE_UNDEFINED]: "undefined",
	[LIVEUPDATE_STATE_NORMAL]: "normal",
	[LIVEUPDATE_STATE_PREPARED]: "prepared",
	[LIVEUPDATE_STATE_FROZEN]: "frozen",
	[LIVEUPDATE_STATE_UPDATED]: "updated",
});

function get_sysfs_state(): number
{
	const buf = new Uint8Array(64);
	let len: number;
	let fd: number, i: number;

	fd = open(LUO_SYSFS_STATE, O_RDONLY);
	if (fd < 0) {
		ksft_print_msg("Failed to open sysfs state file '%s': %s\n",
			       LUO_SYSFS_STATE, strerror(errno));
		return -errno;
	}

	len = read(fd, buf, buf.length - 1);
	close(fd);

	if (len <= 0) {
		ksft_print_msg("Failed to read sysfs state file '%s': %s\n",
			       LUO_SYSFS_STATE, strerror(errno));
		return -errno;
	}
	if (buf[len - 1] == 0x0a /* '\n' */)
		buf[len - 1] = 0;
	else
		buf[len] = 0;

	for (i = 0; i < luo_state_str.length; i++) {
		if (!strcmp(buf, luo_state_str[i]!))
			return i;
	}

	return -EIO;
}

FIXTURE_SETUP(state, (self) =>
{
	self.fd = open(LUO_DEVICE, O_RDWR);
	if (self.fd < 0) {
		ksft_exit_skip("Setup: Cannot open %s (errno %d).\n",
			       LUO_DEVICE, errno);
	}
	self.state = LIVEUPDATE_STATE_NORMAL;
});

FIXTURE_TEARDOWN(state, (self) =>
{
	if (self.state != LIVEUPDATE_STATE_NORMAL)
		ioctl(self.fd, LIVEUPDATE_IOCTL_CANCEL, NULL);
	close(self.fd);
});

TEST_F(state, "normal", (self) =>
{
	const state = new Int32Array(1);
	let ret: number;

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_GET_STATE, new Uint8Array(state.buffer));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(state[0]!, LIVEUPDATE_STATE_NORMAL);
});

TEST_F(state, "prepared", (self) =>
{
	const state = new Int32Array(1);
	let ret: number;

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_PREPARE, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_PREPARED;

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_GET_STATE, new Uint8Array(state.buffer));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(state[0]!, LIVEUPDATE_STATE_PREPARED);

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_CANCEL, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_NORMAL;

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_GET_STATE, new Uint8Array(state.buffer));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(state[0]!, LIVEUPDATE_STATE_NORMAL);
});

TEST_F(state, "sysfs_normal", (self) =>
{
	const state = get_sysfs_state();

	if (state < 0) {
		if (state == -ENOENT || state == -EACCES) {
			ksft_test_result_skip("Sysfs state file not accessible (%d)\n",
					      state);
			return;
		}
	}

	ASSERT_EQ(LIVEUPDATE_STATE_NORMAL, state);
});

TEST_F(state, "sysfs_prepared", (self) =>
{
	let ret: number, state: number;

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_PREPARE, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_PREPARED;

	state = get_sysfs_state();
	if (state < 0) {
		if (state == -ENOENT || state == -EACCES) {
			ksft_test_result_skip("Sysfs state file not accessible (%d)\n",
					      state);
			ioctl(self.fd, LIVEUPDATE_IOCTL_CANCEL, NULL);
			self.state = LIVEUPDATE_STATE_NORMAL;
			return;
		}
	}
	ASSERT_EQ(LIVEUPDATE_STATE_PREPARED, state);

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_CANCEL, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_NORMAL;
	state = get_sysfs_state();
	ASSERT_EQ(LIVEUPDATE_STATE_NORMAL, state);
});

export const main = TEST_HARNESS_MAIN();

/* ---- luosim: what C has and JS does not ---- */

/** strcmp(3) of a NUL-terminated buffer and a string (luosim/libc has no strcmp). */
function strcmp(buf: Uint8Array, s: string): number {
	const end = buf.indexOf(0);
	const a = new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
	return a < s ? -1 : a > s ? 1 : 0;
}
