import t from "tap";
import {
	AddressSpace, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED,
	MAP_SHARED_VALIDATE, MMAP_BASE, MMAP_MIN_ADDR, PAGE_SHIFT, PAGE_SIZE, PROT_EXEC, PROT_GROWSDOWN, PROT_NONE,
	PROT_READ, PROT_WRITE, TASK_SIZE, type VmaBacking,
} from "./addressSpace.ts";
import { Errno, EACCES, EEXIST, EFAULT, EINVAL, EIO, ENOMEM, EOPNOTSUPP, EPERM } from "../kernel/errno.ts";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const P = PAGE_SIZE;

function errnoOf(fn: () => unknown): number | string {
	try {
		fn();
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		return `not an Errno: ${String(e)}`;
	}
	return "no error";
}

/** A file-like backing of `npages` pages; pages beyond it fault (EIO), like a mapping past EOF. */
class FakeFile implements VmaBacking {
	readonly name = "/tmp/fake";
	pages: Uint8Array[] = [];
	opens = 0;
	closes = 0;
	mayWrite?: boolean;
	constructor(npages: number) {
		for (let i = 0; i < npages; i++) this.pages.push(new Uint8Array(P).fill(0x40 + i));
	}
	getPage(pgoff: number): Uint8Array {
		const p = this.pages[pgoff];
		if (p === undefined) throw new Errno(EIO);
		return p;
	}
	open(): void {
		this.opens++;
	}
	close(): void {
		this.closes++;
	}
}

function layout(mm: AddressSpace): [number, number, number][] {
	return mm.vmas().map((v) => [v.start, v.end, v.prot]);
}

t.test("constants are Linux x86_64's", async (t) => {
	t.same(
		[PAGE_SIZE, PAGE_SHIFT, PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC],
		[4096, 12, 0, 1, 2, 4],
	);
	t.same(
		[MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_FIXED, MAP_ANONYMOUS, MAP_POPULATE, MAP_NORESERVE, MAP_FIXED_NOREPLACE],
		[0x01, 0x02, 0x03, 0x10, 0x20, 0x8000, 0x4000, 0x100000],
	);
});

t.test("anonymous mmap: page aligned, top-down below mmap_base, zero-filled, lazily allocated", async (t) => {
	const mm = new AddressSpace();
	const a = mm.mmap(0, 5000, RW, ANON);
	t.equal(a % P, 0);
	t.equal(a, MMAP_BASE - 2 * P, "length rounded up to 2 pages, right below mmap_base");
	const b = mm.mmap(0, P, PROT_READ, ANON);
	t.equal(b, a - P, "the next one goes right below");
	t.same(mm.copyFromUser(a, 2 * P), new Uint8Array(2 * P));
	t.equal(mm.findVma(a)!.pages.size, 0, "reads allocate nothing");
	mm.copyToUser(a + P - 2, Uint8Array.of(1, 2, 3, 4));
	t.same(mm.copyFromUser(a + P - 3, 6), Uint8Array.of(0, 1, 2, 3, 4, 0));
	t.equal(mm.findVma(a)!.pages.size, 2);
	t.equal(mm.findVma(a - 1), mm.findVma(b));
	t.equal(mm.findVma(a + 2 * P), undefined);
});

t.test("mmap errors: EINVAL, ENOMEM, EPERM, EEXIST, EOPNOTSUPP, and nothing changes", async (t) => {
	const mm = new AddressSpace();
	const a = mm.mmap(0, 2 * P, RW, ANON);
	mm.copyToUser(a, Uint8Array.of(9));
	const before = layout(mm);
	t.equal(errnoOf(() => mm.mmap(0, 0, RW, ANON)), EINVAL, "length 0");
	t.equal(errnoOf(() => mm.mmap(0, P, RW, MAP_ANONYMOUS)), EINVAL, "neither MAP_SHARED nor MAP_PRIVATE");
	t.equal(errnoOf(() => mm.mmap(0, P, RW, 0x04 | MAP_ANONYMOUS)), EINVAL, "an unknown mapping type");
	t.equal(errnoOf(() => mm.mmap(0, P, 0x10 | PROT_READ, ANON)), EINVAL, "unknown prot bit");
	t.equal(errnoOf(() => mm.mmap(a + 1, P, RW, ANON | MAP_FIXED)), EINVAL, "unaligned MAP_FIXED");
	t.equal(errnoOf(() => mm.mmap(0, P, RW, ANON | MAP_FIXED)), EPERM, "MAP_FIXED at NULL");
	t.equal(errnoOf(() => mm.mmap(MMAP_MIN_ADDR - P, P, RW, ANON | MAP_FIXED)), EPERM, "below mmap_min_addr");
	t.equal(errnoOf(() => mm.mmap(0, TASK_SIZE + 1, RW, ANON)), ENOMEM, "longer than user space");
	t.equal(errnoOf(() => mm.mmap(0, -1, RW, ANON)), ENOMEM, "a negative length is a huge size_t");
	t.equal(errnoOf(() => mm.mmap(TASK_SIZE - P, 2 * P, RW, ANON | MAP_FIXED)), ENOMEM, "MAP_FIXED past the end");
	t.equal(errnoOf(() => mm.mmap(a + P, P, RW, ANON | MAP_FIXED_NOREPLACE)), EEXIST, "MAP_FIXED_NOREPLACE over a mapping");
	t.equal(errnoOf(() => mm.mmap(a + 1, P, RW, ANON | MAP_FIXED_NOREPLACE)), EINVAL, "MAP_FIXED_NOREPLACE implies MAP_FIXED's alignment");
	t.equal(errnoOf(() => mm.mmap(0, P, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS)), EINVAL, "MAP_SHARED_VALIDATE is no anonymous mapping type");
	const f = new FakeFile(1);
	t.equal(errnoOf(() => mm.mmap(0, P, RW, MAP_SHARED_VALIDATE | 0x400, f)), EOPNOTSUPP, "unknown flag with MAP_SHARED_VALIDATE");
	t.equal(errnoOf(() => mm.mmap(0x30000000, P, RW, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, f)), EOPNOTSUPP, "MAP_FIXED_NOREPLACE is not a legacy flag");
	t.same(layout(mm), before, "no mapping changed");
	t.same(mm.copyFromUser(a, 1), Uint8Array.of(9), "the data is intact");
	t.equal(mm.mmap(0, P, RW, MAP_SHARED | MAP_ANONYMOUS | 0x400) > 0, true, "MAP_SHARED ignores unknown flags");
	const v = mm.mmap(0, P, RW, MAP_SHARED_VALIDATE | MAP_POPULATE, f);
	t.equal(mm.findVma(v)!.shared, true, "MAP_SHARED_VALIDATE with legacy flags is MAP_SHARED");
	t.equal(mm.findVma(v)!.flags, MAP_SHARED);
});

t.test("mmap runs out of room with ENOMEM", async (t) => {
	const mm = new AddressSpace();
	mm.mmap(MMAP_MIN_ADDR, TASK_SIZE - MMAP_MIN_ADDR - 4 * P, PROT_NONE, ANON | MAP_FIXED | MAP_NORESERVE);
	const last = mm.mmap(0, 4 * P, RW, ANON);
	t.equal(last, TASK_SIZE - 4 * P, "the last gap is above mmap_base: found bottom-up");
	t.equal(errnoOf(() => mm.mmap(0, P, RW, ANON)), ENOMEM);
	mm.munmap(last + P, P);
	t.equal(mm.mmap(0, P, RW, ANON), last + P, "a one-page hole is found");
});

t.test("hints: a free aligned hint is used, an unaligned one rounded up, a busy one ignored, never below mmap_min_addr", async (t) => {
	const mm = new AddressSpace();
	t.equal(mm.mmap(0x10000000, P, RW, ANON), 0x10000000);
	t.equal(mm.mmap(0x20000001, P, RW, ANON), 0x20001000);
	const busy = mm.mmap(0x10000000, P, RW, ANON);
	t.not(busy, 0x10000000);
	t.equal(busy, MMAP_BASE - P);
	t.equal(mm.mmap(P, P, RW, ANON), MMAP_MIN_ADDR, "a hint in the first 64 KiB moves up to mmap_min_addr");
	t.equal(errnoOf(() => mm.copyFromUser(0, 1)), EFAULT, "NULL is never mapped");
});

t.test("MAP_FIXED replaces what was there, splitting the old mapping", async (t) => {
	const mm = new AddressSpace();
	const a = mm.mmap(0, 3 * P, RW, ANON);
	mm.copyToUser(a, new Uint8Array(3 * P).fill(7));
	t.equal(mm.mmap(a + P, P, PROT_READ, ANON | MAP_FIXED), a + P);
	t.same(layout(mm), [[a, a + P, RW], [a + P, a + 2 * P, PROT_READ], [a + 2 * P, a + 3 * P, RW]]);
	t.same(mm.copyFromUser(a + P - 1, 3), Uint8Array.of(7, 0, 0), "the replaced page is new, zero memory");
	t.same(mm.copyFromUser(a + 2 * P, 1), Uint8Array.of(7), "the part after the hole kept its data");
	t.equal(mm.mmap(a + 3 * P, P, RW, ANON | MAP_FIXED_NOREPLACE), a + 3 * P, "MAP_FIXED_NOREPLACE on a free range maps there");
});

t.test("adjacent compatible mappings merge into one VMA", async (t) => {
	const mm = new AddressSpace();
	const a = mm.mmap(0, P, RW, ANON);
	mm.copyToUser(a, Uint8Array.of(1));
	const b = mm.mmap(0, P, RW, ANON);
	mm.copyToUser(b, Uint8Array.of(2));
	t.equal(mm.vmas().length, 1, "two anonymous RW mappings side by side are one VMA");
	t.same(mm.copyFromUser(b, 1), Uint8Array.of(2));
	t.same(mm.copyFromUser(a, 1), Uint8Array.of(1));
	mm.mmap(0, P, PROT_READ, ANON);
	mm.mmap(0, P, RW, MAP_SHARED | MAP_ANONYMOUS);
	mm.mmap(0, P, RW, MAP_SHARED | MAP_ANONYMOUS);
	t.equal(mm.vmas().length, 4, "different prot or separate shmem objects do not merge");
	const starts = mm.vmas().map((v) => v.start);
	t.same(starts, [...starts].sort((x, y) => x - y), "vmas() is sorted");
});

t.test("munmap: EINVAL for unaligned or empty, fine for nothing, splits partial ranges", async (t) => {
	const mm = new AddressSpace();
	const a = mm.mmap(0, 3 * P, RW, ANON);
	mm.copyToUser(a, new Uint8Array(3 * P).fill(5));
	t.equal(errnoOf(() => mm.munmap(a + 1, P)), EINVAL, "unaligned");
	t.equal(errnoOf(() => mm.munmap(a, 0)), EINVAL, "length 0");
	t.equal(errnoOf(() => mm.munmap(TASK_SIZE - P, 2 * P)), EINVAL, "past the end of user space");
	t.equal(mm.vmas().length, 1, "nothing changed");
	mm.munmap(0x10000000, 16 * P);
	t.equal(mm.vmas().length, 1, "unmapping nothing is fine");
	mm.munmap(a + P, 1);
	t.same(layout(mm), [[a, a + P, RW], [a + 2 * P, a + 3 * P, RW]], "length rounded up; the middle page is gone");
	t.equal(errnoOf(() => mm.copyFromUser(a + P, 1)), EFAULT);
	t.same(mm.copyFromUser(a + 2 * P, 1), Uint8Array.of(5), "the tail kept its data after the split");
	t.same(mm.copyFromUser(a + P - 1, 1), Uint8Array.of(5));
	mm.munmap(a - 16 * P, 32 * P);
	t.equal(mm.vmas().length, 0, "a range over several VMAs and holes");
});

t.test("mprotect: splits and re-merges; EINVAL, ENOMEM, EACCES", async (t) => {
	const mm = new AddressSpace();
	const a = mm.mmap(0, 3 * P, RW, ANON);
	mm.copyToUser(a + P, Uint8Array.of(3));
	mm.mprotect(a + P, P, PROT_READ);
	t.same(layout(mm), [[a, a + P, RW], [a + P, a + 2 * P, PROT_READ], [a + 2 * P, a + 3 * P, RW]]);
	t.same(mm.copyFromUser(a + P, 1), Uint8Array.of(3), "data kept across the split");
	t.equal(errnoOf(() => mm.copyToUser(a + P, Uint8Array.of(1))), EFAULT, "read-only now");
	mm.mprotect(a + P, 1, RW);
	t.same(layout(mm), [[a, a + 3 * P, RW]], "same protection again: one VMA");
	t.same(mm.copyFromUser(a + P, 1), Uint8Array.of(3));
	t.equal(errnoOf(() => mm.mprotect(a + 1, P, PROT_READ)), EINVAL, "unaligned");
	t.equal(errnoOf(() => mm.mprotect(a, P, 0x10)), EINVAL, "unknown prot bit");
	t.equal(errnoOf(() => mm.mprotect(a, P, PROT_READ | PROT_GROWSDOWN)), EINVAL, "PROT_GROWSDOWN on a VMA that does not grow");
	t.equal(errnoOf(() => mm.mprotect(a - P, 2 * P, PROT_READ)), ENOMEM, "starts in a hole");
	t.same(layout(mm), [[a, a + 3 * P, RW]], "nothing changed");
	mm.mprotect(a, 0, PROT_NONE);
	t.same(layout(mm), [[a, a + 3 * P, RW]], "length 0 does nothing");
	t.equal(errnoOf(() => mm.mprotect(a + 2 * P, 2 * P, PROT_READ)), ENOMEM, "runs into a hole");
	t.same(layout(mm), [[a, a + 2 * P, RW], [a + 2 * P, a + 3 * P, PROT_READ]], "as in Linux, the part before the hole was changed");
});

t.test("PROT_WRITE on a shared mapping of a backing that forbids writes is EACCES (mmap and mprotect)", async (t) => {
	const mm = new AddressSpace();
	const f = new FakeFile(2);
	f.mayWrite = false;
	t.equal(errnoOf(() => mm.mmap(0, P, RW, MAP_SHARED, f)), EACCES);
	const a = mm.mmap(0, P, PROT_READ, MAP_SHARED, f);
	t.equal(errnoOf(() => mm.mprotect(a, P, RW)), EACCES);
	t.equal(mm.findVma(a)!.prot, PROT_READ);
	const p = mm.mmap(0, P, RW, MAP_PRIVATE, f);
	mm.copyToUser(p, Uint8Array.of(1));
	t.equal(f.pages[0]![0], 0x40, "a private mapping may be written: the copy, not the file");
});

t.test("copy_to_user/copy_from_user: EFAULT for any unmapped or forbidden byte, and nothing written", async (t) => {
	const mm = new AddressSpace();
	const a = mm.mmap(0x10000000, 2 * P, RW, ANON);
	mm.mmap(a + 2 * P, P, PROT_READ, ANON | MAP_FIXED);
	mm.mmap(a - P, P, PROT_NONE, ANON | MAP_FIXED);
	// Layout: [a-P: NONE][a: RW][a+P: RW][a+2P: READ][a+3P: hole]
	const data = new Uint8Array(100).fill(0xaa);
	t.equal(errnoOf(() => mm.copyToUser(a + 2 * P - 50, data)), EFAULT, "straddles RW and read-only");
	t.same(mm.copyFromUser(a + 2 * P - 50, 50), new Uint8Array(50), "nothing of the writable half was written");
	t.equal(errnoOf(() => mm.copyToUser(a - 50, data)), EFAULT, "straddles PROT_NONE and RW");
	t.same(mm.copyFromUser(a, 50), new Uint8Array(50));
	t.equal(errnoOf(() => mm.copyFromUser(a + 3 * P - 50, 100)), EFAULT, "read straddling the end of the mapping");
	t.equal(errnoOf(() => mm.copyFromUser(a - 50, 100)), EFAULT, "read straddling PROT_NONE");
	t.equal(errnoOf(() => mm.copyFromUser(a - 1, 1)), EFAULT, "PROT_NONE is unreadable");
	t.equal(errnoOf(() => mm.copyToUser(a + 2 * P, Uint8Array.of(1))), EFAULT, "read-only is unwritable");
	t.equal(errnoOf(() => mm.copyFromUser(a + 3 * P, 1)), EFAULT, "unmapped");
	t.equal(errnoOf(() => mm.copyFromUser(-1, 1)), EFAULT, "negative address");
	t.equal(errnoOf(() => mm.copyFromUser(NaN, 1)), EFAULT, "NaN");
	t.equal(errnoOf(() => mm.copyToUser(NaN, Uint8Array.of(1))), EFAULT, "NaN store");
	t.equal(errnoOf(() => mm.copyFromUser(a, -1)), EFAULT, "negative length");
	t.same(mm.copyFromUser(0, 0), new Uint8Array(0), "zero bytes need no mapping");
	mm.copyToUser(0, new Uint8Array(0));
	const big = new Uint8Array(2 * P + 100).map((_, i) => i & 0xff);
	mm.copyToUser(a + 10, big.subarray(0, 2 * P - 10));
	t.same(mm.copyFromUser(a + 10, 2 * P - 10), big.subarray(0, 2 * P - 10), "a copy over two pages");
	t.same(mm.copyFromUser(a + 2 * P - 1, 2), Uint8Array.of((2 * P - 11) & 0xff, 0), "a read over two VMAs");
});

t.test("PROT_WRITE alone is readable (x86 has no write-only pages); PROT_EXEC alone is not", async (t) => {
	const mm = new AddressSpace();
	const w = mm.mmap(0, P, PROT_WRITE, ANON);
	mm.copyToUser(w, Uint8Array.of(4));
	t.same(mm.copyFromUser(w, 1), Uint8Array.of(4));
	const x = mm.mmap(0, P, PROT_EXEC, ANON);
	t.equal(errnoOf(() => mm.copyFromUser(x, 1)), EFAULT);
});

t.test("get_user/put_user: little-endian 1, 2, 4, 8 bytes, across pages, EFAULT with nothing written", async (t) => {
	const mm = new AddressSpace();
	const a = mm.mmap(0, 2 * P, RW, ANON);
	mm.putUser(a, 4, 0x12345678);
	t.same(mm.copyFromUser(a, 4), Uint8Array.of(0x78, 0x56, 0x34, 0x12));
	t.equal(mm.getUser(a, 1), 0x78);
	t.equal(mm.getUser(a, 2), 0x5678);
	t.equal(mm.getUser(a, 4), 0x12345678);
	mm.putUser(a, 4, -1);
	t.equal(mm.getUser(a, 4), 0xffffffff, "unsigned");
	mm.putUser(a + 8, 8, 0x0102030405060708n);
	t.equal(mm.getUser(a + 8, 8), 0x0102030405060708n);
	mm.putUser(a + 8, 8, -2n);
	t.equal(mm.getUser(a + 8, 8), 0xfffffffffffffffen, "two's complement, read unsigned");
	mm.putUser(a + 16, 8, 5);
	t.equal(mm.getUser(a + 16, 8), 5n, "a number for 8 bytes");
	mm.putUser(a + 24, 2, 0x12345);
	t.equal(mm.getUser(a + 24, 2), 0x2345, "truncated");
	mm.putUser(a + P - 3, 8, 0xa1a2a3a4a5a6a7a8n);
	t.equal(mm.getUser(a + P - 3, 8), 0xa1a2a3a4a5a6a7a8n, "straddling two pages");
	t.equal(mm.getUser(a + P + 100, 8), 0n, "untouched memory is zero");
	mm.munmap(a + P, P);
	t.equal(errnoOf(() => mm.putUser(a + P - 2, 4, 0xffffffff)), EFAULT, "half unmapped");
	t.same(mm.copyFromUser(a + P - 2, 2), Uint8Array.of(0xa7, 0xa6), "nothing written");
	t.equal(errnoOf(() => mm.getUser(a + P - 2, 4)), EFAULT);
	t.equal(errnoOf(() => mm.getUser(a + P, 1)), EFAULT);
	t.equal(errnoOf(() => mm.getUser(NaN, 4)), EFAULT);
	t.equal(errnoOf(() => mm.putUser(NaN, 4, 0)), EFAULT);
	t.throws(() => mm.getUser(a, 3 as 4), RangeError, "a size that is no C type is a programming error");
});

t.test("strncpy_from_user: stops at NUL or max, EFAULT on a hole first", async (t) => {
	const mm = new AddressSpace();
	const a = mm.mmap(0, 2 * P, RW, ANON);
	const enc = new TextEncoder();
	mm.copyToUser(a, enc.encode("hello\0world"));
	t.same(mm.strncpyFromUser(a, 100), { str: "hello", terminated: true });
	t.same(mm.strncpyFromUser(a, 3), { str: "hel", terminated: false });
	t.same(mm.strncpyFromUser(a, 0), { str: "", terminated: false });
	t.same(mm.strncpyFromUser(a + 5, 10), { str: "", terminated: true });
	mm.copyToUser(a + P - 3, enc.encode("ab\u00e9\0"));
	t.same(mm.strncpyFromUser(a + P - 3, 10), { str: "ab\u00e9", terminated: true }, "UTF-8 across a page boundary");
	t.same(mm.strncpyFromUser(a + 2 * P - 1, 1), { str: "", terminated: true }, "the zero page ends it");
	mm.copyToUser(a + 2 * P - 2, enc.encode("xy"));
	t.equal(errnoOf(() => mm.strncpyFromUser(a + 2 * P - 2, 10)), EFAULT, "no NUL before the hole");
	t.same(mm.strncpyFromUser(a + 2 * P - 2, 2), { str: "xy", terminated: false }, "max reached before the hole");
	t.equal(errnoOf(() => mm.strncpyFromUser(0, 10)), EFAULT);
});

t.test("access(): loads and stores user code may do (SIGSEGV otherwise)", async (t) => {
	const mm = new AddressSpace();
	const a = mm.mmap(0, P, PROT_READ, ANON);
	const b = mm.mmap(a - P, P, RW, ANON | MAP_FIXED);
	t.equal(mm.access(a, P, false), true);
	t.equal(mm.access(a, 1, true), false, "read-only");
	t.equal(mm.access(b, P, true), true);
	t.equal(mm.access(b + P - 1, 2, false), true, "across two readable VMAs");
	t.equal(mm.access(b + P - 1, 2, true), false, "straddling into read-only");
	t.equal(mm.access(a + P - 1, 2, false), false, "straddling into a hole");
	t.equal(mm.access(0, 1, false), false);
	t.equal(mm.access(a, 0, true), true);
	t.equal(mm.access(NaN, 1, false), false);
});

t.test("fork: private pages are copied, MAP_SHARED pages and backings are shared", async (t) => {
	const mm = new AddressSpace();
	const priv = mm.mmap(0, P, RW, ANON);
	const shared = mm.mmap(0, P, RW, MAP_SHARED | MAP_ANONYMOUS);
	const f = new FakeFile(1);
	const file = mm.mmap(0, P, RW, MAP_SHARED, f);
	const cow = mm.mmap(0, P, RW, MAP_PRIVATE, f);
	mm.copyToUser(priv, Uint8Array.of(1));
	const child = mm.fork();
	t.same(layout(child), layout(mm));
	child.copyToUser(priv, Uint8Array.of(2));
	t.same(mm.copyFromUser(priv, 1), Uint8Array.of(1), "the parent's private page is untouched");
	mm.copyToUser(priv + 1, Uint8Array.of(3));
	t.same(child.copyFromUser(priv, 2), Uint8Array.of(2, 0), "and the child does not see the parent's later store");
	child.copyToUser(shared, Uint8Array.of(4));
	t.same(mm.copyFromUser(shared, 1), Uint8Array.of(4), "shared anonymous memory is shared");
	mm.copyToUser(shared + 1, Uint8Array.of(5));
	t.same(child.copyFromUser(shared, 2), Uint8Array.of(4, 5), "both ways");
	child.copyToUser(file, Uint8Array.of(6));
	t.equal(f.pages[0]![0], 6, "a shared file mapping writes the file");
	t.same(mm.copyFromUser(file, 1), Uint8Array.of(6));
	t.same(mm.copyFromUser(cow, 1), Uint8Array.of(6), "a private file mapping reads the file until written");
	child.copyToUser(cow, Uint8Array.of(7));
	t.equal(f.pages[0]![0], 6, "copy-on-write: the file is unchanged");
	t.same(mm.copyFromUser(cow, 1), Uint8Array.of(6), "and so is the parent's view");
	const grandchild = child.fork();
	child.copyToUser(cow, Uint8Array.of(8));
	t.same(grandchild.copyFromUser(cow, 1), Uint8Array.of(7), "a copied COW page is private to the fork");
	t.same(mm.copyFromUser(shared + 2, 1), Uint8Array.of(0));
	const grandShared = grandchild.findVma(shared)!;
	t.equal(grandShared.backing, mm.findVma(shared)!.backing, "the shmem object is the same");
	t.equal(grandShared.backing!.name, "/dev/zero (deleted)");
});

t.test("a backing page that faults is EFAULT, and a failed copy over it writes nothing", async (t) => {
	const mm = new AddressSpace();
	const f = new FakeFile(1);
	const a = mm.mmap(0, 2 * P, RW, MAP_SHARED, f);
	t.equal(errnoOf(() => mm.copyFromUser(a + P, 1)), EFAULT, "past the file's end");
	t.equal(errnoOf(() => mm.copyToUser(a + P - 2, Uint8Array.of(1, 2, 3, 4))), EFAULT);
	t.same(f.pages[0]!.subarray(P - 2), Uint8Array.of(0x40, 0x40), "nothing written to the good page");
	t.equal(errnoOf(() => mm.getUser(a + P, 4)), EFAULT);
	t.equal(errnoOf(() => mm.strncpyFromUser(a + P - 1, 10)), EFAULT);
	t.equal(mm.access(a + P - 1, 2, false), false);
	t.equal(mm.access(a, P, true), true);
	const p = mm.mmap(0, 2 * P, RW, MAP_PRIVATE, f, 0);
	t.equal(errnoOf(() => mm.copyToUser(p + P - 2, Uint8Array.of(1, 2, 3, 4))), EFAULT);
	t.equal(mm.findVma(p)!.pages.size, 0, "no copy-on-write copy was made by the failed store");
});

t.test("backing references: mmap's own, open() per split and fork, close() per VMA gone", async (t) => {
	const mm = new AddressSpace();
	const f = new FakeFile(4);
	const a = mm.mmap(0, 4 * P, PROT_READ, MAP_SHARED, f, 0);
	t.same([f.opens, f.closes], [0, 0]);
	mm.mprotect(a + P, P, RW);
	t.same([f.opens, f.closes], [2, 0], "split in three");
	t.same(mm.copyFromUser(a + 2 * P, 1), Uint8Array.of(0x42), "the split VMAs keep their file offsets");
	const child = mm.fork();
	t.same([f.opens, f.closes], [5, 0]);
	mm.mprotect(a + P, P, PROT_READ);
	t.same([f.opens, f.closes], [5, 2], "merging drops two references");
	mm.munmap(a, 4 * P);
	t.same([f.opens, f.closes], [5, 3]);
	child.unmapAll();
	t.same([f.opens, f.closes], [5, 6], "every open has its close");
	t.equal(child.vmas().length, 0);
	const b = mm.mmap(0, 2 * P, PROT_READ, MAP_SHARED, f, 2);
	t.same(mm.copyFromUser(b, 1), Uint8Array.of(0x42), "pgoff selects the file page");
	const c = mm.mmap(b + 2 * P, P, PROT_READ, MAP_SHARED | MAP_FIXED, f, 1);
	t.equal(mm.findVma(c)!.start, c, "a non-contiguous file offset does not merge");
	mm.mmap(b - P, P, PROT_READ, MAP_SHARED | MAP_FIXED, f, 1);
	t.equal(mm.findVma(b - P)!.end, b + 2 * P, "a contiguous one does");
	t.equal(f.closes, 7, "the merged mapping's reference was dropped");
});
