// SPDX-License-Identifier: GPL-2.0-only
/*
 * luo_kexec_simple.ts: tools/testing/selftests/liveupdate/luo_kexec_simple.c
 * (7b24dd46), line for line.
 *
 * A simple selftest to validate the end-to-end lifecycle of a LUO session
 * across a single kexec reboot.
 *
 * Run it as `luosim run --abi mainline --kexec luo_kexec_simple.ts`: stage 1,
 * then the kexec (do_kexec.sh's job), then `luo_kexec_simple.ts -s 2`.
 */
import { close } from "luosim/libc";
import { ksft_print_msg } from "luosim/ksft";
import {
	create_and_preserve_memfd, create_state_file, daemonize_and_wait, fail_exit, luo_create_session,
	luo_retrieve_session, luo_session_finish, luo_test, restore_and_read_stage, restore_and_verify_memfd,
} from "./lib/lu_utils.ts";

const TEST_SESSION_NAME = "test-session";
const TEST_MEMFD_TOKEN = 0x1A;
const TEST_MEMFD_DATA = "hello kexec world";

/* Constants for the state-tracking mechanism, specific to this test file. */
const STATE_SESSION_NAME = "kexec_simple_state";
const STATE_MEMFD_TOKEN = 999;

/* Stage 1: Executed before the kexec reboot. */
function run_stage_1(luo_fd: number): void {
	let session_fd: number;

	ksft_print_msg("[STAGE 1] Starting pre-kexec setup...\n");

	ksft_print_msg("[STAGE 1] Creating state file for next stage (2)...\n");
	create_state_file(luo_fd, STATE_SESSION_NAME, STATE_MEMFD_TOKEN, 2);

	ksft_print_msg("[STAGE 1] Creating session '%s' and preserving memfd...\n",
		       TEST_SESSION_NAME);
	session_fd = luo_create_session(luo_fd, TEST_SESSION_NAME);
	if (session_fd < 0)
		fail_exit("luo_create_session for '%s'", TEST_SESSION_NAME);

	if (create_and_preserve_memfd(session_fd, TEST_MEMFD_TOKEN,
				      TEST_MEMFD_DATA) < 0) {
		fail_exit("create_and_preserve_memfd for token %#x",
			  TEST_MEMFD_TOKEN);
	}

	close(luo_fd);
	daemonize_and_wait();
}

/* Stage 2: Executed after the kexec reboot. */
function run_stage_2(luo_fd: number, state_session_fd: number): void {
	const stage = new Int32Array(1);
	let session_fd: number, mfd: number;

	ksft_print_msg("[STAGE 2] Starting post-kexec verification...\n");

	restore_and_read_stage(state_session_fd, STATE_MEMFD_TOKEN, stage);
	if (stage[0] != 2)
		fail_exit("Expected stage 2, but state file contains %d", stage[0]);

	ksft_print_msg("[STAGE 2] Retrieving session '%s'...\n", TEST_SESSION_NAME);
	session_fd = luo_retrieve_session(luo_fd, TEST_SESSION_NAME);
	if (session_fd < 0)
		fail_exit("luo_retrieve_session for '%s'", TEST_SESSION_NAME);

	ksft_print_msg("[STAGE 2] Restoring and verifying memfd (token %#x)...\n",
		       TEST_MEMFD_TOKEN);
	mfd = restore_and_verify_memfd(session_fd, TEST_MEMFD_TOKEN,
				       TEST_MEMFD_DATA);
	if (mfd < 0)
		fail_exit("restore_and_verify_memfd for token %#x", TEST_MEMFD_TOKEN);
	close(mfd);

	ksft_print_msg("[STAGE 2] Test data verified successfully.\n");
	ksft_print_msg("[STAGE 2] Finalizing test session...\n");
	if (luo_session_finish(session_fd) < 0)
		fail_exit("luo_session_finish for test session");
	close(session_fd);

	ksft_print_msg("[STAGE 2] Finalizing state session...\n");
	if (luo_session_finish(state_session_fd) < 0)
		fail_exit("luo_session_finish for state session");
	close(state_session_fd);

	ksft_print_msg("\n--- SIMPLE KEXEC TEST PASSED ---\n");
}

/** main(): luo_test() with this file's state session and stages. */
export function main(argc: number, argv: string[]): number {
	return luo_test(argc, argv, STATE_SESSION_NAME,
			run_stage_1, run_stage_2);
}
