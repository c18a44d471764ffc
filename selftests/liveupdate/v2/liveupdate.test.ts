import t from "tap";
import { runSelftests } from "../../../lib/cli/selftests.ts";
import { SELFTESTS_ROOT } from "../../../lib/cli/main.ts";
import { exitCode, runProgramOutput } from "../../../lib/ksft/testing.ts";
import { main } from "./liveupdate.ts";

const PASS = [
	"TAP version 13",
	"1..4",
	"# Starting 4 tests from 1 test cases.",
	"#  RUN           state.normal ...",
	"#            OK  state.normal",
	"ok 1 state.normal",
	"#  RUN           state.prepared ...",
	"#            OK  state.prepared",
	"ok 2 state.prepared",
	"#  RUN           state.sysfs_normal ...",
	"#            OK  state.sysfs_normal",
	"ok 3 state.sysfs_normal",
	"#  RUN           state.sysfs_prepared ...",
	"#            OK  state.sysfs_prepared",
	"ok 4 state.sysfs_prepared",
	"# PASSED: 4 / 4 tests passed.",
	"# Totals: pass:4 fail:0 xfail:0 xpass:0 skip:0 error:0",
	"",
].join("\n");

t.test("on a v2 kernel the 4 tests seed 001's ABI allows all pass", async (t) => {
	const r = await runProgramOutput(main, ["./liveupdate"], { abi: "v2" });
	t.equal(exitCode(r.status), 0);
	t.equal(r.merged, PASS);
});

t.test("on an rfc-v2 kernel GET_STATE's numbers are off by one: normal and prepared fail", async (t) => {
	const r = await runProgramOutput(main, ["./liveupdate"], { abi: "rfc-v2" });
	t.equal(exitCode(r.status), 1);
	t.match(r.merged, /^# liveupdate\.ts:\d+:normal:Expected state\[0\]! \(0\) == LIVEUPDATE_STATE_NORMAL \(1\)$/m);
	t.match(r.merged, /^not ok 2 state\.prepared$/m);
	t.match(r.merged, /^ok 3 state\.sysfs_normal$/m, "sysfs speaks names, not numbers");
});

t.test("without /dev/liveupdate every test is skipped through setup's ksft_exit_skip()", async (t) => {
	const r = await runProgramOutput(main, ["./liveupdate"], { abi: "v2", cmdline: "liveupdate=off" });
	t.equal(exitCode(r.status), 0);
	t.match(r.merged, /^ok 4 state\.sysfs_prepared # SKIP unknown$/m);
	t.match(r.merged, /^# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:4 error:0$/m);
});

t.test("luosim selftests --abi v2 runs it as liveupdate/v2", async (t) => {
	let out = "";
	t.equal(await runSelftests({ root: SELFTESTS_ROOT, abi: "v2", names: ["liveupdate/v2"], out: (s) => (out += s) }), 0);
	t.equal(out, ["TAP version 13", "1..1", "# selftests: liveupdate/v2: liveupdate", ...PASS.trimEnd().split("\n").map((l) => `# ${l}`), "ok 1 selftests: liveupdate/v2: liveupdate", ""].join("\n"));
});
