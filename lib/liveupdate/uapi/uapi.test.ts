import t from "tap";
import * as rfc from "./rfc-v2.ts";
import * as v2 from "./v2.ts";
import { offsetof, sizeof } from "../../uaccess/struct.ts";

t.test("rfc-v2 ioctl numbers (seed 000)", async (t) => {
	t.equal(rfc.LIVEUPDATE_IOCTL_FD_PRESERVE, 0xc010ba00);
	t.equal(rfc.LIVEUPDATE_IOCTL_FD_UNPRESERVE, 0x4008ba01);
	t.equal(rfc.LIVEUPDATE_IOCTL_FD_RESTORE, 0xc010ba02);
	t.equal(rfc.LIVEUPDATE_IOCTL_GET_STATE, 0x8004ba03);
	t.same([rfc.LIVEUPDATE_IOCTL_EVENT_PREPARE, rfc.LIVEUPDATE_IOCTL_EVENT_FREEZE, rfc.LIVEUPDATE_IOCTL_EVENT_CANCEL, rfc.LIVEUPDATE_IOCTL_EVENT_FINISH], [0xba04, 0xba05, 0xba06, 0xba07]);
	t.equal(rfc.LIVEUPDATE_IOCTL_SELFTESTS, 0xc010ba08);
});

t.test("v2 ioctl numbers (seed 001): FD_PRESERVE is _IOW, 0x05 is a gap", async (t) => {
	t.equal(v2.LIVEUPDATE_IOCTL_FD_PRESERVE, 0x4010ba00);
	t.equal(v2.LIVEUPDATE_IOCTL_FD_UNPRESERVE, 0x4008ba01);
	t.equal(v2.LIVEUPDATE_IOCTL_FD_RESTORE, 0xc010ba02);
	t.equal(v2.LIVEUPDATE_IOCTL_GET_STATE, 0x8004ba03);
	t.same([v2.LIVEUPDATE_IOCTL_PREPARE, v2.LIVEUPDATE_IOCTL_CANCEL, v2.LIVEUPDATE_IOCTL_FINISH], [0xba04, 0xba06, 0xba07]);
	t.notOk("LIVEUPDATE_IOCTL_FREEZE" in v2 || "LIVEUPDATE_IOCTL_SELFTESTS" in v2);
});

t.test("the states: rfc-v2 0..3, v2 UNDEFINED 0 then 1..4", async (t) => {
	t.same([rfc.LIVEUPDATE_STATE_NORMAL, rfc.LIVEUPDATE_STATE_PREPARED, rfc.LIVEUPDATE_STATE_FROZEN, rfc.LIVEUPDATE_STATE_UPDATED], [0, 1, 2, 3]);
	t.same([v2.LIVEUPDATE_STATE_UNDEFINED, v2.LIVEUPDATE_STATE_NORMAL, v2.LIVEUPDATE_STATE_PREPARED, v2.LIVEUPDATE_STATE_FROZEN, v2.LIVEUPDATE_STATE_UPDATED], [0, 1, 2, 3, 4]);
});

t.test("struct layouts: liveupdate_fd 16, liveupdate_selftest 16, luo_arg_subsystem 40", async (t) => {
	for (const l of [rfc.liveupdate_fd, v2.liveupdate_fd]) {
		t.equal(sizeof(l), 16);
		t.same([offsetof(l, "fd"), offsetof(l, "flags"), offsetof(l, "token")], [0, 4, 8]);
	}
	t.equal(sizeof(rfc.liveupdate_selftest), 16);
	t.equal(sizeof(rfc.luo_arg_subsystem), 40);
	t.equal(offsetof(rfc.luo_arg_subsystem, "data_page"), 32);
});
