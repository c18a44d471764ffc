// SPDX-License-Identifier: GPL-2.0-only

/*
 * Copyright (c) 2025, Google LLC.
 * Pasha Tatashin <pasha.tatashin@soleen.com>
 */

/* luosim: seed 000 "[RFC v2 14/16] selftests/liveupdate: add subsystem/state tests", liveupdate.c
 * line for line and on the same line numbers, misuse of ksft_exit_skip() and ksft_test_result_skip()
 * inside the harness included. `struct luo_arg_subsystem x` is a Uint8Array laid out by the uapi;
 * `k_arg.arg = (__u64)&x` needs a user address, which on_stack() (end of file) gives it, as the C
 * stack does; `enum liveupdate_state state` is an Int32Array(1), `&state` its bytes.
 * Fixture and test bodies are arrow functions whose `{` stays on the C's line. */
import { close, errno, getpid, ioctl, malloc, memcmp, memcpy, memset, mmap, munmap, open, read, set_errno, snprintf, strerror, sysconf,
	EACCES, EBADF, EINVAL, EIO, ENOENT, MAP_ANONYMOUS, MAP_FAILED, MAP_PRIVATE, NULL, O_RDONLY, O_RDWR, PROT_READ, PROT_WRITE, _SC_PAGE_SIZE } from "luosim/libc";
import { ASSERT_EQ, EXPECT_NE, EXPECT_TRUE, FIXTURE, FIXTURE_SETUP, FIXTURE_TEARDOWN, TEST_F, TEST_HARNESS_MAIN,
	ksft_exit_fail, ksft_exit_skip, ksft_print_msg, ksft_test_result_skip } from "luosim/ksft";
import {
	LIVEUPDATE_IOCTL_EVENT_CANCEL, LIVEUPDATE_IOCTL_EVENT_FREEZE, LIVEUPDATE_IOCTL_EVENT_PREPARE, LIVEUPDATE_IOCTL_GET_STATE,
	LIVEUPDATE_IOCTL_SELFTESTS, LIVEUPDATE_STATE_FROZEN, LIVEUPDATE_STATE_NORMAL, LIVEUPDATE_STATE_PREPARED, LIVEUPDATE_STATE_UPDATED,
	LUO_CMD_SUBSYSTEM_GETDATA, LUO_CMD_SUBSYSTEM_REGISTER, LUO_CMD_SUBSYSTEM_UNREGISTER, LUO_MAX_SUBSYSTEMS, LUO_NAME_LENGTH,
	liveupdate_selftest, luo_arg_subsystem,
} from "luosim/uapi/rfc-v2";

interface subsystem_info {
	data_page: number;
	verify_page: number;
	test_name: string;
	registered: boolean;
}

const subsystem = FIXTURE("subsystem", () => ({
	state: 0,
	fd: 0,
	si: Array.from({ length: LUO_MAX_SUBSYSTEMS }, (): subsystem_info => ({ data_page: 0, verify_page: 0, test_name: "", registered: false })),
}));

const state = FIXTURE("state", () => ({
	state: 0,
	fd: 0,
}));

const LUO_DEVICE = "/dev/liveupdate";
const LUO_SYSFS_STATE = "/sys/kernel/liveupdate/state";
let page_size: number;

const luo_state_str: readonly string[] = Object.assign([], {
	[LIVEUPDATE_STATE_NORMAL]: "normal",
	[LIVEUPDATE_STATE_PREPARED]: "prepared",
	[LIVEUPDATE_STATE_FROZEN]: "frozen",
	[LIVEUPDATE_STATE_UPDATED]: "updated",
});

function run_luo_selftest_cmd(fd: number, cmd_code: number,
			      subsys_arg: Uint8Array): number
{
	const k_arg = liveupdate_selftest.view(liveupdate_selftest.encode());

	if (fd < 0) {
		set_errno(EBADF);
		return -1;
	}

	k_arg.set("cmd", cmd_code);
	k_arg.set("arg", on_stack(subsys_arg));

	return ioctl(fd, LIVEUPDATE_IOCTL_SELFTESTS, k_arg.bytes);
}

function __register_subsystem(fd: number, name: string, data_page: number): number
{
	const subsys_arg = luo_arg_subsystem.encode();

	memset(subsys_arg, 0, subsys_arg.length);
	snprintf(subsys_arg.subarray(0, LUO_NAME_LENGTH), LUO_NAME_LENGTH, "%s", name);
	luo_arg_subsystem.view(subsys_arg).set("data_page", data_page);

	return run_luo_selftest_cmd(fd, LUO_CMD_SUBSYSTEM_REGISTER,
				    subsys_arg);
}

function __unregister_subsystem(fd: number, name: string): number
{
	const subsys_arg = luo_arg_subsystem.encode();

	memset(subsys_arg, 0, subsys_arg.length);
	snprintf(subsys_arg.subarray(0, LUO_NAME_LENGTH), LUO_NAME_LENGTH, "%s", name);

	return run_luo_selftest_cmd(fd, LUO_CMD_SUBSYSTEM_UNREGISTER,
				    subsys_arg);
}

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
	page_size = sysconf(_SC_PAGE_SIZE);
	self.fd = open(LUO_DEVICE, O_RDWR);
	if (self.fd < 0) {
		ksft_exit_skip("Setup: Cannot open %s (errno %d).\n",
			       LUO_DEVICE, errno);
	}
	self.state = LIVEUPDATE_STATE_NORMAL;
});

FIXTURE_TEARDOWN(state, (self) =>
{
	page_size = sysconf(_SC_PAGE_SIZE);
	if (self.state != LIVEUPDATE_STATE_NORMAL)
		ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_CANCEL, NULL);
	close(self.fd);
});

FIXTURE_SETUP(subsystem, (self) =>
{
	let i: number;

	page_size = sysconf(_SC_PAGE_SIZE);
	self.si.forEach((si) => Object.assign(si, { data_page: 0, verify_page: 0, test_name: "", registered: false }));
	self.fd = open(LUO_DEVICE, O_RDWR);
	if (self.fd < 0) {
		ksft_exit_skip("Setup: Cannot open %s (errno %d).\n",
			       LUO_DEVICE, errno);
	}
	self.state = LIVEUPDATE_STATE_NORMAL;
	exit_fail: {
	for (i = 0; i < LUO_MAX_SUBSYSTEMS; i++) {
		self.si[i]!.test_name = snprintf_str(LUO_NAME_LENGTH,
					"ksft_luo_%d.%d", getpid(), i);

		self.si[i]!.data_page = mmap(NULL, page_size,
					    PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS,
					    -1, 0);

		if (self.si[i]!.data_page == MAP_FAILED) {
			ksft_print_msg("Setup: mmap data_page failed\n");
			break exit_fail;
		}
		memset(self.si[i]!.data_page, 0x41 /* 'A' */ + i, page_size);

		self.si[i]!.verify_page = mmap(NULL, page_size,
					      PROT_READ | PROT_WRITE,
					      MAP_PRIVATE | MAP_ANONYMOUS,
					      -1, 0);
		if (self.si[i]!.verify_page == MAP_FAILED) {
			ksft_print_msg("Setup: mmap verify_page failed\n");
			break exit_fail;
		}
		memset(self.si[i]!.verify_page, 0, page_size);
	}

	return;
	} /* exit_fail: */
	close(self.fd);

	for (i = 0; i < LUO_MAX_SUBSYSTEMS; i++) {
		let page: number;

		page = self.si[i]!.data_page;
		if (page && page != MAP_FAILED)
			munmap(page, page_size);

		page = self.si[i]!.verify_page;
		if (page && page != MAP_FAILED)
			munmap(page, page_size);
	}
	ksft_exit_fail();
});

FIXTURE_TEARDOWN(subsystem, (self) =>
{
	let i: number;

	if (self.state != LIVEUPDATE_STATE_NORMAL)
		ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_CANCEL, NULL);

	for (i = 0; i < LUO_MAX_SUBSYSTEMS; i++) {
		if (self.si[i]!.registered) {
			const subsys_arg = luo_arg_subsystem.encode();

			memset(subsys_arg, 0, subsys_arg.length);
			snprintf(subsys_arg.subarray(0, LUO_NAME_LENGTH), LUO_NAME_LENGTH, "%s",
				 self.si[i]!.test_name);
			luo_arg_subsystem.view(subsys_arg).set("data_page", NULL);
			run_luo_selftest_cmd(self.fd, LUO_CMD_SUBSYSTEM_UNREGISTER,
					     subsys_arg);
		}
		munmap(self.si[i]!.data_page, page_size);
		munmap(self.si[i]!.verify_page, page_size);
	}

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

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_PREPARE, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_PREPARED;

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_GET_STATE, new Uint8Array(state.buffer));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(state[0]!, LIVEUPDATE_STATE_PREPARED);

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_CANCEL, NULL);
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

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_PREPARE, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_PREPARED;

	state = get_sysfs_state();
	if (state < 0) {
		if (state == -ENOENT || state == -EACCES) {
			ksft_test_result_skip("Sysfs state file not accessible (%d)\n",
					      state);
			ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_CANCEL, NULL);
			self.state = LIVEUPDATE_STATE_NORMAL;
			return;
		}
	}
	ASSERT_EQ(LIVEUPDATE_STATE_PREPARED, state);

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_CANCEL, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_NORMAL;
	state = get_sysfs_state();
	ASSERT_EQ(LIVEUPDATE_STATE_NORMAL, state);
});

TEST_F(state, "sysfs_frozen", (self) =>
{
	let ret: number, state: number;

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_PREPARE, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_PREPARED;

	state = get_sysfs_state();
	if (state < 0) {
		if (state == -ENOENT || state == -EACCES) {
			ksft_test_result_skip("Sysfs state file not accessible (%d)\n", state);
			ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_CANCEL, NULL);
			self.state = LIVEUPDATE_STATE_NORMAL;
			return;
		}
	}
	ASSERT_EQ(LIVEUPDATE_STATE_PREPARED, state);

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_FREEZE, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_FROZEN;
	state = get_sysfs_state();
	ASSERT_EQ(LIVEUPDATE_STATE_FROZEN, state);

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_CANCEL, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_NORMAL;
	state = get_sysfs_state();
	ASSERT_EQ(LIVEUPDATE_STATE_NORMAL, state);
});

TEST_F(subsystem, "register_unregister", (self) =>
{
	let ret: number;

	ret = __register_subsystem(self.fd, self.si[0]!.test_name,
				   self.si[0]!.data_page);
	ASSERT_EQ(0, ret);
	self.si[0]!.registered = true;

	ret = __unregister_subsystem(self.fd, self.si[0]!.test_name);
	ASSERT_EQ(0, ret);
	self.si[0]!.registered = false;
});

TEST_F(subsystem, "double_unregister", (self) =>
{
	let ret: number;

	ret = __register_subsystem(self.fd, self.si[0]!.test_name,
				   self.si[0]!.data_page);
	ASSERT_EQ(0, ret);
	self.si[0]!.registered = true;

	ret = __unregister_subsystem(self.fd, self.si[0]!.test_name);
	ASSERT_EQ(0, ret);
	self.si[0]!.registered = false;

	ret = __unregister_subsystem(self.fd, self.si[0]!.test_name);
	EXPECT_NE(0, ret);
	EXPECT_TRUE(errno == EINVAL || errno == ENOENT);
	self.si[0]!.registered = false;
});

TEST_F(subsystem, "register_unregister_many", (self) =>
{
	let ret: number;
	let i: number;

	for (i = 0; i < LUO_MAX_SUBSYSTEMS; i++) {
		ret = __register_subsystem(self.fd, self.si[i]!.test_name,
					   self.si[i]!.data_page);
		ASSERT_EQ(0, ret);
		self.si[i]!.registered = true;
	}

	for (i = 0; i < LUO_MAX_SUBSYSTEMS; i++) {
		ret = __unregister_subsystem(self.fd, self.si[i]!.test_name);
		ASSERT_EQ(0, ret);
		self.si[i]!.registered = false;
	}

});

TEST_F(subsystem, "getdata_verify", (self) =>
{
	const state = new Int32Array(1);
	let ret: number;
	let i: number;

	for (i = 0; i < LUO_MAX_SUBSYSTEMS; i++) {
		ret = __register_subsystem(self.fd, self.si[i]!.test_name,
					   self.si[i]!.data_page);
		ASSERT_EQ(0, ret);
		self.si[i]!.registered = true;
	}

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_PREPARE, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_PREPARED;

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_GET_STATE, new Uint8Array(state.buffer));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(state[0]!, LIVEUPDATE_STATE_PREPARED);

	for (i = 0; i < LUO_MAX_SUBSYSTEMS; i++) {
		const subsys_arg = luo_arg_subsystem.encode();

		memset(subsys_arg, 0, subsys_arg.length);
		snprintf(subsys_arg.subarray(0, LUO_NAME_LENGTH), LUO_NAME_LENGTH, "%s",
			 self.si[i]!.test_name);
		luo_arg_subsystem.view(subsys_arg).set("data_page", self.si[i]!.verify_page);

		ret = run_luo_selftest_cmd(self.fd, LUO_CMD_SUBSYSTEM_GETDATA,
					   subsys_arg);

		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, memcmp(self.si[i]!.data_page,
				    self.si[i]!.verify_page,
				    page_size));
	}

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_EVENT_CANCEL, NULL);
	ASSERT_EQ(0, ret);
	self.state = LIVEUPDATE_STATE_NORMAL;

	ret = ioctl(self.fd, LIVEUPDATE_IOCTL_GET_STATE, new Uint8Array(state.buffer));
	ASSERT_EQ(0, ret);
	ASSERT_EQ(state[0]!, LIVEUPDATE_STATE_NORMAL);

	for (i = 0; i < LUO_MAX_SUBSYSTEMS; i++) {
		ret = __unregister_subsystem(self.fd, self.si[i]!.test_name);
		ASSERT_EQ(0, ret);
		self.si[i]!.registered = false;
	}
});

export const main = TEST_HARNESS_MAIN();

/* ---- luosim: what C has and JS does not ---- */

/** The C stack: a struct local's bytes at a user address, so a pointer to it can travel in another struct. */
let stack = 0;

/** `&x` for a struct local `x`: its bytes copied to the stack, and that address. */
function on_stack(x: Uint8Array): number {
	if (!stack)
		stack = malloc(4096);
	memcpy(stack, x, x.length);
	return stack;
}

/** strcmp(3) of a NUL-terminated buffer and a string (luosim/libc has no strcmp). */
function strcmp(buf: Uint8Array, s: string): number {
	const end = buf.indexOf(0);
	const a = new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
	return a < s ? -1 : a > s ? 1 : 0;
}

/** snprintf() into a char[n] member kept as a string: what the C buffer would hold. */
function snprintf_str(n: number, fmt: string, ...args: number[]): string {
	const buf = new Uint8Array(n);
	snprintf(buf, n, fmt, ...args);
	const end = buf.indexOf(0);
	return new TextDecoder().decode(buf.subarray(0, end));
}
