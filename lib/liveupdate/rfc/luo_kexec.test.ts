import t from "tap";
import { errnoOf } from "../../fs/syscalls/testing.ts";
import { EBUSY, EINVAL, EIO, ENOENT } from "../../kernel/errno.ts";
import { kexecNow, runOutcome } from "../../kexec/testing.ts";
import { kho_is_finalized } from "../../kho/kho.ts";
import { dmesg } from "../../kho/testing.ts";
import * as rfc from "../uapi/rfc-v2.ts";
import * as v2 from "../uapi/v2.ts";
import { liveupdate_get_state } from "./luo_internal.ts";
import { luo_finish, luo_prepare } from "./luo_core.ts";
import { liveupdate_register_filesystem } from "./luo_files.ts";
import { liveupdate_get_subsystem_data, liveupdate_register_subsystem } from "./luo_subsystems.ts";
import { asRoot, bootLuo, getState, liveUpdate, luoIoctl, luoTestFile, openLuo, testFs, testSubsystem, type CallLog } from "./testing.ts";
import type { User } from "../../kernel/testing.ts";

/** FD_PRESERVE of a new /tmp/luo-NAME file under rfc-v2: the token. */
function preserveRfc(u: User, fd: number, name: string): bigint {
	const arg = u.alloc(16);
	rfc.liveupdate_fd.toUser(u.p.mm, arg, { fd: luoTestFile(u, name) });
	if (luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_FD_PRESERVE, arg) !== 0) throw new Error("FD_PRESERVE failed");
	return rfc.liveupdate_fd.fromUser(u.p.mm, arg).token;
}

/** FD_RESTORE of `token`: 0 or -errno, and the new fd. */
function restore(u: User, fd: number, token: bigint, cmd = rfc.LIVEUPDATE_IOCTL_FD_RESTORE): { r: number; fd: number } {
	const arg = u.alloc(16);
	rfc.liveupdate_fd.toUser(u.p.mm, arg, { fd: -1, token });
	const r = luoIoctl(u, fd, cmd, arg);
	return { r, fd: rfc.liveupdate_fd.fromUser(u.p.mm, arg).fd };
}

t.test("a live update: subsystem data and a file's u64 reach the next kernel, which starts UPDATED; FINISH returns to NORMAL", async (t) => {
	const k1 = bootLuo();
	const log1: CallLog = [];
	liveupdate_register_filesystem(k1, testFs(log1, { data: () => 0xabcdn }));
	liveupdate_register_subsystem(k1, testSubsystem("sub", log1, 0x4200n));
	let token = -1n;
	const k2 = await liveUpdate(k1, (u) => {
		const fd = openLuo(u);
		token = preserveRfc(u, fd, "a");
		t.equal(luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_EVENT_PREPARE), 0);
	});
	t.same(log1, ["prepare /tmp/luo-a 0xabcd", "sub prepare", "freeze /tmp/luo-a 0xabcd", "sub freeze 0x4200"], "reboot() froze the PREPARED LUO");
	t.equal(liveupdate_get_state(k1), "frozen");
	t.equal(liveupdate_get_state(k2), "updated", "UPDATED, never NORMAL on the way");
	t.notOk(dmesg(k2).some((l) => l.includes("to [normal]")));

	const log2: CallLog = [];
	liveupdate_register_filesystem(k2, testFs(log2));
	const sub2 = testSubsystem("sub", log2);
	liveupdate_register_subsystem(k2, sub2);
	t.equal(liveupdate_get_subsystem_data(k2, sub2), 0x4201n, "the frozen subsystem data");
	await asRoot(k2, (u) => {
		const fd = openLuo(u);
		t.equal(getState(u, fd, rfc.LIVEUPDATE_IOCTL_GET_STATE), rfc.LIVEUPDATE_STATE_UPDATED);
		const r = restore(u, fd, token);
		t.equal(r.r, 0);
		t.ok(r.fd >= 0);
		t.equal(u.sys("fcntl", r.fd, 1 /* F_GETFD */), 1, "close-on-exec");
		t.equal(luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_EVENT_FINISH), 0);
		t.equal(getState(u, fd, rfc.LIVEUPDATE_IOCTL_GET_STATE), rfc.LIVEUPDATE_STATE_NORMAL);
	});
	t.same(log2, ["retrieve 0xabce", "finish /tmp/restored-0xabce 0xabce true", "sub finish 0x4201"]);
	t.equal(errnoOf(() => liveupdate_get_subsystem_data(k2, sub2)), ENOENT, "no data once NORMAL");
});

t.test("a v2 live update: the caller's token crosses, GET_STATE uses v2's numbers", async (t) => {
	const k1 = bootLuo({ abi: "v2" });
	liveupdate_register_filesystem(k1, testFs([], { data: () => 7n }));
	const k2 = await liveUpdate(k1, (u) => {
		const fd = openLuo(u);
		const arg = u.alloc(16);
		v2.liveupdate_fd.toUser(u.p.mm, arg, { fd: luoTestFile(u, "v"), token: 0x1234n });
		t.equal(luoIoctl(u, fd, v2.LIVEUPDATE_IOCTL_FD_PRESERVE, arg), 0);
		t.equal(luoIoctl(u, fd, v2.LIVEUPDATE_IOCTL_PREPARE), 0);
		t.equal(getState(u, fd, v2.LIVEUPDATE_IOCTL_GET_STATE), v2.LIVEUPDATE_STATE_PREPARED);
	});
	const log: CallLog = [];
	liveupdate_register_filesystem(k2, testFs(log));
	await asRoot(k2, (u) => {
		const fd = openLuo(u);
		t.equal(getState(u, fd, v2.LIVEUPDATE_IOCTL_GET_STATE), v2.LIVEUPDATE_STATE_UPDATED);
		t.equal(restore(u, fd, 0x1234n, v2.LIVEUPDATE_IOCTL_FD_RESTORE).r, 0);
		t.equal(luoIoctl(u, fd, v2.LIVEUPDATE_IOCTL_FINISH), 0);
		t.equal(getState(u, fd, v2.LIVEUPDATE_IOCTL_GET_STATE), v2.LIVEUPDATE_STATE_NORMAL);
	});
	t.same(log, ["retrieve 0x8", "finish /tmp/restored-0x8 0x8 true"]);
});

t.test("retrieve: again is EINVAL (F1 can only be sequential), unknown is ENOENT, after FINISH EBUSY", async (t) => {
	const k1 = bootLuo();
	liveupdate_register_filesystem(k1, testFs([]));
	let token = 0n;
	const k2 = await liveUpdate(k1, (u) => {
		const fd = openLuo(u);
		token = preserveRfc(u, fd, "x");
		luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_EVENT_PREPARE);
	});
	liveupdate_register_filesystem(k2, testFs([]));
	await asRoot(k2, (u) => {
		const fd = openLuo(u);
		t.equal(restore(u, fd, 99n).r, -ENOENT);
		t.equal(restore(u, fd, token).r, 0);
		t.equal(restore(u, fd, token).r, -EINVAL, "the second restore of one token");
		luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_EVENT_FINISH);
		t.equal(restore(u, fd, token).r, -EBUSY);
	});
});

t.test("PREPARE in UPDATED is EINVAL (LUO's notifier refuses) and KHO stays unfinalized", async (t) => {
	const k2 = await liveUpdate(bootLuo(), (u) => void luoIoctl(u, openLuo(u), rfc.LIVEUPDATE_IOCTL_EVENT_PREPARE));
	await asRoot(k2, (u) => {
		const fd = openLuo(u);
		t.equal(luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_EVENT_PREPARE), -EINVAL);
		t.equal(luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_EVENT_CANCEL), -ENOENT, "CANCEL in UPDATED is kho_abort's ENOENT");
	});
	t.notOk(kho_is_finalized(k2));
	t.equal(liveupdate_get_state(k2), "updated");
});

t.test("a kexec without PREPARE boots the next kernel NORMAL", async (t) => {
	const k2 = await liveUpdate(bootLuo(), () => undefined);
	t.equal(liveupdate_get_state(k2), "normal");
});

t.test("reboot(KEXEC) with a freeze that fails returns its error, and LUO is NORMAL with KHO unfinalized", async (t) => {
	const k = bootLuo();
	const log: CallLog = [];
	liveupdate_register_subsystem(k, testSubsystem("bad", log, 1n, { op: "freeze", errno: EIO }));
	luo_prepare(k);
	let r = 0;
	const out = await runOutcome(k, (u) => {
		r = kexecNow(u, k.cmdline.text);
	});
	t.equal(out.kind, "exited", "the kernel did not kexec");
	t.equal(r, -EIO);
	t.equal(liveupdate_get_state(k), "normal");
	t.notOk(kho_is_finalized(k));
	t.same(log, ["bad prepare", "bad cancel 0x1"], "prepared, its freeze failed, then cancelled");
});

t.test("reboot(KEXEC) when FROZEN already does not freeze again", async (t) => {
	const k1 = bootLuo();
	const log: CallLog = [];
	liveupdate_register_subsystem(k1, testSubsystem("s", log));
	await liveUpdate(k1, (u) => {
		const fd = openLuo(u);
		luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_EVENT_PREPARE);
		luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_EVENT_FREEZE);
	});
	t.same(log, ["s prepare", "s freeze 0x42"]);
});

t.test("FINISH runs finish for files never retrieved, with reclaimed false and no file", async (t) => {
	const k1 = bootLuo();
	liveupdate_register_filesystem(k1, testFs([], { data: () => 5n }));
	const k2 = await liveUpdate(k1, (u) => {
		const fd = openLuo(u);
		preserveRfc(u, fd, "n");
		luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_EVENT_PREPARE);
	});
	const log: CallLog = [];
	liveupdate_register_filesystem(k2, testFs(log));
	luo_finish(k2);
	t.same(log, ["finish null 0x6 false"]);
});
