import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import t from "tap";
import { fixtureCalls } from "./callsite-fixture.ts";
import { callerSite, macroArgs, type SourceSite } from "./callsite.ts";

const THIS_FILE = fileURLToPath(import.meta.url);
const FIXTURE = fileURLToPath(new URL("./callsite-fixture.ts", import.meta.url));

/** The 1-based line after the `// @site <name>` comment in `path`, and the column where `callee` starts on it. */
function marked(path: string, name: string, callee: string): { line: number; column: number } {
	const lines = readFileSync(path, "utf8").split("\n");
	const i = lines.findIndex((l) => l.trim() === `// @site ${name}`);
	if (i < 0) throw new Error(`no @site ${name}`);
	return { line: i + 2, column: lines[i + 1]!.indexOf(callee) + 1 };
}

/** What an assertion macro does: where was I called from, and with what text. */
function probe(..._args: unknown[]): { site: SourceSite; args: string[] } {
	const site = callerSite(1);
	return { site, args: macroArgs(site.path, site.line, site.column) };
}

const ns = { probe };
const ret = -2;
const EBUSY = 16;
const buf = Buffer.from("hello");
const f = (a: number, b: number): number => a + b;

t.test("callerSite gives the basename, the source line and the callee's column", async (t) => {
	// @site simple
	const { site } = probe(ret, -EBUSY);
	t.same(site, { file: "callsite.test.ts", path: THIS_FILE, ...marked(THIS_FILE, "simple", "probe(") });
});

t.test("depth 0 is the line calling callerSite itself", async (t) => {
	// @site depth0
	const site = callerSite(0);
	t.equal(site.line, marked(THIS_FILE, "depth0", "callerSite").line);
	t.equal(site.file, "callsite.test.ts");
});

t.test("a depth beyond the stack gives an unknown site", async (t) => {
	t.same(callerSite(10_000), { file: "<unknown>", path: "", line: 0, column: 0 });
});

t.test("macroArgs returns each argument's text", async (t) => {
	t.same(probe(ret, -EBUSY).args, ["ret", "-EBUSY"]);
	t.same(probe("abc", buf.toString()).args, ['"abc"', "buf.toString()"]);
	t.same(probe().args, []);
});

t.test("commas inside strings, parens, brackets, braces and regexes stay in one argument", async (t) => {
	t.same(probe("a, (b", f(1, 2), [3, 4], { x: 1, y: 2 }, 'c,)', /a,b\)/g, ret / 2).args, [
		'"a, (b"', "f(1, 2)", "[3, 4]", "{ x: 1, y: 2 }", "'c,)'", "/a,b\\)/g", "ret / 2",
	]);
	t.same(probe(`t, ${f(1, 2)}, ) ${"}"}`, "esc\", )").args, ['`t, ${f(1, 2)}, ) ${"}"}`', '"esc\\", )"']);
});

t.test("a multi-line call is reported at its callee, whitespace collapsed and comments dropped", async (t) => {
	// @site multi
	const { site, args } = ns.probe(
		ret   +
			1, // a comment, with a comma )
		"keep   inner   spaces", /* block, ( */ f(
			3,
			4,
		),
	);
	t.same({ line: site.line, column: site.column }, marked(THIS_FILE, "multi", "probe("));
	t.same(args, ["ret + 1", '"keep   inner   spaces"', "f( 3, 4, )"]);
});

t.test("a nested call yields only its own arguments", async (t) => {
	const outer = (x: { args: string[] }, _y: number): string[] => x.args;
	t.same(outer(probe(ret, [1, 2]), 3), ["ret", "[1, 2]"]);
});

t.test("the column may point at the '(' or the callee, and macroName finds the call", async (t) => {
	const { line, column } = marked(THIS_FILE, "simple", "probe(");
	const paren = column + "probe".length;
	t.same(macroArgs(THIS_FILE, line, paren), ["ret", "-EBUSY"]);
	t.same(macroArgs(THIS_FILE, line, paren, "probe"), ["ret", "-EBUSY"]);
	t.same(macroArgs(THIS_FILE, line, 1, "probe"), ["ret", "-EBUSY"], "the named call nearest the position");
	t.same(macroArgs(pathToFileURL(THIS_FILE).href, line, column), ["ret", "-EBUSY"], "a file: URL works too");
});

t.test("macroArgs returns [] when the file or the call cannot be found", async (t) => {
	t.same(macroArgs("/nonexistent/file.ts", 1, 1), []);
	t.same(macroArgs(THIS_FILE, 1, 1), [], "line 1 holds an import, not a call");
	t.same(macroArgs(THIS_FILE, 1_000_000, 1), []);
	t.same(macroArgs(THIS_FILE, 1, 10_000), [], "column past the end of the line");
	t.same(macroArgs(THIS_FILE, 1, 1, "NO_SUCH_MACRO"), []);
});

t.test("source-mapped positions hold in-process and under the tsx CLI", async (t) => {
	const simple = marked(FIXTURE, "simple", "ASSERT_EQ(");
	const multi = marked(FIXTURE, "multiline", "ASSERT_EQ(");
	const expected = [
		{ site: { file: "callsite-fixture.ts", path: FIXTURE, ...simple }, args: ["ret", "-EBUSY"] },
		{ site: { file: "callsite-fixture.ts", path: FIXTURE, ...multi }, args: ['"a, (b)"', "buf.toString()"] },
	];
	t.same(fixtureCalls(), expected, "in this process");
	const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
	for (const [label, cmd, args] of [
		["tsx", tsx, [FIXTURE]],
		["node --import=tsx", process.execPath, ["--import=tsx", FIXTURE]],
	] as const) {
		const r = spawnSync(cmd, args, { encoding: "utf8" });
		t.equal(r.status, 0, `${label} ran: ${r.stderr}`);
		t.same(JSON.parse(r.stdout), expected, label);
	}
});
