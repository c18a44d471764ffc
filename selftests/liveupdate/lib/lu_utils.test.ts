import t from "tap";
import { Machine } from "../../../lib/kernel/machine.ts";
import { spawnProgram } from "../../../lib/kernel/exec.ts";
import { openConsole } from "../../../lib/fs/console.ts";
import { loadAndKexec } from "../../../lib/cli/kexecRun.ts";
import { close, fork, getrlimit, set_errno, setrlimit, setuid, sleep, EEXIST, EINVAL, ENOENT, EPERM, RLIMIT_NOFILE, type Rlimit } from "../../../lib/libc/mod.ts";
import type { Kernel, ProgramMain } from "../../../lib/kernel/kernel.ts";
import {
	create_and_preserve_memfd, fail_exit, luo_create_session, luo_ensure_nofile_limit, luo_get_session_name, luo_open_device,
	luo_retrieve_session, restore_and_verify_memfd,
} from "./lu_utils.ts";

/** Runs `body` on `k` with the console into a string; its exit code and output. */
async function run(k: Kernel, body: ProgramMain): Promise<{ code: number; out: string }> {
	const dec = new TextDecoder();
	let out = "";
	const sink = (d: Uint8Array): void => void (out += dec.decode(d));
	const con = openConsole(k, { stdout: sink, stderr: sink });
	const p = spawnProgram(k, body, { stdio: con });
	for (const f of con) f.put();
	const o = await k.waitForOutcome(p);
	return { code: o.kind === "exited" ? (o.status >> 8) & 0xff : -1, out };
}

function nofile(): Rlimit {
	const r: Rlimit = { rlim_cur: 0n, rlim_max: 0n };
	getrlimit(RLIMIT_NOFILE, r);
	return r;
}

t.test("luo_ensure_nofile_limit raises the soft limit to min + 32, and the hard one only when it must", async (t) => {
	const k = new Machine().boot({ abi: "mainline" });
	t.equal((await run(k, () => {
		t.same(nofile(), { rlim_cur: 1024n, rlim_max: 4096n }, "the defaults");
		t.equal(luo_ensure_nofile_limit(2000), 0);
		t.same(nofile(), { rlim_cur: 2032n, rlim_max: 4096n });
		t.equal(luo_ensure_nofile_limit(100), 0, "already enough");
		t.same(nofile(), { rlim_cur: 2032n, rlim_max: 4096n }, "and nothing lowered");
		t.equal(luo_ensure_nofile_limit(5000), 0);
		t.same(nofile(), { rlim_cur: 5032n, rlim_max: 5032n }, "root raises the hard limit");
		return 0;
	})).code, 0);
	t.equal((await run(k, () => {
		setrlimit(RLIMIT_NOFILE, { rlim_cur: 1024n, rlim_max: 1024n });
		setuid(1000);
		t.equal(luo_ensure_nofile_limit(2000), -EPERM, "without CAP_SYS_RESOURCE");
		t.same(nofile(), { rlim_cur: 1024n, rlim_max: 1024n }, "unchanged");
		return 0;
	})).code, 0);
});

t.test("luo_create_session cuts a long name to 63 bytes, as snprintf(\"%.*s\", 63) does", async (t) => {
	const k = new Machine().boot({ abi: "mainline" });
	t.equal((await run(k, () => {
		const fd = luo_open_device();
		const s = luo_create_session(fd, "B".repeat(80));
		t.ok(s >= 0);
		const name = new Uint8Array(64);
		t.equal(luo_get_session_name(s, name, name.length), 0);
		t.equal(new TextDecoder().decode(name), `${"B".repeat(63)}\0`);
		return 0;
	})).code, 0);
});

t.test("fail_exit bails out with the caller's function, line and strerror(errno), and exits 1", async (t) => {
	const k = new Machine().boot({ abi: "mainline" });
	function run_stage_9(): number {
		set_errno(ENOENT);
		fail_exit("lost '%s' at index %d", "x", 7);
	}
	const r = await run(k, run_stage_9);
	t.equal(r.code, 1);
	t.match(r.out, /^Bail out! \[run_stage_9:\d+\] lost 'x' at index 7 \(errno: No such file or directory\)\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:0\n$/);
});

t.test("restore_and_verify_memfd: the fd when the page holds the string, -EINVAL and a message when not, -ENOENT for no such token", async (t) => {
	const machine = new Machine();
	const k1 = machine.boot({ abi: "mainline" });
	t.equal((await run(k1, () => {
		const s = luo_create_session(luo_open_device(), "verify");
		t.equal(create_and_preserve_memfd(s, 1, "kept text"), 0);
		t.equal(create_and_preserve_memfd(s, 2, "other"), 0);
		t.equal(create_and_preserve_memfd(s, 1, "dup"), -EEXIST, "a token used twice: -EEXIST");
		fork(async () => {
			for (;;) await sleep(60);
		});
		return 0;
	})).code, 0);
	await loadAndKexec(k1, k1.cmdline.text);
	const r = await run(machine.kernel!, () => {
		const s = luo_retrieve_session(luo_open_device(), "verify");
		const fd = restore_and_verify_memfd(s, 1, "kept text");
		t.ok(fd >= 0, "matches");
		close(fd);
		t.equal(restore_and_verify_memfd(s, 2, "kept text"), -EINVAL, "differs");
		t.equal(restore_and_verify_memfd(s, 3, null), -ENOENT, "no such token");
		return 0;
	});
	t.equal(r.code, 0);
	t.equal(r.out, "# Data mismatch! Expected 'kept text', Got 'other'\n");
});
