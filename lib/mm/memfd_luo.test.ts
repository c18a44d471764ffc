/**
 * The memfd handler (mm/memfd_luo.c) in the kernel that preserves: what
 * can_preserve takes, get_id, preserve (freeze, the records, its errnos),
 * freeze, unpreserve and the late initcall. The next kernel's side is in
 * memfd_luo_kexec.test.ts, the path through /dev/liveupdate in
 * memfd_luo_session.test.ts.
 */
import t from "tap";
import { EEXIST, EFBIG, EINVAL, ENOMEM, EOPNOTSUPP, EPERM } from "../kernel/errno.ts";
import { O_CREAT, O_RDWR } from "../fs/fcntl.ts";
import { notifyChange } from "../fs/open.ts";
import { vfsFallocate } from "../fs/falloc.ts";
import { memfd_add_seals, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_WRITE, MFD_ALLOW_SEALING } from "../fs/memfd.ts";
import { inProcess } from "../fs/syscalls/testing.ts";
import { folio_ref_count } from "./folio.ts";
import { SHMEM_I, shmem_folios } from "./shmem.ts";
import { PAGE_SIZE, PHYS_PFN } from "./physmem.ts";
import { khoMainline } from "../kho/mainline/kho_state.ts";
import { kho_radix_test_page } from "../kho/mainline/kho_radix.ts";
import { luo_file_handlers } from "../liveupdate/mainline/luo_file.ts";
import { memfd_luo_handler, memfd_luo_init, MEMFD_LUO_FH_COMPATIBLE } from "./memfd_luo.ts";
import { MEMFD_LUO_FOLIO_DIRTY, MEMFD_LUO_FOLIO_UPTODATE } from "./memfd_luo_ser.ts";
import { bootMainline, dmesg, errnoOf, folioEntries, makeMemfd, opArgs, preserve, readSer, writeText } from "./memfd_luo_testing.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { File } from "../fs/file.ts";

const P = PAGE_SIZE;
const ops = memfd_luo_handler.ops;

function canPreserve(k: Kernel, f: File): boolean {
	return ops.can_preserve(k, memfd_luo_handler, f);
}

/** Whether KHO's outgoing map holds the order-0 page `pfn`. */
function khoHolds(k: Kernel, pfn: number): boolean {
	return kho_radix_test_page(khoMainline(k).tree!, pfn, 0);
}

t.test("can_preserve takes a memfd", async (t) => {
	const k = bootMainline();
	t.ok(canPreserve(k, makeMemfd(k, "m")));
});

t.test("can_preserve refuses a named tmpfs file", async (t) => {
	const k = bootMainline();
	t.notOk(canPreserve(k, k.vfs.open(null, "/tmp/named", O_RDWR | O_CREAT, 0o600)));
});

t.test("can_preserve refuses an unlinked tmpfs file (luosim's tmpfs is not shmem)", async (t) => {
	const k = bootMainline();
	await inProcess((u) => {
		const fd = u.sys("open", "/tmp/gone", O_RDWR | O_CREAT, 0o600);
		t.equal(u.sys("unlink", "/tmp/gone"), 0);
		const f = u.p.files.get(fd);
		t.equal(f.inode.nlink, 0);
		t.notOk(canPreserve(k, f));
	}, { kernel: k });
});

t.test("can_preserve refuses a file that is not shmem (/dev/null)", async (t) => {
	const k = bootMainline();
	t.notOk(canPreserve(k, k.vfs.open(null, "/dev/null", O_RDWR)));
});

t.test("can_preserve refuses a shmem inode that has a link", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "linked");
	f.inode.nlink = 1;
	t.notOk(canPreserve(k, f));
});

t.test("get_id is the inode: two Files of one memfd share it, two memfds do not", async (t) => {
	const k = bootMainline();
	await inProcess((u) => {
		const fd = u.sys("memfd_create", "id", 0);
		const again = u.sys("open", `/proc/self/fd/${fd}`, O_RDWR);
		const [a, b] = [u.p.files.get(fd), u.p.files.get(again)];
		t.not(a, b, "two open file descriptions");
		t.equal(ops.get_id!(a), ops.get_id!(b));
		t.not(ops.get_id!(a), ops.get_id!(makeMemfd(k, "other")));
	}, { kernel: k });
});

t.test("preserve freezes the inode: a size change is EPERM", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "frz", "abc");
	preserve(k, f);
	t.equal(errnoOf(() => notifyChange(k.vfs, f.inode, { size: 0 })), EPERM);
	t.equal(errnoOf(() => vfsFallocate(f, 0, 0, P)), EPERM);
});

t.test("preserve writes memfd_luo_ser: pos, size, seals, flags 0, nr_folios, the array descriptor", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "ser", "x".repeat(P + 10), MFD_ALLOW_SEALING);
	memfd_add_seals(f, F_SEAL_GROW);
	f.f_pos = 7;
	const args = preserve(k, f);
	t.equal(Number(args.serialized_data) % P, 0, "a page of its own");
	const ser = readSer(k, args.serialized_data);
	t.same([ser.pos, ser.size, ser.seals, ser.flags, ser.nr_folios], [7n, BigInt(P + 10), F_SEAL_GROW, 0, 2n]);
	t.equal(ser.folios.total_pages, 1, "32 bytes of entries fit one page");
	t.not(ser.folios.first, 0n);
	t.ok(khoHolds(k, PHYS_PFN(Number(args.serialized_data))), "the record's page is preserved");
});

t.test("preserve records each page: its pfn, DIRTY|UPTODATE, its index; each is pinned and preserved", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "pages", "y".repeat(3 * P));
	const pfns = shmem_folios(f.inode).map(([, folio]) => folio.pfn);
	const args = preserve(k, f);
	const entries = folioEntries(args, 3);
	t.same(entries, pfns.map((pfn, index) => ({ pfn, flags: MEMFD_LUO_FOLIO_DIRTY | MEMFD_LUO_FOLIO_UPTODATE, index })));
	for (const [, folio] of shmem_folios(f.inode)) {
		t.equal(folio_ref_count(folio), 2, "the page cache's reference and the pin");
		t.ok(khoHolds(k, folio.pfn));
	}
});

t.test("preserve fills holes with zeroed pages", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "sparse");
	writeText(k, f, "mid", P);
	notifyChange(k.vfs, f.inode, { size: 3 * P });
	t.equal(shmem_folios(f.inode).length, 1);
	const args = preserve(k, f);
	t.same(shmem_folios(f.inode).map(([i, , up]) => [i, up]), [[0, true], [1, true], [2, true]]);
	t.same(folioEntries(args, 3).map((e) => e.index), [0, 1, 2]);
});

t.test("preserve zeroes a page fallocate left !uptodate and marks it uptodate", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "falloc");
	vfsFallocate(f, 0, 0, P);
	const [, folio, up] = shmem_folios(f.inode)[0]!;
	t.notOk(up);
	k.buddy.pm.page(folio.pfn).fill(0x5a);
	preserve(k, f);
	t.ok(SHMEM_I(f.inode).pages.get(0)!.uptodate);
	t.ok(k.buddy.pm.page(folio.pfn).every((b) => b === 0));
});

t.test("preserve of a 0-byte memfd: no folios, a zero descriptor", async (t) => {
	const k = bootMainline();
	const args = preserve(k, makeMemfd(k, "empty"));
	const ser = readSer(k, args.serialized_data);
	t.equal(ser.nr_folios, 0n);
	t.same(ser.folios, { first: 0n, total_pages: 0, flags: 0, order: 0 });
});

t.test("preserve with a seal this version does not know is EOPNOTSUPP; the inode thaws", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "future", "abc", MFD_ALLOW_SEALING);
	SHMEM_I(f.inode).seals |= 0x40;
	const free = k.buddy.nr_free_pages();
	const args = opArgs(k, f);
	t.equal(errnoOf(() => ops.preserve(args)), EOPNOTSUPP);
	t.equal(args.serialized_data, 0n);
	t.equal(errnoOf(() => notifyChange(k.vfs, f.inode, { size: 1 })), 0, "not frozen");
	t.equal(k.buddy.nr_free_pages(), free, "the record's page is freed");
});

t.test("preserve of a file over UINT_MAX pages is EFBIG; the inode thaws", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "huge");
	notifyChange(k.vfs, f.inode, { size: 0x100000000 * P });
	t.equal(errnoOf(() => ops.preserve(opArgs(k, f))), EFBIG);
	t.equal(shmem_folios(f.inode).length, 0, "nothing was pinned or allocated");
	t.equal(errnoOf(() => notifyChange(k.vfs, f.inode, { size: 0 })), 0);
});

t.test("preserve is ENOMEM when the holes do not fit; no pin stays", async (t) => {
	const k = bootMainline({}, { memBytes: 64 * 1024 * 1024 });
	const f = makeMemfd(k, "big", "z");
	notifyChange(k.vfs, f.inode, { size: (k.buddy.nr_free_pages() + 16) * P });
	t.equal(errnoOf(() => ops.preserve(opArgs(k, f))), ENOMEM);
	for (const [, folio] of shmem_folios(f.inode)) t.equal(folio_ref_count(folio), 1);
	t.equal(errnoOf(() => notifyChange(k.vfs, f.inode, { size: 0 })), 0, "not frozen");
});

t.test("freeze refreshes pos only: a seal added after preserve is not recorded", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "pos", "abcdef", MFD_ALLOW_SEALING);
	f.f_pos = 1;
	const args = preserve(k, f);
	f.f_pos = 4;
	memfd_add_seals(f, F_SEAL_WRITE);
	ops.freeze!(args);
	const ser = readSer(k, args.serialized_data);
	t.equal(ser.pos, 4n);
	t.equal(ser.seals, 0);
});

t.test("freeze without serialized data is EINVAL with a warning", async (t) => {
	const k = bootMainline();
	t.equal(errnoOf(() => ops.freeze!(opArgs(k, makeMemfd(k, "none")))), EINVAL);
	t.match(dmesg(k), /WARNING: mm\/memfd_luo\.c: memfd_luo_freeze/);
});

t.test("unpreserve thaws the inode", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "thaw", "abc");
	ops.unpreserve(preserve(k, f));
	notifyChange(k.vfs, f.inode, { size: 1 });
	t.equal(f.inode.size, 1);
});

t.test("unpreserve drops the pins and every preservation, and frees the record and the array", async (t) => {
	const k = bootMainline();
	const f = makeMemfd(k, "undo", "w".repeat(2 * P));
	const args = preserve(k, f);
	const serPfn = PHYS_PFN(Number(args.serialized_data));
	const arrayPfn = PHYS_PFN(Number(readSer(k, args.serialized_data).folios.first));
	const area = (args.private_data as { folios: { pages: readonly number[] } }).folios;
	ops.unpreserve(args);
	for (const [, folio] of shmem_folios(f.inode)) {
		t.equal(folio_ref_count(folio), 1);
		t.notOk(khoHolds(k, folio.pfn));
	}
	t.ok(k.buddy.page_is_free(serPfn), "the record's page");
	t.ok(area.pages.every((pfn) => k.buddy.page_is_free(pfn)), "the array's pages");
	t.ok(k.buddy.page_is_free(arrayPfn), "the chunk page");
	t.notOk(khoHolds(k, serPfn));
});

t.test("the late initcall registers memfd-v2 on a mainline kernel", async (t) => {
	t.same(luo_file_handlers(bootMainline()).map((h) => h.compatible), [MEMFD_LUO_FH_COMPATIBLE]);
});

t.test("no handler without CONFIG_LIVEUPDATE_MEMFD, with liveupdate=off, or on a seed-era kernel", async (t) => {
	t.same(luo_file_handlers(bootMainline({ config: { LIVEUPDATE_MEMFD: false } })), []);
	const off = bootMainline({ cmdline: "liveupdate=off" });
	t.same(luo_file_handlers(off), []);
	t.equal(memfd_luo_init(off), 0, "EOPNOTSUPP from LUO is not an error");
	t.notOk(luo_file_handlers(bootMainline({ abi: "rfc-v2" })).includes(memfd_luo_handler));
});

t.test("a second registration fails: the initcall prints it and returns -EEXIST", async (t) => {
	const k = bootMainline();
	t.equal(memfd_luo_init(k), -EEXIST);
	t.match(dmesg(k), /memfd_luo: Could not register luo filesystem handler: -EEXIST/);
});

t.test("a memfd without MFD_ALLOW_SEALING is recorded with F_SEAL_SEAL", async (t) => {
	const k = bootMainline();
	t.equal(readSer(k, preserve(k, makeMemfd(k, "sealed", "q")).serialized_data).seals, F_SEAL_SEAL);
});
