// SPDX-License-Identifier: GPL-2.0-only
/*
 * state_monitor.ts: watching /sys/kernel/liveupdate/state the way a live
 * update agent would (RFC v2, seed 000 patch 11 "luo: luo_sysfs: add sysfs
 * state monitoring"). A forked monitor polls the state file for POLLPRI,
 * which sysfs_notify() raises on every transition, re-reads it from
 * offset 0 and prints each transition; the parent drives PREPARE, FREEZE
 * and CANCEL through /dev/liveupdate and checks, after each event, that
 * the monitor saw exactly the state GET_STATE reports.
 *
 * The monitor tells the parent what it saw through a pipe, one state name
 * per line, so the parent never runs ahead of it. The kernel has no such
 * program; it is written in the style of the RFC v2 selftest
 * (liveupdate.c) with the plain kselftest.h API.
 */
import {
	close, errno, fork, ioctl, lseek, open, pipe, poll, read, strerror, waitpid, write, WEXITSTATUS, WIFEXITED,
	NULL, O_RDONLY, O_RDWR, POLLIN, POLLPRI, SEEK_SET,
} from "luosim/libc";
import {
	ksft_exit_fail_msg, ksft_exit_skip, ksft_finished, ksft_print_header, ksft_print_msg, ksft_set_plan, ksft_test_result,
} from "luosim/ksft";
import {
	LIVEUPDATE_IOCTL_EVENT_CANCEL, LIVEUPDATE_IOCTL_EVENT_FREEZE, LIVEUPDATE_IOCTL_EVENT_PREPARE, LIVEUPDATE_IOCTL_GET_STATE,
	LIVEUPDATE_STATE_FROZEN, LIVEUPDATE_STATE_NORMAL, LIVEUPDATE_STATE_PREPARED, LIVEUPDATE_STATE_UPDATED,
} from "luosim/uapi/rfc-v2";

const LUO_DEVICE = "/dev/liveupdate";
const LUO_SYSFS_STATE = "/sys/kernel/liveupdate/state";
/* How long the monitor waits for a transition (ms, virtual time). */
const MONITOR_TIMEOUT_MS = 5000;
/* The transitions the parent makes: PREPARE, FREEZE, CANCEL. */
const NR_TRANSITIONS = 3;

const luo_state_str: readonly string[] = Object.assign([], {
	[LIVEUPDATE_STATE_NORMAL]: "normal",
	[LIVEUPDATE_STATE_PREPARED]: "prepared",
	[LIVEUPDATE_STATE_FROZEN]: "frozen",
	[LIVEUPDATE_STATE_UPDATED]: "updated",
});

/* The state file's contents from offset 0, without the newline; null on error. */
function read_state(fd: number): string | null
{
	const buf = new Uint8Array(64);
	let len: number;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return null;
	len = read(fd, buf, buf.length - 1);
	if (len <= 0)
		return null;
	if (buf[len - 1] == 0x0a /* '\n' */)
		len--;
	return new TextDecoder().decode(buf.subarray(0, len));
}

/* The monitor: reports the state it starts in, then every transition, on `out`. */
async function monitor(out: number): Promise<number>
{
	const enc = new TextEncoder();
	let prev: string | null, cur: string | null;
	let fd: number, ret: number, seen: number;

	fd = open(LUO_SYSFS_STATE, O_RDONLY);
	if (fd < 0) {
		ksft_print_msg("monitor: open %s: %s\n", LUO_SYSFS_STATE, strerror(errno));
		return 1;
	}
	prev = read_state(fd);
	if (prev === null)
		return 1;
	ksft_print_msg("monitor: state is %s\n", prev);
	write(out, enc.encode(`${prev}\n`), prev.length + 1);

	for (seen = 0; seen < NR_TRANSITIONS; seen++) {
		const pfd = [{ fd: fd, events: POLLPRI, revents: 0 }];

		ret = await poll(pfd, 1, MONITOR_TIMEOUT_MS);
		if (ret < 0) {
			ksft_print_msg("monitor: poll: %s\n", strerror(errno));
			return 1;
		}
		if (ret == 0 || !(pfd[0]!.revents & POLLPRI)) {
			ksft_print_msg("monitor: no transition within %d ms (still %s)\n", MONITOR_TIMEOUT_MS, prev);
			return 1;
		}
		cur = read_state(fd);
		if (cur === null)
			return 1;
		ksft_print_msg("monitor: %s -> %s\n", prev, cur);
		write(out, enc.encode(`${cur}\n`), cur.length + 1);
		prev = cur;
	}

	close(fd);
	close(out);
	return 0;
}

/*
 * One line from the monitor (the state it saw), or null at EOF, on error or
 * when it says nothing for MONITOR_TIMEOUT_MS. read() does not sleep in
 * luosim, so poll() waits for each byte.
 */
async function monitor_saw(in_fd: number): Promise<string | null>
{
	const c = new Uint8Array(1);
	let line = "";

	for (;;) {
		if (await poll([{ fd: in_fd, events: POLLIN, revents: 0 }], 1, MONITOR_TIMEOUT_MS) <= 0)
			return null;
		if (read(in_fd, c, 1) != 1)
			return null;
		if (c[0] == 0x0a /* '\n' */)
			return line;
		line += String.fromCharCode(c[0]!);
	}
}

/* GET_STATE as its name, or "?" when the ioctl fails. */
function get_state(luo_fd: number): string
{
	const state = new Int32Array(1);

	if (ioctl(luo_fd, LIVEUPDATE_IOCTL_GET_STATE, new Uint8Array(state.buffer)) < 0)
		return "?";
	return luo_state_str[state[0]!] ?? "?";
}

/* Sends `event`, then checks that the monitor saw the state GET_STATE now reports. */
async function transition(luo_fd: number, in_fd: number, name: string, event: number, from: string): Promise<string>
{
	const ret = ioctl(luo_fd, event, NULL);
	const to = get_state(luo_fd);
	const saw = ret == 0 ? await monitor_saw(in_fd) : null;

	if (ret < 0)
		ksft_print_msg("%s: %s\n", name, strerror(errno));
	ksft_test_result(ret == 0 && saw === to, "%s: %s -> %s\n", name, from, to);
	return to;
}

export async function main(argc: number, argv: string[]): Promise<number>
{
	const fds = new Int32Array(2);
	const status = new Int32Array(1);
	let luo_fd: number, pid: number;
	let state: string;

	ksft_print_header();

	luo_fd = open(LUO_DEVICE, O_RDWR);
	if (luo_fd < 0)
		ksft_exit_skip("Cannot open %s (errno %d).\n", LUO_DEVICE, errno);

	ksft_set_plan(NR_TRANSITIONS + 2);

	if (pipe(fds) < 0)
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));

	pid = fork(() => {
		close(fds[0]!);
		return monitor(fds[1]!);
	});
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	close(fds[1]!);

	state = get_state(luo_fd);
	ksft_test_result(await monitor_saw(fds[0]!) === state && state === "normal", "monitor starts in %s\n", state);

	state = await transition(luo_fd, fds[0]!, "PREPARE", LIVEUPDATE_IOCTL_EVENT_PREPARE, state);
	state = await transition(luo_fd, fds[0]!, "FREEZE", LIVEUPDATE_IOCTL_EVENT_FREEZE, state);
	state = await transition(luo_fd, fds[0]!, "CANCEL", LIVEUPDATE_IOCTL_EVENT_CANCEL, state);

	if (state != "normal")
		ioctl(luo_fd, LIVEUPDATE_IOCTL_EVENT_CANCEL, NULL);
	close(luo_fd);

	if (await waitpid(pid, status, 0) < 0)
		ksft_exit_fail_msg("waitpid: %s\n", strerror(errno));
	ksft_test_result(WIFEXITED(status[0]!) && WEXITSTATUS(status[0]!) == 0, "monitor exits after %d transitions\n", NR_TRANSITIONS);

	ksft_finished();
}
