/**
 * The buddy page allocator (mm/page_alloc.c) over the Machine's physical
 * memory, one per boot, with memblock-style reservations (mm/memblock.c:
 * memblock_reserve, free_reserved_area) for KHO scratch areas and preserved
 * memory that this kernel must not hand out.
 *
 * Deterministic: an allocation takes the smallest order with a free block
 * and, in it, the lowest PFN, then splits it keeping the low half
 * (__rmqueue_smallest and expand()), so the same calls give the same PFNs.
 * A new allocator starts with all memory free as blocks of the largest
 * order, so booting over 4 GiB costs about a thousand list insertions.
 * The free lists are bitmaps by block index; they also answer what
 * PageBuddy and page->private answer in the kernel (is this a free block,
 * of which order), so a free block costs no struct page write at all.
 *
 * Misuse (double free, wrong order, freeing reserved memory, reserving
 * memory in use) is a kernel bug: it throws a JS Error and changes nothing.
 * Running out of memory is not: alloc_pages returns null (ENOMEM to callers).
 */
import { LevelBitset } from "./bitset.ts";
import { Memmap, PG_reserved } from "./memmap.ts";
import { MAX_PAGE_ORDER, type PhysicalMemory } from "./physmem.ts";

/** Number of buddy orders (include/linux/mmzone.h: NR_PAGE_ORDERS). */
export const NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;

function hex(n: number): string {
	return `0x${n.toString(16)}`;
}

/** The zone's free area: free lists per order, reservations, and the boot's memmap. */
export class BuddyAllocator {
	/** The memory this allocator manages. */
	readonly pm: PhysicalMemory;
	/** This boot's struct pages. */
	readonly memmap: Memmap;
	/** Number of frames managed (all of physical memory). */
	readonly nr_pages: number;
	/** free_area[order]: free block heads by `pfn >> order`. */
	private readonly freeArea: LevelBitset[] = [];
	private nrFreePages = 0;
	private nrReserved = 0;

	constructor(pm: PhysicalMemory) {
		this.pm = pm;
		this.nr_pages = pm.nr_pages;
		this.memmap = new Memmap(this.nr_pages);
		for (let o = 0; o < NR_PAGE_ORDERS; o++) this.freeArea.push(new LevelBitset(this.nr_pages >>> o));
		this.freeRange(0, this.nr_pages);
	}

	/** nr_free_pages(): frames on the free lists. */
	nr_free_pages(): number {
		return this.nrFreePages;
	}

	/** Frames reserved (memblock.reserved): totalram_pages() is nr_pages minus these. */
	nr_reserved_pages(): number {
		return this.nrReserved;
	}

	/** free_area[order].nr_free for every order: the columns of /proc/buddyinfo. */
	nr_free(): number[] {
		return this.freeArea.map((b) => b.count);
	}

	/**
	 * alloc_pages: a block of 2^order frames, its first PFN, or null when no
	 * block is large enough (or order > MAX_PAGE_ORDER, as the kernel warns
	 * and fails). The block's refcount is 1; its bytes are not cleared.
	 */
	alloc_pages(order: number): number | null {
		if (!Number.isInteger(order) || order < 0) throw new RangeError(`alloc_pages: bad order ${order}`);
		if (order > MAX_PAGE_ORDER) return null;
		for (let o = order; o < NR_PAGE_ORDERS; o++) {
			const idx = this.freeArea[o]!.next(0);
			if (idx < 0) continue;
			const pfn = idx << o;
			this.delFree(pfn, o);
			while (o > order) {
				o--;
				this.addFree(pfn + (1 << o), o);
			}
			this.memmap.order[pfn] = order;
			this.memmap.refcount[pfn] = 1;
			return pfn;
		}
		return null;
	}

	/**
	 * __free_pages: drops a reference to the block at `pfn` of `order`; at
	 * zero it goes back to the free lists, merged with its free buddies.
	 */
	__free_pages(pfn: number, order: number): void {
		this.checkBlock(pfn, order, "__free_pages");
		const mm = this.memmap;
		if (mm.flags[pfn]! & PG_reserved) throw new Error(`__free_pages: pfn ${hex(pfn)} is reserved`);
		if (this.freeOrderAt(pfn) >= 0) throw new Error(`__free_pages: pfn ${hex(pfn)} is already free (double free)`);
		if (mm.refcount[pfn]! <= 0) throw new Error(`__free_pages: pfn ${hex(pfn)} is not an allocated block`);
		if (mm.order[pfn] !== order)
			throw new Error(`__free_pages: pfn ${hex(pfn)} freed with order ${order}, allocated with order ${mm.order[pfn]}`);
		if (--mm.refcount[pfn]! > 0) return;
		mm.flags[pfn] = 0;
		mm.order[pfn] = 0;
		this.freeOne(pfn, order);
	}

	/**
	 * memblock_reserve: takes `[pfn, pfn + count)` off the free lists for
	 * good. Frames already reserved are fine (reservations may overlap); a
	 * frame in use throws before anything changes.
	 */
	reserve(pfn: number, count: number): void {
		this.checkRange(pfn, count, "reserve");
		const end = pfn + count;
		const blocks: [number, number][] = [];
		for (let p = pfn; p < end; ) {
			if (this.memmap.flags[p]! & PG_reserved) {
				p++;
				continue;
			}
			const o = this.freeOrderAt(p);
			if (o < 0) throw new Error(`reserve: pfn ${hex(p)} is in use`);
			const head = p & ~((1 << o) - 1);
			blocks.push([head, o]);
			p = head + (1 << o);
		}
		for (const [head, o] of blocks) {
			const blockEnd = head + (1 << o);
			const lo = Math.max(pfn, head);
			const hi = Math.min(end, blockEnd);
			this.delFree(head, o);
			this.memmap.flags.fill(PG_reserved, lo, hi);
			this.nrReserved += hi - lo;
			this.freeRange(head, lo);
			this.freeRange(hi, blockEnd);
		}
	}

	/**
	 * free_reserved_area: gives reserved frames `[pfn, pfn + count)` to the
	 * free lists (scratch released after boot, KHO metadata once parsed).
	 * Every frame must be reserved.
	 */
	free_reserved_area(pfn: number, count: number): void {
		this.checkReserved(pfn, count, "free_reserved_area");
		this.memmap.flags.fill(0, pfn, pfn + count);
		this.nrReserved -= count;
		this.freeRange(pfn, pfn + count);
	}

	/**
	 * The allocator half of kho_restore_page: the reserved block at `pfn` of
	 * `order` becomes an allocated block with refcount 1, as if alloc_pages
	 * had returned it; __free_pages later gives it to the free lists.
	 */
	claim_reserved(pfn: number, order: number): void {
		this.checkBlock(pfn, order, "claim_reserved");
		this.checkReserved(pfn, 1 << order, "claim_reserved");
		this.memmap.flags.fill(0, pfn, pfn + (1 << order));
		this.nrReserved -= 1 << order;
		this.memmap.order[pfn] = order;
		this.memmap.refcount[pfn] = 1;
	}

	/** PageBuddy of any frame: true when it lies in a free block. */
	page_is_free(pfn: number): boolean {
		this.checkRange(pfn, 1, "page_is_free");
		return this.freeOrderAt(pfn) >= 0;
	}

	/** PageReserved. */
	PageReserved(pfn: number): boolean {
		this.checkRange(pfn, 1, "PageReserved");
		return (this.memmap.flags[pfn]! & PG_reserved) !== 0;
	}

	/**
	 * Every frame not on a free list (allocated or reserved) as ascending
	 * `[pfn, count]` ranges: what `PhysicalMemory.poisonAllExcept` keeps once
	 * the next kernel has reserved what KHO preserved. Costs one step per
	 * free block, not per frame.
	 */
	usedRanges(): [number, number][] {
		const free: [number, number][] = [];
		for (let o = 0; o < NR_PAGE_ORDERS; o++) {
			const area = this.freeArea[o]!;
			for (let i = area.next(0); i >= 0; i = area.next(i + 1)) free.push([i << o, 1 << o]);
		}
		free.sort((a, b) => a[0] - b[0]);
		const used: [number, number][] = [];
		let p = 0;
		for (const [start, n] of free) {
			if (start > p) used.push([p, start - p]);
			p = start + n;
		}
		if (p < this.nr_pages) used.push([p, this.nr_pages - p]);
		return used;
	}

	/** The order of the free block holding `pfn`, or -1 (page_is_buddy on each possible head). */
	private freeOrderAt(pfn: number): number {
		for (let o = 0; o < NR_PAGE_ORDERS; o++) if (this.isFreeBlock(pfn >>> o, o)) return o;
		return -1;
	}

	/** Whether block `idx` (a PFN >> order) of `order` is on its free list. */
	private isFreeBlock(idx: number, order: number): boolean {
		const area = this.freeArea[order]!;
		return idx < area.size && area.has(idx);
	}

	/** __free_one_page: inserts a block, merging with its free buddy while it has one. */
	private freeOne(pfn: number, order: number): void {
		while (order < MAX_PAGE_ORDER) {
			const buddy = pfn ^ (1 << order);
			if (!this.isFreeBlock(buddy >>> order, order)) break;
			this.delFree(buddy, order);
			pfn = Math.min(pfn, buddy);
			order++;
		}
		this.addFree(pfn, order);
	}

	/** Frees `[start, end)` as maximal naturally aligned blocks (__free_pages_core over a range). */
	private freeRange(start: number, end: number): void {
		let p = start;
		while (p < end) {
			let o = p === 0 ? MAX_PAGE_ORDER : Math.min(MAX_PAGE_ORDER, 31 - Math.clz32(p & -p));
			while (p + (1 << o) > end) o--;
			this.freeOne(p, o);
			p += 1 << o;
		}
	}

	private addFree(pfn: number, order: number): void {
		this.freeArea[order]!.set(pfn >>> order);
		this.nrFreePages += 1 << order;
	}

	private delFree(pfn: number, order: number): void {
		this.freeArea[order]!.clear(pfn >>> order);
		this.nrFreePages -= 1 << order;
	}

	private checkRange(pfn: number, count: number, fn: string): void {
		if (!Number.isInteger(pfn) || !Number.isInteger(count) || pfn < 0 || count < 1 || pfn + count > this.nr_pages)
			throw new RangeError(`${fn}: pfn ${pfn} (+${count}) outside memory of ${this.nr_pages} frames`);
	}

	private checkBlock(pfn: number, order: number, fn: string): void {
		if (!Number.isInteger(order) || order < 0 || order > MAX_PAGE_ORDER) throw new RangeError(`${fn}: bad order ${order}`);
		this.checkRange(pfn, 1 << order, fn);
		if (pfn & ((1 << order) - 1)) throw new RangeError(`${fn}: pfn ${hex(pfn)} is not aligned to order ${order}`);
	}

	private checkReserved(pfn: number, count: number, fn: string): void {
		this.checkRange(pfn, count, fn);
		for (let p = pfn; p < pfn + count; p++)
			if (!(this.memmap.flags[p]! & PG_reserved)) throw new Error(`${fn}: pfn ${hex(p)} is not reserved`);
	}
}
