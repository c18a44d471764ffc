import t from "tap";
import { dmesg } from "../../kho/testing.ts";
import { runOutcome } from "../../kexec/testing.ts";
import { luo_flb_registered } from "./luo_flb.ts";
import { LIVEUPDATE_TEST_FLB_COMPATIBLE, TEST_FLB_MAGIC_BASE } from "./test_liveupdate.ts";
import { bootMainline, createSession, finishSession, kexecAfter, openLuo, preserveFd, retrieveFd, retrieveSession } from "./testing.ts";
import { bootKernel } from "../../kernel/machine.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import type { User } from "../../kernel/testing.ts";

const NAMES = [0, 1, 2].map(LIVEUPDATE_TEST_FLB_COMPATIBLE);

/** The dmesg lines of the test module. */
function testLines(k: Kernel): string[] {
	return dmesg(k).filter((l) => l.includes("liveupdate test: "));
}

/** A session "flb" holding one memfd. */
function preserveMemfd(u: User): void {
	const s = createSession(u, openLuo(u), "flb");
	if (preserveFd(u, s, u.sys("memfd_create", "m", 0), 7n) !== 0) throw new Error("PRESERVE_FD failed");
}

t.test("the test FLB compatibles are liveupdate-test-flb-v0..2 and the magic is 0xFEEDF00DCAFEBEE0", async (t) => {
	t.same(NAMES, ["liveupdate-test-flb-v0", "liveupdate-test-flb-v1", "liveupdate-test-flb-v2"]);
	t.equal(TEST_FLB_MAGIC_BASE, 0xfeedf00dcafebee0n);
});

t.test("with LIVEUPDATE_SELFTESTS the three test FLBs are linked to the memfd handler", async (t) => {
	const k = bootMainline();
	t.same(luo_flb_registered(k).map((f) => f.compatible), NAMES);
	t.ok(testLines(k).some((l) => l.endsWith("Registered 3 FLBs with file handler: [memfd-v2]")));
	t.notOk(dmesg(k).some((l) => /liveupdate test: .*(Failed|ERROR)/.test(l)), "the EEXIST self-check passed");
});

t.test("without LIVEUPDATE_SELFTESTS no test FLB is registered", async (t) => {
	const k = bootKernel({ abi: "mainline", config: { LIVEUPDATE_SELFTESTS: false } });
	t.same(luo_flb_registered(k), []);
	t.same(testLines(k), []);
});

t.test("the first preserved memfd triggers each test FLB's preserve; closing its session, unpreserve", async (t) => {
	const k = bootMainline();
	await runOutcome(k, (u) => {
		const s = createSession(u, openLuo(u), "flb");
		preserveFd(u, s, u.sys("memfd_create", "a", 0), 1n);
		preserveFd(u, s, u.sys("memfd_create", "b", 0), 2n);
		t.same(testLines(k).filter((l) => l.includes("preserve was triggered")).length, 3, "once per FLB for two files");
		u.sys("close", s);
	});
	t.same(testLines(k).filter((l) => / unpreserve was triggered$/.test(l)).map((l) => l.replace(/.*test: /, "")), NAMES.slice().reverse().map((n) => `${n}: unpreserve was triggered`));
});

t.test("across a kexec the test FLBs find their data at boot and finish with the memfd's session", async (t) => {
	const k2 = await kexecAfter(bootMainline(), preserveMemfd);
	t.same(testLines(k2).filter((l) => l.includes("found flb data from the previous boot")).length, 3);
	t.notOk(testLines(k2).some((l) => l.includes("finish was triggered")), "not before the file is finished");
	await runOutcome(k2, (u) => {
		const s = retrieveSession(u, openLuo(u), "flb");
		t.ok(retrieveFd(u, s, 7n) >= 0);
		t.equal(finishSession(u, s), 0);
	});
	t.same(testLines(k2).filter((l) => l.includes("finish was triggered")).map((l) => l.replace(/.*test: /, "")), NAMES.slice().reverse().map((n) => `${n}: finish was triggered`));
	t.notOk(dmesg(k2).some((l) => /ERROR|WARNING/.test(l)));
});
