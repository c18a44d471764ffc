import t from "tap";
import { EEXIST, EFAULT, EINVAL, ENOMEM, ENOTTY, EOPNOTSUPP } from "../../kernel/errno.ts";
import { PAGE_SIZE } from "../../mm/physmem.ts";
import {
	LIVEUPDATE_IOCTL_EVENT_CANCEL, LIVEUPDATE_IOCTL_EVENT_PREPARE, LIVEUPDATE_IOCTL_SELFTESTS, LUO_CMD_SUBSYSTEM_GETDATA,
	LUO_CMD_SUBSYSTEM_REGISTER, LUO_CMD_SUBSYSTEM_UNREGISTER, LUO_MAX_SUBSYSTEMS, liveupdate_selftest, luo_arg_subsystem,
} from "../uapi/rfc-v2.ts";
import { khoState } from "../../kho/kho_state.ts";
import { dmesg } from "../../kho/testing.ts";
import { PHYS_PFN } from "../../mm/physmem.ts";
import { luo_fdt_out_phys } from "./luo_core.ts";
import { asRoot, bootLuo, luoIoctl, openLuo } from "./testing.ts";
import type { User } from "../../kernel/testing.ts";

/** The selftest ioctl with `cmd` on subsystem `name` and `dataPage`: 0 or -errno. */
function selftest(u: User, fd: number, cmd: number, name: string, dataPage: number): number {
	const arg = u.alloc(luo_arg_subsystem.size);
	luo_arg_subsystem.toUser(u.p.mm, arg, { name, data_page: dataPage }, { truncate: true });
	const st = u.alloc(liveupdate_selftest.size);
	liveupdate_selftest.toUser(u.p.mm, st, { cmd: BigInt(cmd), arg: BigInt(arg) });
	return luoIoctl(u, fd, LIVEUPDATE_IOCTL_SELFTESTS, st);
}

function page(u: User, fill: number): number {
	return u.bytes(new Uint8Array(PAGE_SIZE).fill(fill));
}

t.test("register then unregister a test subsystem", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const fd = openLuo(u);
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, "s0", page(u, 0x41)), 0);
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_UNREGISTER, "s0", 0), 0);
	});
});

t.test("a second unregister is EINVAL (the name is not known any more)", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const fd = openLuo(u);
		selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, "s0", page(u, 0x41));
		selftest(u, fd, LUO_CMD_SUBSYSTEM_UNREGISTER, "s0", 0);
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_UNREGISTER, "s0", 0), -EINVAL);
	});
});

t.test("LUO_MAX_SUBSYSTEMS (16) fit; the 17th is ENOMEM", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const fd = openLuo(u);
		for (let i = 0; i < LUO_MAX_SUBSYSTEMS; i++) t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, `s${i}`, page(u, i)), 0);
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, "s16", page(u, 16)), -ENOMEM);
	});
});

t.test("GETDATA copies the page that REGISTER read from user memory", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const fd = openLuo(u);
		const data = page(u, 0x5a);
		selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, "s", data);
		u.p.mm.copyToUser(data, new Uint8Array(PAGE_SIZE));
		const verify = u.alloc(PAGE_SIZE);
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_GETDATA, "s", verify), 0);
		t.same(u.read(verify, PAGE_SIZE), new Uint8Array(PAGE_SIZE).fill(0x5a));
	});
});

t.test("PREPARE preserves each test subsystem's page and hands over its address", async (t) => {
	const k = bootLuo();
	await asRoot(k, (u) => {
		const fd = openLuo(u);
		selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, "s", page(u, 1));
		t.equal(luoIoctl(u, fd, LIVEUPDATE_IOCTL_EVENT_PREPARE), 0);
		const line = dmesg(k).find((l) => l.startsWith("luo_selftests: Subsystem 's' prepare data["));
		t.ok(line);
		const phys = parseInt(/\[([0-9a-f]+)\]/.exec(line!)![1]!, 16);
		t.ok(khoState(k).out.ser.track.isPreserved(PHYS_PFN(phys), 0), "its page is preserved");
		t.not(luo_fdt_out_phys(k), null);
		t.equal(luoIoctl(u, fd, LIVEUPDATE_IOCTL_EVENT_CANCEL), 0);
	});
});

t.test("a name keeps at most 31 characters (char[32] with the NUL)", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const fd = openLuo(u);
		const n31 = "x".repeat(31);
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, n31, page(u, 1)), 0);
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_GETDATA, n31, u.alloc(PAGE_SIZE)), 0);
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, "y".repeat(32), page(u, 1)), 0, "registered as 31 y's");
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_GETDATA, "y".repeat(31), u.alloc(PAGE_SIZE)), 0);
	});
});

t.test("a duplicate name is EEXIST and the first subsystem keeps working", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const fd = openLuo(u);
		selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, "dup", page(u, 7));
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, "dup", page(u, 8)), -EEXIST);
		const verify = u.alloc(PAGE_SIZE);
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_GETDATA, "dup", verify), 0);
		t.equal(u.read(verify, 1)[0], 7, "its data is intact");
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_UNREGISTER, "dup", 0), 0);
	});
});

t.test("bad pointers are EFAULT: the data page and GETDATA's destination", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const fd = openLuo(u);
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, "s", 8), -EFAULT);
		selftest(u, fd, LUO_CMD_SUBSYSTEM_REGISTER, "s", page(u, 1));
		t.equal(selftest(u, fd, LUO_CMD_SUBSYSTEM_GETDATA, "s", 8), -EFAULT);
		const st = u.alloc(liveupdate_selftest.size);
		liveupdate_selftest.toUser(u.p.mm, st, { cmd: BigInt(LUO_CMD_SUBSYSTEM_GETDATA), arg: 8n });
		t.equal(luoIoctl(u, fd, LIVEUPDATE_IOCTL_SELFTESTS, st), -EFAULT, "a bad luo_arg_subsystem pointer");
	});
});

t.test("an unknown selftest command is ENOTTY", async (t) => {
	await asRoot(bootLuo(), (u) => void t.equal(selftest(u, openLuo(u), 3, "s", 0), -ENOTTY));
});

t.test("without CONFIG_LIVEUPDATE_SELFTESTS the command is EOPNOTSUPP", async (t) => {
	await asRoot(bootLuo({ config: { LIVEUPDATE_SELFTESTS: false } }), (u) => {
		t.equal(selftest(u, openLuo(u), LUO_CMD_SUBSYSTEM_REGISTER, "s", page(u, 1)), -EOPNOTSUPP);
	});
});
