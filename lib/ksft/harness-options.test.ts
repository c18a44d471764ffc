import t from "tap";
import { exitCode, runProgramOutput } from "./testing.ts";
import { main } from "./testdata/variants.ts";

/** The ids a run reported, in order. */
function ran(stdout: string): string[] {
	return [...stdout.matchAll(/^(?:not )?ok \d+ (\S+)/gm)].map((m) => m[1]!);
}

t.test("-l lists fixtures, variants and tests on stderr and exits 4", async (t) => {
	const r = await runProgramOutput(main, ["./variants", "-l"]);
	t.equal(r.stdout, "");
	t.equal(r.stderr, [
		"# FIXTURE            VARIANT                   TEST",
		`${"global".padEnd(20)} ${"".padEnd(25)} `,
		"-".repeat(80),
		"f                    small                     positive",
		"                     big                       small_only",
		"",
	].join("\n"));
	t.equal(exitCode(r.status), 4);
});

t.test("-h prints the usage with argv[0] and exits 4; an unknown option also getopt's complaint, exit 1", async (t) => {
	const h = await runProgramOutput(main, ["./variants", "-h"]);
	t.match(h.stderr, /^Usage: \.\/variants \[-h\|-l\] \[-t\|-T\|-v\|-V\|-f\|-F\|-r name\]\n\t-h       print help\n/);
	t.match(h.stderr, /but not test 'foo' specify '-T foo -v bla'\.\n$/);
	t.equal(h.stdout, "");
	t.equal(exitCode(h.status), 4);
	const bad = await runProgramOutput(main, ["./variants", "-x"]);
	t.match(bad.stderr, /^\.\/variants: invalid option -- 'x'\nUsage: \.\/variants /);
	t.equal(exitCode(bad.status), 1);
});

t.test("-t/-T/-v/-V/-f/-F/-r filter; the first match wins; exclusions alone keep the rest", async (t) => {
	const cases: [string[], string[], string][] = [
		[["-t", "positive"], ["f.small.positive", "f.big.positive"], "# Starting 2 tests from 2 test cases.\n"],
		[["-T", "small_only"], ["f.small.positive", "f.big.positive"], "# Starting 2 tests from 2 test cases.\n"],
		[["-v", "big"], ["f.big.positive", "f.big.small_only"], "# Starting 2 tests from 1 test cases.\n"],
		[["-V", "big"], ["f.small.positive", "f.small.small_only"], "# Starting 2 tests from 1 test cases.\n"],
		[["-T", "small_only", "-v", "big"], ["f.big.positive"], "# Starting 1 tests from 1 test cases.\n"],
		[["-v", "big", "-T", "small_only"], ["f.big.positive", "f.big.small_only"], "# Starting 2 tests from 1 test cases.\n"],
		[["-r", "f.big.small_only"], ["f.big.small_only"], "# Starting 1 tests from 1 test cases.\n"],
		[["-r", "f.small"], [], "# Starting 0 tests from 0 test cases.\n"],
		[["-f", "f"], ["f.small.positive", "f.small.small_only", "f.big.positive", "f.big.small_only"], "# Starting 4 tests from 2 test cases.\n"],
		[["-F", "f"], [], "# Starting 0 tests from 0 test cases.\n"],
	];
	for (const [args, ids, starting] of cases) {
		const r = await runProgramOutput(main, ["./variants", ...args]);
		t.same(ran(r.stdout), ids, args.join(" "));
		t.ok(r.stdout.includes(`1..${ids.length}\n${starting}`), `${args.join(" ")}: plan and count`);
		t.equal(exitCode(r.status), 0);
	}
});

t.test("nothing selected: an empty plan, PASSED 0 / 0, exit 0", async (t) => {
	const r = await runProgramOutput(main, ["./variants", "-t", "nope"]);
	t.equal(r.stdout, "TAP version 13\n1..0\n# Starting 0 tests from 0 test cases.\n# PASSED: 0 / 0 tests passed.\n# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:0 error:0\n");
	t.equal(exitCode(r.status), 0);
});
