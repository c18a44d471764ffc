import t from "tap";
import { errnoOf } from "../../fs/syscalls/testing.ts";
import { EBUSY, EEXIST, EIO, ENOENT } from "../../kernel/errno.ts";
import { fdt_first_subnode, fdt_get_name, fdt_getprop, fdt_next_subnode, fdt_subnode_offset, le64_ld } from "../../fdt/libfdt.ts";
import { khoReadFdt } from "../../kho/kho_state.ts";
import { dmesg } from "../../kho/testing.ts";
import { run, User } from "../../kernel/testing.ts";
import { spawnProgram } from "../../kernel/exec.ts";
import type { Process } from "../../kernel/process.ts";
import * as rfc from "../uapi/rfc-v2.ts";
import { luo_cancel, luo_fdt_out_phys, luo_finish, luo_freeze, luo_prepare } from "./luo_core.ts";
import {
	liveupdate_register_filesystem, liveupdate_unregister_filesystem, luo_files_incoming_tokens, luo_files_outgoing_tokens, luo_filesystems,
	luo_register_file, luo_unregister_file,
} from "./luo_files.ts";
import { asRoot, bootLuo, liveUpdate, luoIoctl, luoTestFile, openLuo, testFs, type CallLog } from "./testing.ts";
import type { File } from "../../fs/file.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** A /tmp/luo-NAME file as the kernel sees it, with a reference of its own (what fget gives LUO). */
async function testFile(k: Kernel, name: string): Promise<File> {
	let f: File | null = null;
	await asRoot(k, (u) => {
		f = u.p.files.get(luoTestFile(u, name)).get();
	});
	return f!;
}

/** Counts the release calls of `f` from now on. */
function countReleases(f: File): { n: number } {
	const c = { n: 0 };
	const orig = f.f_op;
	f.f_op = { ...orig, release: (i, file): void => void (c.n++, orig.release?.(i, file)) };
	return c;
}

t.test("registering a handler twice (same compatible) is EEXIST", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	t.equal(errnoOf(() => liveupdate_register_filesystem(k, testFs([]))), EEXIST);
	t.ok(dmesg(k).some((l) => l.includes("Compatible string 'test-v1' already registered")));
});

t.test("(un)registering a handler outside NORMAL/UPDATED is EBUSY", async (t) => {
	const k = bootLuo();
	const fs = testFs([]);
	liveupdate_register_filesystem(k, fs);
	luo_prepare(k);
	t.equal(errnoOf(() => liveupdate_register_filesystem(k, testFs([], { compatible: "other-v1" }))), EBUSY);
	t.equal(errnoOf(() => liveupdate_unregister_filesystem(k, fs)), EBUSY);
	luo_cancel(k);
	liveupdate_unregister_filesystem(k, fs);
	t.notOk(luo_filesystems(k).includes(fs));
});

t.test("tokens come from one counter starting at 0; the same file preserved twice gets a new token", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	const a = await testFile(k, "a");
	const b = await testFile(k, "b");
	t.equal(luo_register_file(k, a), 0n);
	t.equal(luo_register_file(k, b), 1n);
	t.equal(luo_register_file(k, a.get()), 2n);
	t.same(luo_files_outgoing_tokens(k), [0n, 1n, 2n]);
	const k2 = bootLuo();
	liveupdate_register_filesystem(k2, testFs([]));
	t.equal(luo_register_file(k2, await testFile(k2, "c")), 0n, "a new kernel counts from 0 again");
});

t.test("a file no handler accepts is ENOENT and takes no token", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	await asRoot(k, (u) => {
		const fd = u.sys("open", "/tmp/other", 0o102, 0o600);
		const f = u.p.files.get(fd);
		t.equal(errnoOf(() => luo_register_file(k, f)), ENOENT);
	});
	t.equal(luo_register_file(k, await testFile(k, "a")), 0n);
});

t.test("preserving outside NORMAL/UPDATED is EBUSY", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	const f = await testFile(k, "a");
	luo_prepare(k);
	t.equal(errnoOf(() => luo_register_file(k, f)), EBUSY);
});

t.test("F3: unpreserve drops LUO's reference on the file", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	await asRoot(k, (u: User) => {
		const fd = luoTestFile(u, "a");
		const f = u.p.files.get(fd);
		const rel = countReleases(f);
		const token = luo_register_file(k, f.get());
		u.sys("close", fd);
		t.equal(rel.n, 0, "LUO still holds it");
		luo_unregister_file(k, token);
		t.equal(rel.n, 1, "released once LUO let go");
	});
});

t.test("unpreserve: unknown token ENOENT, outside NORMAL/UPDATED EBUSY", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	const token = luo_register_file(k, await testFile(k, "a"));
	t.equal(errnoOf(() => luo_unregister_file(k, 5n)), ENOENT);
	luo_prepare(k);
	t.equal(errnoOf(() => luo_unregister_file(k, token)), EBUSY);
});

t.test("prepare and cancel run per file in token order; CANCEL keeps the tokens valid", async (t) => {
	const k = bootLuo();
	const log: CallLog = [];
	liveupdate_register_filesystem(k, testFs(log));
	luo_register_file(k, await testFile(k, "a"));
	luo_register_file(k, await testFile(k, "b"));
	luo_prepare(k);
	luo_cancel(k);
	t.same(log, ["prepare /tmp/luo-a 0x1000", "prepare /tmp/luo-b 0x1001", "cancel /tmp/luo-a 0x1000", "cancel /tmp/luo-b 0x1001"]);
	t.same(luo_files_outgoing_tokens(k), [0n, 1n]);
});

t.test("a failing prepare cancels only the files before it", async (t) => {
	const k = bootLuo();
	const log: CallLog = [];
	liveupdate_register_filesystem(k, testFs(log, { failPrepare: { suffix: "b", errno: EIO } }));
	for (const n of ["a", "b", "c"]) luo_register_file(k, await testFile(k, n));
	t.equal(errnoOf(() => luo_prepare(k)), EIO);
	t.same(log, ["prepare /tmp/luo-a 0x1000", "cancel /tmp/luo-a 0x1000"]);
});

/** The outgoing LUO FDT's /file-descriptors children: [name, compatible, data]. */
function fileNodes(k: Kernel): [string, string, bigint][] {
	const fdt = khoReadFdt(k, luo_fdt_out_phys(k)!);
	const parent = fdt_subnode_offset(fdt, 0, "file-descriptors");
	const out: [string, string, bigint][] = [];
	for (let n = fdt_first_subnode(fdt, parent); n >= 0; n = fdt_next_subnode(fdt, n)) {
		const c = fdt_getprop(fdt, n, "compatible")!;
		out.push([fdt_get_name(fdt, n)!, new TextDecoder().decode(c.subarray(0, c.length - 1)), le64_ld(fdt_getprop(fdt, n, "data")!)]);
	}
	return out.sort();
}

t.test("the FDT has one node per file, named %#llx of its token, with the handler's compatible and data", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	luo_register_file(k, await testFile(k, "a"));
	luo_register_file(k, await testFile(k, "b"));
	luo_prepare(k);
	t.same(fileNodes(k), [["0", "test-v1", 0x1000n], ["0x1", "test-v1", 0x1001n]]);
});

t.test("F6: the /file-descriptors node is written even without files", async (t) => {
	const k = bootLuo();
	luo_prepare(k);
	const fdt = khoReadFdt(k, luo_fdt_out_phys(k)!);
	const node = fdt_subnode_offset(fdt, 0, "file-descriptors");
	t.ok(node >= 0);
	t.ok(fdt_first_subnode(fdt, node) < 0, "empty");
	const k2 = await liveUpdate(k, () => undefined);
	t.equal(k2.stopped, null, "the next kernel boots (no panic)");
	luo_finish(k2);
});

t.test("F4: a token repeated in the incoming FDT panics at the first retrieve", async (t) => {
	const k = bootLuo();
	liveupdate_register_filesystem(k, testFs([]));
	luo_register_file(k, await testFile(k, "a"));
	luo_register_file(k, await testFile(k, "b"));
	luo_prepare(k);
	luo_freeze(k);
	// Rename node "0x1" to "0x0": kstrtou64(name, 0) reads it as 0, like the node "0".
	const phys = luo_fdt_out_phys(k)!;
	const pm = k.machine.physmem;
	const bytes = pm.read(phys, 1 << 20);
	const at = findCString(bytes, "0x1");
	bytes.set(new TextEncoder().encode("0x0"), at);
	pm.write(phys, bytes);
	const k2 = await liveUpdate(k, () => undefined);
	liveupdate_register_filesystem(k2, testFs([]));
	const out = await k2.waitForOutcome(startRestore(k2));
	t.equal(out.kind, "stopped");
	t.equal(k2.stopped?.kind, "panic");
	t.ok(dmesg(k2).some((l) => l.includes("Failed to store luo_file for token 0 in XArray: -16")));
});

function findCString(b: Uint8Array, s: string): number {
	const needle = new TextEncoder().encode(s + "\0");
	outer: for (let i = 0; i + needle.length <= b.length; i++) {
		for (let j = 0; j < needle.length; j++) if (b[i + j] !== needle[j]) continue outer;
		return i;
	}
	throw new Error(`${s} not found`);
}

function startRestore(k: Kernel): Process {
	return spawnProgram(k, () => {
		const u = new User();
		const arg = u.alloc(16);
		rfc.liveupdate_fd.toUser(u.p.mm, arg, { token: 0n });
		return luoIoctl(u, openLuo(u), rfc.LIVEUPDATE_IOCTL_FD_RESTORE, arg);
	});
}

t.test("F7: the incoming files are freed after FINISH, restored files released", async (t) => {
	const k1 = bootLuo();
	liveupdate_register_filesystem(k1, testFs([]));
	luo_register_file(k1, await testFile(k1, "a"));
	luo_register_file(k1, await testFile(k1, "b"));
	luo_prepare(k1);
	const k2 = await liveUpdate(k1, () => undefined);
	liveupdate_register_filesystem(k2, testFs([]));
	let releases = { n: 0 };
	await run((u) => {
		const fd = openLuo(u);
		const arg = u.alloc(16);
		rfc.liveupdate_fd.toUser(u.p.mm, arg, { token: 0n });
		t.equal(luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_FD_RESTORE, arg), 0);
		const rfd = rfc.liveupdate_fd.fromUser(u.p.mm, arg).fd;
		releases = countReleases(u.p.files.get(rfd));
		u.sys("close", rfd);
	}, { kernel: k2 });
	t.same(luo_files_incoming_tokens(k2), [0n, 1n]);
	t.equal(releases.n, 0, "LUO holds the restored file until FINISH");
	luo_finish(k2);
	t.same(luo_files_incoming_tokens(k2), [], "freed");
	t.equal(releases.n, 1, "and released");
});

t.test("a retrieve whose handler fails leaves the file retrievable", async (t) => {
	const k1 = bootLuo();
	liveupdate_register_filesystem(k1, testFs([]));
	luo_register_file(k1, await testFile(k1, "a"));
	luo_prepare(k1);
	const k2 = await liveUpdate(k1, () => undefined);
	const failing = testFs([], { failRetrieve: EIO });
	liveupdate_register_filesystem(k2, failing);
	await asRoot(k2, (u) => {
		const fd = openLuo(u);
		const arg = u.alloc(16);
		rfc.liveupdate_fd.toUser(u.p.mm, arg, { token: 0n });
		t.equal(luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_FD_RESTORE, arg), -EIO);
		t.equal(luoIoctl(u, fd, rfc.LIVEUPDATE_IOCTL_FD_RESTORE, arg), -EIO, "not EINVAL: it was not reclaimed");
	});
});
