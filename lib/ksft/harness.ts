/**
 * tools/testing/selftests/kselftest_harness.h in TS: the macros a test file
 * uses, with the output of the C harness byte for byte. A mirror reads like
 * its C twin (STYLE.md):
 *
 *     const liveupdate_device = FIXTURE("liveupdate_device", () => ({ fd1: 0, fd2: 0 }));
 *     FIXTURE_SETUP(liveupdate_device, (self) => { ... });
 *     FIXTURE_TEARDOWN(liveupdate_device, (self) => { ... });
 *     TEST_F(liveupdate_device, "basic_open_close", (self) => {
 *         ASSERT_GE(self.fd1, 0);
 *     });
 *     TEST("standalone", () => { ... });
 *     export const main = TEST_HARNESS_MAIN();
 *
 * Where TS differs from the macros:
 * - names are strings; a fixture can also be named by the handle FIXTURE
 *   returns (C's bare identifier), which also types `self` (and `variant`,
 *   FIXTURE's second type argument); with a string, annotate the parameters;
 * - bodies are functions `(self, variant) => …`, possibly async; TEST and
 *   TEST_F return theirs, so a test can call another (`standalone_pass()`
 *   for C's `standalone_pass(_metadata)`); `_metadata` is implicit;
 * - the optional failure handler is a last argument:
 *   `ASSERT_NE(p, NULL, () => TH_LOG("why"))` for `ASSERT_NE(p, NULL) TH_LOG("why");`;
 * - `return SKIP("why");` for `SKIP(return, "why");`;
 * - `#define TH_LOG_STREAM stdout` is `TH_LOG_STREAM(stdout);` and
 *   `#define TH_LOG_ENABLED 0` is `TH_LOG_ENABLED(0);`, for the file they are in;
 * - `TEST_HARNESS_MAIN` is called: `export const main = TEST_HARNESS_MAIN();`.
 *
 * Each program file has its own list of fixtures and tests (harness-registry.ts):
 * the file whose main runs them is the file they are declared in.
 */
import type { FILE } from "../libc/mod.ts";
import { callerSite } from "./callsite.ts";
import {
	TEST_TIMEOUT_DEFAULT, fixtureNamed, programAt, registerFixture, registerTest, registerVariant, registerXfail,
	type Body, type FixtureMeta, type Program,
} from "./harness-registry.ts";
import { __EXPECT, __EXPECT_STR, type Handler } from "./harness-assert.ts";
import type { Scalar } from "./format.ts";
import { harnessRun } from "./harness-run.ts";

export { TH_LOG, SKIP, type Handler } from "./harness-assert.ts";
export type { Scalar } from "./format.ts";
export { TEST_TIMEOUT_DEFAULT } from "./harness-registry.ts";

/** The default type of `self` when a fixture is named by a string. */
export type FixtureData = Record<string, unknown>;

/** A fixture, as FIXTURE() returns it: its name, its file, and the types of `self` and `variant`. */
export interface Fixture<S extends object = FixtureData, V = unknown> {
	readonly name: string;
	/** The program file it belongs to. */
	readonly path: string;
	/** Type carrier only; never set. */
	readonly __types?: { self: S; variant: V };
}

/** A fixture by handle or by name (a name is looked up in the calling file). */
export type FixtureRef<S extends object, V> = Fixture<S, V> | string;

/** A fixture body: setup, teardown or TEST_F test. */
export type FixtureBody<S extends object, V> = (self: S, variant: V) => void | Promise<void>;

/** A TEST body. */
export type TestBody = () => void | Promise<void>;

/** The harness state of the file that called the macro which calls this. */
function callerProgram(): Program {
	return programAt(callerSite(2).path);
}

function fixtureOf<S extends object, V>(ref: FixtureRef<S, V>, macro: string, program: Program): FixtureMeta {
	return typeof ref === "string" ? fixtureNamed(program, ref, macro) : fixtureNamed(programAt(ref.path), ref.name, macro);
}

function asBody<S extends object, V>(fn: FixtureBody<S, V>): Body {
	return fn as unknown as Body;
}

/** FIXTURE(name) { members }: declares a fixture; `init` returns a zeroed `self` (C zeroes it per test). */
export function FIXTURE<S extends object = FixtureData, V = unknown>(name: string, init?: () => S): Fixture<S, V> {
	const program = callerProgram();
	registerFixture(program, name, init ?? ((): object => ({})));
	return { name, path: program.path };
}

/** FIXTURE_SETUP(f): runs in the test process before each test of `f`; an ASSERT or SKIP there ends the test before its body. */
export function FIXTURE_SETUP<S extends object, V>(f: FixtureRef<S, V>, fn: FixtureBody<S, V>): void {
	const meta = fixtureOf(f, "FIXTURE_SETUP", callerProgram());
	if (meta.setup) throw new Error(`FIXTURE_SETUP(${meta.name}) defined twice`);
	meta.setup = asBody(fn);
}

function setTeardown(meta: FixtureMeta, fn: Body, parent: boolean, macro: string): void {
	if (meta.teardown) throw new Error(`${macro}(${meta.name}): the fixture has a teardown already`);
	meta.teardown = fn;
	meta.teardownParent = parent;
}

/** FIXTURE_TEARDOWN(f): runs in the test process after the body, also after a failed ASSERT, if setup succeeded. */
export function FIXTURE_TEARDOWN<S extends object, V>(f: FixtureRef<S, V>, fn: FixtureBody<S, V>): void {
	setTeardown(fixtureOf(f, "FIXTURE_TEARDOWN", callerProgram()), asBody(fn), false, "FIXTURE_TEARDOWN");
}

/** FIXTURE_TEARDOWN_PARENT(f): the teardown runs in the wrapper process, with `self` shared with the test process. */
export function FIXTURE_TEARDOWN_PARENT<S extends object, V>(f: FixtureRef<S, V>, fn: FixtureBody<S, V>): void {
	setTeardown(fixtureOf(f, "FIXTURE_TEARDOWN_PARENT", callerProgram()), asBody(fn), true, "FIXTURE_TEARDOWN_PARENT");
}

/**
 * FIXTURE_VARIANT(f) { members }: in C only a type; here a check that `f`
 * exists. The type of `variant` is FIXTURE's second type argument (or the
 * bodies' annotation).
 */
export function FIXTURE_VARIANT<S extends object, V>(f: FixtureRef<S, V>): void {
	fixtureOf(f, "FIXTURE_VARIANT", callerProgram());
}

/** FIXTURE_VARIANT_ADD(f, name) { .x = … }: every TEST_F of `f` runs once per variant, as `f.name.test`. */
export function FIXTURE_VARIANT_ADD<S extends object, V>(f: FixtureRef<S, V>, name: string, data: V): void {
	registerVariant(fixtureOf(f, "FIXTURE_VARIANT_ADD", callerProgram()), name, data);
}

/** XFAIL_ADD(f, variant, test): that test under that variant is expected to fail (XFAIL, or XPASS if it passes). */
export function XFAIL_ADD<S extends object, V>(f: FixtureRef<S, V>, variant: string, test: string): void {
	registerXfail(fixtureOf(f, "XFAIL_ADD", callerProgram()), variant, test);
}

/** TEST(name): a test of the implicit fixture `global`. Returns `fn`. */
export function TEST(name: string, fn: TestBody): TestBody {
	registerTest(callerProgram().fixtures[0]!, name, () => fn(), -1, TEST_TIMEOUT_DEFAULT);
	return fn;
}

/** TEST_SIGNAL(name, signal): passes only if the test dies by `signal`. Returns `fn`. */
export function TEST_SIGNAL(name: string, signal: number, fn: TestBody): TestBody {
	registerTest(callerProgram().fixtures[0]!, name, () => fn(), signal, TEST_TIMEOUT_DEFAULT);
	return fn;
}

function testF<S extends object, V>(macro: string, f: FixtureRef<S, V>, name: string, signal: number, timeout: number, fn: FixtureBody<S, V>): FixtureBody<S, V> {
	registerTest(fixtureOf(f, macro, programAt(callerSite(2).path)), name, asBody(fn), signal, timeout);
	return fn;
}

/** TEST_F(f, name): a test with fixture `f` (setup, body, teardown in one forked process). Returns `fn`. */
export function TEST_F<S extends object, V>(f: FixtureRef<S, V>, name: string, fn: FixtureBody<S, V>): FixtureBody<S, V> {
	return testF("TEST_F", f, name, -1, TEST_TIMEOUT_DEFAULT, fn);
}

/** TEST_F_SIGNAL(f, name, signal). */
export function TEST_F_SIGNAL<S extends object, V>(f: FixtureRef<S, V>, name: string, signal: number, fn: FixtureBody<S, V>): FixtureBody<S, V> {
	return testF("TEST_F_SIGNAL", f, name, signal, TEST_TIMEOUT_DEFAULT, fn);
}

/** TEST_F_TIMEOUT(f, name, seconds): the test is killed after `timeout` seconds of virtual time. */
export function TEST_F_TIMEOUT<S extends object, V>(f: FixtureRef<S, V>, name: string, timeout: number, fn: FixtureBody<S, V>): FixtureBody<S, V> {
	return testF("TEST_F_TIMEOUT", f, name, -1, timeout, fn);
}

/** `#define TH_LOG_STREAM <stream>` for this file's tests (stderr by default). */
export function TH_LOG_STREAM(stream: FILE): void {
	callerProgram().thLogStream = stream;
}

/** `#define TH_LOG_ENABLED <0|1>` for this file's tests (1 by default). */
export function TH_LOG_ENABLED(enabled: number | boolean): void {
	callerProgram().thLogEnabled = Boolean(enabled);
}

/**
 * test_harness_run(argc, argv): runs the tests of the calling file and
 * exits 0 if none failed, else 1. Resolves (to KSFT_SKIP or KSFT_FAIL)
 * only for -h, -l or a bad option.
 */
export function test_harness_run(argc: number, argv: string[]): Promise<number> {
	return harnessRun(callerProgram(), argc, argv);
}

/** TEST_HARNESS_MAIN: `export const main = TEST_HARNESS_MAIN();` runs the calling file's tests. */
export function TEST_HARNESS_MAIN(...misuse: unknown[]): (argc: number, argv: string[]) => Promise<number> {
	if (misuse.length > 0) throw new Error("TEST_HARNESS_MAIN is called once at top level: export const main = TEST_HARNESS_MAIN();");
	const program = callerProgram();
	return (argc, argv) => harnessRun(program, argc, argv);
}

// The checks. Each is `expected <op> seen`; the failure line carries the
// source text of both arguments. A handler runs only on failure.

/** ASSERT_EQ(expected, seen): expected == seen, else fail and abort the test. */
export function ASSERT_EQ(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("ASSERT_EQ", expected, seen, "==", true, handler, null);
}
/** ASSERT_NE(expected, seen): expected != seen. */
export function ASSERT_NE(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("ASSERT_NE", expected, seen, "!=", true, handler, null);
}
/** ASSERT_LT(expected, seen): expected < seen. */
export function ASSERT_LT(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("ASSERT_LT", expected, seen, "<", true, handler, null);
}
/** ASSERT_LE(expected, seen): expected <= seen. */
export function ASSERT_LE(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("ASSERT_LE", expected, seen, "<=", true, handler, null);
}
/** ASSERT_GT(expected, seen): expected > seen. */
export function ASSERT_GT(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("ASSERT_GT", expected, seen, ">", true, handler, null);
}
/** ASSERT_GE(expected, seen): expected >= seen. */
export function ASSERT_GE(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("ASSERT_GE", expected, seen, ">=", true, handler, null);
}
/** ASSERT_NULL(seen): NULL == seen (0 or null). */
export function ASSERT_NULL(seen: Scalar, handler?: Handler): void {
	__EXPECT("ASSERT_NULL", 0, seen, "==", true, handler, "NULL");
}
/** ASSERT_TRUE(seen): 0 != seen. */
export function ASSERT_TRUE(seen: Scalar, handler?: Handler): void {
	__EXPECT("ASSERT_TRUE", 0, seen, "!=", true, handler, "0");
}
/** ASSERT_FALSE(seen): 0 == seen. */
export function ASSERT_FALSE(seen: Scalar, handler?: Handler): void {
	__EXPECT("ASSERT_FALSE", 0, seen, "==", true, handler, "0");
}
/** ASSERT_STREQ(expected, seen): the strings are equal. */
export function ASSERT_STREQ(expected: string, seen: string, handler?: Handler): void {
	__EXPECT_STR("ASSERT_STREQ", expected, seen, "==", true, handler);
}
/** ASSERT_STRNE(expected, seen): the strings differ. */
export function ASSERT_STRNE(expected: string, seen: string, handler?: Handler): void {
	__EXPECT_STR("ASSERT_STRNE", expected, seen, "!=", true, handler);
}

/** EXPECT_EQ(expected, seen): expected == seen, else fail and continue. */
export function EXPECT_EQ(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("EXPECT_EQ", expected, seen, "==", false, handler, null);
}
/** EXPECT_NE(expected, seen). */
export function EXPECT_NE(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("EXPECT_NE", expected, seen, "!=", false, handler, null);
}
/** EXPECT_LT(expected, seen). */
export function EXPECT_LT(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("EXPECT_LT", expected, seen, "<", false, handler, null);
}
/** EXPECT_LE(expected, seen). */
export function EXPECT_LE(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("EXPECT_LE", expected, seen, "<=", false, handler, null);
}
/** EXPECT_GT(expected, seen). */
export function EXPECT_GT(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("EXPECT_GT", expected, seen, ">", false, handler, null);
}
/** EXPECT_GE(expected, seen). */
export function EXPECT_GE(expected: Scalar, seen: Scalar, handler?: Handler): void {
	__EXPECT("EXPECT_GE", expected, seen, ">=", false, handler, null);
}
/** EXPECT_NULL(seen). */
export function EXPECT_NULL(seen: Scalar, handler?: Handler): void {
	__EXPECT("EXPECT_NULL", 0, seen, "==", false, handler, "NULL");
}
/** EXPECT_TRUE(seen). */
export function EXPECT_TRUE(seen: Scalar, handler?: Handler): void {
	__EXPECT("EXPECT_TRUE", 0, seen, "!=", false, handler, "0");
}
/** EXPECT_FALSE(seen). */
export function EXPECT_FALSE(seen: Scalar, handler?: Handler): void {
	__EXPECT("EXPECT_FALSE", 0, seen, "==", false, handler, "0");
}
/** EXPECT_STREQ(expected, seen). */
export function EXPECT_STREQ(expected: string, seen: string, handler?: Handler): void {
	__EXPECT_STR("EXPECT_STREQ", expected, seen, "==", false, handler);
}
/** EXPECT_STRNE(expected, seen). */
export function EXPECT_STRNE(expected: string, seen: string, handler?: Handler): void {
	__EXPECT_STR("EXPECT_STRNE", expected, seen, "!=", false, handler);
}
