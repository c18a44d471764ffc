import t from "tap";
import { readFileSync } from "node:fs";
import { runProgramOutput, exitCode } from "../../lib/ksft/testing.ts";
import { main } from "./harness-selftest.ts";

// harness-selftest.sh: `harness-selftest > harness-selftest.seen` (stdout
// only) and `diff -u` against harness-selftest.expected. The TS mirror keeps
// the C file's line numbers, so only the file name differs.
//
// harness-selftest.expected is the kernel's file byte for byte (the version
// that goes with the 9-test harness-selftest.c mirrored here). Like
// harness-selftest.c it is GPL-2.0 (SPDX-License-Identifier: GPL-2.0 in the
// .c), as is luosim; it carries no header of its own because it is the
// program's exact output.
const expected = readFileSync(new URL("./harness-selftest.expected", import.meta.url), "utf8");

t.test("harness-selftest.ts prints harness-selftest.expected", async (t) => {
	const r = await runProgramOutput(main, ["./harness-selftest"]);
	t.equal(r.stdout.replaceAll("harness-selftest.ts:", "harness-selftest.c:"), expected);
	t.equal(r.stderr, "", "TH_LOG_STREAM is stdout: nothing on stderr");
	t.equal(exitCode(r.status), 1, "tests failed, as intended");
	const seconds = r.kernel.clock.nowNs() / 1e9;
	t.ok(seconds >= 1 && seconds < 2, `fixture.timeout was killed after its 1 s, not its sleep(2) (virtual time ${seconds} s)`);
});
