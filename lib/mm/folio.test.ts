import t from "tap";
import { BuddyAllocator } from "./buddy.ts";
import { PhysicalMemory, PAGE_SIZE, PFN_PHYS } from "./physmem.ts";
import {
	folio_alloc,
	folio_restore,
	folio_get,
	folio_put,
	folio_ref_count,
	folio_pfn,
	folio_order,
	folio_nr_pages,
	folio_size,
	folio_page_address,
	folio_address,
	page_folio,
} from "./folio.ts";

function setup(pages = 4096): { pm: PhysicalMemory; b: BuddyAllocator } {
	const pm = new PhysicalMemory(pages * PAGE_SIZE);
	return { pm, b: new BuddyAllocator(pm) };
}

t.test("folio_alloc gives a folio of 2^order frames with refcount 1", async (t) => {
	const { b } = setup();
	const f = folio_alloc(b, 3)!;
	t.equal(folio_pfn(f), 0);
	t.equal(folio_order(f), 3);
	t.equal(folio_nr_pages(f), 8);
	t.equal(folio_size(f), 8 * PAGE_SIZE);
	t.equal(folio_ref_count(f), 1);
	t.equal(b.nr_free_pages(), 4096 - 8);
	t.equal(folio_pfn(folio_alloc(b, 0)!), 8);
});

t.test("folio_alloc zeroes reused frames and touches only the folio's frames", async (t) => {
	const { pm, b } = setup();
	t.equal(folio_alloc(b, 4) !== null, true);
	t.equal(pm.touchedFrames, 0, "fresh frames are already zero: nothing to write");
	const f = folio_alloc(b, 2)!;
	folio_address(f).fill(0xcd);
	t.equal(pm.touchedFrames, 4);
	folio_put(f);
	const g = folio_alloc(b, 2)!;
	t.equal(folio_pfn(g), folio_pfn(f), "the same frames come back");
	t.same(folio_address(g), new Uint8Array(4 * PAGE_SIZE), "zeroed");
	t.equal(pm.touchedFrames, 4);
});

t.test("folio_alloc zeroes poisoned frames too", async (t) => {
	const { pm, b } = setup();
	pm.poisonAllExcept(() => false);
	const f = folio_alloc(b, 1)!;
	t.same(pm.read(PFN_PHYS(folio_pfn(f)), 2 * PAGE_SIZE), new Uint8Array(2 * PAGE_SIZE));
	t.same(pm.read(PFN_PHYS(2), 1), [0xaa], "the frame after it is still poisoned");
});

t.test("folio_get and folio_put count references; the last put frees to the buddy allocator", async (t) => {
	const { b } = setup();
	const f = folio_alloc(b, 5)!;
	folio_get(f);
	folio_get(f);
	t.equal(folio_ref_count(f), 3);
	folio_put(f);
	folio_put(f);
	t.equal(b.nr_free_pages(), 4096 - 32, "still held");
	folio_put(f);
	t.equal(b.nr_free_pages(), 4096, "freed and merged");
	t.same(b.nr_free(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]);
	t.throws(() => folio_put(f), /not allocated \(use after free\?\)/);
	t.throws(() => folio_get(f), /use after free/);
	t.throws(() => folio_order(f), /use after free/);
});

t.test("folio_alloc returns null when memory is exhausted", async (t) => {
	const { b } = setup(8);
	t.equal(folio_alloc(b, 4), null);
	t.ok(folio_alloc(b, 3));
	t.equal(folio_alloc(b, 0), null);
	t.equal(folio_alloc(b, 11), null);
});

t.test("folio_address is one view over the folio's frames, aliasing each page's view", async (t) => {
	const { pm, b } = setup(4096);
	folio_alloc(b, 10);
	const f = folio_alloc(b, 10)!;
	const all = folio_address(f);
	t.equal(all.length, 1024 * PAGE_SIZE);
	all[5 * PAGE_SIZE + 1] = 0x51;
	t.equal(folio_page_address(f, 5)[1], 0x51);
	t.equal(folio_page_address(f, 5), pm.page(folio_pfn(f) + 5), "the stable page view");
	folio_page_address(f, 1023)[PAGE_SIZE - 1] = 0x77;
	t.equal(all[all.length - 1], 0x77);
	t.same(pm.read(PFN_PHYS(1024 + 5) + 1, 1), [0x51]);
	t.throws(() => folio_page_address(f, 1024), /page 1024 outside a folio of 1024 pages/);
	t.throws(() => folio_page_address(f, -1), RangeError);
});

t.test("page_folio finds the folio from any of its frames", async (t) => {
	const { b } = setup();
	folio_alloc(b, 0);
	const f = folio_alloc(b, 4)!;
	t.equal(folio_pfn(f), 16);
	for (const pfn of [16, 17, 24, 31]) t.equal(page_folio(b, pfn).pfn, 16, `pfn ${pfn}`);
	t.equal(page_folio(b, 0).pfn, 0);
	t.throws(() => page_folio(b, 32), /pfn 0x20 is not in a folio/, "a free frame");
	const raw = b.alloc_pages(0)!;
	t.throws(() => page_folio(b, raw), /not in a folio/, "alloc_pages does not make a folio");
	t.throws(() => page_folio(b, 4096), RangeError);
	folio_put(f);
	t.throws(() => page_folio(b, 20), /not in a folio/, "a freed folio is gone");
});

t.test("folio_restore makes a folio of reserved memory, keeping its bytes", async (t) => {
	const { pm, b } = setup();
	pm.write(PFN_PHYS(64), new Uint8Array(4 * PAGE_SIZE).fill(0x3c));
	b.reserve(64, 4);
	t.throws(() => folio_restore(b, 128, 2), /not reserved/);
	const f = folio_restore(b, 64, 2);
	t.equal(folio_ref_count(f), 1);
	t.equal(folio_order(f), 2);
	t.same(folio_address(f), new Uint8Array(4 * PAGE_SIZE).fill(0x3c), "not zeroed");
	t.equal(page_folio(b, 66).pfn, 64);
	folio_put(f);
	t.equal(b.nr_free_pages(), 4096);
	t.equal(b.nr_reserved_pages(), 0);
});
