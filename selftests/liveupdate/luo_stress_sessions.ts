// SPDX-License-Identifier: GPL-2.0-only
/*
 * luo_stress_sessions.ts: tools/testing/selftests/liveupdate/luo_stress_sessions.c
 * (7b24dd46), line for line.
 *
 * Validate that LUO can handle a large number of sessions across a kexec
 * reboot.
 *
 * Stage 1 holds 2000 session fds open (the daemon inherits them), so it
 * raises RLIMIT_NOFILE first, as the C does: with the default soft limit
 * of 1024 the creation fails with EMFILE.
 */
import { close, snprintf, strerror, EPERM } from "luosim/libc";
import { ksft_exit_fail_msg, ksft_exit_skip, ksft_print_msg } from "luosim/ksft";
import { LIVEUPDATE_SESSION_NAME_LENGTH } from "luosim/uapi/mainline";
import {
	create_state_file, cstr, daemonize_and_wait, fail_exit, luo_create_session, luo_ensure_nofile_limit,
	luo_retrieve_session, luo_session_finish, luo_test, restore_and_read_stage,
} from "./lib/lu_utils.ts";

const NUM_SESSIONS = 2000;
const STATE_SESSION_NAME = "kexec_many_state";
const STATE_MEMFD_TOKEN = 999;

/* Stage 1: Executed before the kexec reboot. */
function run_stage_1(luo_fd: number): void {
	let ret: number, i: number;

	ksft_print_msg("[STAGE 1] Increasing ulimit for open files...\n");
	ret = luo_ensure_nofile_limit(NUM_SESSIONS);
	if (ret == -EPERM)
		ksft_exit_skip("Insufficient privileges to set RLIMIT_NOFILE\n");
	if (ret < 0)
		ksft_exit_fail_msg("luo_ensure_nofile_limit failed: %s\n", strerror(-ret));

	ksft_print_msg("[STAGE 1] Creating state file for next stage (2)...\n");
	create_state_file(luo_fd, STATE_SESSION_NAME, STATE_MEMFD_TOKEN, 2);

	ksft_print_msg("[STAGE 1] Creating %d sessions...\n", NUM_SESSIONS);

	for (i = 0; i < NUM_SESSIONS; i++) {
		const name = new Uint8Array(LIVEUPDATE_SESSION_NAME_LENGTH);
		let s_fd: number;

		snprintf(name, name.length, "many-test-%d", i);
		s_fd = luo_create_session(luo_fd, cstr(name));
		if (s_fd < 0) {
			fail_exit("luo_create_session for '%s' at index %d",
				  cstr(name), i);
		}
	}

	ksft_print_msg("[STAGE 1] Successfully created %d sessions.\n",
		       NUM_SESSIONS);

	close(luo_fd);
	daemonize_and_wait();
}

/* Stage 2: Executed after the kexec reboot. */
function run_stage_2(luo_fd: number, state_session_fd: number): void {
	const stage = new Int32Array(1);
	let i: number;

	ksft_print_msg("[STAGE 2] Starting post-kexec verification...\n");

	restore_and_read_stage(state_session_fd, STATE_MEMFD_TOKEN, stage);
	if (stage[0] != 2) {
		fail_exit("Expected stage 2, but state file contains %d",
			  stage[0]);
	}

	ksft_print_msg("[STAGE 2] Retrieving and finishing %d sessions...\n",
		       NUM_SESSIONS);

	for (i = 0; i < NUM_SESSIONS; i++) {
		const name = new Uint8Array(LIVEUPDATE_SESSION_NAME_LENGTH);
		let s_fd: number;

		snprintf(name, name.length, "many-test-%d", i);
		s_fd = luo_retrieve_session(luo_fd, cstr(name));
		if (s_fd < 0) {
			fail_exit("luo_retrieve_session for '%s' at index %d",
				  cstr(name), i);
		}

		if (luo_session_finish(s_fd) < 0) {
			fail_exit("luo_session_finish for '%s' at index %d",
				  cstr(name), i);
		}
		close(s_fd);
	}

	ksft_print_msg("[STAGE 2] Finalizing state session...\n");
	if (luo_session_finish(state_session_fd) < 0)
		fail_exit("luo_session_finish for state session");
	close(state_session_fd);

	ksft_print_msg("\n--- MANY-SESSIONS KEXEC TEST PASSED (%d sessions) ---\n",
		       NUM_SESSIONS);
}

/** main(): luo_test() with this file's state session and stages. */
export function main(argc: number, argv: string[]): number {
	return luo_test(argc, argv, STATE_SESSION_NAME,
			run_stage_1, run_stage_2);
}
