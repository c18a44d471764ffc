import t from "tap";
import { E2BIG, EACCES, EBUSY, EEXIST, EFAULT, EINVAL, EMFILE, ENOENT, ENOTTY } from "../../kernel/errno.ts";
import { run, type User } from "../../kernel/testing.ts";
import { bootKernel } from "../../kernel/machine.ts";
import { runOutcome, kexecNow } from "../../kexec/testing.ts";
import { register_reboot_notifier } from "../../kexec/kexec_core.ts";
import { NOTIFY_DONE } from "../../kho/notifier.ts";
import { RLIMIT_NOFILE } from "../../kernel/process.ts";
import { O_RDONLY, O_RDWR } from "../../fs/fcntl.ts";
import { _IOWR } from "../../uaccess/ioctl.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../uaccess/addressSpace.ts";
import { kho_add_subtree, kho_remove_subtree } from "../../kho/mainline/kho.ts";
import { miscDevices } from "../../fs/miscdev.ts";
import {
	LIVEUPDATE_IOCTL_CREATE_SESSION, LIVEUPDATE_SESSION_GET_NAME, liveupdate_ioctl_create_session,
} from "../uapi/mainline.ts";
import { liveupdate_ioctl_init, luo_liveupdate_num, luo_state_phys } from "./luo_core.ts";
import { LUO_ABI_COMPATIBLE, luo_ser } from "./luo_abi.ts";
import { bootMainline, createSession, ioctlStruct, kexecAfter, nameBytes, openLuo } from "./testing.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import type { RebootEvent } from "../../kexec/reboot_event.ts";

const F_GETFD = 1;
const FD_CLOEXEC = 1;

/** A CREATE_SESSION struct of `size` bytes (name "s", anything past 72 bytes as given). */
function createArg(size: number, tail: Uint8Array = new Uint8Array(Math.max(0, size - 72))): Uint8Array {
	const b = new Uint8Array(Math.max(size, 72));
	b.set(liveupdate_ioctl_create_session.encode({ size, fd: -1 }));
	b.set(nameBytes("s"), 8);
	b.set(tail, 72);
	return b;
}

function logged(k: Kernel, text: string): boolean {
	return k.log.all().some((r) => r.text === text);
}

async function inKernel(k: Kernel, body: (u: User) => void, uid?: number): Promise<void> {
	await run((u) => void body(u), { kernel: k, uid });
}

t.test("a mainline boot has /dev/liveupdate, a root-only 0600 node", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const st = u.alloc(144);
		t.equal(u.sys("stat", "/dev/liveupdate", st), 0);
		t.equal(u.p.mm.getUser(st + 24, 4) & 0o7777, 0o600);
		t.equal(u.p.mm.getUser(st + 28, 4), 0, "owned by root");
		t.ok(openLuo(u) >= 0);
	});
});

t.test("liveupdate=off boots without /dev/liveupdate", async (t) => {
	await inKernel(bootMainline("liveupdate=off"), (u) => t.equal(openLuo(u), -ENOENT));
});

t.test("kho=off switches LUO off: no /dev/liveupdate", async (t) => {
	const k = bootMainline("kho=off");
	await inKernel(k, (u) => t.equal(openLuo(u), -ENOENT));
	t.equal(luo_state_phys(k), null, "no outgoing LUO state either");
});

t.test("the mainline device is not registered on a seed-era kernel", async (t) => {
	const k = bootKernel({ abi: "rfc-v2" });
	const n = miscDevices(k).length;
	t.equal(liveupdate_ioctl_init(k), 0);
	t.equal(miscDevices(k).length, n);
});

t.test("there is no /sys/kernel/liveupdate/state in mainline", async (t) => {
	await inKernel(bootMainline(), (u) => t.equal(u.sys("open", "/sys/kernel/liveupdate/state", O_RDONLY), -ENOENT));
});

t.test("a second open is EBUSY until the first is closed", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const fd = openLuo(u);
		t.ok(fd >= 0);
		t.equal(openLuo(u), -EBUSY);
		t.equal(u.sys("close", fd), 0);
		t.ok(openLuo(u) >= 0, "release cleared in_use");
	});
});

t.test("the node's mode is the only gate: no capability check", async (t) => {
	const k = bootMainline();
	await inKernel(k, (u) => t.equal(openLuo(u), -EACCES), 1000);
	await inKernel(k, (u) => t.equal(u.sys("chmod", "/dev/liveupdate", 0o666), 0));
	await inKernel(k, (u) => t.ok(openLuo(u) >= 0, "an unprivileged user opens it"), 1000);
});

t.test("/dev/liveupdate: a command number other than 0x00 and 0x01 is EINVAL", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const fd = openLuo(u);
		t.equal(ioctlStruct(u, fd, LIVEUPDATE_SESSION_GET_NAME, createArg(72)).ret, -EINVAL, "a session ioctl");
		t.equal(u.sys("ioctl", fd, 0xba02, 0), -EINVAL, "checked before the argument is read");
	});
});

t.test("/dev/liveupdate: an unreadable argument is EFAULT", async (t) => {
	await inKernel(bootMainline(), (u) => t.equal(u.sys("ioctl", openLuo(u), LIVEUPDATE_IOCTL_CREATE_SESSION, 16), -EFAULT));
});

t.test("/dev/liveupdate: the same number with other direction or size bits is ENOTTY", async (t) => {
	await inKernel(bootMainline(), (u) => {
		t.equal(ioctlStruct(u, openLuo(u), _IOWR(0xba, 0, 72), createArg(72)).ret, -ENOTTY);
	});
});

t.test("/dev/liveupdate: a size below offsetofend(name) is EINVAL", async (t) => {
	await inKernel(bootMainline(), (u) => {
		t.equal(ioctlStruct(u, openLuo(u), LIVEUPDATE_IOCTL_CREATE_SESSION, createArg(71)).ret, -EINVAL);
	});
});

t.test("/dev/liveupdate: a larger struct with a non-zero tail is E2BIG", async (t) => {
	await inKernel(bootMainline(), (u) => {
		t.equal(ioctlStruct(u, openLuo(u), LIVEUPDATE_IOCTL_CREATE_SESSION, createArg(80, new Uint8Array([0, 0, 0, 1]))).ret, -E2BIG);
	});
});

t.test("/dev/liveupdate: a larger zero-tailed struct works and only the kernel's 72 bytes come back", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const fd = openLuo(u);
		const addr = u.alloc(88);
		u.p.mm.copyToUser(addr, createArg(80, new Uint8Array(8)));
		u.p.mm.copyToUser(addr + 80, new Uint8Array([0xee]));
		t.equal(u.sys("ioctl", fd, LIVEUPDATE_IOCTL_CREATE_SESSION, addr), 0);
		const out = u.read(addr, 81);
		t.ok(new DataView(out.buffer).getInt32(4, true) > 0, "fd written");
		t.equal(out[80], 0xee, "nothing written past the user's size");
	});
});

t.test("session fds are close-on-exec", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const s = createSession(u, openLuo(u), "cloexec");
		t.equal(u.sys("fcntl", s, F_GETFD), FD_CLOEXEC);
	});
});

t.test("CREATE_SESSION with no free fd is EMFILE and creates nothing", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const fd = openLuo(u);
		const lim = u.p.rlimits[RLIMIT_NOFILE]!;
		const saved = lim.cur;
		lim.cur = BigInt(u.p.files.lowestFree());
		t.equal(createSession(u, fd, "full"), -EMFILE);
		lim.cur = saved;
		t.ok(createSession(u, fd, "full") >= 0, "the name is still free");
	});
});

t.test("CREATE_SESSION whose answer cannot be written is EFAULT and leaves no session", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const fd = openLuo(u);
		const addr = u.p.mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
		u.p.mm.copyToUser(addr, createArg(72));
		u.p.mm.mprotect(addr, 4096, PROT_READ);
		const before = u.p.files.fds().length;
		t.equal(u.sys("ioctl", fd, LIVEUPDATE_IOCTL_CREATE_SESSION, addr), -EFAULT);
		t.equal(u.p.files.fds().length, before, "no fd installed");
		t.ok(createSession(u, fd, "s") >= 0, "no session \"s\" was left");
	});
});

t.test("the outgoing LUO state is the 32-byte \"luo-v5\" subtree with liveupdate number 1 after a cold boot", async (t) => {
	const k = bootMainline();
	t.notOk(k.log.all().some((r) => r.text.startsWith("luo: Retrieved live update data")));
	await inKernel(k, (u) => {
		const fd = u.sys("open", "/sys/kernel/debug/kho/out/sub_fdts/LUO", O_RDONLY);
		const buf = u.alloc(64);
		t.equal(u.sys("read", fd, buf, 64), 32);
		const ser = luo_ser.decode(u.read(buf, 32));
		t.equal(ser.compatible, LUO_ABI_COMPATIBLE);
		t.equal(ser.liveupdate_num, 1n);
		t.equal(ser.sessions_pa, 0n, "no sessions yet");
		t.not(ser.flbs_pa, 0n, "the FLB page");
	});
});

t.test("each kexec reads the previous liveupdate number and hands on the next", async (t) => {
	const k1 = bootMainline();
	const k2 = await kexecAfter(k1, () => undefined);
	t.ok(logged(k2, "luo: Retrieved live update data, liveupdate number: 1"));
	t.equal(luo_liveupdate_num(k2), 1n);
	const k3 = await kexecAfter(k2, () => undefined);
	t.ok(logged(k3, "luo: Retrieved live update data, liveupdate number: 2"));
});

/**
 * Kexecs a mainline kernel after `corrupt` changed its LUO state (from a
 * reboot notifier: after liveupdate_reboot() wrote it); the next boot's
 * panic event and log line.
 */
async function bootAfter(corrupt: (k: Kernel) => void): Promise<{ kind: string; message: string | null; log: string[] }> {
	const k = bootMainline();
	register_reboot_notifier(k, { notifier_call: () => (corrupt(k), NOTIFY_DONE) });
	const events: RebootEvent[] = [];
	k.machine.onReboot((ev) => void events.push(ev));
	await runOutcome(k, (u) => kexecNow(u, k.cmdline.text));
	// A boot that panics emits its panic before the kexec that started it.
	const ev = events[0]!;
	return { kind: ev.kind, message: ev.message, log: ev.from.log.all().map((r) => r.text) };
}

const RESTORE_FAIL = "The incoming tree failed to initialize properly [-EINVAL], disabling live update";

t.test("a LUO state with another compatible panics the next kernel", async (t) => {
	const r = await bootAfter((k) => k.buddy.pm.write(luo_state_phys(k)!, new TextEncoder().encode("luo-v4")));
	t.equal(r.kind, "panic");
	t.equal(r.message, RESTORE_FAIL);
	t.ok(r.log.includes("luo: LUO state is incompatible with 'luo-v5'"));
});

t.test("a LUO state shorter than struct luo_ser panics the next kernel", async (t) => {
	const r = await bootAfter((k) => {
		const phys = luo_state_phys(k)!;
		kho_remove_subtree(k, phys);
		kho_add_subtree(k, "LUO", phys, 16);
	});
	t.equal(r.kind, "panic");
	t.equal(r.message, RESTORE_FAIL);
	t.ok(r.log.includes("luo: LUO state is too small (16 < 32)"));
});

t.test("a corrupted session block chain panics the next kernel", async (t) => {
	const r = await bootAfter((k) => {
		// sessions_pa pointing into the middle of a page.
		const v = new DataView(new ArrayBuffer(8));
		v.setBigUint64(0, BigInt(luo_state_phys(k)! + 8), true);
		k.buddy.pm.write(luo_state_phys(k)! + 16, new Uint8Array(v.buffer));
	});
	t.equal(r.kind, "panic");
	t.equal(r.message, RESTORE_FAIL);
	t.ok(r.log.includes("luo: Block set is corrupted"));
});

t.test("an intact LUO state boots the next kernel without a panic", async (t) => {
	const r = await bootAfter(() => undefined);
	t.equal(r.kind, "kexec");
});

t.test("the device opens O_RDWR and closing it does not touch sessions", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const fd = u.sys("open", "/dev/liveupdate", O_RDWR);
		const s = createSession(u, fd, "keep");
		t.equal(u.sys("close", fd), 0);
		const fd2 = openLuo(u);
		t.equal(createSession(u, fd2, "keep"), -EEXIST, "still there");
		t.ok(s >= 0);
	});
});

t.test("with liveupdate=off a kexec hands no LUO state over", async (t) => {
	const k = await kexecAfter(bootMainline("liveupdate=off"), () => undefined);
	t.notOk(k.log.all().some((r) => r.text.startsWith("luo: Retrieved live update data")));
	t.equal(luo_liveupdate_num(k), 0n);
});
