import t from "tap";
import { errnoOf } from "../../fs/syscalls/testing.ts";
import { EEXIST, EINVAL, ENOENT, EIO, EPERM, EOPNOTSUPP } from "../../kernel/errno.ts";
import { O_WRONLY } from "../../fs/fcntl.ts";
import { kho_is_finalized } from "../../kho/kho.ts";
import { dmesg } from "../../kho/testing.ts";
import {
	LIVEUPDATE_IOCTL_EVENT_CANCEL as CANCEL, LIVEUPDATE_IOCTL_EVENT_FINISH as FINISH, LIVEUPDATE_IOCTL_EVENT_FREEZE as FREEZE,
	LIVEUPDATE_IOCTL_EVENT_PREPARE as PREPARE, LIVEUPDATE_IOCTL_FD_PRESERVE, LIVEUPDATE_IOCTL_GET_STATE as GET_STATE,
	LIVEUPDATE_STATE_NORMAL, LIVEUPDATE_STATE_PREPARED, liveupdate_fd,
} from "../uapi/rfc-v2.ts";
import { liveupdate_get_state } from "./luo_internal.ts";
import { luo_fdt_out_phys, luo_finish, luo_freeze, luo_prepare } from "./luo_core.ts";
import { liveupdate_register_filesystem } from "./luo_files.ts";
import { liveupdate_register_subsystem } from "./luo_subsystems.ts";
import { asRoot, bootLuo, getState, luoIoctl, luoTestFile, openLuo, sysfsState, testFs, testSubsystem, type CallLog } from "./testing.ts";
import type { User } from "../../kernel/testing.ts";

function echo(u: User, path: string, text: string): number {
	const fd = u.sys("open", path, O_WRONLY);
	if (fd < 0) return fd;
	const r = u.sys("write", fd, u.str(text), text.length);
	u.sys("close", fd);
	return r;
}

t.test("a booted rfc-v2 kernel is NORMAL", async (t) => {
	const k = bootLuo();
	t.equal(liveupdate_get_state(k), "normal");
	await asRoot(k, (u) => void t.equal(getState(u, openLuo(u), GET_STATE), LIVEUPDATE_STATE_NORMAL));
});

t.test("C1: before LUO starts the state is UNDEFINED, not NORMAL (a kernel where LUO does not start shows it)", async (t) => {
	const k = bootLuo({ cmdline: "liveupdate=off" });
	t.equal(liveupdate_get_state(k), "undefined");
	await asRoot(k, (u) => void t.equal(sysfsState(u), "undefined\n"));
});

t.test("PREPARE: NORMAL → PREPARED, KHO finalized, the LUO FDT exists", async (t) => {
	const k = bootLuo();
	await asRoot(k, (u) => {
		const fd = openLuo(u);
		t.equal(luoIoctl(u, fd, PREPARE), 0);
		t.equal(getState(u, fd, GET_STATE), LIVEUPDATE_STATE_PREPARED);
	});
	t.ok(kho_is_finalized(k));
	t.not(luo_fdt_out_phys(k), null);
	t.ok(dmesg(k).includes("luo_core: Switched from [normal] to [prepared] state"));
});

t.test("a second PREPARE is EEXIST (kho_finalize's error)", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const fd = openLuo(u);
		luoIoctl(u, fd, PREPARE);
		t.equal(luoIoctl(u, fd, PREPARE), -EEXIST);
	});
});

t.test("CANCEL in NORMAL is ENOENT (kho_abort's error)", async (t) => {
	await asRoot(bootLuo(), (u) => void t.equal(luoIoctl(u, openLuo(u), CANCEL), -ENOENT));
});

t.test("FREEZE outside PREPARED is EINVAL", async (t) => {
	const k = bootLuo();
	await asRoot(k, (u) => void t.equal(luoIoctl(u, openLuo(u), FREEZE), -EINVAL));
	t.ok(dmesg(k).includes("luo_core: Can't switch to [frozen] from [normal] state"));
});

t.test("FINISH outside UPDATED is EINVAL", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const fd = openLuo(u);
		t.equal(luoIoctl(u, fd, FINISH), -EINVAL);
		luoIoctl(u, fd, PREPARE);
		t.equal(luoIoctl(u, fd, FINISH), -EINVAL);
	});
});

t.test("PREPARE → FREEZE → CANCEL goes back to NORMAL and unfinalizes KHO", async (t) => {
	const k = bootLuo();
	await asRoot(k, (u) => {
		const fd = openLuo(u);
		t.equal(luoIoctl(u, fd, PREPARE), 0);
		t.equal(luoIoctl(u, fd, FREEZE), 0);
		t.equal(liveupdate_get_state(k), "frozen");
		t.equal(luoIoctl(u, fd, CANCEL), 0);
		t.equal(getState(u, fd, GET_STATE), LIVEUPDATE_STATE_NORMAL);
	});
	t.notOk(kho_is_finalized(k));
	t.equal(luo_fdt_out_phys(k), null, "the LUO FDT is freed");
});

t.test("echo 1 > kho/out/finalize moves LUO to PREPARED, echo 0 back to NORMAL", async (t) => {
	const k = bootLuo();
	await asRoot(k, (u) => {
		t.equal(echo(u, "/sys/kernel/debug/kho/out/finalize", "1"), 1);
		t.equal(liveupdate_get_state(k), "prepared");
		t.equal(echo(u, "/sys/kernel/debug/kho/out/finalize", "0"), 1);
		t.equal(liveupdate_get_state(k), "normal");
	});
});

t.test("the LUO FDT is a KHO subtree: out/sub_fdts/LUO while PREPARED, gone after CANCEL", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const fd = openLuo(u);
		luoIoctl(u, fd, PREPARE);
		t.ok(u.sys("open", "/sys/kernel/debug/kho/out/sub_fdts/LUO", 0) >= 0);
		luoIoctl(u, fd, CANCEL);
		t.equal(u.sys("open", "/sys/kernel/debug/kho/out/sub_fdts/LUO", 0), -ENOENT);
	});
});

t.test("C2: a failed prepare returns its error and leaves nothing behind", async (t) => {
	const k = bootLuo();
	const log: CallLog = [];
	const ok = testSubsystem("ok", log);
	const bad = testSubsystem("bad", log, 1n, { op: "prepare", errno: EIO });
	liveupdate_register_subsystem(k, ok);
	liveupdate_register_subsystem(k, bad);
	const free = k.buddy.nr_free_pages();
	await asRoot(k, (u) => {
		const fd = openLuo(u);
		t.equal(luoIoctl(u, fd, PREPARE), -EIO);
		t.equal(getState(u, fd, GET_STATE), LIVEUPDATE_STATE_NORMAL);
		t.equal(u.sys("open", "/sys/kernel/debug/kho/out/sub_fdts/LUO", 0), -ENOENT, "no KHO subtree left");
	});
	t.same(log, ["ok prepare", "ok cancel 0x42"], "the subsystem before the failing one was cancelled");
	t.notOk(kho_is_finalized(k));
	t.equal(luo_fdt_out_phys(k), null, "the LUO FDT is freed");
	t.equal(k.buddy.nr_free_pages(), free, "its 1 MiB is back");
});

t.test("C2: after a failed prepare a PREPARE without the failing participant succeeds", async (t) => {
	const k = bootLuo();
	const log: CallLog = [];
	liveupdate_register_filesystem(k, testFs(log, { failPrepare: { suffix: "bad", errno: EPERM } }));
	await asRoot(k, (u) => {
		const fd = openLuo(u);
		const arg = u.alloc(liveupdate_fd.size);
		liveupdate_fd.toUser(u.p.mm, arg, { fd: luoTestFile(u, "bad") });
		t.equal(luoIoctl(u, fd, LIVEUPDATE_IOCTL_FD_PRESERVE, arg), 0);
		t.equal(luoIoctl(u, fd, PREPARE), -EPERM);
		t.equal(luoIoctl(u, fd, 0x4008ba01, u.u64s(0n)), 0, "FD_UNPRESERVE of the failing file");
		t.equal(luoIoctl(u, fd, PREPARE), 0, "no EEXIST from a leftover subtree");
		t.equal(getState(u, fd, GET_STATE), LIVEUPDATE_STATE_PREPARED);
	});
});

t.test("C7: a failed freeze cancels every participant, unfinalizes KHO and returns to NORMAL", async (t) => {
	const k = bootLuo();
	const log: CallLog = [];
	liveupdate_register_subsystem(k, testSubsystem("a", log, 0x10n));
	liveupdate_register_subsystem(k, testSubsystem("b", log, 0x20n, { op: "freeze", errno: EIO }));
	liveupdate_register_subsystem(k, testSubsystem("c", log, 0x30n));
	luo_prepare(k);
	log.length = 0;
	t.equal(errnoOf(() => luo_freeze(k)), EIO);
	t.equal(liveupdate_get_state(k), "normal");
	t.notOk(kho_is_finalized(k), "KHO is not left finalized");
	t.equal(luo_fdt_out_phys(k), null, "the LUO FDT is freed");
	t.same(log, ["a freeze 0x10", "a cancel 0x11", "b cancel 0x20", "c cancel 0x30"], "all three cancelled, the one after the failure too");
	t.doesNotThrow(() => luo_prepare(k), "a new PREPARE works");
});

t.test("FINISH and PREPARE in the wrong state throw from the kernel API too", async (t) => {
	const k = bootLuo();
	t.equal(errnoOf(() => luo_finish(k)), EINVAL);
	t.equal(errnoOf(() => luo_freeze(k)), EINVAL);
	luo_prepare(k);
	t.equal(errnoOf(() => luo_prepare(k)), EEXIST);
});

t.test("C4: with liveupdate=off there is no /dev/liveupdate", async (t) => {
	const k = bootLuo({ cmdline: "liveupdate=off" });
	await asRoot(k, (u) => void t.equal(openLuo(u), -ENOENT));
	luo_prepare(k);
	t.equal(liveupdate_get_state(k), "undefined", "LUO is not registered with KHO: a finalize leaves it alone");
});

t.test("C4: with KHO off LUO is off: no device, and the kernel says why", async (t) => {
	const k = bootLuo({ cmdline: "kho=off" });
	await asRoot(k, (u) => void t.equal(openLuo(u), -ENOENT));
	t.ok(dmesg(k).includes("luo_core: Disabling liveupdate because KHO is disabled"));
	t.equal(errnoOf(() => luo_prepare(k)), EOPNOTSUPP);
});

t.test("a mainline kernel has no seed-era LUO: its state stays UNDEFINED", async (t) => {
	const k = bootLuo({ abi: "mainline" });
	t.equal(liveupdate_get_state(k), "undefined");
});
