import t from "tap";
import { exitCode, runProgramOutput } from "../../../lib/ksft/testing.ts";
import { main } from "./state_monitor.ts";

const PASS = [
	"TAP version 13",
	"1..5",
	"# monitor: state is normal",
	"ok 1 monitor starts in normal",
	"# monitor: normal -> prepared",
	"ok 2 PREPARE: normal -> prepared",
	"# monitor: prepared -> frozen",
	"ok 3 FREEZE: prepared -> frozen",
	"# monitor: frozen -> normal",
	"ok 4 CANCEL: frozen -> normal",
	"ok 5 monitor exits after 3 transitions",
	"# Totals: pass:5 fail:0 xfail:0 xpass:0 skip:0 error:0",
	"",
].join("\n");

t.test("the monitor sees every transition the parent drives, in order, through POLLPRI", async (t) => {
	const r = await runProgramOutput(main, ["./state_monitor"], { abi: "rfc-v2" });
	t.equal(exitCode(r.status), 0);
	t.equal(r.merged, PASS);
	t.equal(r.kernel.clock.nowNs(), 0, "no poll timed out: every wake-up came from sysfs_notify");
});

t.test("on a v2 kernel (no FREEZE ioctl, states numbered from UNDEFINED = 0) every check fails", async (t) => {
	const r = await runProgramOutput(main, ["./state_monitor"], { abi: "v2" });
	t.equal(exitCode(r.status), 1);
	t.match(r.merged, /^# FREEZE: Inappropriate ioctl for device$/m);
	t.match(r.merged, /^# monitor: no transition within 5000 ms \(still normal\)$/m);
	t.match(r.merged, /^# Totals: pass:0 fail:5 xfail:0 xpass:0 skip:0 error:0$/m);
});

t.test("without /dev/liveupdate the whole program is skipped", async (t) => {
	const r = await runProgramOutput(main, ["./state_monitor"], { abi: "rfc-v2", cmdline: "liveupdate=off" });
	t.equal(exitCode(r.status), 4);
	t.equal(r.merged, "TAP version 13\n1..0 # SKIP Cannot open /dev/liveupdate (errno 2).\n");
});
