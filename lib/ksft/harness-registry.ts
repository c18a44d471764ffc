/**
 * What kselftest_harness.h's constructors build before main(): the fixture
 * list (`__fixture_list`, with `global` first), each fixture's tests and
 * variants, and each variant's expected failures; plus `-l`'s listing.
 *
 * A C program is one binary with one list. In TS every program's modules
 * share one Node process, so the lists are kept per program *file*: each
 * FIXTURE/TEST… call registers into the list of the source file it is
 * written in, and test_harness_run() runs the list of the file that calls
 * it (or that called TEST_HARNESS_MAIN()). Declaration order is
 * registration order, as C's constructors give.
 */
import type { FILE } from "../libc/mod.ts";

/** A fixture, setup, teardown or test body: C's function with `self` and `variant`. */
export type Body = (self: object, variant: unknown) => void | Promise<void>;

/** `struct __fixture_metadata` plus the FIXTURE_SETUP/TEARDOWN functions it names. */
export interface FixtureMeta {
	readonly name: string;
	readonly program: Program;
	/** A zeroed FIXTURE_DATA: the fresh `self` of one test. */
	readonly init: () => object;
	setup: Body | null;
	teardown: Body | null;
	/** FIXTURE_TEARDOWN_PARENT: the teardown runs in the wrapper, `self` shared. */
	teardownParent: boolean;
	readonly tests: TestMeta[];
	readonly variants: VariantMeta[];
}

/** `struct __fixture_variant_metadata`. */
export interface VariantMeta {
	/** "" for the implicit variant of a fixture without FIXTURE_VARIANT_ADD. */
	readonly name: string;
	/** What the tests get as `variant` (C: `variant->data`; NULL for the implicit one). */
	readonly data: unknown;
	/** XFAIL_ADD: names of this variant's tests expected to fail. */
	readonly xfails: string[];
}

/** The static part of `struct __test_metadata` (the rest lives in user memory while a test runs). */
export interface TestMeta {
	readonly name: string;
	readonly fixture: FixtureMeta;
	readonly body: Body;
	/** TEST_SIGNAL / TEST_F_SIGNAL: the signal that passes; -1 for none. */
	readonly termsig: number;
	/** Seconds (TEST_TIMEOUT_DEFAULT or TEST_F_TIMEOUT's). */
	readonly timeout: number;
}

/** One program file's harness state. */
export interface Program {
	readonly path: string;
	/** `__fixture_list`: `global` first, then FIXTURE() order. */
	readonly fixtures: FixtureMeta[];
	/** `#define TH_LOG_STREAM` (stderr when null). */
	thLogStream: FILE | null;
	/** `#define TH_LOG_ENABLED`. */
	thLogEnabled: boolean;
}

/** TEST_TIMEOUT_DEFAULT, in seconds. */
export const TEST_TIMEOUT_DEFAULT = 30;

const programs = new Map<string, Program>();

/** The harness state of the program file at `path` (created empty, with its `global` fixture). */
export function programAt(path: string): Program {
	let p = programs.get(path);
	if (!p) {
		const fixtures: FixtureMeta[] = [];
		p = { path, fixtures, thLogStream: null, thLogEnabled: true };
		fixtures.push(newFixture(p, "global", () => ({})));
		programs.set(path, p);
	}
	return p;
}

function newFixture(program: Program, name: string, init: () => object): FixtureMeta {
	return { name, program, init, setup: null, teardown: null, teardownParent: false, tests: [], variants: [] };
}

/** FIXTURE(name): appends a fixture; a second one of the same name is an error, as in C. */
export function registerFixture(program: Program, name: string, init: () => object): FixtureMeta {
	if (findFixture(program, name)) throw new Error(`FIXTURE(${name}) declared twice`);
	const f = newFixture(program, name, init);
	program.fixtures.push(f);
	return f;
}

/** The fixture called `name`, or undefined. */
export function findFixture(program: Program, name: string): FixtureMeta | undefined {
	return program.fixtures.find((f) => f.name === name);
}

/** The fixture called `name`; an error (C: an undeclared identifier) if there is none. */
export function fixtureNamed(program: Program, name: string, macro: string): FixtureMeta {
	const f = findFixture(program, name);
	if (!f) throw new Error(`${macro}(${name}): no FIXTURE(${name}) before it in ${program.path}`);
	return f;
}

/** TEST/TEST_F…: appends a test to its fixture. */
export function registerTest(fixture: FixtureMeta, name: string, body: Body, termsig: number, timeout: number): TestMeta {
	if (fixture.tests.some((t) => t.name === name)) throw new Error(`test ${fixture.name}.${name} defined twice`);
	const t: TestMeta = { name, fixture, body, termsig, timeout };
	fixture.tests.push(t);
	return t;
}

/** FIXTURE_VARIANT_ADD(fixture, name). */
export function registerVariant(fixture: FixtureMeta, name: string, data: unknown): VariantMeta {
	if (fixture.variants.some((v) => v.name === name)) throw new Error(`FIXTURE_VARIANT_ADD(${fixture.name}, ${name}) declared twice`);
	const v: VariantMeta = { name, data, xfails: [] };
	fixture.variants.push(v);
	return v;
}

/** XFAIL_ADD(fixture, variant, test): the variant must exist already, as in C. */
export function registerXfail(fixture: FixtureMeta, variant: string, test: string): void {
	const v = fixture.variants.find((x) => x.name === variant);
	if (!v) throw new Error(`XFAIL_ADD(${fixture.name}, ${variant}, ${test}): no such variant`);
	v.xfails.push(test);
}

/** The variant test_harness_run uses for a fixture without FIXTURE_VARIANT_ADD (`no_variant`). */
export const NO_VARIANT: VariantMeta = { name: "", data: null, xfails: [] };

/** A fixture's variants as the run loop walks them (`f->variant ?: &no_variant`). */
export function variantsOf(f: FixtureMeta): readonly VariantMeta[] {
	return f.variants.length > 0 ? f.variants : [NO_VARIANT];
}

/** The id a test is reported under: `fixture[.variant].test`. */
export function testId(f: FixtureMeta, v: VariantMeta, t: TestMeta): string {
	return `${f.name}${v.name ? "." : ""}${v.name}.${t.name}`;
}

/**
 * test_harness_list_tests(): the text `-l` writes to stderr. Each fixture
 * lists its tests and its variants side by side, row by row; fixtures after
 * the first are separated by a line of 80 dashes.
 */
export function formatTestList(program: Program): string {
	const row = (a: string, b: string, c: string): string => `${a.padEnd(20)} ${b.padEnd(25)} ${c}\n`;
	let out = "";
	program.fixtures.forEach((f, i) => {
		out += i === 0 ? row("# FIXTURE", "VARIANT", "TEST") : `${"-".repeat(80)}\n`;
		let vi = 0;
		let ti = 0;
		do {
			const v = f.variants[vi];
			const t = f.tests[ti];
			out += row(ti === 0 ? f.name : "", v ? v.name : "", t ? t.name : "");
			if (v) vi++;
			if (t) ti++;
		} while (vi < f.variants.length || ti < f.tests.length);
	});
	return out;
}
