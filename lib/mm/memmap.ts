/**
 * The memmap: one struct page per frame (include/linux/mm_types.h,
 * include/linux/page-flags.h), as typed arrays indexed by PFN. Each boot
 * builds its own (mm/mm_init.c: memmap_init), so nothing in it crosses
 * kexec; fresh arrays are zero-filled by the host lazily, so building one
 * for 4 GiB costs no per-frame work.
 */

/** PG_reserved: memblock-reserved (preserved memory, scratch); never handed out. */
export const PG_reserved = 1 << 0;
/** PG_head: the first frame of a folio (a compound page); `order` holds its order. */
export const PG_head = 1 << 1;

/** The struct pages of one boot. */
export class Memmap {
	/** Number of frames covered. */
	readonly nr_pages: number;
	/** page->flags: PG_* bits. */
	readonly flags: Uint8Array;
	/** page->_refcount of an allocated block's first frame (0 for free, tail and reserved frames). */
	readonly refcount: Int32Array;
	/**
	 * The order of an allocated block, on its first frame: folio_order() for
	 * a folio head; luosim keeps it for every block so a wrong-order free
	 * throws. (Free blocks are known by the buddy allocator's free lists.)
	 */
	readonly order: Uint8Array;

	constructor(nr_pages: number) {
		this.nr_pages = nr_pages;
		this.flags = new Uint8Array(nr_pages);
		this.refcount = new Int32Array(nr_pages);
		this.order = new Uint8Array(nr_pages);
	}
}
