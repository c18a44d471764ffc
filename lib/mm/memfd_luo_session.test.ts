/**
 * The memfd handler end to end through /dev/liveupdate (mainline sessions):
 * what PRESERVE_FD accepts, the frozen memfd while it is preserved, a
 * session closed before kexec, and a session kept open across a kexec,
 * retrieved byte for byte on the same frames or finished unretrieved.
 */
import t from "tap";
import { EBUSY, ENOENT, EPERM } from "../kernel/errno.ts";
import { O_CREAT, O_RDWR } from "../fs/fcntl.ts";
import { run, type User } from "../kernel/testing.ts";
import { shmem_folios } from "./shmem.ts";
import { PAGE_SIZE } from "./physmem.ts";
import {
	createSession, finishSession, kexecAfter, openLuo, preserveFd, retrieveFd, retrieveSession,
} from "../liveupdate/mainline/testing.ts";
import { bootMainline } from "./memfd_luo_testing.ts";

const P = PAGE_SIZE;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** memfd_create(name) holding `data`: its fd. */
function memfd(u: User, name: string, data: string): number {
	const fd = u.sys("memfd_create", name, 0);
	const b = enc.encode(data);
	u.sys("write", fd, u.bytes(b), b.length);
	return fd;
}

function pread(u: User, fd: number, len: number, pos: number): string {
	const buf = u.alloc(len);
	const n = u.sys("pread64", fd, buf, len, pos);
	return dec.decode(u.read(buf, Math.max(n, 0)));
}

function pfnsOf(u: User, fd: number): number[] {
	return shmem_folios(u.p.files.get(fd).inode).map(([, folio]) => folio.pfn);
}

function readlink(u: User, path: string): string {
	const buf = u.alloc(256);
	const n = u.sys("readlink", path, buf, 256);
	return dec.decode(u.read(buf, Math.max(n, 0)));
}

/** A session fd on a fresh /dev/liveupdate fd (the one open of the device this process makes). */
function session(u: User, name: string): number {
	return createSession(u, openLuo(u), name);
}

t.test("PRESERVE_FD of a named tmpfs file is ENOENT", async (t) => {
	await run((u) => {
		const fd = u.sys("open", "/tmp/named", O_RDWR | O_CREAT, 0o600);
		t.equal(preserveFd(u, session(u, "named"), fd, 1n), -ENOENT);
	}, { kernel: bootMainline() });
});

t.test("PRESERVE_FD of a non-shmem fd (a pipe) is ENOENT", async (t) => {
	await run((u) => {
		const fds = u.alloc(8);
		t.equal(u.sys("pipe2", fds, 0), 0);
		t.equal(preserveFd(u, session(u, "pipe"), u.i32(fds), 1n), -ENOENT);
	}, { kernel: bootMainline() });
});

t.test("PRESERVE_FD of a second fd of one memfd is EBUSY, also through another open", async (t) => {
	await run((u) => {
		const s = session(u, "twice");
		const fd = memfd(u, "m", "x");
		t.equal(preserveFd(u, s, fd, 1n), 0);
		t.equal(preserveFd(u, s, u.sys("dup", fd), 2n), -EBUSY);
		t.equal(preserveFd(u, s, u.sys("open", `/proc/self/fd/${fd}`, O_RDWR), 3n), -EBUSY);
	}, { kernel: bootMainline() });
});

t.test("a preserved memfd refuses ftruncate (EPERM) and still takes writes inside its size", async (t) => {
	await run((u) => {
		const fd = memfd(u, "frozen", "abcd");
		t.equal(preserveFd(u, session(u, "frz"), fd, 1n), 0);
		t.equal(u.sys("ftruncate", fd, 0), -EPERM);
		t.equal(u.sys("pwrite64", fd, u.bytes(enc.encode("XY")), 2, 1), 2);
		t.equal(pread(u, fd, 4, 0), "aXYd");
	}, { kernel: bootMainline() });
});

t.test("closing the session unpreserves the memfd: ftruncate works again", async (t) => {
	await run((u) => {
		const luo = openLuo(u);
		const s = createSession(u, luo, "closed");
		const fd = memfd(u, "thaw", "abcd");
		t.equal(preserveFd(u, s, fd, 1n), 0);
		t.equal(u.sys("close", s), 0);
		t.equal(u.sys("ftruncate", fd, 1), 0);
		t.equal(preserveFd(u, createSession(u, luo, "again"), fd, 1n), 0, "it can be preserved anew");
	}, { kernel: bootMainline() });
});

t.test("a memfd in a session kept across kexec comes back byte for byte on the same frames", async (t) => {
	let pfns: number[] = [];
	const data = "first page".padEnd(P, "-") + "second";
	const k2 = await kexecAfter(bootMainline(), (u) => {
		const s = session(u, "keep");
		const fd = memfd(u, "payload", data);
		u.sys("lseek", fd, 3, 0);
		pfns = pfnsOf(u, fd);
		t.equal(preserveFd(u, s, fd, 0x1234n), 0);
		t.equal(u.sys("pwrite64", fd, u.bytes(enc.encode("late")), 4, P + 2), 4, "written after PRESERVE_FD");
	});
	await run((u) => {
		const s = retrieveSession(u, openLuo(u), "keep");
		t.ok(s >= 0);
		const fd = retrieveFd(u, s, 0x1234n);
		t.ok(fd >= 0);
		t.equal(pread(u, fd, P + 6, 0), data.slice(0, P + 2) + "late");
		t.same(pfnsOf(u, fd), pfns);
		t.equal(u.sys("lseek", fd, 0, 1), 3, "the position");
		t.equal(readlink(u, `/proc/self/fd/${fd}`), "/ (deleted)");
		t.equal(finishSession(u, s), 0);
	}, { kernel: k2 });
});

t.test("FINISH of a session whose memfd was never retrieved frees the memfd's frames", async (t) => {
	let pfns: number[] = [];
	const k2 = await kexecAfter(bootMainline(), (u) => {
		const s = session(u, "drop");
		const fd = memfd(u, "unwanted", "z".repeat(3 * P));
		pfns = pfnsOf(u, fd);
		t.equal(preserveFd(u, s, fd, 7n), 0);
	});
	t.ok(pfns.every((pfn) => !k2.buddy.page_is_free(pfn)), "held until FINISH");
	await run((u) => {
		const s = retrieveSession(u, openLuo(u), "drop");
		t.equal(finishSession(u, s), 0);
	}, { kernel: k2 });
	t.ok(pfns.every((pfn) => k2.buddy.page_is_free(pfn)), "freed at FINISH");
});

t.test("a session closed before kexec hands nothing over", async (t) => {
	const k2 = await kexecAfter(bootMainline(), (u) => {
		const s = session(u, "gone");
		t.equal(preserveFd(u, s, memfd(u, "m", "x"), 1n), 0);
		u.sys("close", s);
	});
	await run((u) => {
		t.equal(retrieveSession(u, openLuo(u), "gone"), -ENOENT);
	}, { kernel: k2 });
});
