/**
 * kselftest_harness.h's `_metadata` and what reads and writes it inside a
 * test: TH_LOG, SKIP, ASSERT_* / EXPECT_* (the __EXPECT and __EXPECT_STR
 * macros with OPTIONAL_HANDLER) and __bail.
 *
 * `_metadata` is C's `struct __test_metadata *`: its mutable fields
 * (exit_code, trigger, no_teardown, results) live in user memory, in a
 * MAP_SHARED mapping for TEST_F tests and in the harness's private memory
 * for TEST tests, exactly where C keeps them, so a verdict reaches the
 * harness only through memory C would share and through exit statuses.
 * C passes the pointer as a parameter; here each test process records it
 * (with `self` and `variant`) when the harness starts the test, and a
 * process the test forks inherits it, as a copy of C's stack would.
 *
 * Failure lines are C's: `# <file>:<line>:<test>:Expected <expr> (<val>)
 * <op> <expr> (<val>)`, with the TS file's basename and line and the
 * argument source text (callsite.ts). A number prints as `%jd`, a bigint
 * as unsigned `%ju`, a boolean as 0 or 1, NULL/null as 0.
 *
 * An ASSERT failure runs the teardown and aborts (SIGABRT), as __bail does.
 * When the teardown is async it cannot finish inside the synchronous
 * ASSERT; then the ASSERT throws AssertAbort, and the harness frame that
 * called the test body awaits the teardown and aborts.
 */
import { current } from "../kernel/current.ts";
import type { Process } from "../kernel/process.ts";
import { abort, errno, fprintf, peek, poke, stderr, vformat, type FILE, type FormatArg } from "../libc/mod.ts";
import { callerSite, macroArgs, type SourceSite } from "./callsite.ts";
import { KSFT_FAIL, KSFT_SKIP, compare, expectMessage, expectStrMessage, type Op, type Scalar } from "./format.ts";
import type { FixtureMeta, Program, TestMeta } from "./harness-registry.ts";

/** sizeof(struct __test_results): `char reason[1024]`. */
export const RESULTS_SIZE = 1024;

// The layout of the mutable part of struct __test_metadata in user memory.
const OFF_EXIT_CODE = 0;
const OFF_TRIGGER = 4;
const OFF_ABORTED = 8;
const OFF_PID = 12;
const OFF_NO_TEARDOWN = 16;
const OFF_RESULTS = 24;
/** Bytes of user memory one test's metadata takes. */
export const METADATA_SIZE = 32;

function getI32(addr: number): number {
	const b = peek(addr, 4);
	return new DataView(b.buffer, b.byteOffset).getInt32(0, true);
}
function setI32(addr: number, v: number): void {
	const b = new Uint8Array(4);
	new DataView(b.buffer).setInt32(0, v, true);
	poke(addr, b);
}
function getPtr(addr: number): number {
	const b = peek(addr, 8);
	return Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
}
function setPtr(addr: number, v: number): void {
	const b = new Uint8Array(8);
	new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
	poke(addr, b);
}

/** `struct __test_metadata *`: the registered test plus its fields at `addr` in user memory. */
export class TestMetadata {
	constructor(readonly test: TestMeta, readonly addr: number) {}

	get name(): string {
		return this.test.name;
	}
	get exit_code(): number {
		return getI32(this.addr + OFF_EXIT_CODE);
	}
	set exit_code(v: number) {
		setI32(this.addr + OFF_EXIT_CODE, v);
	}
	get trigger(): number {
		return getI32(this.addr + OFF_TRIGGER);
	}
	set trigger(v: number) {
		setI32(this.addr + OFF_TRIGGER, v);
	}
	get aborted(): boolean {
		return getI32(this.addr + OFF_ABORTED) !== 0;
	}
	set aborted(v: boolean) {
		setI32(this.addr + OFF_ABORTED, v ? 1 : 0);
	}
	get pid(): number {
		return getI32(this.addr + OFF_PID);
	}
	set pid(v: number) {
		setI32(this.addr + OFF_PID, v);
	}
	/** `bool *no_teardown` (0: NULL). */
	get no_teardown(): number {
		return getPtr(this.addr + OFF_NO_TEARDOWN);
	}
	set no_teardown(v: number) {
		setPtr(this.addr + OFF_NO_TEARDOWN, v);
	}
	/** `struct __test_results *results` (0: NULL). */
	get results(): number {
		return getPtr(this.addr + OFF_RESULTS);
	}
	set results(v: number) {
		setPtr(this.addr + OFF_RESULTS, v);
	}

	/** `results->reason` as a C string. */
	get reason(): string {
		const b = peek(this.results, RESULTS_SIZE);
		const end = b.indexOf(0);
		return new TextDecoder().decode(b.subarray(0, end < 0 ? b.length : end));
	}
	/** snprintf(results->reason, sizeof(reason), "%s", text). */
	set reason(text: string) {
		const out = new Uint8Array(RESULTS_SIZE);
		out.set(new TextEncoder().encode(text).subarray(0, RESULTS_SIZE - 1));
		poke(this.results, out);
	}
}

/** What `_metadata`, `self` and `variant` are in a test process. */
export interface TestContext {
	readonly meta: TestMetadata;
	readonly self: object | null;
	readonly variant: unknown;
}

const contexts = new WeakMap<Process, TestContext>();

/** Records what the calling process's test is (the harness calls it when it starts a test process). */
export function setTestContext(ctx: TestContext): void {
	contexts.set(current(), ctx);
}

/**
 * The calling process's test: its own, or the one of the nearest ancestor
 * (a process forked inside a test has `_metadata` too, as in C). An error
 * outside any test: C would not compile.
 */
export function testContext(macro: string): TestContext {
	for (let p: Process | null = current(); p; p = p.parent) {
		const ctx = contexts.get(p);
		if (ctx) return ctx;
	}
	throw new Error(`${macro}() used outside a harness test`);
}

function logStream(program: Program): FILE {
	return program.thLogStream ?? stderr;
}

/** __TH_LOG: `# file:line:test:` + message, on TH_LOG_STREAM, in one write. */
function thLog(ctx: TestContext, site: SourceSite, text: string): void {
	fprintf(logStream(ctx.meta.test.fixture.program), "# %s:%d:%s:%s\n", site.file, site.line, ctx.meta.name, text);
}

/** TH_LOG(fmt, ...): a log line from a test, with its file and line (dropped when TH_LOG_ENABLED is 0). */
export function TH_LOG(fmt: string, ...args: FormatArg[]): void {
	const ctx = testContext("TH_LOG");
	if (!ctx.meta.test.fixture.program.thLogEnabled) return;
	thLog(ctx, callerSite(1), vformat(fmt, args, { errno }));
}

/**
 * SKIP(statement, fmt, ...): stores the reason, prints `#      SKIP      <reason>`,
 * marks the test KSFT_SKIP and clears the handler trigger. C then runs
 * `statement`; in TS write it after the call: `return SKIP("why");` for
 * C's `SKIP(return, "why");`.
 */
export function SKIP(fmt: string, ...args: FormatArg[]): void {
	const ctx = testContext("SKIP");
	ctx.meta.reason = vformat(fmt, args, { errno });
	const program = ctx.meta.test.fixture.program;
	if (program.thLogEnabled) fprintf(logStream(program), "#      SKIP      %s\n", ctx.meta.reason);
	ctx.meta.exit_code = KSFT_SKIP;
	ctx.meta.trigger = 0;
}

/** Thrown by an ASSERT whose teardown is async; the harness awaits `pending` and aborts. */
export class AssertAbort {
	constructor(readonly pending: Promise<void>) {}
}

/** Thrown when a SKIP inside a failure handler leaves the test, as C's `SKIP(return, …)` there does. */
export class TestReturn {}

/** __atomic_test_and_set on the shared `bool *no_teardown`: its old value, and it is now true. */
function testAndSet(addr: number): boolean {
	const old = peek(addr, 1)[0] !== 0;
	poke(addr, Uint8Array.of(1));
	return old;
}

/**
 * The TEST_F wrapper's teardown function (`wrapper_<f>_<t>_teardown`): runs
 * the fixture's teardown once, in the process its kind says (the test
 * process, or the wrapper for FIXTURE_TEARDOWN_PARENT).
 */
export function fixtureTeardown(f: FixtureMeta, inParent: boolean, meta: TestMetadata, self: object | null, variant: unknown): void | Promise<void> {
	if (f.teardownParent === inParent && f.teardown && !testAndSet(meta.no_teardown)) return f.teardown(self ?? {}, variant);
}

/** __bail: for an ASSERT, the teardown (TEST_F only) and abort(); for an EXPECT, nothing. */
function bail(forRealz: boolean, ctx: TestContext): number {
	if (!forRealz) return 0;
	const pending = fixtureTeardown(ctx.meta.test.fixture, false, ctx.meta, ctx.self, ctx.variant);
	if (pending instanceof Promise) throw new AssertAbort(pending);
	return abort();
}

/** An optional failure handler: C's block or TH_LOG after the macro. */
export type Handler = () => void;

/** OPTIONAL_HANDLER(_assert): `for (; trigger; trigger = __bail(_assert, _metadata)) handler;` */
function optionalHandler(ctx: TestContext, isAssert: boolean, handler: Handler | undefined): void {
	while (ctx.meta.trigger) {
		if (handler) {
			handler();
			if (!ctx.meta.trigger) throw new TestReturn();
		}
		ctx.meta.trigger = bail(isAssert, ctx);
	}
}

/** The source text of argument `i` of the `macro` call at `site`, or `fallback`. */
function argText(site: SourceSite, macro: string, i: number, fallback: Scalar): string {
	const args = site.path ? macroArgs(site.path, site.line, site.column, macro) : [];
	return args[i] ?? String(fallback);
}

/**
 * __EXPECT: compares, logs a failure (with the call site of the macro, two
 * frames up) and marks the test failed, then runs the optional handler.
 */
export function __EXPECT(macro: string, expected: Scalar, seen: Scalar, op: Op, isAssert: boolean, handler: Handler | undefined, literal: "0" | "NULL" | null): void {
	const ctx = testContext(macro);
	if (!compare(expected, op, seen)) {
		const site = callerSite(2);
		const eText = literal ?? argText(site, macro, 0, expected);
		const sText = argText(site, macro, literal === null ? 1 : 0, seen);
		thLog(ctx, site, expectMessage(eText, expected, op, sText, seen, literal === "NULL"));
		ctx.meta.exit_code = KSFT_FAIL;
		ctx.meta.trigger = 1;
	}
	optionalHandler(ctx, isAssert, handler);
}

/** __EXPECT_STR: strcmp(expected, seen) <op> 0. */
export function __EXPECT_STR(macro: string, expected: string, seen: string, op: "==" | "!=", isAssert: boolean, handler: Handler | undefined): void {
	const ctx = testContext(macro);
	if ((expected === seen) !== (op === "==")) {
		thLog(ctx, callerSite(2), expectStrMessage(expected, op, seen));
		ctx.meta.exit_code = KSFT_FAIL;
		ctx.meta.trigger = 1;
	}
	optionalHandler(ctx, isAssert, handler);
}

/**
 * Runs a setup, test or teardown body in the harness: a TestReturn is a
 * return; an AssertAbort finishes its teardown and aborts. Everything else
 * (exit()'s unwinding included) passes through.
 */
export async function runBody(fn: () => void | Promise<void>): Promise<void> {
	try {
		await fn();
	} catch (e) {
		if (e instanceof TestReturn) return;
		if (!(e instanceof AssertAbort)) throw e;
		try {
			await e.pending;
		} catch (inner) {
			if (!(inner instanceof TestReturn)) throw inner;
		}
		abort();
	}
}
