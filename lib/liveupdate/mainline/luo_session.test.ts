import t from "tap";
import { E2BIG, EEXIST, EFAULT, EINVAL, ENOENT, ENOTTY } from "../../kernel/errno.ts";
import { run, type User } from "../../kernel/testing.ts";
import { _IOWR } from "../../uaccess/ioctl.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../uaccess/addressSpace.ts";
import {
	LIVEUPDATE_IOCTL_CREATE_SESSION, LIVEUPDATE_SESSION_FINISH, LIVEUPDATE_SESSION_GET_NAME, LIVEUPDATE_SESSION_PRESERVE_FD,
	LIVEUPDATE_SESSION_RETRIEVE_FD, liveupdate_ioctl_create_session, liveupdate_session_finish, liveupdate_session_get_name,
	liveupdate_session_preserve_fd,
} from "../uapi/mainline.ts";
import { liveupdate_register_file_handler } from "./luo_file.ts";
import {
	bootMainline, createSession, finishSession, getName, ioctlStruct, kexecAfter, openLuo, preserveFd, retrieveSession,
	testFile, testHandler,
} from "./testing.ts";
import type { Kernel } from "../../kernel/kernel.ts";

async function inKernel(k: Kernel, body: (u: User) => void): Promise<void> {
	await run((u) => void body(u), { kernel: k });
}

/** A kernel after a kexec that handed over empty sessions `names` (created in this order). */
async function withIncoming(...names: string[]): Promise<Kernel> {
	return kexecAfter(bootMainline(), (u) => {
		const fd = openLuo(u);
		for (const n of names) createSession(u, fd, n);
	});
}

t.test("an empty name is EINVAL", async (t) => {
	await inKernel(bootMainline(), (u) => t.equal(createSession(u, openLuo(u), ""), -EINVAL));
});

t.test("a name with no NUL in its 64 bytes is EINVAL", async (t) => {
	await inKernel(bootMainline(), (u) => t.equal(createSession(u, openLuo(u), "X".repeat(64)), -EINVAL));
});

t.test("a 63-character name works and GET_NAME returns all of it", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const s = createSession(u, openLuo(u), "A".repeat(63));
		t.ok(s >= 0);
		t.equal(getName(u, s), "A".repeat(63));
	});
});

t.test("a name already in the outgoing list is EEXIST; distinct names are fine", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const fd = openLuo(u);
		t.ok(createSession(u, fd, "a") >= 0);
		t.equal(createSession(u, fd, "a"), -EEXIST);
		t.ok(createSession(u, fd, "b") >= 0);
	});
});

t.test("closing an outgoing session frees its name", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const fd = openLuo(u);
		u.sys("close", createSession(u, fd, "a"));
		t.ok(createSession(u, fd, "a") >= 0);
	});
});

t.test("a session fd is an anonymous inode named [luo_session] NAME", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const s = createSession(u, openLuo(u), "named");
		const buf = u.alloc(128);
		const n = u.sys("readlink", `/proc/self/fd/${s}`, buf, 128);
		t.equal(new TextDecoder().decode(u.read(buf, n)), "anon_inode:[luo_session] named");
	});
});

t.test("a session fd has no read or write", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const s = createSession(u, openLuo(u), "rw");
		const buf = u.alloc(8);
		t.equal(u.sys("read", s, buf, 8), -EINVAL);
		t.equal(u.sys("write", s, buf, 8), -EINVAL);
	});
});

t.test("RETRIEVE_SESSION after a cold boot is ENOENT", async (t) => {
	await inKernel(bootMainline(), (u) => t.equal(retrieveSession(u, openLuo(u), "a"), -ENOENT));
});

t.test("an outgoing session cannot be retrieved: the lists are separate", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const fd = openLuo(u);
		createSession(u, fd, "out");
		t.equal(retrieveSession(u, fd, "out"), -ENOENT);
	});
});

t.test("an incoming session's name can be created again as an outgoing one", async (t) => {
	const k = await withIncoming("foo");
	await inKernel(k, (u) => {
		const fd = openLuo(u);
		t.ok(createSession(u, fd, "foo") >= 0);
		const s = retrieveSession(u, fd, "foo");
		t.ok(s >= 0, "the incoming one is still there");
		t.equal(finishSession(u, s), 0, "and it is the incoming one (FINISH needs an incoming session)");
	});
});

t.test("an empty session survives a kexec and is retrieved by name", async (t) => {
	const k = await withIncoming("one", "two");
	await inKernel(k, (u) => {
		const fd = openLuo(u);
		const s = retrieveSession(u, fd, "two");
		t.ok(s >= 0);
		t.equal(getName(u, s), "two");
		t.equal(retrieveSession(u, fd, "three"), -ENOENT);
	});
});

t.test("a session retrieved already is EINVAL, even while its fd is open", async (t) => {
	const k = await withIncoming("x");
	await inKernel(k, (u) => {
		const fd = openLuo(u);
		t.ok(retrieveSession(u, fd, "x") >= 0);
		t.equal(retrieveSession(u, fd, "x"), -EINVAL);
	});
});

t.test("closing a retrieved session finishes it: it is gone", async (t) => {
	const k = await withIncoming("gone");
	await inKernel(k, (u) => {
		const fd = openLuo(u);
		u.sys("close", retrieveSession(u, fd, "gone"));
		t.equal(retrieveSession(u, fd, "gone"), -ENOENT);
	});
});

t.test("closing a retrieved session whose finish fails keeps it, and it cannot be retrieved again", async (t) => {
	const h = testHandler({ cannotFinish: true });
	const k1 = bootMainline();
	liveupdate_register_file_handler(k1, h);
	const k2 = await kexecAfter(k1, (u) => {
		const s = createSession(u, openLuo(u), "stuck");
		preserveFd(u, s, testFile(u, 1n), 1n);
	});
	liveupdate_register_file_handler(k2, h);
	await inKernel(k2, (u) => {
		const fd = openLuo(u);
		u.sys("close", retrieveSession(u, fd, "stuck"));
		t.equal(retrieveSession(u, fd, "stuck"), -EINVAL);
	});
	t.ok(k2.log.all().some((r) => r.text === "luo: Unable to finish session [stuck] on release"));
});

/** An outgoing session fd in a fresh kernel, for the dispatch tests. */
async function withSession(body: (u: User, s: number) => void): Promise<void> {
	await inKernel(bootMainline(), (u) => body(u, createSession(u, openLuo(u), "s")));
}

t.test("session fd: a command number outside 0x40..0x43 is EINVAL", async (t) => {
	await withSession((u, s) => {
		t.equal(ioctlStruct(u, s, LIVEUPDATE_IOCTL_CREATE_SESSION, liveupdate_ioctl_create_session.encode({ size: 72, name: "x" })).ret, -EINVAL);
		t.equal(u.sys("ioctl", s, 0xba44, 0), -EINVAL, "checked before the argument is read");
	});
});

t.test("session fd: an unreadable argument is EFAULT", async (t) => {
	await withSession((u, s) => t.equal(u.sys("ioctl", s, LIVEUPDATE_SESSION_GET_NAME, 8), -EFAULT));
});

t.test("session fd: the full command must match (ENOTTY), before the direction check", async (t) => {
	await withSession((u, s) => {
		t.equal(ioctlStruct(u, s, _IOWR(0xba, 0x42, 8), liveupdate_session_finish.encode({ size: 8 })).ret, -ENOTTY, "FINISH's nr on an outgoing session");
	});
});

t.test("session fd: FINISH and RETRIEVE_FD on an outgoing session are EINVAL", async (t) => {
	await withSession((u, s) => {
		t.equal(finishSession(u, s), -EINVAL);
		t.equal(ioctlStruct(u, s, LIVEUPDATE_SESSION_RETRIEVE_FD, liveupdate_session_preserve_fd.encode({ size: 16 })).ret, -EINVAL);
	});
});

t.test("session fd: PRESERVE_FD on an incoming session is EINVAL", async (t) => {
	const k = await withIncoming("in");
	await inKernel(k, (u) => {
		const s = retrieveSession(u, openLuo(u), "in");
		t.equal(preserveFd(u, s, 0, 1n), -EINVAL);
	});
});

t.test("session fd: the direction check comes before the size and tail checks", async (t) => {
	await withSession((u, s) => {
		const big = new Uint8Array(16);
		big.set(liveupdate_session_finish.encode({ size: 16 }));
		big[12] = 1;
		t.equal(ioctlStruct(u, s, LIVEUPDATE_SESSION_FINISH, big).ret, -EINVAL, "not E2BIG");
	});
});

t.test("session fd: a size below offsetofend of the last field is EINVAL", async (t) => {
	await withSession((u, s) => {
		t.equal(ioctlStruct(u, s, LIVEUPDATE_SESSION_PRESERVE_FD, liveupdate_session_preserve_fd.encode({ size: 15 })).ret, -EINVAL);
		t.equal(ioctlStruct(u, s, LIVEUPDATE_SESSION_GET_NAME, liveupdate_session_get_name.encode({ size: 71 })).ret, -EINVAL);
	});
});

t.test("session fd: a non-zero tail past the kernel's struct is E2BIG", async (t) => {
	await withSession((u, s) => {
		const arg = new Uint8Array(80);
		arg.set(liveupdate_session_get_name.encode({ size: 80 }));
		arg[79] = 1;
		t.equal(ioctlStruct(u, s, LIVEUPDATE_SESSION_GET_NAME, arg).ret, -E2BIG);
	});
});

t.test("session fd: a zero tail is accepted and only the kernel's bytes are written back", async (t) => {
	await withSession((u, s) => {
		const addr = u.alloc(96);
		u.p.mm.copyToUser(addr, liveupdate_session_get_name.encode({ size: 80 }));
		u.p.mm.copyToUser(addr + 80, new Uint8Array([0xee]));
		t.equal(u.sys("ioctl", s, LIVEUPDATE_SESSION_GET_NAME, addr), 0);
		const out = u.read(addr, 81);
		t.equal(liveupdate_session_get_name.decode(out).name, "s");
		t.equal(out[80], 0xee);
	});
});

t.test("GET_NAME with reserved set is EINVAL", async (t) => {
	await withSession((u, s) => {
		t.equal(ioctlStruct(u, s, LIVEUPDATE_SESSION_GET_NAME, liveupdate_session_get_name.encode({ size: 72, reserved: 1 })).ret, -EINVAL);
	});
});

t.test("GET_NAME overwrites whatever the caller left in name", async (t) => {
	await withSession((u, s) => {
		const { ret, out } = ioctlStruct(u, s, LIVEUPDATE_SESSION_GET_NAME, liveupdate_session_get_name.encode({ size: 72, name: "zzzzzzzzzz" }));
		t.equal(ret, 0);
		t.equal(liveupdate_session_get_name.decode(out).name, "s");
	});
});

t.test("FINISH does not check reserved, and an empty session finishes again and again", async (t) => {
	const k = await withIncoming("f");
	await inKernel(k, (u) => {
		const s = retrieveSession(u, openLuo(u), "f");
		t.equal(ioctlStruct(u, s, LIVEUPDATE_SESSION_FINISH, liveupdate_session_finish.encode({ size: 8, reserved: 7 })).ret, 0);
		t.equal(finishSession(u, s), 0);
	});
});

t.test("session fd: a larger struct whose tail runs into unmapped memory is EFAULT", async (t) => {
	await withSession((u, s) => {
		const addr = u.p.mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
		u.p.mm.munmap(addr + 4096, 4096);
		u.p.mm.copyToUser(addr, liveupdate_session_get_name.encode({ size: 8192 }));
		t.equal(u.sys("ioctl", s, LIVEUPDATE_SESSION_GET_NAME, addr), -EFAULT);
	});
});
