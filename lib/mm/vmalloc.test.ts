import t from "tap";
import { BuddyAllocator } from "./buddy.ts";
import { PhysicalMemory, PAGE_SIZE } from "./physmem.ts";
import {
	find_vm_area,
	vcalloc,
	vfree,
	vmalloc,
	vmalloc_huge,
	vmalloc_read,
	vmalloc_to_pfn,
	vmalloc_write,
	vmap,
	vunmap,
	vzalloc,
	VM_ALLOC,
	VM_ALLOW_HUGE_VMAP,
	VM_MAP,
} from "./vmalloc.ts";

function buddy(mib = 16): BuddyAllocator {
	return new BuddyAllocator(new PhysicalMemory(mib * 1024 * 1024));
}

t.test("vmalloc rounds up to whole order-0 pages, each its own allocation", async (t) => {
	const b = buddy();
	const free = b.nr_free_pages();
	const a = vmalloc(b, 3 * PAGE_SIZE + 1)!;
	t.equal(a.nr_pages, 4);
	t.equal(a.size, 4 * PAGE_SIZE);
	t.equal(a.order, 0);
	t.equal(a.flags, VM_ALLOC);
	t.equal(b.nr_free_pages(), free - 4);
	for (const p of a.pages) t.equal(b.memmap.order[p], 0);
});

t.test("vzalloc pages read as zero even over old contents", async (t) => {
	const b = buddy();
	const a = vmalloc(b, PAGE_SIZE)!;
	vmalloc_write(a, 0, new Uint8Array(PAGE_SIZE).fill(7));
	vfree(a);
	const z = vzalloc(b, PAGE_SIZE)!;
	t.equal(z.pages[0], a.pages[0], "the same frame again");
	t.ok(vmalloc_read(z, 0, PAGE_SIZE).every((x) => x === 0));
});

t.test("reads and writes cross page boundaries through the area's pages", async (t) => {
	const b = buddy();
	const a = vzalloc(b, 2 * PAGE_SIZE)!;
	const data = new Uint8Array(100).map((_, i) => i + 1);
	vmalloc_write(a, PAGE_SIZE - 50, data);
	t.same(vmalloc_read(a, PAGE_SIZE - 50, 100), data);
	t.equal(b.pm.read(a.pages[1]! * PAGE_SIZE, 1)[0], 51);
	t.equal(vmalloc_to_pfn(a, PAGE_SIZE), a.pages[1]);
});

t.test("an access outside the area is a kernel bug", async (t) => {
	const a = vzalloc(buddy(), PAGE_SIZE)!;
	t.throws(() => vmalloc_read(a, PAGE_SIZE - 1, 2), RangeError);
	t.throws(() => vmalloc_write(a, -1, new Uint8Array(1)), RangeError);
});

t.test("vfree gives every page back and the area is no longer found", async (t) => {
	const b = buddy();
	const free = b.nr_free_pages();
	const a = vmalloc(b, 5 * PAGE_SIZE)!;
	t.ok(find_vm_area(b, a));
	vfree(a);
	t.equal(b.nr_free_pages(), free);
	t.notOk(find_vm_area(b, a));
	t.throws(() => vfree(a), /not mapped/, "a double vfree");
	t.throws(() => vmalloc_read(a, 0, 1), /not mapped/, "a use after vfree");
});

t.test("vmalloc_huge maps naturally aligned runs, split into order-0 pages", async (t) => {
	const b = buddy();
	const free = b.nr_free_pages();
	const a = vmalloc_huge(b, 5 * PAGE_SIZE, 2)!;
	t.equal(a.nr_pages, 8);
	t.equal(a.order, 2);
	t.equal(a.flags, VM_ALLOC | VM_ALLOW_HUGE_VMAP);
	t.equal(a.pages[0]! % 4, 0);
	t.equal(a.pages[1], a.pages[0]! + 1);
	vfree(a);
	t.equal(b.nr_free_pages(), free);
});

t.test("vmalloc without memory gives null and keeps nothing", async (t) => {
	const b = buddy(1);
	const free = b.nr_free_pages();
	t.equal(vmalloc(b, 2 * 1024 * 1024), null);
	t.equal(b.nr_free_pages(), free);
	t.equal(vmalloc(b, 0), null, "size 0");
});

t.test("vcalloc is a zeroed array; an overflowing size is null", async (t) => {
	const b = buddy();
	t.equal(vcalloc(b, 10, 16)!.nr_pages, 1);
	t.equal(vcalloc(b, 2 ** 40, 2 ** 40), null);
});

t.test("a vmap area maps the caller's pages and vunmap leaves them allocated", async (t) => {
	const b = buddy();
	const p = b.alloc_pages(0)!;
	const a = vmap(b, [p]);
	t.equal(a.flags, VM_MAP);
	const free = b.nr_free_pages();
	vunmap(a);
	t.equal(b.nr_free_pages(), free);
	t.notOk(find_vm_area(b, a));
});
