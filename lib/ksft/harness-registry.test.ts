import t from "tap";
import {
	NO_VARIANT, findFixture, fixtureNamed, formatTestList, programAt, registerFixture, registerTest, registerVariant,
	registerXfail, testId, variantsOf, TEST_TIMEOUT_DEFAULT, type Program,
} from "./harness-registry.ts";

let n = 0;
/** A fresh program (a made-up file path per test). */
function program(): Program {
	return programAt(`/nowhere/prog-${n++}.ts`);
}
const body = (): void => {};

t.test("a program starts with the fixture `global` and keeps declaration order", async (t) => {
	const p = program();
	t.same(p.fixtures.map((f) => f.name), ["global"]);
	const a = registerFixture(p, "b_fixture", () => ({ x: 0 }));
	registerFixture(p, "a_fixture", () => ({}));
	registerTest(p.fixtures[0]!, "zeta", body, -1, TEST_TIMEOUT_DEFAULT);
	registerTest(a, "second", body, -1, 30);
	registerTest(a, "first", body, 10, 5);
	registerTest(p.fixtures[0]!, "alpha", body, -1, 30);
	t.same(p.fixtures.map((f) => f.name), ["global", "b_fixture", "a_fixture"]);
	t.same(p.fixtures[0]!.tests.map((x) => x.name), ["zeta", "alpha"]);
	t.same(a.tests.map((x) => [x.name, x.termsig, x.timeout]), [["second", -1, 30], ["first", 10, 5]]);
	t.equal(programAt(p.path), p, "the same file gives the same program");
	t.not(program(), p, "another file has its own lists");
});

t.test("duplicates and unknown names are errors, as they would not compile in C", async (t) => {
	const p = program();
	const f = registerFixture(p, "f", () => ({}));
	t.throws(() => registerFixture(p, "f", () => ({})), /declared twice/);
	registerTest(f, "x", body, -1, 30);
	t.throws(() => registerTest(f, "x", body, -1, 30), /defined twice/);
	registerVariant(f, "v", { a: 1 });
	t.throws(() => registerVariant(f, "v", {}), /declared twice/);
	t.throws(() => registerXfail(f, "nope", "x"), /no such variant/);
	t.throws(() => fixtureNamed(p, "missing", "TEST_F"), /TEST_F\(missing\): no FIXTURE\(missing\)/);
	t.equal(findFixture(p, "missing"), undefined);
});

t.test("variants: the implicit one has no name and NULL data; ids carry the variant", async (t) => {
	const p = program();
	const f = registerFixture(p, "f", () => ({}));
	const test = registerTest(f, "positive", body, -1, 30);
	t.same(variantsOf(f), [NO_VARIANT]);
	t.equal(testId(f, NO_VARIANT, test), "f.positive");
	const small = registerVariant(f, "small", { size: 1 });
	registerVariant(f, "big", { size: 2 });
	registerXfail(f, "big", "positive");
	t.same(variantsOf(f).map((v) => v.name), ["small", "big"]);
	t.equal(testId(f, small, test), "f.small.positive");
	t.same(variantsOf(f)[1]!.xfails, ["positive"]);
	t.same(small.data, { size: 1 });
});

t.test("-l listing: columns of 20 and 25, tests and variants side by side, dashes between fixtures", async (t) => {
	const p = program();
	registerTest(p.fixtures[0]!, "standalone", body, -1, 30);
	const f = registerFixture(p, "liveupdate_device", () => ({}));
	registerTest(f, "basic_open_close", body, -1, 30);
	registerTest(f, "exclusive_open", body, -1, 30);
	const g = registerFixture(p, "f", () => ({}));
	registerVariant(g, "small", {});
	registerVariant(g, "big", {});
	registerVariant(g, "huge", {});
	registerTest(g, "positive", body, -1, 30);
	registerFixture(p, "empty", () => ({}));
	const dashes = "-".repeat(80);
	t.equal(formatTestList(p), [
		"# FIXTURE            VARIANT                   TEST",
		"global                                         standalone",
		dashes,
		"liveupdate_device                              basic_open_close",
		"                                               exclusive_open",
		dashes,
		"f                    small                     positive",
		"                     big                       ",
		"                     huge                      ",
		dashes,
		"empty                                          ",
		"",
	].join("\n"));
});

t.test("-l listing of a fixture with variants and no tests names it on every row, as C's loop does", async (t) => {
	const p = program();
	const f = registerFixture(p, "v_only", () => ({}));
	registerVariant(f, "a", {});
	registerVariant(f, "b", {});
	t.match(formatTestList(p), /\nv_only {15}a {25}\nv_only {15}b {25}\n$/);
});
