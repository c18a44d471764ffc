import t from "tap";
import { fileURLToPath } from "node:url";
import { runSelftests } from "../../lib/cli/selftests.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

t.test("luosim selftests --abi mainline liveupdate: the 15-test program, then the four two-stage programs across a kexec", async (t) => {
	let out = "";
	const failed = await runSelftests({ root, abi: "mainline", names: ["liveupdate"], out: (s) => void (out += s) });
	t.equal(failed, 0);
	const results = out.split("\n").filter((l) => /^(not )?ok /.test(l) || /^1\.\./.test(l));
	t.same(results, [
		"1..5",
		"ok 1 selftests: liveupdate: liveupdate",
		"ok 2 selftests: liveupdate: luo_kexec_simple",
		"ok 3 selftests: liveupdate: luo_multi_session",
		"ok 4 selftests: liveupdate: luo_stress_sessions",
		"ok 5 selftests: liveupdate: luo_stress_files",
	]);
	t.match(out, /^# # Totals: pass:15 fail:0 xfail:0 xpass:0 skip:0 error:0$/m);
	for (const banner of [
		"--- SIMPLE KEXEC TEST PASSED ---",
		"--- MULTI-SESSION KEXEC TEST PASSED ---",
		"--- MANY-SESSIONS KEXEC TEST PASSED (2000 sessions) ---",
		"--- MANY-FILES KEXEC TEST PASSED (500 files) ---",
	]) t.ok(out.includes(`\n# ${banner}\n`), `stage 2 printed ${banner}`);
});

t.test("on a generation without the mainline uAPI the target is not run", async (t) => {
	let out = "";
	const failed = await runSelftests({ root, abi: "rfc-v2", names: ["liveupdate:luo_kexec_simple"], out: (s) => void (out += s) });
	t.equal(failed, 0);
	t.equal(out, "", "tests.json lists only mainline");
});
