/**
 * The in-kernel LUO test (lib/tests/liveupdate.c, CONFIG_LIVEUPDATE_TEST,
 * luosim's LIVEUPDATE_SELFTESTS switch): three test FLBs,
 * "liveupdate-test-flb-v0".."v2", linked to every file handler that
 * registers. Their preserve() stores TEST_FLB_MAGIC_BASE + index as the
 * data, retrieve() checks it came back (else EINVAL) and makes it the
 * object, finish() checks the object; each logs what ran, so dmesg shows
 * the FLB lifecycle across a kexec. The first registration in a kernel
 * also gets and puts each FLB's incoming object, which retrieves it early
 * (mainline's version of the test, with liveupdate_flb_put_incoming).
 *
 * luo_file.ts calls liveupdate_test_register() at the end of
 * liveupdate_register_file_handler(), as luo_file.c does.
 */
import { Errno, EEXIST, ENODATA, ENOENT, EINVAL, errnoName } from "../../kernel/errno.ts";
import { liveupdate_flb_get_incoming, liveupdate_flb_put_incoming, liveupdate_register_flb, type LiveupdateFlb, type LiveupdateFlbOpArgs, type LiveupdateFlbOps } from "./luo_flb.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import type { LiveupdateFileHandler } from "./luo_file.ts";

/** LIVEUPDATE_TEST_FLB_COMPATIBLE(i) (include/linux/kho/abi/luo.h). */
export function LIVEUPDATE_TEST_FLB_COMPATIBLE(i: number): string {
	return `liveupdate-test-flb-v${i}`;
}

/** TEST_NFLBS: test FLBs registered with every file handler. */
export const TEST_NFLBS = 3;
/** TEST_FLB_MAGIC_BASE: test FLB i preserves this + i. */
export const TEST_FLB_MAGIC_BASE = 0xfeedf00dcafebee0n;

const PR = "liveupdate test: ";

function index(flb: LiveupdateFlb): bigint {
	return BigInt(test_flbs.indexOf(flb));
}

function hex(v: unknown): string {
	return typeof v === "bigint" ? v.toString(16) : String(v);
}

const test_flb_ops: LiveupdateFlbOps = {
	preserve(a: LiveupdateFlbOpArgs): void {
		a.kernel.pr_info(`${PR}${a.flb.compatible}: preserve was triggered`);
		a.data = TEST_FLB_MAGIC_BASE + index(a.flb);
	},
	unpreserve(a: LiveupdateFlbOpArgs): void {
		a.kernel.pr_info(`${PR}${a.flb.compatible}: unpreserve was triggered`);
	},
	retrieve(a: LiveupdateFlbOpArgs): void {
		const expected = TEST_FLB_MAGIC_BASE + index(a.flb);
		if (a.data !== expected) {
			a.kernel.pr_err(`${PR}${a.flb.compatible}: ERROR - incorrect data handle: ${hex(a.data)}, expected ${hex(expected)}`);
			throw new Errno(EINVAL);
		}
		a.kernel.pr_info(`${PR}${a.flb.compatible}: found flb data from the previous boot`);
		a.obj = a.data;
	},
	finish(a: LiveupdateFlbOpArgs): void {
		if (a.obj === TEST_FLB_MAGIC_BASE + index(a.flb)) a.kernel.pr_info(`${PR}${a.flb.compatible}: finish was triggered`);
		else a.kernel.pr_err(`${PR}${a.flb.compatible}: ERROR - finish called with invalid object`);
	},
};

/** test_flbs[]: the three test FLBs (static objects; their state is per kernel, in luo_flb.ts). */
export const test_flbs: readonly LiveupdateFlb[] = Array.from({ length: TEST_NFLBS }, (_, i) => ({
	ops: test_flb_ops,
	compatible: LIVEUPDATE_TEST_FLB_COMPATIBLE(i),
}));

const initialized = new WeakSet<Kernel>();

/** %pe of ERR_PTR(err): the symbolic name. */
function pe(err: number): string {
	return `-${errnoName(err)}`;
}

/** liveupdate_test_init(): once per kernel, gets and puts each test FLB's incoming object. */
function liveupdate_test_init(kernel: Kernel): void {
	if (initialized.has(kernel)) return;
	for (const flb of test_flbs) {
		try {
			liveupdate_flb_get_incoming(kernel, flb);
			liveupdate_flb_put_incoming(kernel, flb);
		} catch (e) {
			if (!(e instanceof Errno)) throw e;
			if (e.errno !== ENODATA && e.errno !== ENOENT) kernel.pr_err(`${PR}liveupdate_flb_get_incoming for ${flb.compatible} failed: ${pe(e.errno)}`);
		}
	}
	initialized.add(kernel);
}

function registerErr(kernel: Kernel, fh: LiveupdateFileHandler, flb: LiveupdateFlb): number {
	try {
		liveupdate_register_flb(kernel, fh, flb);
		return 0;
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		return e.errno;
	}
}

/**
 * liveupdate_test_register(fh): links the test FLBs to `fh` (a no-op
 * without LIVEUPDATE_SELFTESTS, as the header's stub), checks that a
 * second link of the first one is EEXIST, and logs the result.
 */
export function liveupdate_test_register(kernel: Kernel, fh: LiveupdateFileHandler): void {
	if (!kernel.config.LIVEUPDATE_SELFTESTS) return;
	liveupdate_test_init(kernel);
	for (const flb of test_flbs) {
		const err = registerErr(kernel, fh, flb);
		if (err) kernel.pr_err(`${PR}Failed to register ${flb.compatible} ${pe(err)}`);
	}
	const err = registerErr(kernel, fh, test_flbs[0]!);
	if (err !== EEXIST) kernel.pr_err(`${PR}Failed: ${test_flbs[0]!.compatible} should be already registered, but got err: ${err ? pe(err) : "0000000000000000"}`);
	kernel.pr_info(`${PR}Registered ${TEST_NFLBS} FLBs with file handler: [${fh.compatible}]`);
}
