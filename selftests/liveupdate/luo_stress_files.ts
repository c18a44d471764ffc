// SPDX-License-Identifier: GPL-2.0-only
/*
 * luo_stress_files.ts: tools/testing/selftests/liveupdate/luo_stress_files.c
 * (637315cb, the stored mainline text: no RLIMIT step, since every memfd is
 * closed once preserved and every restored fd once verified), line for
 * line, with <libliveupdate.h> for "luo_test_utils.h" as the other
 * programs have it since 7b24dd46.
 *
 * Validate that LUO can handle a large number of files per session across
 * a kexec reboot.
 */
import { close, snprintf } from "luosim/libc";
import { ksft_print_msg } from "luosim/ksft";
import {
	create_and_preserve_memfd, create_state_file, cstr, daemonize_and_wait, fail_exit, luo_create_session,
	luo_retrieve_session, luo_session_finish, luo_test, restore_and_read_stage, restore_and_verify_memfd,
} from "./lib/lu_utils.ts";

const NUM_FILES = 500;
const STATE_SESSION_NAME = "kexec_many_files_state";
const STATE_MEMFD_TOKEN = 9999;
const TEST_SESSION_NAME = "many_files_session";

/* Stage 1: Executed before the kexec reboot. */
function run_stage_1(luo_fd: number): void {
	let session_fd: number, i: number;

	ksft_print_msg("[STAGE 1] Creating state file for next stage (2)...\n");
	create_state_file(luo_fd, STATE_SESSION_NAME, STATE_MEMFD_TOKEN, 2);

	ksft_print_msg("[STAGE 1] Creating test session '%s'...\n", TEST_SESSION_NAME);
	session_fd = luo_create_session(luo_fd, TEST_SESSION_NAME);
	if (session_fd < 0)
		fail_exit("luo_create_session");

	ksft_print_msg("[STAGE 1] Preserving %d files...\n", NUM_FILES);
	for (i = 0; i < NUM_FILES; i++) {
		const data = new Uint8Array(64);

		snprintf(data, data.length, "file-data-%d", i);
		if (create_and_preserve_memfd(session_fd, i, cstr(data)) < 0)
			fail_exit("create_and_preserve_memfd for index %d", i);
	}

	ksft_print_msg("[STAGE 1] Successfully preserved %d files.\n", NUM_FILES);

	close(luo_fd);
	daemonize_and_wait();
}

/* Stage 2: Executed after the kexec reboot. */
function run_stage_2(luo_fd: number, state_session_fd: number): void {
	const stage = new Int32Array(1);
	let session_fd: number;
	let i: number;

	ksft_print_msg("[STAGE 2] Starting post-kexec verification...\n");

	restore_and_read_stage(state_session_fd, STATE_MEMFD_TOKEN, stage);
	if (stage[0] != 2) {
		fail_exit("Expected stage 2, but state file contains %d",
			  stage[0]);
	}

	ksft_print_msg("[STAGE 2] Retrieving test session '%s'...\n", TEST_SESSION_NAME);
	session_fd = luo_retrieve_session(luo_fd, TEST_SESSION_NAME);
	if (session_fd < 0)
		fail_exit("luo_retrieve_session");

	ksft_print_msg("[STAGE 2] Verifying %d files...\n", NUM_FILES);
	for (i = 0; i < NUM_FILES; i++) {
		const data = new Uint8Array(64);
		let fd: number;

		snprintf(data, data.length, "file-data-%d", i);
		fd = restore_and_verify_memfd(session_fd, i, cstr(data));
		if (fd < 0)
			fail_exit("restore_and_verify_memfd for index %d", i);
		close(fd);
	}

	ksft_print_msg("[STAGE 2] Finishing test session...\n");
	if (luo_session_finish(session_fd) < 0)
		fail_exit("luo_session_finish for test session");
	close(session_fd);

	ksft_print_msg("[STAGE 2] Finalizing state session...\n");
	if (luo_session_finish(state_session_fd) < 0)
		fail_exit("luo_session_finish for state session");
	close(state_session_fd);

	ksft_print_msg("\n--- MANY-FILES KEXEC TEST PASSED (%d files) ---\n",
		       NUM_FILES);
}

/** main(): luo_test() with this file's state session and stages. */
export function main(argc: number, argv: string[]): number {
	return luo_test(argc, argv, STATE_SESSION_NAME,
			run_stage_1, run_stage_2);
}
