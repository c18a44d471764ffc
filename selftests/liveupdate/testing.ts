/**
 * Test support for the two-stage programs' tests (not a selftest): what
 * each program prints when it passes, and a line-by-line check of a run's
 * whole output.
 */
import type { Test } from "tap";
import type { ProgramMain } from "../../lib/kernel/kernel.ts";
import { main as kexec_simple } from "./luo_kexec_simple.ts";
import { main as multi_session } from "./luo_multi_session.ts";
import { main as stress_sessions } from "./luo_stress_sessions.ts";
import { main as stress_files } from "./luo_stress_files.ts";

/** What the four two-stage programs print: stage 1 up to the daemon, then all of stage 2. */
export const programs: { name: string; main: ProgramMain; stage1: string[]; stage2: string[] }[] = [
	{
		name: "luo_kexec_simple",
		main: kexec_simple,
		stage1: [
			"# [STAGE 1] Starting pre-kexec setup...",
			"# [STAGE 1] Creating state file for next stage (2)...",
			"# [STAGE 1] Creating session 'test-session' and preserving memfd...",
		],
		stage2: [
			"# [STAGE 2] Starting post-kexec verification...",
			"# [STAGE 2] Retrieving session 'test-session'...",
			"# [STAGE 2] Restoring and verifying memfd (token 0x1a)...",
			"# [STAGE 2] Test data verified successfully.",
			"# [STAGE 2] Finalizing test session...",
			"# [STAGE 2] Finalizing state session...",
			"# ",
			"--- SIMPLE KEXEC TEST PASSED ---",
		],
	},
	{
		name: "luo_multi_session",
		main: multi_session,
		stage1: [
			"# [STAGE 1] Starting pre-kexec setup for multi-session test...",
			"# [STAGE 1] Creating state file for next stage (2)...",
			"# [STAGE 1] Creating empty sessions 'multi-test-empty-1' and 'multi-test-empty-2'...",
			"# [STAGE 1] Creating session 'multi-test-files-1' with one memfd...",
			"# [STAGE 1] Creating session 'multi-test-files-2' with two memfds...",
		],
		stage2: [
			"# [STAGE 2] Starting post-kexec verification...",
			"# [STAGE 2] Retrieving all sessions...",
			"# [STAGE 2] Verifying contents of session 'multi-test-files-1'...",
			"# [STAGE 2] Verifying contents of session 'multi-test-files-2'...",
			"# [STAGE 2] Test data verified successfully.",
			"# [STAGE 2] Finalizing all test sessions...",
			"# [STAGE 2] Finalizing state session...",
			"# ",
			"--- MULTI-SESSION KEXEC TEST PASSED ---",
		],
	},
	{
		name: "luo_stress_sessions",
		main: stress_sessions,
		stage1: [
			"# [STAGE 1] Increasing ulimit for open files...",
			"# [STAGE 1] Creating state file for next stage (2)...",
			"# [STAGE 1] Creating 2000 sessions...",
			"# [STAGE 1] Successfully created 2000 sessions.",
		],
		stage2: [
			"# [STAGE 2] Starting post-kexec verification...",
			"# [STAGE 2] Retrieving and finishing 2000 sessions...",
			"# [STAGE 2] Finalizing state session...",
			"# ",
			"--- MANY-SESSIONS KEXEC TEST PASSED (2000 sessions) ---",
		],
	},
	{
		name: "luo_stress_files",
		main: stress_files,
		stage1: [
			"# [STAGE 1] Creating state file for next stage (2)...",
			"# [STAGE 1] Creating test session 'many_files_session'...",
			"# [STAGE 1] Preserving 500 files...",
			"# [STAGE 1] Successfully preserved 500 files.",
		],
		stage2: [
			"# [STAGE 2] Starting post-kexec verification...",
			"# [STAGE 2] Retrieving test session 'many_files_session'...",
			"# [STAGE 2] Verifying 500 files...",
			"# [STAGE 2] Finishing test session...",
			"# [STAGE 2] Finalizing state session...",
			"# ",
			"--- MANY-FILES KEXEC TEST PASSED (500 files) ---",
		],
	},
];

/** The lines daemonize_and_wait() prints in stage 1. */
export const daemon = [
	"# [STAGE 1] Forking persistent child to hold sessions...",
	/^# \[STAGE 1\] Child PID: \d+\. Resources are pinned\.$/,
	"# [STAGE 1] You may now perform kexec reboot.",
];

/** Checks the whole output of a two-stage run, line by line. */
export function checkOutput(t: Test, out: string, p: (typeof programs)[number]): void {
	const lines = out.split("\n");
	t.equal(lines.pop(), "", "the output ends with a newline");
	const want: (string | RegExp)[] = [...p.stage1, ...daemon, ...p.stage2];
	t.equal(lines.length, want.length, `${want.length} lines`);
	want.forEach((w, i) => (typeof w === "string" ? t.equal(lines[i], w) : t.match(lines[i], w)));
}

/** A console sink that keeps what it is given. */
export function collector(): { sink: (d: Uint8Array) => void; text: () => string } {
	const dec = new TextDecoder();
	let out = "";
	return { sink: (d) => void (out += dec.decode(d)), text: () => out };
}

