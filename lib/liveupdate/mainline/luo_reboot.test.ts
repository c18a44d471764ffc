import t from "tap";
import { EBUSY, EIO, ENOENT } from "../../kernel/errno.ts";
import { run, type User } from "../../kernel/testing.ts";
import { DeadlockError, type Kernel } from "../../kernel/kernel.ts";
import { runOutcome } from "../../kexec/testing.ts";
import { register_reboot_notifier } from "../../kexec/kexec_core.ts";
import { NOTIFY_DONE, notifier_from_errno } from "../../kho/notifier.ts";
import { PHYS_PFN } from "../../mm/physmem.ts";
import { liveupdate_register_file_handler } from "./luo_file.ts";
import { luo_state_phys } from "./luo_core.ts";
import { kho_block_header_ser, luo_file_ser, luo_ser, luo_session_ser } from "./luo_abi.ts";
import {
	TEST_HANDLER_COMPATIBLE, bootMainline, createSession, getName, kexecAfter, kexecTest, openLuo, preserveFd, retrieveFd,
	retrieveSession, testFile, testFileValue, testHandler, type TestHandler, type TestHandlerFaults,
} from "./testing.ts";

async function inKernel(k: Kernel, body: (u: User) => void): Promise<void> {
	await run((u) => void body(u), { kernel: k });
}

function withHandler(faults: TestHandlerFaults = {}): { k: Kernel; h: TestHandler } {
	const k = bootMainline();
	const h = testHandler(faults);
	liveupdate_register_file_handler(k, h);
	return { k, h };
}

/** The next kernel with the fixture registered again (as a built-in handler would be). */
async function next(k1: Kernel, h: TestHandler, stage1: (u: User) => void): Promise<Kernel> {
	const k = await kexecAfter(k1, stage1);
	liveupdate_register_file_handler(k, h);
	return k;
}

t.test("a session open at reboot survives with its files; freeze runs in creation order", async (t) => {
	const { k: k1, h } = withHandler();
	const k = await next(k1, h, (u) => {
		const fd = openLuo(u);
		const a = createSession(u, fd, "a");
		const b = createSession(u, fd, "b");
		preserveFd(u, b, testFile(u, 3n), 1n);
		preserveFd(u, a, testFile(u, 1n), 1n);
		preserveFd(u, a, testFile(u, 2n), 2n);
		u.sys("close", fd);
	});
	t.same(h.log.filter((l) => l.startsWith("freeze")), ["freeze:1", "freeze:2", "freeze:3"]);
	await inKernel(k, (u) => {
		const fd = openLuo(u);
		t.equal(testFileValue(u, retrieveFd(u, retrieveSession(u, fd, "a"), 2n)), 0x1002n);
		t.equal(testFileValue(u, retrieveFd(u, retrieveSession(u, fd, "b"), 1n)), 0x1003n);
	});
});

t.test("a session closed before the reboot is not handed over", async (t) => {
	const { k: k1, h } = withHandler();
	const k = await next(k1, h, (u) => {
		const s = createSession(u, openLuo(u), "closed");
		preserveFd(u, s, testFile(u, 1n), 1n);
		u.sys("close", s);
	});
	t.notOk(h.log.some((l) => l.startsWith("freeze")));
	await inKernel(k, (u) => t.equal(retrieveSession(u, openLuo(u), "closed"), -ENOENT));
});

t.test("an incoming session neither retrieved nor finished is not handed over again", async (t) => {
	const { k: k1, h } = withHandler();
	const k2 = await next(k1, h, (u) => {
		preserveFd(u, createSession(u, openLuo(u), "once"), testFile(u, 1n), 1n);
	});
	const k3 = await next(k2, h, (u) => void openLuo(u));
	await inKernel(k3, (u) => t.equal(retrieveSession(u, openLuo(u), "once"), -ENOENT));
});

t.test("many sessions over several blocks survive a kexec", async (t) => {
	const k = await kexecAfter(bootMainline(), (u) => {
		const fd = openLuo(u);
		for (let i = 0; i < 120; i++) createSession(u, fd, `s${i}`);
	});
	await inKernel(k, (u) => {
		const fd = openLuo(u);
		const names = Array.from({ length: 120 }, (_, i) => getName(u, retrieveSession(u, fd, `s${i}`)));
		t.same(names, Array.from({ length: 120 }, (_, i) => `s${i}`));
	});
});

t.test("the reboot writes the luo-v5 records: sessions, file sets and files", async (t) => {
	const { k, h } = withHandler();
	let seen: unknown = null;
	register_reboot_notifier(k, {
		notifier_call: () => {
			const pm = k.buddy.pm;
			const ser = luo_ser.decode(pm.read(luo_state_phys(k)!, 32));
			const sblock = pm.page(PHYS_PFN(Number(ser.sessions_pa)));
			const sess = luo_session_ser.decode(sblock, 16);
			const fblock = pm.page(PHYS_PFN(Number(sess.file_set_ser.files)));
			seen = {
				num: ser.liveupdate_num,
				sessions: kho_block_header_ser.decode(sblock).count,
				name: sess.name,
				files: sess.file_set_ser.count,
				fileBlock: kho_block_header_ser.decode(fblock),
				file: luo_file_ser.decode(fblock, 16),
			};
			return NOTIFY_DONE;
		},
	});
	await kexecAfter(k, (u) => {
		const s = createSession(u, openLuo(u), "rec");
		preserveFd(u, s, testFile(u, 7n), 0x99n);
	});
	t.same(seen, {
		num: 1n,
		sessions: 1n,
		name: "rec",
		files: 1n,
		fileBlock: { next: 0n, count: 1n },
		file: { compatible: TEST_HANDLER_COMPATIBLE, data: 0x1007n, token: 0x99n },
	});
	t.ok(h.log.includes("freeze:7"));
});

t.test("a failed freeze aborts the kexec with its errno and unfreezes what was frozen, last session first", async (t) => {
	const { k, h } = withHandler({ freezeValue: 4n, freezeErr: EIO });
	const out = await runOutcome(k, (u) => {
		const fd = openLuo(u);
		const a = createSession(u, fd, "a");
		const b = createSession(u, fd, "b");
		const c = createSession(u, fd, "c");
		preserveFd(u, a, testFile(u, 1n), 1n);
		preserveFd(u, b, testFile(u, 2n), 1n);
		preserveFd(u, b, testFile(u, 3n), 2n);
		preserveFd(u, c, testFile(u, 4n), 1n);
		t.equal(kexecTest(u), -EIO);
		t.equal(getName(u, a), "a", "the sessions still work");
		return 0;
	});
	t.same(out, { kind: "exited", status: 0 });
	t.same(h.log.filter((l) => /freeze/.test(l)), [
		"freeze:1", "freeze:2", "freeze:3",
		"unfreeze:4098", "unfreeze:4099", "unfreeze:4097",
	]);
	t.ok(k.log.all().some((r) => r.text === `luo: Freeze failed for token[0x1] handler[${TEST_HANDLER_COMPATIBLE}] err[-EIO]`));
});

t.test("after a failed freeze the next reboot can succeed", async (t) => {
	const { k: k1, h } = withHandler({ freezeValue: 1n, freezeErr: EIO });
	const k = await next(k1, h, (u) => {
		preserveFd(u, createSession(u, openLuo(u), "retry"), testFile(u, 1n), 1n);
		t.equal(kexecTest(u), -EIO);
		h.faults.freezeErr = 0;
	});
	await inKernel(k, (u) => t.equal(testFileValue(u, retrieveFd(u, retrieveSession(u, openLuo(u), "retry"), 1n)), 0x1001n));
});

/** Stage 1 serializes at a reboot that a notifier then vetoes (EBUSY); `after` runs in the same process. */
async function afterVetoedReboot(after: (u: User, luoFd: number, session: number) => void): Promise<{ pid: number; vetoed: number; err: unknown; reached: boolean }> {
	const { k } = withHandler();
	register_reboot_notifier(k, { notifier_call: () => notifier_from_errno(-EBUSY) });
	let reached = false;
	let pid = 0;
	let vetoed = 0;
	const err = await runOutcome(k, (u) => {
		pid = u.p.pid;
		const fd = openLuo(u);
		const s = createSession(u, fd, "s");
		vetoed = kexecTest(u);
		after(u, fd, s);
		reached = true;
	}).then(() => null, (e: unknown) => e);
	return { pid, vetoed, err, reached };
}

t.test("after a reboot that serialized, a session ioctl sleeps for good", async (t) => {
	const r = await afterVetoedReboot((u, _fd, s) => void getName(u, s));
	t.equal(r.vetoed, -EBUSY, "the notifier vetoed the kexec after LUO serialized");
	t.notOk(r.reached);
	t.ok(r.err instanceof DeadlockError);
	t.same((r.err as DeadlockError).blocked, [r.pid]);
});

t.test("after a reboot that serialized, CREATE_SESSION sleeps for good", async (t) => {
	const r = await afterVetoedReboot((u, fd) => void createSession(u, fd, "late"));
	t.notOk(r.reached);
	t.ok(r.err instanceof DeadlockError);
});

t.test("after a reboot that serialized, a second reboot sleeps for good", async (t) => {
	const r = await afterVetoedReboot((u) => void kexecTest(u));
	t.notOk(r.reached);
	t.ok(r.err instanceof DeadlockError);
});

t.test("a file count that does not match its blocks fails the deserialization: EIO", async (t) => {
	const { k: k1, h } = withHandler();
	register_reboot_notifier(k1, {
		notifier_call: () => {
			const pm = k1.buddy.pm;
			const sessions = Number(luo_ser.decode(pm.read(luo_state_phys(k1)!, 32)).sessions_pa);
			// luo_session_ser.file_set_ser.count of the first session: 16 (header) + 72.
			pm.write(sessions + 16 + 72, new Uint8Array([5]));
			return NOTIFY_DONE;
		},
	});
	const k = await next(k1, h, (u) => {
		preserveFd(u, createSession(u, openLuo(u), "bad"), testFile(u, 1n), 1n);
	});
	await inKernel(k, (u) => t.equal(openLuo(u), -EIO));
	t.ok(k.log.all().some((r) => r.text === "luo: File count mismatch: expected 5, found 1"));
});
