/**
 * vmalloc areas (mm/vmalloc.c, include/linux/vmalloc.h): memory that is
 * contiguous for the kernel but made of separate physical pages. luosim has
 * no kernel page tables, so an area is its list of pages (`vm->pages[]`,
 * one PFN per 4 KiB page) with read/write helpers that walk it; what KHO
 * preserves is exactly that list.
 *
 * vmalloc() and vzalloc() map order-0 pages; vmalloc_huge() allocates
 * blocks of a higher order and, as vm_area_alloc_pages() does, splits each
 * into order-0 pages (split_page), so every page is freed on its own.
 * vmap() maps pages the caller owns (VM_MAP): vunmap() leaves them alone.
 * Areas are known per page allocator, as find_vm_area() knows them; using
 * an area after vfree() is a kernel bug and throws.
 */
import type { BuddyAllocator } from "./buddy.ts";
import { PAGE_SIZE, PFN_PHYS } from "./physmem.ts";

/** VM_ALLOC: pages allocated by vmalloc (include/linux/vmalloc.h). */
export const VM_ALLOC = 0x00000002;
/** VM_MAP: pages mapped by vmap(). */
export const VM_MAP = 0x00000004;
/** VM_ALLOW_HUGE_VMAP: the area may use huge mappings (vmalloc_huge). */
export const VM_ALLOW_HUGE_VMAP = 0x00000400;

/** struct vm_struct: one area. */
export class VmallocArea {
	constructor(
		readonly buddy: BuddyAllocator,
		/** vm->pages[]: the PFN of each 4 KiB page, in order. */
		readonly pages: readonly number[],
		/** get_vm_area_page_order(): pages come in naturally aligned runs of 2^order. */
		readonly order: number,
		/** vm->flags (VM_*). */
		readonly flags: number,
	) {}

	/** vm->nr_pages. */
	get nr_pages(): number {
		return this.pages.length;
	}

	/** The bytes the area maps (get_vm_area_size without the guard page). */
	get size(): number {
		return this.pages.length * PAGE_SIZE;
	}
}

const areas = new WeakMap<BuddyAllocator, Set<VmallocArea>>();

function registry(buddy: BuddyAllocator): Set<VmallocArea> {
	let set = areas.get(buddy);
	if (!set) {
		set = new Set();
		areas.set(buddy, set);
	}
	return set;
}

/** split_page(): the block of `order` at `pfn` becomes 2^order order-0 pages, each with refcount 1. */
export function split_page(buddy: BuddyAllocator, pfn: number, order: number): void {
	for (let p = pfn; p < pfn + (1 << order); p++) {
		buddy.memmap.order[p] = 0;
		buddy.memmap.refcount[p] = 1;
	}
}

/**
 * __vmalloc_node_range(): an area of `size` bytes (rounded up to whole
 * runs of 2^order pages), or null when memory runs out (nothing stays
 * allocated then). `zero` clears the pages (__GFP_ZERO).
 */
function vmallocArea(buddy: BuddyAllocator, size: number, order: number, flags: number, zero: boolean): VmallocArea | null {
	if (!Number.isSafeInteger(size) || size <= 0) return null;
	const run = 1 << order;
	const nrPages = Math.ceil(Math.ceil(size / PAGE_SIZE) / run) * run;
	if (nrPages > buddy.nr_pages) return null;
	const pages: number[] = [];
	for (let i = 0; i < nrPages; i += run) {
		const pfn = buddy.alloc_pages(order);
		if (pfn === null) {
			for (const p of pages) buddy.__free_pages(p, 0);
			return null;
		}
		if (zero) buddy.pm.clearPages(pfn, run);
		split_page(buddy, pfn, order);
		for (let p = pfn; p < pfn + run; p++) pages.push(p);
	}
	const area = new VmallocArea(buddy, pages, order, flags);
	registry(buddy).add(area);
	return area;
}

/** vmalloc(size): order-0 pages, contents as memory holds them; null without memory. */
export function vmalloc(buddy: BuddyAllocator, size: number): VmallocArea | null {
	return vmallocArea(buddy, size, 0, VM_ALLOC, false);
}

/** vzalloc(size): vmalloc with zeroed pages. */
export function vzalloc(buddy: BuddyAllocator, size: number): VmallocArea | null {
	return vmallocArea(buddy, size, 0, VM_ALLOC, true);
}

/** vcalloc(n, size): a zeroed array of `n` elements; null on overflow or without memory. */
export function vcalloc(buddy: BuddyAllocator, n: number, size: number): VmallocArea | null {
	const bytes = n * size;
	return Number.isSafeInteger(bytes) ? vzalloc(buddy, bytes) : null;
}

/**
 * vmalloc_huge(size) with its mapping order fixed to `order` (luosim picks
 * it instead of the architecture): blocks of 2^order pages, split into
 * order-0 pages; flags VM_ALLOC | VM_ALLOW_HUGE_VMAP.
 */
export function vmalloc_huge(buddy: BuddyAllocator, size: number, order: number): VmallocArea | null {
	return vmallocArea(buddy, size, order, VM_ALLOC | VM_ALLOW_HUGE_VMAP, false);
}

/**
 * The mapping half of __vmalloc_node_range over pages the caller already
 * holds (what kho_restore_vmalloc does with restored pages): the pages
 * become the area's, freed by vfree() when `flags` has VM_ALLOC.
 */
export function vmap_pages(buddy: BuddyAllocator, pfns: readonly number[], order: number, flags: number): VmallocArea {
	const area = new VmallocArea(buddy, [...pfns], order, flags);
	registry(buddy).add(area);
	return area;
}

/** vmap(pages, count, VM_MAP): maps pages the caller keeps owning. */
export function vmap(buddy: BuddyAllocator, pfns: readonly number[]): VmallocArea {
	return vmap_pages(buddy, pfns, 0, VM_MAP);
}

/** find_vm_area(): whether `area` is a live area of this allocator. */
export function find_vm_area(buddy: BuddyAllocator, area: VmallocArea): boolean {
	return area.buddy === buddy && registry(buddy).has(area);
}

function live(area: VmallocArea, fn: string): void {
	if (!registry(area.buddy).has(area)) throw new Error(`${fn}: vmalloc area is not mapped (use after vfree?)`);
}

/** vfree(): unmaps the area and frees its pages (VM_ALLOC areas). */
export function vfree(area: VmallocArea): void {
	live(area, "vfree");
	registry(area.buddy).delete(area);
	if (area.flags & VM_ALLOC) for (const p of area.pages) area.buddy.__free_pages(p, 0);
}

/** vunmap(): unmaps a vmap() area; its pages stay the caller's. */
export function vunmap(area: VmallocArea): void {
	live(area, "vunmap");
	registry(area.buddy).delete(area);
}

function checkSpan(area: VmallocArea, off: number, len: number, fn: string): void {
	live(area, fn);
	if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len < 0 || off + len > area.size)
		throw new RangeError(`${fn}: [${off}, ${off + len}) outside an area of ${area.size} bytes`);
}

/** vmalloc_to_pfn(addr + off): the frame holding byte `off`. */
export function vmalloc_to_pfn(area: VmallocArea, off: number): number {
	checkSpan(area, off, 1, "vmalloc_to_pfn");
	return area.pages[Math.floor(off / PAGE_SIZE)]!;
}

/** A copy of `len` bytes at offset `off` (a load through the mapping). */
export function vmalloc_read(area: VmallocArea, off: number, len: number): Uint8Array {
	checkSpan(area, off, len, "vmalloc_read");
	const out = new Uint8Array(len);
	for (let done = 0; done < len; ) {
		const at = off + done;
		const n = Math.min(PAGE_SIZE - (at % PAGE_SIZE), len - done);
		out.set(area.buddy.pm.read(PFN_PHYS(area.pages[Math.floor(at / PAGE_SIZE)]!) + (at % PAGE_SIZE), n), done);
		done += n;
	}
	return out;
}

/** Stores `bytes` at offset `off` (a store through the mapping). */
export function vmalloc_write(area: VmallocArea, off: number, bytes: Uint8Array): void {
	checkSpan(area, off, bytes.length, "vmalloc_write");
	for (let done = 0; done < bytes.length; ) {
		const at = off + done;
		const n = Math.min(PAGE_SIZE - (at % PAGE_SIZE), bytes.length - done);
		area.buddy.pm.write(PFN_PHYS(area.pages[Math.floor(at / PAGE_SIZE)]!) + (at % PAGE_SIZE), bytes.subarray(done, done + n));
		done += n;
	}
}
