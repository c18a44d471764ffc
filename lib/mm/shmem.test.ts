import t from "tap";
import { bootKernel, Machine } from "../kernel/machine.ts";
import { Errno, EEXIST, EFBIG, EINVAL, ENOMEM, ENXIO, EOPNOTSUPP, EPERM } from "../kernel/errno.ts";
import { notifyChange } from "../fs/open.ts";
import { vfsLlseek } from "../fs/readWrite.ts";
import { SEEK_DATA, SEEK_HOLE } from "../fs/fcntl.ts";
import { S_IFREG } from "../fs/inode.ts";
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_UNSHARE_RANGE, FALLOC_FL_ZERO_RANGE, vfsFallocate } from "../fs/falloc.ts";
import { folio_alloc, folio_get, folio_put, folio_ref_count, folio_page_address } from "./folio.ts";
import {
	F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SHRINK, F_SEAL_WRITE, SHMEM_DEV, SHMEM_I, shmem_add_folio,
	shmem_file, shmem_file_setup, shmem_folios, shmem_freeze, shmem_nr_pages, shmem_read_folio,
} from "./shmem.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { FMODE_LSEEK, type File } from "../fs/file.ts";

const P = 4096;
const enc = new TextEncoder();

function errnoOf(fn: () => unknown): number {
	try {
		fn();
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		throw e;
	}
	return 0;
}

/** A kernel with exactly `pages` free frames (boot reserves memory of its own: the first MiB, KHO scratch). */
function tightKernel(pages: number): Kernel {
	const k = new Machine({ memBytes: 64 * 1024 * 1024 }).boot();
	while (k.buddy.nr_free_pages() > pages) k.buddy.alloc_pages(0);
	return k;
}

function setup(k: Kernel = bootKernel()): { k: Kernel; f: File; used: () => number } {
	const base = k.buddy.nr_free_pages();
	const f = shmem_file_setup(k, "memfd:t", 0);
	// memfd_create makes its files seekable; shmem_file_setup alone does not.
	f.f_mode |= FMODE_LSEEK;
	return { k, f, used: () => base - k.buddy.nr_free_pages() };
}

function write(k: Kernel, f: File, data: Uint8Array | string, pos: number): number {
	return k.vfs.kernelWrite(f, typeof data === "string" ? enc.encode(data) : data, pos);
}

t.test("a new shmem file is an unlinked 0777 regular file on 0:1 with no pages", async (t) => {
	const { k, f, used } = setup();
	t.equal(f.inode.mode, S_IFREG | 0o777);
	t.equal(f.inode.nlink, 0);
	t.equal(f.inode.sb.dev, SHMEM_DEV);
	t.equal(f.inode.size, 0);
	t.equal(f.path?.name, "/memfd:t");
	t.ok(shmem_file(f));
	t.equal(used(), 0);
	t.same(k.vfs.kernelRead(f, 10, 0), new Uint8Array(0), "reads 0 bytes at EOF");
});

t.test("write then read returns the bytes; a hole reads as zeros and takes no frame", async (t) => {
	const { k, f, used } = setup();
	t.equal(write(k, f, "hello", 2 * P), 5);
	t.equal(f.inode.size, 2 * P + 5);
	t.equal(used(), 1, "only the written page has a frame");
	t.equal(shmem_nr_pages(k), 1);
	const all = k.vfs.kernelRead(f, 3 * P, 0);
	t.equal(all.length, 2 * P + 5, "short at EOF");
	t.same(all.subarray(0, 2 * P), new Uint8Array(2 * P));
	t.equal(new TextDecoder().decode(all.subarray(2 * P)), "hello");
	t.equal(used(), 1, "reading holes allocates nothing");
});

t.test("a write across pages fills each; the data lives in the folio's frame", async (t) => {
	const { k, f, used } = setup();
	const data = new Uint8Array(P + 100).map((_, i) => i & 0xff);
	t.equal(write(k, f, data, P - 50), P + 100);
	t.equal(used(), 3);
	t.same(k.vfs.kernelRead(f, P + 100, P - 50), data);
	const [pgoff, folio] = shmem_folios(f.inode)[1]!;
	t.equal(pgoff, 1);
	t.equal(folio_page_address(folio, 0)[0], data[50], "page 1 starts 50 bytes into the data");
	t.equal(k.machine.physmem.read(folio.pfn * P, 1)[0], data[50], "and the bytes are in physical memory");
});

t.test("growing the size costs nothing: a 1 GiB file with one page written holds one frame", async (t) => {
	const { k, f, used } = setup();
	notifyChange(k.vfs, f.inode, { size: 1 << 30 });
	t.equal(f.inode.size, 1 << 30);
	t.equal(used(), 0);
	write(k, f, "x", 512 * 1024 * 1024);
	t.equal(used(), 1);
});

t.test("truncate frees the pages past the new size and zeroes the tail of the last page", async (t) => {
	const { k, f, used } = setup();
	write(k, f, new Uint8Array(3 * P).fill(7), 0);
	t.equal(used(), 3);
	notifyChange(k.vfs, f.inode, { size: P + 10 });
	t.equal(used(), 2);
	t.same(shmem_folios(f.inode).map(([i]) => i), [0, 1]);
	notifyChange(k.vfs, f.inode, { size: 2 * P });
	const back = k.vfs.kernelRead(f, 2 * P, 0);
	t.equal(back[P + 9], 7, "kept byte");
	t.same(back.subarray(P + 10), new Uint8Array(P - 10), "the old tail reads as zeros after growing again");
	notifyChange(k.vfs, f.inode, { size: 0 });
	t.equal(used(), 0);
	t.equal(shmem_nr_pages(k), 0);
});

t.test("fallocate mode 0 allocates every page and extends the size; KEEP_SIZE keeps it", async (t) => {
	const { k, f, used } = setup();
	vfsFallocate(f, 0, 100, 2 * P);
	t.equal(f.inode.size, 2 * P + 100);
	t.equal(used(), 3);
	vfsFallocate(f, FALLOC_FL_KEEP_SIZE, 10 * P, P);
	t.equal(f.inode.size, 2 * P + 100);
	t.equal(used(), 4, "a page past EOF");
	vfsFallocate(f, 0, 0, P);
	t.equal(used(), 4, "already allocated pages are kept");
	t.same(k.vfs.kernelRead(f, 3 * P, 0), new Uint8Array(2 * P + 100), "fallocated pages read as zeros");
});

t.test("fallocated pages are holes to SEEK_DATA until written or fallocated again", async (t) => {
	const { k, f } = setup();
	vfsFallocate(f, 0, 0, 4 * P);
	t.equal(errnoOf(() => vfsLlseek(f, 0, SEEK_DATA)), ENXIO);
	t.equal(vfsLlseek(f, 0, SEEK_HOLE), 0);
	write(k, f, "d", 2 * P + 5);
	t.equal(vfsLlseek(f, 0, SEEK_DATA), 2 * P);
	t.equal(vfsLlseek(f, 2 * P + 7, SEEK_DATA), 2 * P + 7);
	t.equal(vfsLlseek(f, 2 * P, SEEK_HOLE), 3 * P);
	vfsFallocate(f, 0, 0, P);
	t.equal(vfsLlseek(f, 0, SEEK_DATA), 0, "a second fallocate initializes the page");
	t.equal(errnoOf(() => vfsLlseek(f, 4 * P, SEEK_DATA)), ENXIO, "at EOF");
	t.equal(errnoOf(() => vfsLlseek(f, -1, SEEK_HOLE)), ENXIO, "negative");
	t.equal(errnoOf(() => vfsLlseek(f, 3 * P, SEEK_DATA)), ENXIO, "no data after");
	t.equal(vfsLlseek(f, 3 * P + 1, SEEK_HOLE), 3 * P + 1);
});

t.test("PUNCH_HOLE frees whole pages, zeroes partial ones, keeps the size", async (t) => {
	const { k, f, used } = setup();
	write(k, f, new Uint8Array(4 * P).fill(9), 0);
	vfsFallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, P - 1, 2 * P + 2);
	t.equal(f.inode.size, 4 * P);
	t.same(shmem_folios(f.inode).map(([i]) => i), [0, 3], "pages 1 and 2 freed");
	t.equal(used(), 2);
	const back = k.vfs.kernelRead(f, 4 * P, 0);
	t.equal(back[P - 2], 9);
	t.equal(back[P - 1], 0);
	t.equal(back[3 * P], 0);
	t.equal(back[3 * P + 1], 9);
	vfsFallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 10 * P);
	t.equal(used(), 0);
});

t.test("fallocate errors: other modes EOPNOTSUPP, EFBIG, ENOMEM with nothing allocated", async (t) => {
	const { k, f, used } = setup(tightKernel(16));
	t.equal(errnoOf(() => vfsFallocate(f, FALLOC_FL_ZERO_RANGE, 0, P)), EOPNOTSUPP);
	t.equal(errnoOf(() => vfsFallocate(f, FALLOC_FL_UNSHARE_RANGE, 0, P)), EOPNOTSUPP);
	t.equal(errnoOf(() => vfsFallocate(f, 0, Number.MAX_SAFE_INTEGER - 10, 100)), EFBIG);
	write(k, f, "a", 0);
	t.equal(errnoOf(() => vfsFallocate(f, 0, 0, 32 * P)), ENOMEM);
	t.equal(used(), 1, "nothing allocated by the failed call");
	t.equal(f.inode.size, 1, "size unchanged");
	vfsFallocate(f, 0, 0, 16 * P);
	t.equal(k.buddy.nr_free_pages(), 0, "the file now holds every frame");
});

t.test("ENOMEM when the allocator runs out: a write is short, then fails; holes still read", async (t) => {
	const { k, f, used } = setup(tightKernel(4));
	t.equal(write(k, f, new Uint8Array(6 * P).fill(1), 0), 4 * P);
	t.equal(used(), 4);
	t.equal(errnoOf(() => write(k, f, "x", 5 * P)), ENOMEM);
	t.equal(f.inode.size, 4 * P, "the size covers what was written");
	notifyChange(k.vfs, f.inode, { size: 8 * P });
	t.same(k.vfs.kernelRead(f, P, 7 * P), new Uint8Array(P));
});

t.test("the last reference frees every folio; one pinned elsewhere lives on", async (t) => {
	const { k, f, used } = setup();
	write(k, f, new Uint8Array(3 * P).fill(1), 0);
	const [, pinned] = shmem_folios(f.inode)[1]!;
	folio_get(pinned);
	f.get();
	f.put();
	t.equal(used(), 3, "a second reference keeps the pages");
	f.put();
	t.equal(used(), 1, "the pinned folio survives");
	t.equal(folio_ref_count(pinned), 1);
	t.equal(shmem_nr_pages(k), 0);
	folio_put(pinned);
	t.equal(used(), 0);
});

t.test("page-cache accessors: shmem_folios, shmem_read_folio, shmem_add_folio", async (t) => {
	const { k, f, used } = setup();
	write(k, f, "z", 5 * P);
	notifyChange(k.vfs, f.inode, { size: 8 * P });
	const got = shmem_read_folio(f.inode, 2);
	t.equal(used(), 2);
	t.same(shmem_folios(f.inode).map(([i, folio, up]) => [i, folio.pfn, up]), [[2, got.pfn, true], [5, shmem_folios(f.inode)[1]![1].pfn, true]]);
	t.equal(errnoOf(() => shmem_read_folio(f.inode, 8)), EINVAL, "past EOF");
	const extra = folio_alloc(k.buddy, 0)!;
	folio_page_address(extra, 0).set(enc.encode("restored"));
	shmem_add_folio(f.inode, 7, extra);
	t.equal(new TextDecoder().decode(k.vfs.kernelRead(f, 8, 7 * P)), "restored");
	t.equal(errnoOf(() => shmem_add_folio(f.inode, 7, extra)), EEXIST);
	t.equal(shmem_nr_pages(k), 3);
});

t.test("seals: write seals make writes EPERM, grow/shrink seals guard the size, F_SEAL_EXEC the x bits", async (t) => {
	const { k, f } = setup();
	write(k, f, "abcd", 0);
	const info = SHMEM_I(f.inode);
	info.seals = F_SEAL_GROW;
	t.equal(write(k, f, "xy", 1), 2, "inside the size");
	t.equal(errnoOf(() => write(k, f, "xyzw", 2)), EPERM, "past EOF");
	t.equal(errnoOf(() => notifyChange(k.vfs, f.inode, { size: 10 })), EPERM);
	t.equal(errnoOf(() => vfsFallocate(f, 0, 0, 10)), EPERM);
	vfsFallocate(f, FALLOC_FL_KEEP_SIZE, 0, 4);
	info.seals = F_SEAL_SHRINK;
	t.equal(errnoOf(() => notifyChange(k.vfs, f.inode, { size: 1 })), EPERM);
	notifyChange(k.vfs, f.inode, { size: 4 });
	for (const seal of [F_SEAL_WRITE, F_SEAL_FUTURE_WRITE]) {
		info.seals = seal;
		t.equal(errnoOf(() => write(k, f, "q", 0)), EPERM);
		t.equal(errnoOf(() => vfsFallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1)), EPERM);
	}
	t.equal(new TextDecoder().decode(k.vfs.kernelRead(f, 4, 0)), "axyd", "nothing changed by the refused calls");
	info.seals = F_SEAL_EXEC;
	t.equal(errnoOf(() => notifyChange(k.vfs, f.inode, { mode: 0o666 })), EPERM);
	notifyChange(k.vfs, f.inode, { mode: 0o755 });
	t.equal(f.inode.mode, S_IFREG | 0o755, "changing only non-exec bits is fine");
});

t.test("a frozen inode refuses size changes, growing writes and fallocate", async (t) => {
	const { k, f } = setup();
	write(k, f, "abcd", 0);
	shmem_freeze(f.inode, true);
	t.equal(write(k, f, "xy", 0), 2);
	t.equal(errnoOf(() => write(k, f, "xy", 3)), EPERM);
	t.equal(errnoOf(() => notifyChange(k.vfs, f.inode, { size: 2 })), EPERM);
	t.equal(errnoOf(() => vfsFallocate(f, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 1)), EPERM);
	notifyChange(k.vfs, f.inode, { size: 4 });
	shmem_freeze(f.inode, false);
	notifyChange(k.vfs, f.inode, { size: 2 });
	t.equal(f.inode.size, 2);
});
