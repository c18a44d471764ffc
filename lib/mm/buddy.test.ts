import t from "tap";
import { BuddyAllocator, NR_PAGE_ORDERS } from "./buddy.ts";
import { PhysicalMemory, PAGE_SIZE, PAGE_POISON, PFN_PHYS, MAX_PAGE_ORDER } from "./physmem.ts";
import { PG_reserved } from "./memmap.ts";

const GiB = 1024 * 1024 * 1024;

function mulberry32(seed: number): () => number {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
		return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
	};
}

function buddyOver(pages: number): BuddyAllocator {
	return new BuddyAllocator(new PhysicalMemory(pages * PAGE_SIZE));
}

function pristine(pages: number): number[] {
	return buddyOver(pages).nr_free();
}

/**
 * The reference model: one state per frame. With eager merging the free
 * lists are fully determined by which frames are free: a naturally aligned
 * block is on a free list iff all its frames are free and its parent block
 * is not (or it has the largest order). Allocation takes the smallest order
 * with such a block, and the lowest one in it.
 */
class Model {
	readonly state: ("free" | "used" | "reserved")[];
	constructor(readonly n: number) {
		this.state = new Array(n).fill("free");
	}
	private allFree(start: number, size: number): boolean {
		if (start + size > this.n) return false;
		for (let p = start; p < start + size; p++) if (this.state[p] !== "free") return false;
		return true;
	}
	/** Free blocks by order, each list ascending. */
	blocks(): number[][] {
		const out: number[][] = Array.from({ length: NR_PAGE_ORDERS }, () => []);
		const walk = (start: number, o: number): void => {
			if (start >= this.n) return;
			if (this.allFree(start, 1 << o)) out[o]!.push(start);
			else if (o > 0) {
				walk(start, o - 1);
				walk(start + (1 << (o - 1)), o - 1);
			}
		};
		for (let s = 0; s < this.n; s += 1 << MAX_PAGE_ORDER) walk(s, MAX_PAGE_ORDER);
		for (const l of out) l.sort((a, b) => a - b);
		return out;
	}
	alloc(order: number): number | null {
		if (order > MAX_PAGE_ORDER) return null;
		const blocks = this.blocks();
		for (let o = order; o < NR_PAGE_ORDERS; o++) {
			const pfn = blocks[o]![0];
			if (pfn === undefined) continue;
			this.state.fill("used", pfn, pfn + (1 << order));
			return pfn;
		}
		return null;
	}
}

t.test("a new allocator over 4 GiB holds 1024 free max-order blocks and touches no frame", async (t) => {
	const pm = new PhysicalMemory(4 * GiB);
	const b = new BuddyAllocator(pm);
	const expect = new Array(NR_PAGE_ORDERS).fill(0);
	expect[MAX_PAGE_ORDER] = 1024;
	t.same(b.nr_free(), expect);
	t.equal(b.nr_free_pages(), 1 << 20);
	t.equal(b.nr_reserved_pages(), 0);
	t.equal(pm.touchedFrames, 0);
});

t.test("memory that is not a multiple of the largest block ends in smaller blocks", async (t) => {
	const b = buddyOver(1024 + 512 + 4 + 1);
	t.same(b.nr_free(), [1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1]);
	t.equal(b.nr_free_pages(), 1541);
});

t.test("alloc_pages takes the lowest block of the smallest order and splits it, keeping the low half", async (t) => {
	const b = buddyOver(2048);
	t.equal(b.alloc_pages(0), 0);
	t.same(b.nr_free(), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], "the upper halves went to each order");
	t.equal(b.alloc_pages(0), 1, "the order-0 buddy next");
	t.equal(b.alloc_pages(2), 4);
	t.equal(b.alloc_pages(1), 2);
	t.equal(b.alloc_pages(10), 1024);
	t.equal(b.alloc_pages(3), 8);
	t.equal(b.memmap.refcount[8], 1, "an allocated block has refcount 1");
	t.equal(b.memmap.order[8], 3);
});

t.test("__free_pages merges buddies back into the blocks a new allocator starts with", async (t) => {
	const b = buddyOver(2048 + 3);
	const got = [b.alloc_pages(0)!, b.alloc_pages(3)!, b.alloc_pages(0)!, b.alloc_pages(10)!, b.alloc_pages(5)!];
	t.equal(b.nr_free_pages(), 2051 - 1 - 8 - 1 - 1024 - 32);
	b.__free_pages(got[2]!, 0);
	b.__free_pages(got[0]!, 0);
	b.__free_pages(got[4]!, 5);
	b.__free_pages(got[3]!, 10);
	b.__free_pages(got[1]!, 3);
	t.same(b.nr_free(), pristine(2048 + 3));
	t.equal(b.nr_free_pages(), 2051);
	t.equal(b.alloc_pages(0), 2050, "the smallest order first: the odd frame at the end");
	t.equal(b.alloc_pages(0), 2048, "then the order-1 block at the end, split");
	t.equal(b.alloc_pages(0), 2049);
	t.equal(b.alloc_pages(0), 0, "then the lowest max-order block");
});

t.test("split and merge agree with a reference model over random operations", async (t) => {
	for (const n of [64, 1024 + 37, 3 * 1024]) {
		const rnd = mulberry32(n);
		const b = buddyOver(n);
		const m = new Model(n);
		const live: [number, number][] = [];
		let bad = 0;
		for (let i = 0; i < 1500; i++) {
			const r = rnd();
			if (r < 0.5 || live.length === 0) {
				const order = rnd() < 0.05 ? Math.floor(rnd() * 12) : Math.floor(rnd() * 4);
				const got = b.alloc_pages(order);
				if (got !== m.alloc(order)) bad++;
				if (got !== null) live.push([got, order]);
			} else {
				const [pfn, order] = live.splice(Math.floor(rnd() * live.length), 1)[0]!;
				b.__free_pages(pfn, order);
				m.state.fill("free", pfn, pfn + (1 << order));
			}
			const blocks = m.blocks();
			if (b.nr_free().join() !== blocks.map((l) => l.length).join()) bad++;
			if (b.nr_free_pages() !== m.state.filter((s) => s === "free").length) bad++;
			const probe = Math.floor(rnd() * n);
			if (b.page_is_free(probe) !== (m.state[probe] === "free")) bad++;
		}
		t.equal(bad, 0, `${n} frames: no disagreement in 1500 operations`);
		t.ok(live.length > 0, "the run ended with memory in use");
	}
});

t.test("alloc_pages returns null when no block is large enough (ENOMEM for the caller)", async (t) => {
	const b = buddyOver(16);
	t.equal(b.alloc_pages(5), null, "larger than memory");
	t.equal(b.alloc_pages(MAX_PAGE_ORDER + 1), null, "beyond MAX_PAGE_ORDER");
	const got: number[] = [];
	for (let p = b.alloc_pages(0); p !== null; p = b.alloc_pages(0)) got.push(p);
	t.same(got, [...Array(16).keys()], "every frame once, in order");
	t.equal(b.alloc_pages(0), null);
	t.equal(b.nr_free_pages(), 0);
	b.__free_pages(6, 0);
	t.equal(b.alloc_pages(1), null, "one free frame is not an order-1 block");
	t.equal(b.alloc_pages(0), 6);
	t.throws(() => b.alloc_pages(-1), RangeError);
	t.throws(() => b.alloc_pages(0.5), RangeError);
});

t.test("bad frees throw and leave the free lists as they were", async (t) => {
	const b = buddyOver(1024);
	const a = b.alloc_pages(2)!;
	const c = b.alloc_pages(0)!;
	b.reserve(512, 4);
	const before = b.nr_free();
	t.throws(() => b.__free_pages(a, 1), /freed with order 1, allocated with order 2/);
	t.throws(() => b.__free_pages(a + 1, 0), /not an allocated block/, "a tail frame");
	t.throws(() => b.__free_pages(a + 2, 1), /not an allocated block/);
	t.throws(() => b.__free_pages(600, 0), /pfn 0x258 is already free \(double free\)/);
	t.throws(() => b.__free_pages(a + 1, 2), /not aligned to order 2/);
	t.throws(() => b.__free_pages(512, 0), /pfn 0x200 is reserved/);
	t.throws(() => b.__free_pages(1024, 0), RangeError);
	t.throws(() => b.__free_pages(0, 11), /bad order 11/);
	t.same(b.nr_free(), before);
	b.__free_pages(c, 0);
	t.throws(() => b.__free_pages(c, 0), /double free/);
	b.__free_pages(a, 2);
	t.throws(() => b.__free_pages(a, 2), /double free/);
});

t.test("reserve keeps a range out of every allocation", async (t) => {
	const b = buddyOver(2048);
	b.reserve(100, 300);
	b.reserve(1500, 1);
	t.equal(b.nr_reserved_pages(), 301);
	t.equal(b.nr_free_pages(), 2048 - 301);
	const got: number[] = [];
	for (let p = b.alloc_pages(0); p !== null; p = b.alloc_pages(0)) got.push(p);
	t.equal(got.length, 2048 - 301);
	t.equal(got.filter((p) => (p >= 100 && p < 400) || p === 1500).length, 0, "no reserved frame handed out");
	t.equal(b.PageReserved(100), true);
	t.equal(b.PageReserved(399), true);
	t.equal(b.PageReserved(400), false);
});

t.test("reserve accepts overlapping reservations and refuses frames in use without changing anything", async (t) => {
	const b = buddyOver(1024);
	b.reserve(10, 10);
	b.reserve(15, 10);
	t.equal(b.nr_reserved_pages(), 15, "the overlap counts once");
	t.equal(b.alloc_pages(0), 25, "the lone order-0 block the carving left");
	const before = b.nr_free();
	t.throws(() => b.reserve(20, 10), /pfn 0x19 is in use/, "a used frame after reserved ones");
	t.throws(() => b.reserve(1000, 30), RangeError);
	t.throws(() => b.reserve(5, 0), RangeError);
	t.same(b.nr_free(), before);
	t.equal(b.nr_reserved_pages(), 15);
	t.equal(b.PageReserved(26), false);
});

t.test("free_reserved_area gives frames back, merging them with their buddies", async (t) => {
	const b = buddyOver(2048);
	b.reserve(3, 1000);
	t.throws(() => b.free_reserved_area(0, 4), /pfn 0x0 is not reserved/);
	t.equal(b.nr_reserved_pages(), 1000, "the failed call changed nothing");
	b.free_reserved_area(3, 500);
	b.free_reserved_area(503, 500);
	t.equal(b.nr_reserved_pages(), 0);
	t.same(b.nr_free(), pristine(2048));
});

t.test("claim_reserved turns a reserved block into an allocated one that frees normally", async (t) => {
	const b = buddyOver(1024);
	b.reserve(64, 64);
	t.throws(() => b.claim_reserved(0, 2), /not reserved/);
	t.throws(() => b.claim_reserved(66, 2), /not aligned/);
	b.claim_reserved(64, 4);
	t.equal(b.memmap.refcount[64], 1);
	t.equal(b.PageReserved(64), false);
	t.equal(b.PageReserved(80), true);
	t.equal(b.nr_reserved_pages(), 48);
	b.__free_pages(64, 4);
	t.equal(b.page_is_free(70), true);
	t.equal(b.alloc_pages(4), 64, "now allocatable, as the lowest order-4 block");
});

t.test("usedRanges lists allocated and reserved frames, and poisoning with it poisons only free memory", async (t) => {
	const pm = new PhysicalMemory(4 * GiB);
	const b = new BuddyAllocator(pm);
	const a = b.alloc_pages(1)!;
	b.reserve(0x80000, 16);
	const c = b.alloc_pages(0)!;
	t.same(b.usedRanges(), [
		[0, 3],
		[0x80000, 16],
	]);
	pm.write(PFN_PHYS(a), Uint8Array.of(1, 2, 3));
	pm.write(PFN_PHYS(c) + 5, Uint8Array.of(9));
	pm.write(PFN_PHYS(0x80000), Uint8Array.of(7));
	pm.write(PFN_PHYS(3), Uint8Array.of(4));
	pm.poisonAllExcept(b.usedRanges());
	t.same(pm.read(PFN_PHYS(a), 3), [1, 2, 3]);
	t.same(pm.read(PFN_PHYS(c) + 5, 1), [9]);
	t.same(pm.read(PFN_PHYS(0x80000), 1), [7]);
	t.same(pm.read(PFN_PHYS(3), 1), [PAGE_POISON], "a free frame is poisoned");
	t.same(pm.read(4 * GiB - 1, 1), [PAGE_POISON]);
});

t.test("a new boot's allocator over the same memory starts from a fresh memmap", async (t) => {
	const pm = new PhysicalMemory(8 * 1024 * PAGE_SIZE);
	const first = new BuddyAllocator(pm);
	first.reserve(0, 8);
	first.alloc_pages(3);
	pm.write(0, Uint8Array.of(0xee));
	const next = new BuddyAllocator(pm);
	t.not(next.memmap, first.memmap);
	t.equal(next.memmap.flags[0]! & PG_reserved, 0, "reservations do not cross kexec in JS objects");
	t.equal(next.page_is_free(0), true);
	t.equal(next.alloc_pages(3), 0, "the frames the last boot used are free again");
	t.same(pm.read(0, 1), [0xee], "the bytes do");
});

t.test("100k allocation and free pairs keep the allocator consistent", async (t) => {
	const b = new BuddyAllocator(new PhysicalMemory(4 * GiB));
	const rnd = mulberry32(99);
	const live: [number, number][] = [];
	for (let i = 0; i < 100_000; i++) {
		const order = Math.floor(rnd() * 4);
		live.push([b.alloc_pages(order)!, order]);
		if (live.length > 500 || rnd() < 0.5) {
			const [pfn, o] = live.splice(Math.floor(rnd() * live.length), 1)[0]!;
			b.__free_pages(pfn, o);
		}
	}
	for (const [pfn, o] of live) b.__free_pages(pfn, o);
	t.same(b.nr_free(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1024]);
});
