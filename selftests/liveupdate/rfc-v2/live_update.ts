// SPDX-License-Identifier: GPL-2.0-only
/*
 * live_update.ts: a whole live update under the RFC v2 ABI, in two stages
 * around a kexec, in the style of the RFC v2 selftest (liveupdate.c) and of
 * upstream's two-stage programs (luo_kexec_simple.c), which RFC v2 did not
 * have yet.
 *
 * Stage 1 (no -s): a 64 MiB memfd filled with a known pattern, and a small
 * state memfd; FD_PRESERVE of both (the state memfd first, so it gets
 * token 0: tokens come from a counter that starts at 0 in every kernel);
 * the data token, the size and the data memfd's PFNs (from
 * /proc/self/pagemap) written into the state memfd; EVENT_PREPARE. A
 * forked holder keeps every fd open, and stage 1 exits 0 with its
 * results; the operator (`luosim run --kexec`, do_kexec.sh) loads the
 * kernel and calls reboot(LINUX_REBOOT_CMD_KEXEC), which freezes LUO.
 * A third memfd, `scratch`, is filled but never preserved: the next kernel
 * must not have it (its frames read back poisoned, which the host-side
 * test checks).
 *
 * Stage 2 (-s 2, in the next kernel): UPDATED; FD_RESTORE of token 0
 * gives the state memfd, whose record names the data token; FD_RESTORE of
 * that gives the data memfd: the same size and position, the same 64 MiB
 * byte for byte, on the same PFNs; a second FD_RESTORE of the token is
 * EINVAL; EVENT_FINISH gives NORMAL, after which the data is still there.
 *
 * Each stage is a program run of its own in its own kernel, so each prints
 * a whole KTAP document (header, plan, results, Totals) and exits with its
 * verdict; stage 2 only runs when stage 1 exited 0.
 */
import {
	close, errno, exit, fork, getopt, ioctl, lseek, memfd_create, mmap, open, optarg, pread, setsid, sleep, strerror, write, atoi,
	EINVAL, MAP_FAILED, MAP_SHARED, NULL, O_RDONLY, O_RDWR, PROT_READ, SEEK_CUR,
} from "luosim/libc";
import {
	KSFT_FAIL, ksft_exit_fail_msg, ksft_exit_skip, ksft_finished,
	ksft_print_header, ksft_print_msg, ksft_set_plan, ksft_test_result,
} from "luosim/ksft";
import {
	LIVEUPDATE_IOCTL_EVENT_FINISH, LIVEUPDATE_IOCTL_EVENT_PREPARE, LIVEUPDATE_IOCTL_FD_PRESERVE, LIVEUPDATE_IOCTL_FD_RESTORE,
	LIVEUPDATE_IOCTL_GET_STATE, LIVEUPDATE_STATE_NORMAL, LIVEUPDATE_STATE_PREPARED, LIVEUPDATE_STATE_UPDATED, liveupdate_fd,
} from "luosim/uapi/rfc-v2";

const LUO_DEVICE = "/dev/liveupdate";
const PAGEMAP = "/proc/self/pagemap";
const PAGE_SIZE = 4096;
/* The guest memory the update keeps. */
const DATA_SIZE = 64 << 20;
const SCRATCH_SIZE = 1 << 20;
const CHUNK = 1 << 20;
const SEED = 0x4c55c0de;
/* The state memfd's token: it is preserved first in a fresh kernel. */
const STATE_TOKEN = 0n;
/* The state record: magic, data token, data size, then one u64 PFN per page. */
const STATE_MAGIC = 0x5354554c; /* "LUTS" */
const STATE_HDR = 24;
const STAGE1_TESTS = 3;
const STAGE2_TESTS = 9;

/* The pattern bytes at [off, off + len): 32-bit words of a multiplicative hash of their index. */
function pattern(off: number, len: number, seed: number): Uint8Array
{
	const words = new Uint32Array(len / 4);

	for (let i = 0; i < words.length; i++)
		words[i] = (Math.imul(off / 4 + i, 0x9e3779b1) ^ seed) >>> 0;
	return new Uint8Array(words.buffer);
}

/* A memfd of `size` bytes of pattern(seed); -1 on error. */
function make_memfd(name: string, size: number, seed: number): number
{
	const fd = memfd_create(name, 0);

	if (fd < 0)
		return -1;
	for (let off = 0; off < size; off += CHUNK) {
		if (write(fd, pattern(off, CHUNK, seed), CHUNK) != CHUNK) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* The PFN of each page of `fd`'s first `size` bytes, from /proc/self/pagemap (root sees PFNs). */
function memfd_pfns(fd: number, size: number): bigint[] | null
{
	const pages = size / PAGE_SIZE;
	const buf = new Uint8Array(pages * 8);
	let map: number, pm: number, n: number;

	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return null;
	pm = open(PAGEMAP, O_RDONLY);
	if (pm < 0)
		return null;
	n = pread(pm, buf, buf.length, (map / PAGE_SIZE) * 8);
	close(pm);
	if (n != buf.length)
		return null;
	const dv = new DataView(buf.buffer);
	return Array.from({ length: pages }, (_, i) => dv.getBigUint64(i * 8, true) & ((1n << 55n) - 1n));
}

/* LIVEUPDATE_IOCTL_GET_STATE, or -1. */
function get_state(luo_fd: number): number
{
	const state = new Int32Array(1);

	if (ioctl(luo_fd, LIVEUPDATE_IOCTL_GET_STATE, new Uint8Array(state.buffer)) < 0)
		return -1;
	return state[0]!;
}

/* LIVEUPDATE_IOCTL_FD_PRESERVE: the token the kernel made, or -1n. */
function preserve_fd(luo_fd: number, fd: number): bigint
{
	const arg = liveupdate_fd.encode({ fd: fd });

	if (ioctl(luo_fd, LIVEUPDATE_IOCTL_FD_PRESERVE, arg) < 0)
		return -1n;
	return liveupdate_fd.decode(arg).token;
}

/* LIVEUPDATE_IOCTL_FD_RESTORE: the new fd, or -1. */
function restore_fd(luo_fd: number, token: bigint): number
{
	const arg = liveupdate_fd.encode({ token: token });

	if (ioctl(luo_fd, LIVEUPDATE_IOCTL_FD_RESTORE, arg) < 0)
		return -1;
	return liveupdate_fd.decode(arg).fd;
}

function stage_1(luo_fd: number): never
{
	let data_fd: number, state_fd: number, scratch_fd: number;
	let data_token: bigint, state_token: bigint;

	data_fd = make_memfd("guest_ram", DATA_SIZE, SEED);
	scratch_fd = make_memfd("scratch", SCRATCH_SIZE, ~SEED);
	state_fd = memfd_create("live_update_state", 0);
	const pfns = data_fd < 0 ? null : memfd_pfns(data_fd, DATA_SIZE);
	ksft_test_result(data_fd >= 0 && scratch_fd >= 0 && state_fd >= 0 && pfns !== null,
			 "memfd with %d MiB of data\n", DATA_SIZE >> 20);
	if (pfns === null)
		ksft_exit_fail_msg("memfd setup: %s\n", strerror(errno));

	state_token = preserve_fd(luo_fd, state_fd);
	data_token = preserve_fd(luo_fd, data_fd);
	ksft_test_result(state_token == STATE_TOKEN && data_token >= 0n,
			 "FD_PRESERVE: state token %jd, data token %jd\n", state_token, data_token);

	const rec = new Uint8Array(STATE_HDR + pfns.length * 8);
	const dv = new DataView(rec.buffer);
	dv.setUint32(0, STATE_MAGIC, true);
	dv.setBigUint64(8, data_token, true);
	dv.setBigUint64(16, BigInt(DATA_SIZE), true);
	pfns.forEach((pfn, i) => dv.setBigUint64(STATE_HDR + i * 8, pfn, true));
	if (write(state_fd, rec, rec.length) != rec.length)
		ksft_exit_fail_msg("write state: %s\n", strerror(errno));

	ioctl(luo_fd, LIVEUPDATE_IOCTL_EVENT_PREPARE, NULL);
	ksft_test_result(get_state(luo_fd) == LIVEUPDATE_STATE_PREPARED, "PREPARE: prepared\n");

	/* The holder keeps every fd open until the kexec ends this kernel. */
	if (fork(async () => {
		setsid();
		await sleep(3600);
		return 0;
	}) < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));

	ksft_print_msg("stage 1 done: kexec now, then run stage 2 (-s 2)\n");
	ksft_finished();
}

/* The whole of the data memfd matches the pattern (pread: the position stays). */
function data_intact(fd: number): boolean
{
	const buf = new Uint8Array(CHUNK);

	for (let off = 0; off < DATA_SIZE; off += CHUNK) {
		if (pread(fd, buf, CHUNK, off) != CHUNK)
			return false;
		const want = pattern(off, CHUNK, SEED);
		for (let i = 0; i < CHUNK; i++)
			if (buf[i] !== want[i]) {
				ksft_print_msg("first difference at byte %d\n", off + i);
				return false;
			}
	}
	return true;
}

function stage_2(luo_fd: number): never
{
	let state_fd: number, data_fd: number, ret: number;
	let data_token = -1n;
	let old_pfns: bigint[] = [];

	ksft_test_result(get_state(luo_fd) == LIVEUPDATE_STATE_UPDATED, "UPDATED after the kexec\n");

	state_fd = restore_fd(luo_fd, STATE_TOKEN);
	const rec = new Uint8Array(STATE_HDR + (DATA_SIZE / PAGE_SIZE) * 8);
	if (state_fd >= 0 && pread(state_fd, rec, rec.length, 0) == rec.length) {
		const dv = new DataView(rec.buffer);
		if (dv.getUint32(0, true) == STATE_MAGIC && dv.getBigUint64(16, true) == BigInt(DATA_SIZE)) {
			data_token = dv.getBigUint64(8, true);
			old_pfns = Array.from({ length: DATA_SIZE / PAGE_SIZE }, (_, i) => dv.getBigUint64(STATE_HDR + i * 8, true));
		}
	}
	ksft_test_result(data_token >= 0n, "FD_RESTORE: state memfd (token %jd)\n", STATE_TOKEN);
	if (data_token < 0n)
		ksft_exit_fail_msg("no state record: %s\n", strerror(errno));

	data_fd = restore_fd(luo_fd, data_token);
	ksft_test_result(data_fd >= 0 && lseek(data_fd, 0, SEEK_CUR) == DATA_SIZE,
			 "FD_RESTORE: data memfd (token %jd), position kept\n", data_token);
	if (data_fd < 0)
		ksft_exit_fail_msg("FD_RESTORE %jd: %s\n", data_token, strerror(errno));

	ksft_test_result(data_intact(data_fd), "%d MiB byte for byte\n", DATA_SIZE >> 20);

	const pfns = memfd_pfns(data_fd, DATA_SIZE);
	ksft_test_result(pfns !== null && pfns.every((pfn, i) => pfn !== 0n && pfn === old_pfns[i]),
			 "on the same %d PFNs\n", old_pfns.length);

	ret = restore_fd(luo_fd, data_token);
	ksft_test_result(ret < 0 && errno == EINVAL, "FD_RESTORE again: EINVAL\n");

	ret = ioctl(luo_fd, LIVEUPDATE_IOCTL_EVENT_FINISH, NULL);
	ksft_test_result(ret == 0 && get_state(luo_fd) == LIVEUPDATE_STATE_NORMAL, "FINISH: normal\n");

	ksft_test_result(data_intact(data_fd), "the data outlives FINISH\n");
	close(data_fd);
	close(state_fd);
	ksft_test_result(open(LUO_DEVICE, O_RDWR) >= 0, "%s still opens\n", LUO_DEVICE);

	ksft_finished();
}

export function main(argc: number, argv: string[]): number
{
	let stage = 1, opt: number, luo_fd: number;

	while ((opt = getopt(argc, argv, "s:")) != -1) {
		if (opt == 0x73 /* 's' */)
			stage = atoi(optarg ?? "");
		else
			exit(KSFT_FAIL);
	}

	ksft_print_header();
	luo_fd = open(LUO_DEVICE, O_RDWR);
	if (luo_fd < 0)
		ksft_exit_skip("Failed to open %s (errno %d). Is LUO enabled?\n", LUO_DEVICE, errno);

	ksft_set_plan(stage == 1 ? STAGE1_TESTS : STAGE2_TESTS);
	return stage == 1 ? stage_1(luo_fd) : stage_2(luo_fd);
}
