import t from "tap";
import { EBADF, EBUSY, EEXIST, EFAULT, EINVAL, EIO, EMFILE, ENOENT, EOPNOTSUPP } from "../../kernel/errno.ts";
import { RLIMIT_NOFILE } from "../../kernel/process.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../uaccess/addressSpace.ts";
import { LIVEUPDATE_SESSION_PRESERVE_FD, liveupdate_session_preserve_fd } from "../uapi/mainline.ts";
import { run, type User } from "../../kernel/testing.ts";
import { errnoOf } from "../../fs/syscalls/testing.ts";
import { O_RDWR } from "../../fs/fcntl.ts";
import {
	liveupdate_register_file_handler, liveupdate_unregister_file_handler, luo_file_handlers, luo_outgoing_compatibles,
	type LiveupdateFileOps,
} from "./luo_file.ts";
import {
	TEST_HANDLER_COMPATIBLE, bootMainline, createSession, finishSession, kexecAfter, openLuo, preserveFd, preservedBlocks,
	retrieveFd, retrieveSession, testFile, testFileValue, testHandler, type TestHandler, type TestHandlerFaults,
} from "./testing.ts";
import type { Kernel } from "../../kernel/kernel.ts";

const F_GETFD = 1;

async function inKernel(k: Kernel, body: (u: User) => void): Promise<void> {
	await run((u) => void body(u), { kernel: k });
}

/** A mainline kernel with the fixture registered. */
function withHandler(faults: TestHandlerFaults = {}): { k: Kernel; h: TestHandler } {
	const k = bootMainline();
	const h = testHandler(faults);
	liveupdate_register_file_handler(k, h);
	return { k, h };
}

/**
 * Stage 1 preserves fixture files of `values` (tokens 1, 2, ...) in session
 * "s" and kexecs; returns the next kernel with the fixture registered.
 */
async function handedOver(values: bigint[], faults: TestHandlerFaults = {}): Promise<{ k: Kernel; h: TestHandler }> {
	const { k: k1, h } = withHandler();
	const k = await kexecAfter(k1, (u) => {
		const s = createSession(u, openLuo(u), "s");
		values.forEach((v, i) => preserveFd(u, s, testFile(u, v), BigInt(i + 1)));
	});
	h.log.length = 0;
	Object.assign(h.faults, faults);
	liveupdate_register_file_handler(k, h);
	return { k, h };
}

t.test("registering a handler with LUO off is EOPNOTSUPP", async (t) => {
	t.equal(errnoOf(() => liveupdate_register_file_handler(bootMainline("liveupdate=off"), testHandler())), EOPNOTSUPP);
});

t.test("registering a handler without a required op is EINVAL", async (t) => {
	const h = testHandler();
	const ops: Partial<LiveupdateFileOps> = { ...h.ops };
	delete ops.finish;
	t.equal(errnoOf(() => liveupdate_register_file_handler(bootMainline(), { compatible: "x-v1", ops: ops as LiveupdateFileOps })), EINVAL);
});

t.test("a compatible that does not fit in 48 bytes with its NUL is EINVAL", async (t) => {
	t.equal(errnoOf(() => liveupdate_register_file_handler(bootMainline(), testHandler({}, "c".repeat(48)))), EINVAL);
});

t.test("a second handler with the same compatible is EEXIST", async (t) => {
	const { k } = withHandler();
	t.equal(errnoOf(() => liveupdate_register_file_handler(k, testHandler())), EEXIST);
	t.same(luo_file_handlers(k).map((h) => h.compatible), ["memfd-v2", TEST_HANDLER_COMPATIBLE]);
});

t.test("an unregistered handler no longer takes files", async (t) => {
	const { k, h } = withHandler();
	liveupdate_unregister_file_handler(k, h);
	await inKernel(k, (u) => t.equal(preserveFd(u, createSession(u, openLuo(u), "s"), testFile(u, 1n), 1n), -ENOENT));
});

t.test("a file no handler accepts is ENOENT", async (t) => {
	await inKernel(bootMainline(), (u) => {
		const s = createSession(u, openLuo(u), "s");
		t.equal(preserveFd(u, s, u.sys("open", "/dev/null", O_RDWR), 1n), -ENOENT);
	});
});

t.test("a closed fd is EBADF", async (t) => {
	await inKernel(bootMainline(), (u) => t.equal(preserveFd(u, createSession(u, openLuo(u), "s"), 99, 1n), -EBADF));
});

t.test("a token used in the session is EEXIST; another session may use it", async (t) => {
	const { k } = withHandler();
	await inKernel(k, (u) => {
		const fd = openLuo(u);
		const a = createSession(u, fd, "a");
		t.equal(preserveFd(u, a, testFile(u, 1n), 7n), 0);
		t.equal(preserveFd(u, a, testFile(u, 2n), 7n), -EEXIST);
		t.equal(preserveFd(u, createSession(u, fd, "b"), testFile(u, 3n), 7n), 0);
	});
});

t.test("the same file preserved twice, in one session or two, is EBUSY", async (t) => {
	const { k } = withHandler();
	await inKernel(k, (u) => {
		const fd = openLuo(u);
		const a = createSession(u, fd, "a");
		const f = testFile(u, 1n);
		t.equal(preserveFd(u, a, f, 1n), 0);
		t.equal(preserveFd(u, a, f, 2n), -EBUSY);
		t.equal(preserveFd(u, createSession(u, fd, "b"), u.sys("dup", f), 1n), -EBUSY, "a dup is the same file");
	});
});

t.test("a handler's preserve() error is returned and leaves nothing behind", async (t) => {
	const { k, h } = withHandler({ preserve: EIO });
	await inKernel(k, (u) => {
		const s = createSession(u, openLuo(u), "s");
		const f = testFile(u, 1n);
		t.equal(preserveFd(u, s, f, 1n), -EIO);
		h.faults.preserve = 0;
		t.equal(preserveFd(u, s, f, 1n), 0, "neither the token nor the file is taken");
	});
});

t.test("LUO keeps its own reference: the fd may be closed after preserve", async (t) => {
	const { k, h } = withHandler();
	await inKernel(k, (u) => {
		const s = createSession(u, openLuo(u), "s");
		const f = testFile(u, 4n);
		const file = u.p.files.get(f);
		preserveFd(u, s, f, 1n);
		u.sys("close", f);
		t.equal(file.refcount, 1, "LUO's reference");
		u.sys("close", s);
		t.equal(file.refcount, 0, "dropped when the session closes");
	});
	t.same(h.log, ["preserve:4", "unpreserve:4:priv-4"]);
});

t.test("closing an outgoing session unpreserves its files, last first", async (t) => {
	const { k, h } = withHandler();
	await inKernel(k, (u) => {
		const s = createSession(u, openLuo(u), "s");
		for (const v of [1n, 2n, 3n]) preserveFd(u, s, testFile(u, v), v);
		h.log.length = 0;
		u.sys("close", s);
	});
	t.same(h.log, ["unpreserve:3:priv-3", "unpreserve:2:priv-2", "unpreserve:1:priv-1"]);
});

t.test("a closed session leaves nothing preserved in KHO", async (t) => {
	const { k } = withHandler();
	await inKernel(k, (u) => {
		const fd = openLuo(u);
		const before = preservedBlocks(k);
		const s = createSession(u, fd, "s");
		for (let i = 0; i < 70; i++) preserveFd(u, s, testFile(u, BigInt(i)), BigInt(i));
		t.ok(preservedBlocks(k).length > before.length, "blocks preserved while it is open");
		u.sys("close", s);
		t.same(preservedBlocks(k), before);
	});
});

t.test("luo_outgoing_compatibles names the handlers with preserved files", async (t) => {
	const { k } = withHandler();
	await inKernel(k, (u) => {
		const s = createSession(u, openLuo(u), "s");
		t.same([...luo_outgoing_compatibles(k)], []);
		preserveFd(u, s, testFile(u, 1n), 1n);
		t.same([...luo_outgoing_compatibles(k)], [TEST_HANDLER_COMPATIBLE]);
		u.sys("close", s);
		t.same([...luo_outgoing_compatibles(k)], []);
	});
});

t.test("a preserved file is retrieved in the next kernel, close-on-exec, with its frozen data", async (t) => {
	const { k, h } = await handedOver([5n]);
	await inKernel(k, (u) => {
		const fd = retrieveFd(u, retrieveSession(u, openLuo(u), "s"), 1n);
		t.ok(fd >= 0);
		t.equal(testFileValue(u, fd), 5n + 0x1000n, "freeze() updated the data before it was handed over");
		t.equal(u.sys("fcntl", fd, F_GETFD), 1);
	});
	t.same(h.log, ["retrieve:4101", "can_finish:4101:1", "finish:4101:1"], "the exit closed the session, which finished it");
});

t.test("RETRIEVE_FD with no free fd is EMFILE and retrieves nothing", async (t) => {
	const { k, h } = await handedOver([1n]);
	await inKernel(k, (u) => {
		const s = retrieveSession(u, openLuo(u), "s");
		const lim = u.p.rlimits[RLIMIT_NOFILE]!;
		const saved = lim.cur;
		lim.cur = BigInt(u.p.files.lowestFree());
		t.equal(retrieveFd(u, s, 1n), -EMFILE);
		lim.cur = saved;
		t.notOk(h.log.some((l) => l.startsWith("retrieve:")), "retrieve() was not called");
		t.ok(retrieveFd(u, s, 1n) >= 0);
	});
});

t.test("PRESERVE_FD whose answer cannot be written is EFAULT but the file stays preserved", async (t) => {
	const { k } = withHandler();
	await inKernel(k, (u) => {
		const s = createSession(u, openLuo(u), "s");
		const f = testFile(u, 1n);
		const addr = u.p.mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
		u.p.mm.copyToUser(addr, liveupdate_session_preserve_fd.encode({ size: 16, fd: f, token: 1n }));
		u.p.mm.mprotect(addr, 4096, PROT_READ);
		t.equal(u.sys("ioctl", s, LIVEUPDATE_SESSION_PRESERVE_FD, addr), -EFAULT);
		t.equal(preserveFd(u, s, testFile(u, 2n), 1n), -EEXIST, "token 1 is taken");
	});
	t.ok(k.log.all().some((r) => r.text === "luo: The file was successfully preserved, but response to user failed"));
});

t.test("RETRIEVE_FD with an unknown token is ENOENT", async (t) => {
	const { k } = await handedOver([1n]);
	await inKernel(k, (u) => t.equal(retrieveFd(u, retrieveSession(u, openLuo(u), "s"), 9n), -ENOENT));
});

t.test("RETRIEVE_FD twice gives a new fd to the same open file", async (t) => {
	const { k, h } = await handedOver([1n]);
	await inKernel(k, (u) => {
		const s = retrieveSession(u, openLuo(u), "s");
		const a = retrieveFd(u, s, 1n);
		const b = retrieveFd(u, s, 1n);
		t.not(a, b);
		t.equal(u.p.files.get(a), u.p.files.get(b));
	});
	t.equal(h.log.filter((l) => l.startsWith("retrieve:")).length, 1, "retrieve() ran once");
});

t.test("a failed retrieve is sticky and finish() sees its error", async (t) => {
	const { k, h } = await handedOver([1n], { retrieve: EIO });
	await inKernel(k, (u) => {
		const s = retrieveSession(u, openLuo(u), "s");
		t.equal(retrieveFd(u, s, 1n), -EIO);
		h.faults.retrieve = 0;
		t.equal(retrieveFd(u, s, 1n), -EIO, "not tried again");
		t.equal(finishSession(u, s), 0);
	});
	t.same(h.log, ["retrieve:4097", "can_finish:4097:-5", "finish:4097:-5"]);
});

t.test("FINISH is EBUSY when a file cannot finish, and nothing is finished", async (t) => {
	const { k, h } = await handedOver([1n, 2n], { cannotFinish: true });
	await inKernel(k, (u) => {
		const s = retrieveSession(u, openLuo(u), "s");
		t.equal(finishSession(u, s), -EBUSY);
		t.ok(retrieveFd(u, s, 2n) >= 0, "the files are still there");
	});
	t.notOk(h.log.some((l) => l.startsWith("finish:")));
});

t.test("FINISH finishes every file, retrieved or not, last first", async (t) => {
	const { k, h } = await handedOver([1n, 2n, 3n]);
	await inKernel(k, (u) => {
		const s = retrieveSession(u, openLuo(u), "s");
		retrieveFd(u, s, 2n);
		h.log.length = 0;
		t.equal(finishSession(u, s), 0);
		t.equal(retrieveFd(u, s, 2n), -ENOENT, "nothing left to retrieve");
		t.equal(finishSession(u, s), 0, "a second FINISH has nothing to do");
	});
	t.same(h.log, [
		"can_finish:4097:0", "can_finish:4098:1", "can_finish:4099:0",
		"finish:4099:0", "finish:4098:1", "finish:4097:0",
	]);
});

t.test("a finished file may be preserved again in a new session", async (t) => {
	const { k } = await handedOver([1n]);
	await inKernel(k, (u) => {
		const fd = openLuo(u);
		const s = retrieveSession(u, fd, "s");
		const f = retrieveFd(u, s, 1n);
		t.equal(preserveFd(u, createSession(u, fd, "again"), f, 1n), -EBUSY, "still LUO's until FINISH");
		finishSession(u, s);
		t.equal(preserveFd(u, createSession(u, fd, "again2"), f, 1n), 0);
	});
});

t.test("an unknown compatible fails the deserialization: EIO on every open", async (t) => {
	const { k: k1 } = withHandler();
	const k = await kexecAfter(k1, (u) => {
		preserveFd(u, createSession(u, openLuo(u), "lost"), testFile(u, 1n), 1n);
	});
	await inKernel(k, (u) => {
		t.equal(openLuo(u), -EIO);
		t.equal(openLuo(u), -EIO, "the result is kept");
	});
	const log = k.log.all().map((r) => r.text);
	t.ok(log.includes(`luo: No registered handler for compatible '${TEST_HANDLER_COMPATIBLE}'`));
	t.ok(log.includes("luo: Failed to deserialize files for session [lost] -ENOENT"));
});

t.test("files in many blocks survive a kexec in order", async (t) => {
	const values = Array.from({ length: 130 }, (_, i) => BigInt(i));
	const { k } = await handedOver(values);
	await inKernel(k, (u) => {
		const s = retrieveSession(u, openLuo(u), "s");
		const got = values.map((_, i) => testFileValue(u, retrieveFd(u, s, BigInt(i + 1))));
		t.same(got, values.map((v) => v + 0x1000n));
	});
});

