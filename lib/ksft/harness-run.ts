/**
 * test_harness_run() of kselftest_harness.h: option parsing, filters, the
 * per-test fork (and, for TEST_F, the wrapper's second fork), waiting with
 * the timeout, and the KTAP lines. Follows the upstream text of 2025
 * (digest-selftests.md §7.3-7.5).
 *
 * Processes, as in C: the harness forks a child per test, in a process
 * group of its own; a TEST body runs there; a TEST_F child is the wrapper,
 * which forks a grandchild for setup, body and teardown (the wrapper runs
 * FIXTURE_TEARDOWN_PARENT). Verdicts come back through exit statuses and
 * the shared metadata (harness-assert.ts).
 *
 * The timeout: upstream waits on a pidfd with poll(); luosim has no pidfds
 * yet, so a watchdog child of the harness sleeps out the timeout on the
 * virtual clock and then SIGKILLs the test's process group, and the harness
 * waits for the test child. The lines printed are C's.
 */
import {
	errno, fflush, fork, fprintf, getopt, getpid, kill, mmap, munmap, calloc, optarg, poke, set_optind, setpgid,
	sleep, stderr, stdout, waitpid, _exit, MAP_ANONYMOUS, MAP_FAILED, MAP_SHARED, PROT_READ, PROT_WRITE, EINTR,
	SIGABRT, SIGKILL, WEXITSTATUS, WIFEXITED, WIFSIGNALED, WNOHANG, WTERMSIG, type FILE,
} from "../libc/mod.ts";
import {
	KSFT_FAIL, KSFT_PASS, KSFT_SKIP, KSFT_XFAIL, KSFT_XPASS,
	ksft_exit, ksft_print_header, ksft_print_msg, ksft_set_plan, ksft_test_result_code,
} from "./kselftest.ts";
import { formatTestList, testId, variantsOf, type FixtureMeta, type Program, type TestMeta, type VariantMeta } from "./harness-registry.ts";
import { METADATA_SIZE, RESULTS_SIZE, TestMetadata, fixtureTeardown, runBody, setTestContext } from "./harness-assert.ts";

const USAGE =
	"Usage: %s [-h|-l] [-t|-T|-v|-V|-f|-F|-r name]\n" +
	"\t-h       print help\n" +
	"\t-l       list all tests\n" +
	"\n" +
	"\t-t name  include test\n" +
	"\t-T name  exclude test\n" +
	"\t-v name  include variant\n" +
	"\t-V name  exclude variant\n" +
	"\t-f name  include fixture\n" +
	"\t-F name  exclude fixture\n" +
	"\t-r name  run specified test\n" +
	"\n" +
	"Test filter options can be specified multiple times. The filtering stops\n" +
	"at the first match. For example to include all tests from variant 'bla'\n" +
	"but not test 'foo' specify '-T foo -v bla'.\n";

/** __test_passed(): every code but FAIL up to SKIP counts as passed. */
function testPassed(code: number): boolean {
	return code !== KSFT_FAIL && code <= KSFT_SKIP;
}

function logStream(program: Program): FILE {
	return program.thLogStream ?? stderr;
}

/** What C would refuse to compile: a TEST_F fixture without FIXTURE_SETUP or a teardown. */
function checkDefinitions(program: Program): void {
	for (const f of program.fixtures) {
		if (f.name === "global" || f.tests.length === 0) continue;
		if (!f.setup) throw new Error(`FIXTURE_SETUP(${f.name}) is missing`);
		if (!f.teardown) throw new Error(`FIXTURE_TEARDOWN(${f.name}) is missing`);
	}
}

/** test_harness_argv_check(): -l lists, -h or a bad option prints the usage. */
function argvCheck(program: Program, argc: number, argv: string[]): number {
	let opt: number;
	while ((opt = getopt(argc, argv, "hlF:f:V:v:t:T:r:")) !== -1) {
		const c = String.fromCharCode(opt);
		if ("fFvVtTr".includes(c)) continue;
		if (c === "l") {
			for (const line of formatTestList(program).split(/(?<=\n)/)) fprintf(stderr, "%s", line);
			return KSFT_SKIP;
		}
		fprintf(stderr, USAGE, argv[0] ?? "");
		return c === "h" ? KSFT_SKIP : KSFT_FAIL;
	}
	return KSFT_PASS;
}

/** test_enabled(): the first matching filter decides; with no positive filter, whatever is not excluded runs. */
function testEnabled(argc: number, argv: string[], f: FixtureMeta, v: VariantMeta, t: TestMeta): boolean {
	let hasPositive = false;
	let opt: number;
	set_optind(1);
	while ((opt = getopt(argc, argv, "F:f:V:v:t:T:r:")) !== -1) {
		const c = String.fromCharCode(opt);
		const lower = c >= "a" && c <= "z";
		hasPositive ||= lower;
		const arg = optarg ?? "";
		switch (c.toLowerCase()) {
			case "t":
				if (t.name === arg) return lower;
				break;
			case "f":
				if (f.name === arg) return lower;
				break;
			case "v":
				if (v.name === arg) return lower;
				break;
			case "r": {
				// C compares the three names at their offsets and the total length, not the dots.
				const fl = f.name.length;
				const vl = v.name.length;
				const tOff = fl + 1 + vl + (vl ? 1 : 0);
				if (arg.length === tOff + t.name.length && arg.startsWith(f.name) && arg.substr(fl + 1, vl) === v.name && arg.substr(tOff) === t.name) return true;
				break;
			}
		}
	}
	return !hasPositive;
}

/** mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0); C would crash on failure. */
function mapShared(len: number): number {
	const addr = mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (addr === MAP_FAILED) throw new Error(`luosim: the harness could not map ${len} shared bytes (errno ${errno})`);
	return addr;
}

/**
 * The constructors' metadata objects: MAP_SHARED for a TEST_F test (so the
 * grandchild's verdict reaches the wrapper), private static memory for a
 * TEST (the child's writes stay in the child).
 */
function allocMetadata(t: TestMeta): TestMetadata {
	if (t.fixture.name !== "global") return new TestMetadata(t, mapShared(METADATA_SIZE));
	const addr = calloc(1, METADATA_SIZE);
	if (addr === 0) throw new Error("luosim: the harness could not allocate test metadata");
	return new TestMetadata(t, addr);
}

/** The TEST_F wrapper (`wrapper_<f>_<t>`), run in the test child. */
async function testFWrapper(t: TestMetadata, v: VariantMeta): Promise<void> {
	const f = t.test.fixture;
	const status = new Int32Array(1);
	// Makes sure there is only one teardown, even when the grandchild forks again.
	t.no_teardown = mapShared(1);
	poke(t.no_teardown, Uint8Array.of(1));
	// FIXTURE_TEARDOWN_PARENT shares `self` with the wrapper (C: a MAP_SHARED self).
	const shared = f.teardownParent ? f.init() : null;
	setTestContext({ meta: t, self: shared, variant: v.data });
	const child = fork(async () => {
		// Otherwise `self` is the grandchild's own zeroed copy.
		const self = shared ?? f.init();
		setTestContext({ meta: t, self, variant: v.data });
		await runBody(() => f.setup!(self, v.data));
		// Let setup failure terminate early.
		if (t.exit_code) return _exit(0);
		poke(t.no_teardown, Uint8Array.of(0));
		await runBody(() => t.test.body(self, v.data));
		await runBody(() => fixtureTeardown(f, false, t, self, v.data));
		return _exit(0);
	});
	if (child < 0 || child !== (await waitpid(child, status, 0))) {
		ksft_print_msg("ERROR SPAWNING TEST GRANDCHILD\n");
		t.exit_code = KSFT_FAIL;
	}
	await runBody(() => fixtureTeardown(f, true, t, shared, v.data));
	munmap(t.no_teardown, 1);
	t.no_teardown = 0;
	const st = status[0]!;
	if (WIFEXITED(st)) {
		if (WEXITSTATUS(st)) t.exit_code = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		// Forward the signal to __wait_for_test().
		kill(getpid(), WTERMSIG(st));
	}
}

/** __wait_for_test(): the verdict from the child's end, or a timeout. */
async function waitForTest(t: TestMetadata, stream: FILE): Promise<void> {
	// WIFEXITED with KSFT_FAIL: a safe default that the checks below always replace.
	const status = Int32Array.of(KSFT_FAIL << 8);
	const pid = t.pid;
	const timeout = t.test.timeout;
	const watchdog = fork(async () => {
		await sleep(timeout);
		// Signal the test's process group.
		kill(-pid, SIGKILL);
		return 0;
	});
	if (watchdog === -1) {
		t.exit_code = KSFT_FAIL;
		fprintf(stream, "# %s: unable to start the timeout watchdog\n", t.name);
		return;
	}
	const child = await waitpid(pid, status, 0);
	const err = errno;
	let timedOut = false;
	if ((await waitpid(watchdog, null, WNOHANG)) === watchdog) timedOut = true;
	else {
		kill(watchdog, SIGKILL);
		await waitpid(watchdog, null, 0);
	}
	if (child === -1 && err !== EINTR) {
		t.exit_code = KSFT_FAIL;
		fprintf(stream, "# %s: Failed to wait for PID %d (errno: %d)\n", t.name, pid, err);
		return;
	}
	const st = status[0]!;
	if (timedOut) {
		t.exit_code = KSFT_FAIL;
		fprintf(stream, "# %s: Test terminated by timeout\n", t.name);
	} else if (WIFEXITED(st)) {
		const code = WEXITSTATUS(st);
		if (code === KSFT_SKIP || code === KSFT_XPASS || code === KSFT_XFAIL) t.exit_code = code;
		else if (t.test.termsig !== -1) {
			t.exit_code = KSFT_FAIL;
			fprintf(stream, "# %s: Test exited normally instead of by signal (code: %d)\n", t.name, code);
		} else if (code === KSFT_PASS) t.exit_code = KSFT_PASS;
		else {
			t.exit_code = KSFT_FAIL;
			fprintf(stream, "# %s: Test failed\n", t.name);
		}
	} else if (WIFSIGNALED(st)) {
		t.exit_code = KSFT_FAIL;
		if (WTERMSIG(st) === SIGABRT) fprintf(stream, "# %s: Test terminated by assertion\n", t.name);
		else if (WTERMSIG(st) === t.test.termsig) t.exit_code = KSFT_PASS;
		else fprintf(stream, "# %s: Test terminated unexpectedly by signal %d\n", t.name, WTERMSIG(st));
	} else {
		t.exit_code = KSFT_FAIL;
		fprintf(stream, "# %s: Test ended in some other way [%u]\n", t.name, st);
	}
}

/** __run_test(): one test in its own child, then its two result lines. */
async function runTest(f: FixtureMeta, v: VariantMeta, t: TestMetadata): Promise<void> {
	t.exit_code = KSFT_PASS;
	t.trigger = 0;
	t.aborted = false;
	t.no_teardown = 0;
	t.reason = "";
	const name = testId(f, v, t.test);
	ksft_print_msg(" RUN           %s ...\n", name);
	fflush(stdout);
	fflush(stderr);
	const child = fork(async () => {
		setpgid(0, 0);
		setTestContext({ meta: t, self: null, variant: v.data });
		if (f.name === "global") await runBody(() => t.test.body({}, v.data));
		else await testFWrapper(t, v);
		return _exit(t.exit_code);
	});
	if (child < 0) {
		ksft_print_msg("ERROR SPAWNING TEST CHILD\n");
		t.exit_code = KSFT_FAIL;
	} else {
		t.pid = child;
		await waitForTest(t, logStream(f.program));
	}
	ksft_print_msg("         %4s  %s\n", testPassed(t.exit_code) ? "OK" : "FAIL", name);
	// Check if we're expecting this test to fail.
	if (v.xfails.includes(t.name)) t.exit_code = testPassed(t.exit_code) ? KSFT_XPASS : KSFT_XFAIL;
	const reason = t.reason;
	const diagnostic = reason ? reason : t.exit_code === KSFT_PASS || t.exit_code === KSFT_FAIL ? null : "unknown";
	if (diagnostic === null) ksft_test_result_code(t.exit_code, name, null);
	else ksft_test_result_code(t.exit_code, name, "%s", diagnostic);
}

/** test_harness_run(argc, argv) for `program`: runs its tests and exits (returns only for -h, -l or a bad option). */
export async function harnessRun(program: Program, argc: number, argv: string[]): Promise<number> {
	checkDefinitions(program);
	let ret = argvCheck(program, argc, argv);
	if (ret !== KSFT_PASS) return ret;
	let caseCount = 0;
	let testCount = 0;
	for (const f of program.fixtures) {
		for (const v of variantsOf(f)) {
			const old = testCount;
			for (const t of f.tests) if (testEnabled(argc, argv, f, v, t)) testCount++;
			if (old !== testCount) caseCount++;
		}
	}
	const metas = new Map<TestMeta, TestMetadata>();
	for (const f of program.fixtures) for (const t of f.tests) metas.set(t, allocMetadata(t));
	const results = mapShared(RESULTS_SIZE);
	ksft_print_header();
	ksft_set_plan(testCount);
	ksft_print_msg("Starting %u tests from %u test cases.\n", testCount, caseCount);
	let count = 0;
	let passCount = 0;
	for (const f of program.fixtures) {
		for (const v of variantsOf(f)) {
			for (const test of f.tests) {
				if (!testEnabled(argc, argv, f, v, test)) continue;
				count++;
				const t = metas.get(test)!;
				t.results = results;
				await runTest(f, v, t);
				t.results = 0;
				if (testPassed(t.exit_code)) passCount++;
				else ret = 1;
			}
		}
	}
	munmap(results, RESULTS_SIZE);
	ksft_print_msg("%s: %u / %u tests passed.\n", ret ? "FAILED" : "PASSED", passCount, count);
	return ksft_exit(ret === 0);
}
