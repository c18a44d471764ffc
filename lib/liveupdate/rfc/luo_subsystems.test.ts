import t from "tap";
import { errnoOf } from "../../fs/syscalls/testing.ts";
import { EBUSY, EEXIST, EIO, ENOENT } from "../../kernel/errno.ts";
import { fdt_getprop, fdt_node_check_compatible, fdt_subnode_offset, le64_ld } from "../../fdt/libfdt.ts";
import { khoReadFdt } from "../../kho/kho_state.ts";
import { luo_cancel, luo_fdt_out_phys, luo_freeze, luo_prepare } from "./luo_core.ts";
import { liveupdate_get_subsystem_data, liveupdate_register_subsystem, liveupdate_unregister_subsystem } from "./luo_subsystems.ts";
import { bootLuo, testSubsystem, type CallLog } from "./testing.ts";

t.test("registering the same subsystem twice is EEXIST", async (t) => {
	const k = bootLuo();
	const s = testSubsystem("s", []);
	liveupdate_register_subsystem(k, s);
	t.equal(errnoOf(() => liveupdate_register_subsystem(k, s)), EEXIST);
});

t.test("registering another subsystem with a name already used is EEXIST", async (t) => {
	const k = bootLuo();
	liveupdate_register_subsystem(k, testSubsystem("s", []));
	t.equal(errnoOf(() => liveupdate_register_subsystem(k, testSubsystem("s", []))), EEXIST);
});

t.test("unregistering a subsystem that is not registered is ENOENT", async (t) => {
	const k = bootLuo();
	const s = testSubsystem("s", []);
	t.equal(errnoOf(() => liveupdate_unregister_subsystem(k, s)), ENOENT);
	liveupdate_register_subsystem(k, s);
	liveupdate_unregister_subsystem(k, s);
	t.equal(errnoOf(() => liveupdate_unregister_subsystem(k, s)), ENOENT);
});

t.test("(un)registering outside NORMAL/UPDATED is EBUSY", async (t) => {
	const k = bootLuo();
	const s = testSubsystem("s", []);
	liveupdate_register_subsystem(k, s);
	luo_prepare(k);
	t.equal(errnoOf(() => liveupdate_register_subsystem(k, testSubsystem("t", []))), EBUSY);
	t.equal(errnoOf(() => liveupdate_unregister_subsystem(k, s)), EBUSY);
	luo_freeze(k);
	t.equal(errnoOf(() => liveupdate_unregister_subsystem(k, s)), EBUSY, "FROZEN too");
});

t.test("the u64 of each subsystem is in the LUO FDT's /subsystems node after prepare and freeze", async (t) => {
	const k = bootLuo();
	liveupdate_register_subsystem(k, testSubsystem("alpha", [], 0x11n));
	liveupdate_register_subsystem(k, testSubsystem("beta", [], 0x22n));
	luo_prepare(k);
	const read = (): bigint[] => {
		const fdt = khoReadFdt(k, luo_fdt_out_phys(k)!);
		const node = fdt_subnode_offset(fdt, 0, "subsystems");
		t.equal(fdt_node_check_compatible(fdt, node, "subsystems-v1"), 0);
		return ["alpha", "beta"].map((n) => le64_ld(fdt_getprop(fdt, node, n)!));
	};
	t.same(read(), [0x11n, 0x22n]);
	luo_freeze(k);
	t.same(read(), [0x12n, 0x23n], "freeze updated them");
});

t.test("callbacks run in registration order; cancel gets the data prepare returned", async (t) => {
	const k = bootLuo();
	const log: CallLog = [];
	liveupdate_register_subsystem(k, testSubsystem("a", log, 1n));
	liveupdate_register_subsystem(k, testSubsystem("b", log, 2n));
	luo_prepare(k);
	luo_cancel(k);
	t.same(log, ["a prepare", "b prepare", "a cancel 0x1", "b cancel 0x2"]);
});

t.test("a failing prepare cancels the subsystems before it and fails PREPARE with its errno", async (t) => {
	const k = bootLuo();
	const log: CallLog = [];
	liveupdate_register_subsystem(k, testSubsystem("a", log));
	liveupdate_register_subsystem(k, testSubsystem("b", log, 0n, { op: "prepare", errno: EIO }));
	liveupdate_register_subsystem(k, testSubsystem("c", log));
	t.equal(errnoOf(() => luo_prepare(k)), EIO);
	t.same(log, ["a prepare", "a cancel 0x42"]);
});

t.test("liveupdate_get_subsystem_data outside an UPDATED kernel is ENOENT", async (t) => {
	const k = bootLuo();
	const s = testSubsystem("s", []);
	liveupdate_register_subsystem(k, s);
	t.equal(errnoOf(() => liveupdate_get_subsystem_data(k, s)), ENOENT);
});

t.test("a subsystem re-entering LUO from its callback is a deadlock, reported instead of hanging", async (t) => {
	const k = bootLuo();
	liveupdate_register_subsystem(k, {
		name: "reentrant",
		prepare(kernel): bigint {
			liveupdate_register_subsystem(kernel, testSubsystem("late", []));
			return 0n;
		},
	});
	t.throws(() => luo_prepare(k), /luo_state_rwsem: down_read while write-held: deadlock/);
});
