import t from "tap";
import { EACCES, ENOENT } from "../../kernel/errno.ts";
import { O_RDONLY, O_WRONLY } from "../../fs/fcntl.ts";
import { POLLERR, POLLIN, POLLPRI } from "../../fs/poll.ts";
import { struct_pollfd, struct_stat } from "../../uaccess/abi.ts";
import { luo_cancel, luo_freeze, luo_prepare } from "./luo_core.ts";
import { asRoot, bootLuo, liveUpdate, sysfsState } from "./testing.ts";
import type { User } from "../../kernel/testing.ts";

const STATE = "/sys/kernel/liveupdate/state";

/** poll() of one fd with timeout 0: its revents. */
async function revents(u: User, fd: number, events: number): Promise<number> {
	const pfd = u.alloc(struct_pollfd.size);
	struct_pollfd.toUser(u.p.mm, pfd, { fd, events });
	await u.sysAsync("poll", pfd, 1, 0);
	return struct_pollfd.fromUser(u.p.mm, pfd).revents;
}

t.test("state is a 0444 file; opening it for writing is EACCES even for root", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const st = u.alloc(struct_stat.size);
		t.equal(u.sys("stat", STATE, st), 0);
		t.equal(struct_stat.fromUser(u.p.mm, st).st_mode & 0o777, 0o444);
		t.equal(u.sys("open", STATE, O_WRONLY), -EACCES);
	});
});

t.test("it shows normal, prepared, frozen, each with a newline", async (t) => {
	const k = bootLuo();
	const seen: (string | null)[] = [];
	await asRoot(k, (u) => void seen.push(sysfsState(u)));
	luo_prepare(k);
	await asRoot(k, (u) => void seen.push(sysfsState(u)));
	luo_freeze(k);
	await asRoot(k, (u) => void seen.push(sysfsState(u)));
	luo_cancel(k);
	await asRoot(k, (u) => void seen.push(sysfsState(u)));
	t.same(seen, ["normal\n", "prepared\n", "frozen\n", "normal\n"]);
});

t.test("it shows updated in the kernel a live update booted", async (t) => {
	const k1 = bootLuo();
	const k2 = await liveUpdate(k1, () => luo_prepare(k1));
	await asRoot(k2, (u) => void t.equal(sysfsState(u), "updated\n"));
});

t.test("every transition is sysfs_notify'd: a poller sees POLLPRI|POLLERR until it reads again", async (t) => {
	const k = bootLuo();
	await asRoot(k, async (u) => {
		const fd = u.sys("open", STATE, O_RDONLY);
		const buf = u.alloc(64);
		u.sys("read", fd, buf, 64);
		t.equal(await revents(u, fd, POLLPRI), 0, "quiet before a transition");
		luo_prepare(k);
		t.equal(await revents(u, fd, POLLPRI), POLLPRI | POLLERR);
		u.sys("lseek", fd, 0, 0);
		u.sys("read", fd, buf, 64);
		t.equal(await revents(u, fd, POLLPRI | POLLIN), POLLIN, "cleared by the read");
		luo_cancel(k);
		t.equal(await revents(u, fd, POLLPRI), POLLPRI | POLLERR, "CANCEL notifies too");
	});
});

t.test("a mainline kernel has no /sys/kernel/liveupdate", async (t) => {
	await asRoot(bootLuo({ abi: "mainline" }), (u) => void t.equal(u.sys("open", STATE, O_RDONLY), -ENOENT));
});
