/**
 * LUO session stress (issue 6): the time of a whole two-stage run with 200
 * and with 2000 sessions, as luo_stress_sessions does it (stage 1 creates
 * the state session and N empty sessions and leaves a daemon holding them;
 * the kexec serializes them; stage 2 retrieves, finishes and closes each),
 * run the way `luosim run --abi mainline --kexec` runs a program, and the
 * ratio. Goal: 2000 / 200 <= 12 (ten times the sessions: linear). Each
 * run is also split where the program's output marks the boundaries:
 * stage 1 (boot and creation, up to "You may now perform kexec reboot"),
 * kexec (the helper's kexec_file_load and reboot, LUO's serialization, the
 * next boot, stage 2's start and /dev/liveupdate's first open, up to
 * "[STAGE 2] Starting"), stage 2 (the retrieves and finishes). A
 * benchmark, not a test: it prints, it asserts nothing.
 */
import { close, snprintf, EPERM } from "../lib/libc/mod.ts";
import { ksft_exit_fail_msg, ksft_exit_skip, ksft_print_msg } from "../lib/ksft/mod.ts";
import { LIVEUPDATE_SESSION_NAME_LENGTH } from "../lib/liveupdate/uapi/mainline.ts";
import { runProgramKexec } from "../lib/cli/kexecRun.ts";
import {
	create_state_file, cstr, daemonize_and_wait, fail_exit, luo_create_session, luo_ensure_nofile_limit,
	luo_retrieve_session, luo_session_finish, luo_test, restore_and_read_stage,
} from "../selftests/liveupdate/lib/lu_utils.ts";
import type { ProgramMain } from "../lib/kernel/kernel.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const STATE_SESSION_NAME = "bench_stress_state";
const STATE_MEMFD_TOKEN = 999;

/** luo_stress_sessions with `n` sessions and no messages but the ones the split needs. */
function stressProgram(n: number): ProgramMain {
	const name = (i: number): string => {
		const buf = new Uint8Array(LIVEUPDATE_SESSION_NAME_LENGTH);
		snprintf(buf, buf.length, "many-test-%d", i);
		return cstr(buf);
	};
	const stage1 = (luo_fd: number): void => {
		const ret = luo_ensure_nofile_limit(n);
		if (ret == -EPERM) ksft_exit_skip("Insufficient privileges to set RLIMIT_NOFILE\n");
		if (ret < 0) ksft_exit_fail_msg("luo_ensure_nofile_limit failed\n");
		create_state_file(luo_fd, STATE_SESSION_NAME, STATE_MEMFD_TOKEN, 2);
		for (let i = 0; i < n; i++) if (luo_create_session(luo_fd, name(i)) < 0) fail_exit("luo_create_session at index %d", i);
		close(luo_fd);
		daemonize_and_wait();
	};
	const stage2 = (luo_fd: number, state_session_fd: number): void => {
		const stage = new Int32Array(1);
		ksft_print_msg("[STAGE 2] Starting post-kexec verification...\n");
		restore_and_read_stage(state_session_fd, STATE_MEMFD_TOKEN, stage);
		for (let i = 0; i < n; i++) {
			const s_fd = luo_retrieve_session(luo_fd, name(i));
			if (s_fd < 0 || luo_session_finish(s_fd) < 0) fail_exit("session at index %d", i);
			close(s_fd);
		}
		if (luo_session_finish(state_session_fd) < 0) fail_exit("luo_session_finish for state session");
		close(state_session_fd);
		ksft_print_msg("\n--- BENCH PASSED (%d sessions) ---\n", n);
	};
	return (argc, argv) => luo_test(argc, argv, STATE_SESSION_NAME, stage1, stage2);
}

/** One run's times in ms: the whole, and its three parts. */
interface RunTimes {
	total: number;
	stage1: number;
	kexec: number;
	stage2: number;
}

async function runOnce(n: number): Promise<RunTimes> {
	const dec = new TextDecoder();
	let out = "";
	let t1 = 0;
	let t2 = 0;
	const sink = (d: Uint8Array): void => {
		out += dec.decode(d);
		if (!t1 && out.includes("You may now perform kexec reboot")) t1 = performance.now();
		if (!t2 && out.includes("[STAGE 2] Starting")) t2 = performance.now();
	};
	const t0 = performance.now();
	const r = await runProgramKexec(stressProgram(n), { abi: "mainline", argv: ["stress"], stdout: sink, stderr: sink });
	const t3 = performance.now();
	if (r.exitCode !== 0 || !out.includes("BENCH PASSED")) throw new Error(`bench: the ${n}-session run failed (exit ${r.exitCode}):\n${out}`);
	return { total: t3 - t0, stage1: t1 - t0, kexec: t2 - t1, stage2: t3 - t2 };
}

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
	await runOnce(200); // warm-up: module loading and the JIT
	const result: Record<number, RunTimes> = {};
	for (const n of [200, 2000]) {
		const runs: RunTimes[] = [];
		for (let i = 0; i < RUNS; i++) runs.push(await runOnce(n));
		result[n] = {
			total: median(runs.map((r) => r.total)),
			stage1: median(runs.map((r) => r.stage1)),
			kexec: median(runs.map((r) => r.kexec)),
			stage2: median(runs.map((r) => r.stage2)),
		};
		const m = result[n]!;
		console.log(`${String(n).padStart(5)} sessions: ${m.total.toFixed(1)} ms (stage 1 ${m.stage1.toFixed(1)}, kexec ${m.kexec.toFixed(1)}, stage 2 ${m.stage2.toFixed(1)}), median of ${RUNS}`);
	}
	const ratio = result[2000]!.total / result[200]!.total;
	console.log(`ratio 2000 / 200: ${ratio.toFixed(2)} (goal <= 12: ${ratio <= 12 ? "met" : "NOT met"})`);
	console.log(`per session beyond 200: ${(((result[2000]!.total - result[200]!.total) / 1800) * 1000).toFixed(1)} us (the rest is the fixed cost of two boots and a kexec)`);
}

await main();
