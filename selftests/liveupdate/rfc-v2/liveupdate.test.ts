import t from "tap";
import { readFileSync } from "node:fs";
import { runSelftests } from "../../../lib/cli/selftests.ts";
import { SELFTESTS_ROOT } from "../../../lib/cli/main.ts";
import { runProgram } from "../../../lib/cli/runProgram.ts";
import { exitCode, runProgramOutput } from "../../../lib/ksft/testing.ts";
import type { BootOptions } from "../../../lib/kernel/kernel.ts";
import { main } from "./liveupdate.ts";

// The mirror keeps liveupdate.c's line numbers, so its output is the C's
// once the file name in assertion messages is the C's.
const expected = (name: string): string => readFileSync(new URL(`./${name}`, import.meta.url), "utf8");

async function run(boot: BootOptions): Promise<{ out: string; code: number }> {
	const r = await runProgramOutput(main, ["./liveupdate"], boot);
	return { out: r.merged.replaceAll("# liveupdate.ts:", "# liveupdate.c:"), code: exitCode(r.status) };
}

t.test("on an rfc-v2 kernel all 9 tests pass, subsystem fixture first", async (t) => {
	const r = await run({ abi: "rfc-v2" });
	t.equal(r.code, 0);
	t.equal(r.out, expected("liveupdate.expected"));
	t.match(r.out, /^# Starting 9 tests from 2 test cases\.$/m);
	t.match(r.out, /^# PASSED: 9 \/ 9 tests passed\.$/m);
	t.match(r.out, /^# Totals: pass:9 fail:0 xfail:0 xpass:0 skip:0 error:0$/m);
});

t.test("without the selftest module (SELFTESTS is EOPNOTSUPP) the 4 subsystem tests fail at their first ASSERT", async (t) => {
	const r = await run({ abi: "rfc-v2", config: { LIVEUPDATE_SELFTESTS: false } });
	t.equal(r.code, 1);
	t.equal(r.out, expected("liveupdate-noselftests.expected"));
	t.match(r.out, /^# liveupdate\.c:340:register_unregister:Expected 0 \(0\) == ret \(-1\)$/m);
	t.match(r.out, /^# Totals: pass:5 fail:4 xfail:0 xpass:0 skip:0 error:0$/m);
});

t.test("without /dev/liveupdate, setup's ksft_exit_skip() prints the C's stray lines and every test is 'SKIP unknown'", async (t) => {
	const r = await run({ abi: "rfc-v2", cmdline: "liveupdate=off" });
	t.equal(r.code, 0, "the harness exits 0 when everything skipped");
	t.equal(r.out, expected("liveupdate-nodev.expected"));
	t.match(r.out, /^ok 2 # SKIP Setup: Cannot open \/dev\/liveupdate \(errno 2\)\.$/m, "the child's own, one too high");
	t.match(r.out, /^ok 1 subsystem\.register_unregister # SKIP unknown$/m);
});

t.test("an unprivileged run skips the same way, with EACCES", async (t) => {
	let out = "";
	const sink = (d: Uint8Array): void => {
		out += new TextDecoder().decode(d);
	};
	const r = await runProgram(main, { abi: "rfc-v2", uid: 1000, argv: ["./liveupdate"], stdout: sink, stderr: sink });
	t.equal(r.exitCode, 0);
	t.match(out, /^ok 2 # SKIP Setup: Cannot open \/dev\/liveupdate \(errno 13\)\.$/m);
	t.match(out, /^# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:9 error:0$/m);
});

t.test("on a v2 kernel it fails, never passes silently: SELFTESTS is ENOTTY and the states are numbered differently", async (t) => {
	const r = await run({ abi: "v2" });
	t.equal(r.code, 1);
	t.match(r.out, /^# liveupdate\.c:340:register_unregister:Expected 0 \(0\) == ret \(-1\)$/m);
	t.match(r.out, /^# liveupdate\.c:235:normal:Expected state\[0\]! \(1\) == LIVEUPDATE_STATE_NORMAL \(0\)$/m);
	t.match(r.out, /^not ok 9 state\.sysfs_frozen$/m, "no FREEZE ioctl in v2");
});

t.test("luosim selftests runs it as the nested target liveupdate/rfc-v2", async (t) => {
	let out = "";
	const failed = await runSelftests({ root: SELFTESTS_ROOT, abi: "rfc-v2", names: ["liveupdate/rfc-v2:liveupdate"], out: (s) => (out += s) });
	t.equal(failed, 0);
	t.equal(
		out,
		["TAP version 13", "1..1", "# selftests: liveupdate/rfc-v2: liveupdate", ...expected("liveupdate.expected").trimEnd().split("\n").map((l) => `# ${l}`), "ok 1 selftests: liveupdate/rfc-v2: liveupdate", ""].join("\n"),
	);
});
