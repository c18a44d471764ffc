/**
 * The memfd handler (mm/memfd_luo.c) across a kexec: preserve in one
 * kernel, then retrieve or finish in the next, calling the handler's ops
 * the way luo_file.c does, with the serialized data as the only thing that
 * crosses (besides physical memory).
 */
import t from "tap";
import { EINVAL, EIO, EOPNOTSUPP } from "../kernel/errno.ts";
import { O_LARGEFILE, O_RDWR } from "../fs/fcntl.ts";
import { notifyChange } from "../fs/open.ts";
import {
	memfd_add_seals, memfd_get_seals, F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE,
	MFD_ALLOW_SEALING, MFD_NOEXEC_SEAL,
} from "../fs/memfd.ts";
import { inProcess } from "../fs/syscalls/testing.ts";
import { installFd } from "../fs/syscalls/util.ts";
import { shmem_folios } from "./shmem.ts";
import { PAGE_SIZE, PFN_PHYS, PHYS_PFN } from "./physmem.ts";
import { kho_restore_folio, kho_restore_vmalloc } from "../kho/mainline/kho.ts";
import { memfd_luo_handler } from "./memfd_luo.ts";
import {
	bootMainline, dmesg, errnoOf, folioEntries, kexec, makeMemfd, opArgs, patchSer, preserve, readSer, readText, retrieve, writeText,
} from "./memfd_luo_testing.ts";

const P = PAGE_SIZE;
const ops = memfd_luo_handler.ops;

t.test("data written after preserve, inside the size, is what the next kernel reads", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "late", "before".padEnd(P + 6, "."));
	const { serialized_data } = preserve(k, f);
	writeText(k, f, "AFTER!", P);
	const k2 = await kexec(k);
	const g = retrieve(k2, serialized_data);
	t.equal(readText(k2, g, 6, 0), "before");
	t.equal(readText(k2, g, 6, P), "AFTER!");
});

t.test("the retrieved file's pages are the preserved frames, index by index", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "pfns", "p".repeat(3 * P));
	const before = shmem_folios(f.inode).map(([i, folio]) => [i, folio.pfn]);
	const { serialized_data } = preserve(k, f);
	const k2 = await kexec(k);
	const g = retrieve(k2, serialized_data);
	t.same(shmem_folios(g.inode).map(([i, folio]) => [i, folio.pfn]), before);
});

t.test("/proc/self/pagemap in the next kernel shows the same PFNs under a mapping", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "pagemap", "m".repeat(2 * P));
	const pfns = shmem_folios(f.inode).map(([, folio]) => folio.pfn);
	const { serialized_data } = preserve(k, f);
	const k2 = await kexec(k);
	const g = retrieve(k2, serialized_data);
	await inProcess((u) => {
		const fd = installFd(u.p, g, false);
		const addr = u.sys("mmap", 0, 2 * P, 3, 1, fd, 0);
		t.equal(readText(k2, g, 1, 0), "m");
		u.read(addr, 1);
		u.read(addr + P, 1);
		const pm = u.sys("open", "/proc/self/pagemap", 0);
		const buf = u.alloc(16);
		t.equal(u.sys("pread64", pm, buf, 16, (addr / P) * 8), 16);
		const [e0, e1] = u.i64s(buf, 2).map((v) => Number(BigInt.asUintN(55, v)));
		t.same([e0, e1], pfns);
	}, { kernel: k2 });
});

t.test("size, position and seals come back", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "meta", "0123456789", MFD_ALLOW_SEALING);
	notifyChange(k.vfs, f.inode, { size: 3 * P + 5 });
	memfd_add_seals(f, F_SEAL_SHRINK | F_SEAL_GROW);
	f.f_pos = 4;
	const { serialized_data } = preserve(k, f);
	const k2 = await kexec(k);
	const g = retrieve(k2, serialized_data);
	t.equal(g.inode.size, 3 * P + 5);
	t.equal(g.f_pos, 4);
	t.equal(memfd_get_seals(g), F_SEAL_SHRINK | F_SEAL_GROW);
});

t.test("the position freeze() saw at reboot is the one restored", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "moved", "abcdef");
	const args = preserve(k, f);
	f.f_pos = 5;
	ops.freeze!(args);
	const k2 = await kexec(k);
	t.equal(retrieve(k2, args.serialized_data).f_pos, 5);
});

t.test("a memfd made without MFD_ALLOW_SEALING comes back sealed (F_SEAL_SEAL)", async (t) => {
	const k = bootMainline();
	const { serialized_data } = preserve(k, makeMemfd(k, "nosealing", "x"));
	const k2 = await kexec(k);
	t.equal(memfd_get_seals(retrieve(k2, serialized_data)), F_SEAL_SEAL);
});

t.test("F_SEAL_EXEC comes back with the write, grow and shrink seals (the new file is 0777)", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "noexec", "x", MFD_NOEXEC_SEAL);
	t.equal(memfd_get_seals(f), F_SEAL_EXEC);
	const { serialized_data } = preserve(k, f);
	const k2 = await kexec(k);
	const g = retrieve(k2, serialized_data);
	t.equal(memfd_get_seals(g), F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
	t.equal(g.inode.mode & 0o777, 0o777);
});

t.test("the retrieved memfd has an empty name, O_RDWR|O_LARGEFILE, and is not frozen", async (t) => {
	const k = bootMainline();
	const { serialized_data } = preserve(k, makeMemfd(k, "named", "abc"));
	const k2 = await kexec(k);
	const g = retrieve(k2, serialized_data);
	t.equal(g.path?.name, "/");
	t.equal(g.f_flags, O_RDWR | O_LARGEFILE);
	t.equal(g.inode.nlink, 0);
	notifyChange(k2.vfs, g.inode, { size: 1 });
	t.equal(readText(k2, g, 10, 0), "a");
});

t.test("a 0-byte memfd comes back empty", async (t) => {
	const k = bootMainline();
	const { serialized_data } = preserve(k, makeMemfd(k, "zero"));
	const k2 = await kexec(k);
	const g = retrieve(k2, serialized_data);
	t.equal(g.inode.size, 0);
	t.equal(shmem_folios(g.inode).length, 0);
});

t.test("retrieve frees the record's page", async (t) => {
	const k = bootMainline();
	const { serialized_data } = preserve(k, makeMemfd(k, "rec", "r"));
	const k2 = await kexec(k);
	retrieve(k2, serialized_data);
	t.ok(k2.buddy.page_is_free(PHYS_PFN(Number(serialized_data))));
});

t.test("retrieve of a record with an unknown seal is EOPNOTSUPP and frees the record", async (t) => {
	const k = bootMainline();
	const { serialized_data } = preserve(k, makeMemfd(k, "badseal", "s"));
	const k2 = await kexec(k);
	patchSer(k2, serialized_data, "seals", 0x80);
	t.equal(errnoOf(() => ops.retrieve(opArgs(k2, null, serialized_data))), EOPNOTSUPP);
	t.ok(k2.buddy.page_is_free(PHYS_PFN(Number(serialized_data))));
});

t.test("retrieve without serialized data is EINVAL", async (t) => {
	t.equal(errnoOf(() => ops.retrieve(opArgs(bootMainline(), null, 0n))), EINVAL);
});

t.test("retrieve of an address outside memory is EINVAL (a luosim check)", async (t) => {
	const k = bootMainline();
	t.equal(errnoOf(() => ops.retrieve(opArgs(k, null, BigInt(k.machine.memBytes)))), EINVAL);
});

t.test("retrieve of a record counting more folios than its array holds is EINVAL (a luosim check)", async (t) => {
	const k = bootMainline();
	const { serialized_data } = preserve(k, makeMemfd(k, "count", "c"));
	const k2 = await kexec(k);
	patchSer(k2, serialized_data, "nr_folios", 1000);
	t.equal(errnoOf(() => ops.retrieve(opArgs(k2, null, serialized_data))), EINVAL);
});

t.test("retrieve is EINVAL when the folio array cannot be restored", async (t) => {
	const k = bootMainline();
	const { serialized_data } = preserve(k, makeMemfd(k, "noarray", "n"));
	const k2 = await kexec(k);
	const ser = readSer(k2, serialized_data);
	t.ok(kho_restore_vmalloc(k2, { ...ser.folios, first: Number(ser.folios.first) }), "someone else took the array");
	t.equal(errnoOf(() => ops.retrieve(opArgs(k2, null, serialized_data))), EINVAL);
});

t.test("retrieve is EIO when a folio cannot be restored; the others are freed", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "eio", "e".repeat(3 * P));
	const args = preserve(k, f);
	const pfns = folioEntries(args, 3).map((e) => e.pfn);
	const k2 = await kexec(k);
	t.ok(kho_restore_folio(k2, PFN_PHYS(pfns[1]!)), "someone else took page 1");
	const a2 = opArgs(k2, null, args.serialized_data);
	t.equal(errnoOf(() => ops.retrieve(a2)), EIO);
	t.equal(a2.file, null);
	t.match(dmesg(k2), new RegExp(`memfd_luo: Unable to restore folio at physical address: ${PFN_PHYS(pfns[1]!).toString(16)}`));
	t.ok(k2.buddy.page_is_free(pfns[0]!), "page 0 went with the file");
	t.ok(k2.buddy.page_is_free(pfns[2]!), "page 2 was restored and freed");
});

t.test("finish of a file never retrieved frees its frames, the array and the record", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "dropped", "d".repeat(2 * P));
	const args = preserve(k, f);
	const pfns = folioEntries(args, 2).map((e) => e.pfn);
	const chunk = PHYS_PFN(Number(readSer(k, args.serialized_data).folios.first));
	const k2 = await kexec(k);
	t.notOk(k2.buddy.page_is_free(pfns[0]!), "held for the handover until then");
	ops.finish(opArgs(k2, null, args.serialized_data, 0));
	for (const pfn of [...pfns, chunk, PHYS_PFN(Number(args.serialized_data))]) t.ok(k2.buddy.page_is_free(pfn), `pfn ${pfn}`);
});

t.test("finish after a retrieve leaves the file alone", async (t) => {
	const k = bootMainline();
	const { serialized_data } = preserve(k, makeMemfd(k, "kept", "keep"));
	const k2 = await kexec(k);
	const g = retrieve(k2, serialized_data);
	ops.finish(opArgs(k2, g, serialized_data, 1));
	t.equal(readText(k2, g, 4, 0), "keep");
});

t.test("finish after a failed retrieve does nothing more", async (t) => {
	const k = bootMainline();
	const { serialized_data } = preserve(k, makeMemfd(k, "failed", "f"));
	const k2 = await kexec(k);
	patchSer(k2, serialized_data, "seals", 0x80);
	errnoOf(() => ops.retrieve(opArgs(k2, null, serialized_data)));
	const free = k2.buddy.nr_free_pages();
	ops.finish(opArgs(k2, null, serialized_data, -EOPNOTSUPP));
	t.equal(k2.buddy.nr_free_pages(), free);
});

t.test("an unpreserved memfd is not handed over: the next kernel cannot restore its pages", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "undone", "u");
	const args = preserve(k, f);
	const [pfn] = folioEntries(args, 1).map((e) => e.pfn);
	ops.unpreserve(args);
	const k2 = await kexec(k);
	t.equal(kho_restore_folio(k2, PFN_PHYS(pfn!)), null);
});
