import t from "tap";
import { EACCES, EBADF, EEXIST, EFAULT, EINVAL, ENOTTY } from "../../kernel/errno.ts";
import { O_EXCL, O_RDWR } from "../../fs/fcntl.ts";
import { ioctlCmd } from "../../kernel/straceFormat.ts";
import { _IOR } from "../../uaccess/ioctl.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../uaccess/vma.ts";
import * as rfc from "../uapi/rfc-v2.ts";
import * as v2 from "../uapi/v2.ts";
import * as mainline from "../uapi/mainline.ts";
import { liveupdate_get_state } from "./luo_internal.ts";
import { liveupdate_register_filesystem, luo_files_outgoing_tokens } from "./luo_files.ts";
import { asRoot, bootLuo, getState, luoIoctl, luoTestFile, openLuo, testFs } from "./testing.ts";
import type { User } from "../../kernel/testing.ts";

/** A 16-byte liveupdate_fd in memory that can be read but not written (copy-out faults). */
function readOnlyFdArg(u: User, fd: number, token = 0n): number {
	const addr = u.p.mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	rfc.liveupdate_fd.toUser(u.p.mm, addr, { fd, token });
	u.p.mm.mprotect(addr, 4096, PROT_READ);
	return addr;
}

/** Every number another generation defines that the running one does not. */
const NOT_RFC = [v2.LIVEUPDATE_IOCTL_FD_PRESERVE, mainline.LIVEUPDATE_IOCTL_CREATE_SESSION, mainline.LIVEUPDATE_IOCTL_RETRIEVE_SESSION,
	mainline.LIVEUPDATE_SESSION_PRESERVE_FD, mainline.LIVEUPDATE_SESSION_RETRIEVE_FD, mainline.LIVEUPDATE_SESSION_FINISH, mainline.LIVEUPDATE_SESSION_GET_NAME];
const NOT_V2 = [rfc.LIVEUPDATE_IOCTL_FD_PRESERVE, rfc.LIVEUPDATE_IOCTL_EVENT_FREEZE, rfc.LIVEUPDATE_IOCTL_SELFTESTS, mainline.LIVEUPDATE_IOCTL_CREATE_SESSION,
	mainline.LIVEUPDATE_IOCTL_RETRIEVE_SESSION, mainline.LIVEUPDATE_SESSION_PRESERVE_FD, mainline.LIVEUPDATE_SESSION_RETRIEVE_FD,
	mainline.LIVEUPDATE_SESSION_FINISH, mainline.LIVEUPDATE_SESSION_GET_NAME];

t.test("open without CAP_SYS_ADMIN is EACCES", async (t) => {
	const k = bootLuo();
	await asRoot(k, (u) => void u.sys("chmod", "/dev/liveupdate", 0o666));
	await asRoot(k, (u) => void t.equal(openLuo(u), -EACCES), 1000);
});

t.test("open with O_EXCL is EINVAL", async (t) => {
	await asRoot(bootLuo(), (u) => void t.equal(openLuo(u, O_RDWR | O_EXCL), -EINVAL));
});

t.test("several opens at once are allowed; closing one changes nothing", async (t) => {
	const k = bootLuo();
	await asRoot(k, (u) => {
		const a = openLuo(u);
		const b = openLuo(u);
		t.ok(a >= 0 && b >= 0 && a !== b);
		t.equal(luoIoctl(u, a, rfc.LIVEUPDATE_IOCTL_EVENT_PREPARE), 0);
		u.sys("close", a);
		t.equal(getState(u, b, rfc.LIVEUPDATE_IOCTL_GET_STATE), rfc.LIVEUPDATE_STATE_PREPARED);
	});
});

t.test("a command of another ioctl type is ENOTTY", async (t) => {
	await asRoot(bootLuo(), (u) => void t.equal(luoIoctl(u, openLuo(u), _IOR("f", 3, 4), u.alloc(4)), -ENOTTY));
});

t.test("rfc-v2: the commands of v2 and mainline are ENOTTY and change nothing", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	await asRoot(k, (u) => {
		const fd = openLuo(u);
		const arg = u.alloc(128);
		v2.liveupdate_fd.toUser(u.p.mm, arg, { fd: luoTestFile(u, "a"), token: 1n });
		for (const cmd of NOT_RFC) t.equal(luoIoctl(u, fd, cmd, arg), -ENOTTY, ioctlCmd(cmd));
	});
	t.same(luo_files_outgoing_tokens(k), []);
	t.equal(liveupdate_get_state(k), "normal");
});

t.test("v2: the commands of rfc-v2 and mainline are ENOTTY and change nothing", async (t) => {
	const k = bootLuo({ abi: "v2" });
	liveupdate_register_filesystem(k, testFs([]));
	await asRoot(k, (u) => {
		const fd = openLuo(u);
		t.equal(luoIoctl(u, fd, v2.LIVEUPDATE_IOCTL_PREPARE), 0);
		const arg = u.alloc(128);
		rfc.liveupdate_fd.toUser(u.p.mm, arg, { fd: luoTestFile(u, "a") });
		for (const cmd of NOT_V2) t.equal(luoIoctl(u, fd, cmd, arg), -ENOTTY, ioctlCmd(cmd));
	});
	t.equal(liveupdate_get_state(k), "prepared", "EVENT_FREEZE did not freeze");
});

t.test("GET_STATE numbers the state as the running generation does", async (t) => {
	await asRoot(bootLuo(), (u) => void t.equal(getState(u, openLuo(u), rfc.LIVEUPDATE_IOCTL_GET_STATE), 0));
	await asRoot(bootLuo({ abi: "v2" }), (u) => void t.equal(getState(u, openLuo(u), v2.LIVEUPDATE_IOCTL_GET_STATE), 1));
});

t.test("bad pointers are EFAULT", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const fd = openLuo(u);
		for (const cmd of [rfc.LIVEUPDATE_IOCTL_GET_STATE, rfc.LIVEUPDATE_IOCTL_FD_PRESERVE, rfc.LIVEUPDATE_IOCTL_FD_UNPRESERVE,
			rfc.LIVEUPDATE_IOCTL_FD_RESTORE, rfc.LIVEUPDATE_IOCTL_SELFTESTS]) t.equal(luoIoctl(u, fd, cmd, 8), -EFAULT, ioctlCmd(cmd));
	});
});

t.test("FD_PRESERVE of a bad fd is EBADF", async (t) => {
	await asRoot(bootLuo(), (u) => {
		const arg = u.alloc(16);
		rfc.liveupdate_fd.toUser(u.p.mm, arg, { fd: 77 });
		t.equal(luoIoctl(u, openLuo(u), rfc.LIVEUPDATE_IOCTL_FD_PRESERVE, arg), -EBADF);
	});
});

t.test("rfc-v2 FD_PRESERVE writes the kernel's token back", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	await asRoot(k, (u) => {
		const fd = openLuo(u);
		const arg = u.alloc(16);
		for (const want of [0n, 1n]) {
			rfc.liveupdate_fd.toUser(u.p.mm, arg, { fd: luoTestFile(u, "a"), token: 99n });
			t.equal(luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_FD_PRESERVE, arg), 0);
			t.equal(rfc.liveupdate_fd.fromUser(u.p.mm, arg).token, want);
		}
	});
});

t.test("F2: when the token cannot be copied out, the file is unpreserved again and FD_PRESERVE is EFAULT", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	await asRoot(k, (u) => {
		const file = luoTestFile(u, "a");
		const refs = u.p.files.get(file).refcount;
		t.equal(luoIoctl(u, openLuo(u), rfc.LIVEUPDATE_IOCTL_FD_PRESERVE, readOnlyFdArg(u, file)), -EFAULT);
		t.equal(u.p.files.get(file).refcount, refs, "LUO's reference is dropped");
	});
	t.same(luo_files_outgoing_tokens(k), [], "no token userspace never learnt");
});

t.test("v2 FD_PRESERVE uses the caller's token; a token in use is EEXIST", async (t) => {
	const k = bootLuo({ abi: "v2" });
	liveupdate_register_filesystem(k, testFs([]));
	await asRoot(k, (u) => {
		const fd = openLuo(u);
		const arg = u.alloc(16);
		v2.liveupdate_fd.toUser(u.p.mm, arg, { fd: luoTestFile(u, "a"), token: 0xfeedn });
		t.equal(luoIoctl(u, fd, v2.LIVEUPDATE_IOCTL_FD_PRESERVE, arg), 0);
		t.equal(luoIoctl(u, fd, v2.LIVEUPDATE_IOCTL_FD_PRESERVE, arg), -EEXIST);
	});
	t.same(luo_files_outgoing_tokens(k), [0xfeedn]);
});

t.test("F2 under v2: a failed copy-back unpreserves the token again", async (t) => {
	const k = bootLuo({ abi: "v2" });
	liveupdate_register_filesystem(k, testFs([]));
	await asRoot(k, (u) => {
		t.equal(luoIoctl(u, openLuo(u), v2.LIVEUPDATE_IOCTL_FD_PRESERVE, readOnlyFdArg(u, luoTestFile(u, "a"), 5n)), -EFAULT);
	});
	t.same(luo_files_outgoing_tokens(k), []);
});

t.test("FD_UNPRESERVE reads the token through its pointer", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	await asRoot(k, (u) => {
		const fd = openLuo(u);
		const arg = u.alloc(16);
		rfc.liveupdate_fd.toUser(u.p.mm, arg, { fd: luoTestFile(u, "a") });
		luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_FD_PRESERVE, arg);
		t.equal(luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_FD_UNPRESERVE, u.u64s(0n)), 0);
	});
	t.same(luo_files_outgoing_tokens(k), []);
});

t.test("strace knows the commands by name", async (t) => {
	t.equal(ioctlCmd(rfc.LIVEUPDATE_IOCTL_FD_PRESERVE), "LIVEUPDATE_IOCTL_FD_PRESERVE");
	t.equal(ioctlCmd(v2.LIVEUPDATE_IOCTL_FD_PRESERVE), "LIVEUPDATE_IOCTL_FD_PRESERVE");
	t.equal(ioctlCmd(rfc.LIVEUPDATE_IOCTL_EVENT_FREEZE), "LIVEUPDATE_IOCTL_EVENT_FREEZE");
	t.equal(ioctlCmd(v2.LIVEUPDATE_IOCTL_PREPARE), "LIVEUPDATE_IOCTL_EVENT_PREPARE or LIVEUPDATE_IOCTL_PREPARE");
	t.equal(ioctlCmd(rfc.LIVEUPDATE_IOCTL_SELFTESTS), "LIVEUPDATE_IOCTL_SELFTESTS");
});
