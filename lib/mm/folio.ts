/**
 * Folios (include/linux/mm.h, include/linux/mm_types.h: struct folio): a
 * naturally aligned block of 2^order frames with one refcount, allocated
 * zeroed from the buddy allocator and freed to it when the last reference
 * goes (mm/swap.c: folio_put).
 *
 * A Folio is a handle (the kernel's `struct folio *`): two handles with the
 * same allocator and PFN are the same folio. Its state lives in the boot's
 * memmap (PG_head, order, refcount), so a folio restored from preserved
 * memory is a folio like any other. Using a freed folio is a kernel bug and
 * throws.
 */
import type { BuddyAllocator } from "./buddy.ts";
import { PG_head } from "./memmap.ts";
import { MAX_PAGE_ORDER, PAGE_SIZE } from "./physmem.ts";

/** struct folio *: the allocator it came from and its first frame. */
export class Folio {
	constructor(
		readonly buddy: BuddyAllocator,
		readonly pfn: number,
	) {}
}

function live(folio: Folio): Folio {
	const mm = folio.buddy.memmap;
	if (!(mm.flags[folio.pfn]! & PG_head) || mm.refcount[folio.pfn]! <= 0)
		throw new Error(`folio at pfn 0x${folio.pfn.toString(16)} is not allocated (use after free?)`);
	return folio;
}

function makeFolio(buddy: BuddyAllocator, pfn: number): Folio {
	buddy.memmap.flags[pfn] = buddy.memmap.flags[pfn]! | PG_head;
	return new Folio(buddy, pfn);
}

/**
 * folio_alloc(GFP_KERNEL | __GFP_ZERO, order): a zeroed folio with
 * refcount 1, or null when memory is exhausted (the caller's ENOMEM).
 * Zeroing touches only the folio's frames, and not those already zero.
 */
export function folio_alloc(buddy: BuddyAllocator, order: number): Folio | null {
	const pfn = buddy.alloc_pages(order);
	if (pfn === null) return null;
	buddy.pm.clearPages(pfn, 1 << order);
	return makeFolio(buddy, pfn);
}

/**
 * The mm half of kho_restore_folio: the reserved (preserved) block at `pfn`
 * of `order` becomes a folio with refcount 1, its bytes untouched.
 */
export function folio_restore(buddy: BuddyAllocator, pfn: number, order: number): Folio {
	buddy.claim_reserved(pfn, order);
	return makeFolio(buddy, pfn);
}

/** page_folio: the live folio holding frame `pfn`; throws when none does. */
export function page_folio(buddy: BuddyAllocator, pfn: number): Folio {
	const mm = buddy.memmap;
	if (!Number.isInteger(pfn) || pfn < 0 || pfn >= buddy.nr_pages)
		throw new RangeError(`page_folio: pfn ${pfn} outside memory of ${buddy.nr_pages} frames`);
	for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
		const head = pfn & ~((1 << o) - 1);
		if (mm.flags[head]! & PG_head && mm.refcount[head]! > 0 && pfn < head + (1 << mm.order[head]!))
			return new Folio(buddy, head);
	}
	throw new Error(`page_folio: pfn 0x${pfn.toString(16)} is not in a folio`);
}

/** folio_get: takes a reference. */
export function folio_get(folio: Folio): void {
	live(folio);
	folio.buddy.memmap.refcount[folio.pfn]!++;
}

/** folio_put: drops a reference; the last one frees the folio to the buddy allocator. */
export function folio_put(folio: Folio): void {
	live(folio);
	const order = folio.buddy.memmap.order[folio.pfn]!;
	folio.buddy.__free_pages(folio.pfn, order);
}

/** folio_ref_count. */
export function folio_ref_count(folio: Folio): number {
	return live(folio).buddy.memmap.refcount[folio.pfn]!;
}

/** folio_pfn: the first frame. */
export function folio_pfn(folio: Folio): number {
	return live(folio).pfn;
}

/** folio_order. */
export function folio_order(folio: Folio): number {
	return live(folio).buddy.memmap.order[folio.pfn]!;
}

/** folio_nr_pages: 2^order. */
export function folio_nr_pages(folio: Folio): number {
	return 1 << folio_order(folio);
}

/** folio_size: bytes. */
export function folio_size(folio: Folio): number {
	return folio_nr_pages(folio) * PAGE_SIZE;
}

/** page_address(folio_page(folio, n)): the stable 4 KiB view of page `n` (what a user mapping holds). */
export function folio_page_address(folio: Folio, n: number): Uint8Array {
	if (!Number.isInteger(n) || n < 0 || n >= folio_nr_pages(folio))
		throw new RangeError(`folio_page_address: page ${n} outside a folio of ${folio_nr_pages(folio)} pages`);
	return folio.buddy.pm.page(folio.pfn + n);
}

/** folio_address: one view over the whole folio (its frames are contiguous). */
export function folio_address(folio: Folio): Uint8Array {
	return folio.buddy.pm.pages(folio.pfn, folio_nr_pages(folio));
}
