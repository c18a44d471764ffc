import t from "tap";
import { ccSkipReason, compileC } from "./cc-oracle.ts";
import { GetoptState, getopt, getopt_long, getopt_long_only, type option } from "./getopt.ts";

type Mode = "short" | "long" | "long_only";
/** [name, has_arg, val (a character or a number), flag index (0/1) or -1 for NULL]. */
type LongSpec = readonly [string, 0 | 1 | 2, string | number, number];

interface Scenario {
	mode: Mode;
	optstring: string;
	args: readonly string[];
	longopts?: readonly LongSpec[];
	env?: Record<string, string>;
	opterr?: number;
	/** After the first -1, set optind = 0 and scan again (glibc's documented restart). */
	rescan?: boolean;
}

interface Call {
	r: number;
	optind: number;
	optopt: number;
	optarg: string | null;
	longindex: number;
	flags: readonly [number, number];
}

interface Outcome {
	calls: Call[];
	stderr: string;
	argv: string[];
	/** Calls, diagnostics and the final argv in the order the C driver prints them. */
	trace: string;
}

const code = (c: string | number): number => (typeof c === "string" ? c.charCodeAt(0) : c);

function traceLine(c: Call): string {
	const arg = c.optarg === null ? "<none>" : `'${c.optarg}'`;
	return `r=${c.r} optind=${c.optind} optopt=${c.optopt} optarg=${arg} li=${c.longindex} f0=${c.flags[0]} f1=${c.flags[1]}\n`;
}

function run(s: Scenario): Outcome {
	let trace = "";
	let stderr = "";
	const state = new GetoptState({
		stderr: (m) => {
			stderr += m;
			trace += m;
		},
		getenv: (name) => s.env?.[name],
	});
	if (s.opterr !== undefined) state.opterr = s.opterr;
	const argv = ["prog", ...s.args];
	const flags: [{ value: number }, { value: number }] = [{ value: -1 }, { value: -1 }];
	const longopts: option[] = (s.longopts ?? []).map(([name, has_arg, val, flag]) => ({
		name, has_arg, val: code(val), flag: flag < 0 ? null : flags[flag]!,
	}));
	const calls: Call[] = [];
	for (let pass = 0; pass < (s.rescan ? 2 : 1); pass++) {
		if (pass > 0) state.optind = 0;
		for (let n = 0; n < 100; n++) {
			const li = { value: -1 };
			flags[0].value = flags[1].value = -1;
			const r = s.mode === "short" ? getopt(state, argv, s.optstring)
				: s.mode === "long" ? getopt_long(state, argv, s.optstring, longopts, li)
				: getopt_long_only(state, argv, s.optstring, longopts, li);
			const call: Call = { r, optind: state.optind, optopt: state.optopt, optarg: state.optarg, longindex: li.value, flags: [flags[0].value, flags[1].value] };
			calls.push(call);
			trace += traceLine(call);
			if (r === -1) break;
		}
	}
	argv.forEach((a, i) => (trace += `argv[${i}]=${a}\n`));
	return { calls, stderr, argv, trace };
}

const LONGOPTS: readonly LongSpec[] = [
	["verbose", 0, "v", -1], ["file", 1, "f", -1], ["level", 2, "l", -1], ["flag", 0, 7, 0], ["version", 0, "V", -1],
];

const SCENARIOS: Record<string, Scenario> = {
	shortArgs: { mode: "short", optstring: "ab:c::", args: ["-a", "-bfoo", "-b", "bar", "-cx", "-c", "file"] },
	grouped: { mode: "short", optstring: "abc:", args: ["-abcval", "-ba"] },
	permute: { mode: "short", optstring: "ab:", args: ["x", "-a", "y", "-b", "arg", "z", "-a"] },
	dashdash: { mode: "short", optstring: "ab", args: ["x", "-a", "--", "-b", "y"] },
	plus: { mode: "short", optstring: "+ab", args: ["-a", "x", "-b"] },
	posixly: { mode: "short", optstring: "ab", args: ["-a", "x", "-b"], env: { POSIXLY_CORRECT: "1" } },
	inOrder: { mode: "short", optstring: "-ab", args: ["x", "-a", "y", "--", "-b"] },
	invalid: { mode: "short", optstring: "ab", args: ["-z", "-a:", "-;"] },
	missing: { mode: "short", optstring: "ab:", args: ["-a", "-b"] },
	colon: { mode: "short", optstring: ":ab:", args: ["-z", "-b"] },
	plusColon: { mode: "short", optstring: "+:a:", args: ["-a"] },
	opterr0: { mode: "short", optstring: "ab:", args: ["-z", "-b"], opterr: 0 },
	optionalShort: { mode: "short", optstring: "a::", args: ["-a", "x", "-ay"] },
	dash: { mode: "short", optstring: "a", args: ["-", "-a", ""] },
	rescan: { mode: "short", optstring: "ab", args: ["-a", "x", "-b"], rescan: true },
	long: { mode: "long", optstring: "vf:", longopts: LONGOPTS, args: ["--verbose", "--file=x", "--file", "y", "--level", "--level=3", "--flag", "--fi", "z", "--verb", "-v", "arg"] },
	longErrors: { mode: "long", optstring: "v", longopts: LONGOPTS, args: ["--nope", "--nope=3", "--verbose=1", "--ver", "--ver=2", "--file"] },
	longColon: { mode: "long", optstring: ":v", longopts: LONGOPTS, args: ["--nope", "--file"] },
	longQuiet: { mode: "long", optstring: "v", longopts: LONGOPTS, args: ["--ver", "--nope"], opterr: 0 },
	sameTarget: { mode: "long", optstring: "", longopts: [["color", 0, "c", -1], ["colour", 0, "c", -1], ["colors", 1, "c", -1]], args: ["--colo", "--colou"] },
	emptyName: { mode: "long", optstring: "", longopts: LONGOPTS, args: ["--=x"] },
	dashW: { mode: "long", optstring: "W;a", longopts: LONGOPTS, args: ["-Wverbose", "-W", "file=q", "-W", "nope", "-W"] },
	longOnly: { mode: "long_only", optstring: "vx", longopts: LONGOPTS, args: ["-verbose", "-v", "-x", "-fi=a", "-vx", "-lev", "-y", "--ver"] },
};

const Q = 0x3f;

t.test("short options take attached, separate and optional arguments", async (t) => {
	const { calls, stderr } = run(SCENARIOS.shortArgs!);
	t.same(calls.map((c) => [c.r, c.optarg, c.optind]), [
		[code("a"), null, 2], [code("b"), "foo", 3], [code("b"), "bar", 5], [code("c"), "x", 6], [code("c"), null, 7], [-1, null, 7],
	]);
	t.equal(stderr, "");
	const opt = run(SCENARIOS.optionalShort!);
	t.same(opt.calls.map((c) => [c.r, c.optarg]), [[code("a"), null], [code("a"), "y"], [-1, null]]);
	t.same(opt.argv, ["prog", "-a", "-ay", "x"], "an optional argument must be attached");
});

t.test("grouped short options advance optind on the last character", async (t) => {
	const { calls } = run(SCENARIOS.grouped!);
	t.same(calls.map((c) => [c.r, c.optind, c.optarg]), [
		[code("a"), 1, null], [code("b"), 1, null], [code("c"), 2, "val"], [code("b"), 2, null], [code("a"), 3, null], [-1, 3, null],
	]);
});

t.test("non-options are permuted to the end and optind points at them", async (t) => {
	const { calls, argv } = run(SCENARIOS.permute!);
	t.same(argv, ["prog", "-a", "-b", "arg", "-a", "x", "y", "z"]);
	t.equal(calls.at(-1)!.optind, 5);
	const dd = run(SCENARIOS.dashdash!);
	t.same(dd.argv, ["prog", "-a", "--", "x", "-b", "y"], "-- stops the scan; what follows is left alone");
	t.same(dd.calls.map((c) => c.r), [code("a"), -1]);
	t.equal(dd.calls.at(-1)!.optind, 3);
});

t.test("a leading + or POSIXLY_CORRECT stops at the first non-option", async (t) => {
	for (const s of [SCENARIOS.plus!, SCENARIOS.posixly!]) {
		const { calls, argv } = run(s);
		t.same(calls.map((c) => [c.r, c.optind]), [[code("a"), 2], [-1, 2]]);
		t.same(argv, ["prog", "-a", "x", "-b"]);
	}
});

t.test("a leading - returns each non-option as option 1", async (t) => {
	const { calls } = run(SCENARIOS.inOrder!);
	t.same(calls.map((c) => [c.r, c.optarg]), [[1, "x"], [code("a"), null], [1, "y"], [-1, null]]);
	t.equal(calls.at(-1)!.optind, 5);
});

t.test("errors print glibc's messages and set optopt", async (t) => {
	const inv = run(SCENARIOS.invalid!);
	t.same(inv.calls.map((c) => [c.r, c.optopt]), [[Q, code("z")], [code("a"), code("z")], [Q, code(":")], [Q, code(";")], [-1, code(";")]]);
	t.equal(inv.stderr, "prog: invalid option -- 'z'\nprog: invalid option -- ':'\nprog: invalid option -- ';'\n");
	const miss = run(SCENARIOS.missing!);
	t.same(miss.calls.map((c) => [c.r, c.optopt, c.optind]), [[code("a"), 0, 2], [Q, code("b"), 3], [-1, code("b"), 3]]);
	t.equal(miss.stderr, "prog: option requires an argument -- 'b'\n");
});

t.test("a leading : (even after +) silences errors and reports ':' for a missing argument", async (t) => {
	const c = run(SCENARIOS.colon!);
	t.same(c.calls.map((x) => [x.r, x.optopt]), [[Q, code("z")], [code(":"), code("b")], [-1, code("b")]]);
	t.equal(c.stderr, "");
	const pc = run(SCENARIOS.plusColon!);
	t.same(pc.calls.map((x) => x.r), [code(":"), -1]);
	t.equal(pc.stderr, "");
});

t.test("opterr = 0 silences errors but still returns '?'", async (t) => {
	const { calls, stderr } = run(SCENARIOS.opterr0!);
	t.same(calls.map((c) => c.r), [Q, Q, -1]);
	t.equal(stderr, "");
});

t.test("'-' and the empty string are non-options", async (t) => {
	const { calls, argv } = run(SCENARIOS.dash!);
	t.same(calls.map((c) => c.r), [code("a"), -1]);
	t.same(argv, ["prog", "-a", "-", ""]);
	t.equal(calls.at(-1)!.optind, 2);
});

t.test("optopt reads '?' before the first call and glibc's private copy (0) after it", async (t) => {
	const state = new GetoptState();
	t.equal(state.optopt, code("?"));
	getopt(state, ["prog", "-a"], "a");
	t.equal(state.optopt, 0);
});

t.test("optind = 0 restarts the scan", async (t) => {
	const { calls } = run(SCENARIOS.rescan!);
	t.same(calls.map((c) => c.r), [code("a"), code("b"), -1, code("a"), code("b"), -1]);
});

t.test("long options: arguments, abbreviations, flag and longindex", async (t) => {
	const { calls, argv, stderr } = run(SCENARIOS.long!);
	t.same(calls.map((c) => [c.r, c.optarg, c.longindex, c.flags[0]]), [
		[code("v"), null, 0, -1], [code("f"), "x", 1, -1], [code("f"), "y", 1, -1], [code("l"), null, 2, -1],
		[code("l"), "3", 2, -1], [0, null, 3, 7], [code("f"), "z", 1, -1], [code("v"), null, 0, -1], [code("v"), null, -1, -1], [-1, null, -1, -1],
	]);
	t.equal(stderr, "");
	t.equal(argv.at(-1), "arg");
});

t.test("long option errors print glibc's messages", async (t) => {
	const { calls, stderr } = run(SCENARIOS.longErrors!);
	t.same(calls.map((c) => [c.r, c.optopt]), [[Q, 0], [Q, 0], [Q, code("v")], [Q, 0], [Q, 0], [Q, code("f")], [-1, code("f")]]);
	t.equal(stderr, [
		"prog: unrecognized option '--nope'\n",
		"prog: unrecognized option '--nope=3'\n",
		"prog: option '--verbose' doesn't allow an argument\n",
		"prog: option '--ver' is ambiguous; possibilities: '--verbose' '--version'\n",
		"prog: option '--ver=2' is ambiguous; possibilities: '--verbose' '--version'\n",
		"prog: option '--file' requires an argument\n",
	].join(""));
	const colon = run(SCENARIOS.longColon!);
	t.same(colon.calls.map((c) => c.r), [Q, code(":"), -1]);
	t.equal(colon.stderr + run(SCENARIOS.longQuiet!).stderr, "");
});

t.test("abbreviations of options that do the same thing are not ambiguous", async (t) => {
	const { calls, stderr } = run(SCENARIOS.sameTarget!);
	t.same(calls.map((c) => [c.r, c.longindex]), [[Q, -1], [code("c"), 1], [-1, -1]]);
	t.equal(stderr, "prog: option '--colo' is ambiguous; possibilities: '--color' '--colors'\n");
});

t.test("-W name stands for --name when optstring has W;", async (t) => {
	const { calls, stderr } = run(SCENARIOS.dashW!);
	t.same(calls.map((c) => [c.r, c.optarg, c.optind]), [[code("v"), null, 2], [code("f"), "q", 4], [Q, null, 6], [Q, null, 7], [-1, null, 7]]);
	t.equal(stderr, "prog: unrecognized option '-W nope'\nprog: option requires an argument -- 'W'\n");
});

t.test("getopt_long_only accepts long options after a single dash", async (t) => {
	const { calls, stderr } = run(SCENARIOS.longOnly!);
	t.same(calls.map((c) => [c.r, c.optarg]), [
		[code("v"), null], [code("v"), null], [code("x"), null], [code("f"), "a"], [code("v"), null], [code("x"), null],
		[code("l"), null], [Q, null], [Q, null], [-1, null],
	], "-vx matches no long option, so it is two short ones");
	t.equal(stderr, [
		"prog: unrecognized option '-y'\n",
		"prog: option '--ver' is ambiguous; possibilities: '--verbose' '--version'\n",
	].join(""));
});

const DRIVER = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <getopt.h>
int flags[2];
int main(int argc, char **argv) {
	const char *mode = getenv("GO_MODE"), *optstring = getenv("GO_OPTSTRING");
	char *spec = strdup(getenv("GO_LONGOPTS") ? getenv("GO_LONGOPTS") : "");
	struct option longopts[32];
	int n = 0, pass, passes = getenv("GO_RESCAN") ? 2 : 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	dup2(1, 2);
	if (getenv("GO_OPTERR")) opterr = atoi(getenv("GO_OPTERR"));
	for (char *save, *tok = strtok_r(spec, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *name = strtok(tok, "/");
		int has_arg = atoi(strtok(NULL, "/")), val = atoi(strtok(NULL, "/")), flag = atoi(strtok(NULL, "/"));
		longopts[n].name = name; longopts[n].has_arg = has_arg; longopts[n].val = val;
		longopts[n].flag = flag < 0 ? NULL : &flags[flag];
		n++;
	}
	memset(&longopts[n], 0, sizeof(longopts[n]));
	for (pass = 0; pass < passes; pass++) {
		if (pass) optind = 0;
		for (int k = 0; k < 100; k++) {
			int li = -1, r;
			flags[0] = flags[1] = -1;
			if (!strcmp(mode, "short")) r = getopt(argc, argv, optstring);
			else if (!strcmp(mode, "long")) r = getopt_long(argc, argv, optstring, longopts, &li);
			else r = getopt_long_only(argc, argv, optstring, longopts, &li);
			printf("r=%d optind=%d optopt=%d optarg=", r, optind, optopt);
			if (optarg) printf("'%s'", optarg); else printf("<none>");
			printf(" li=%d f0=%d f1=%d\n", li, flags[0], flags[1]);
			if (r == -1) break;
		}
	}
	for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
	return 0;
}
`;

t.test("every scenario runs as glibc's getopt runs it", { skip: ccSkipReason() }, async (t) => {
	const prog = compileC(DRIVER);
	t.teardown(() => prog.dispose());
	for (const [name, s] of Object.entries(SCENARIOS)) {
		const env: NodeJS.ProcessEnv = { ...s.env, GO_MODE: s.mode, GO_OPTSTRING: s.optstring, LANG: "C", LC_ALL: "C" };
		if (s.longopts) env.GO_LONGOPTS = s.longopts.map(([n, h, v, f]) => `${n}/${h}/${code(v)}/${f}`).join(";");
		if (s.opterr !== undefined) env.GO_OPTERR = String(s.opterr);
		if (s.rescan) env.GO_RESCAN = "1";
		const c = prog.run(s.args, { argv0: "prog", env });
		t.equal(run(s).trace, c.stdout.toString("utf8"), name);
	}
});
