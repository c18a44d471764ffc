/**
 * Preserving memory in mainline KHO (kernel/liveupdate/kexec_handover.c:
 * kho_preserve_folio, kho_unpreserve_folio, kho_preserve_pages,
 * kho_unpreserve_pages, kho_alloc_preserve, kho_unpreserve_free). Every
 * call edits the radix tree in physical memory at once: there is no
 * finalize step, and whatever the tree says at kexec time is what the
 * next kernel keeps.
 *
 * Errors, thrown as Errno:
 * - EOPNOTSUPP without CONFIG_KEXEC_HANDOVER (the header's stubs);
 * - EINVAL when KHO is off (no tree root: the kernel's WARN_ON_ONCE), when
 *   the range overlaps a scratch area (kho_scratch_overlap, a
 *   CONFIG_KEXEC_HANDOVER_DEBUG check luosim always makes), and, in luosim
 *   only, for pages outside memory;
 * - ENOMEM when a tree node page cannot be allocated;
 * - kho_alloc_preserve: EINVAL for size 0, E2BIG past MAX_PAGE_ORDER.
 * Unpreserving returns nothing and throws nothing, as in the kernel: with
 * KHO off, or for a block whose tree path does not exist, it leaves a
 * WARNING in dmesg.
 */
import type { Kernel } from "../../kernel/kernel.ts";
import { Errno, E2BIG, EINVAL, ENOMEM, EOPNOTSUPP } from "../../kernel/errno.ts";
import { folio_alloc, folio_order, folio_pfn, folio_put, type Folio } from "../../mm/folio.ts";
import { MAX_PAGE_ORDER, PAGE_SIZE, PFN_PHYS, get_order } from "../../mm/physmem.ts";
import { kho_radix_add_page, kho_radix_del_page, type KhoRadixTree } from "./kho_radix.ts";
import { khoMainline, khoShared, khoWARN } from "./kho_state.ts";
import { kho_range_blocks } from "../kho_mem.ts";

/** The tree, or the errno the kernel gives without one. */
function outTree(kernel: Kernel, fn: string): KhoRadixTree {
	if (!kernel.config.KEXEC_HANDOVER) throw new Errno(EOPNOTSUPP);
	const tree = khoMainline(kernel).tree;
	if (!tree) {
		khoWARN(kernel, fn, "!tree->root");
		throw new Errno(EINVAL);
	}
	return tree;
}

/** The tree for an unpreserve: none (a no-op) without the config; a WARN and none when KHO is off. */
function unpreserveTree(kernel: Kernel, fn: string): KhoRadixTree | null {
	if (!kernel.config.KEXEC_HANDOVER) return null;
	const tree = khoMainline(kernel).tree;
	if (!tree) khoWARN(kernel, fn, "!tree->root");
	return tree;
}

/** kho_scratch_overlap(): whether `[phys, phys + size)` touches a scratch area. */
function kho_scratch_overlap(kernel: Kernel, phys: number, size: number): boolean {
	return khoShared(kernel).scratch.some((a) => phys < a.addr + a.size && a.addr < phys + size);
}

function checkRange(kernel: Kernel, fn: string, pfn: number, nr: number): void {
	if (!Number.isSafeInteger(pfn) || !Number.isSafeInteger(nr) || pfn < 0 || nr < 0 || pfn + nr > kernel.machine.physmem.nr_pages) throw new Errno(EINVAL);
	if (kho_scratch_overlap(kernel, PFN_PHYS(pfn), nr * PAGE_SIZE)) {
		khoWARN(kernel, fn, "kho_scratch_overlap()");
		throw new Errno(EINVAL);
	}
}

/**
 * kho_preserve_folio(): records the folio's block (its order kept) in the
 * tree. Preserving twice is one preservation (a bit, no count).
 */
export function kho_preserve_folio(kernel: Kernel, folio: Folio): void {
	const tree = outTree(kernel, "kho_preserve_folio");
	const pfn = folio_pfn(folio);
	const order = folio_order(folio);
	checkRange(kernel, "kho_preserve_folio", pfn, 2 ** order);
	kho_radix_add_page(tree, pfn, order);
}

/** kho_unpreserve_folio(): clears the folio's bit; pfn and order must match the preservation. */
export function kho_unpreserve_folio(kernel: Kernel, folio: Folio): void {
	const tree = unpreserveTree(kernel, "kho_unpreserve_folio");
	if (tree && !kho_radix_del_page(tree, folio_pfn(folio), folio_order(folio))) khoWARN(kernel, "kho_radix_del_page", "!node->table[idx]");
}

/** __kho_unpreserve(): clears the blocks of `[pfn, end)`. */
function __kho_unpreserve(kernel: Kernel, tree: KhoRadixTree, pfn: number, end: number): void {
	for (const [p, order] of kho_range_blocks(pfn, end))
		if (!kho_radix_del_page(tree, p, order)) khoWARN(kernel, "kho_radix_del_page", "!node->table[idx]");
}

/**
 * kho_preserve_pages(): `nr` order-0 pages from `pfn`, recorded as
 * naturally aligned blocks; restore them with kho_restore_pages(). On
 * ENOMEM the blocks recorded by this call are cleared again.
 */
export function kho_preserve_pages(kernel: Kernel, pfn: number, nr: number): void {
	const tree = outTree(kernel, "kho_preserve_pages");
	checkRange(kernel, "kho_preserve_pages", pfn, nr);
	for (const [p, order] of kho_range_blocks(pfn, pfn + nr)) {
		try {
			kho_radix_add_page(tree, p, order);
		} catch (e) {
			__kho_unpreserve(kernel, tree, pfn, p);
			throw e;
		}
	}
}

/**
 * kho_unpreserve_pages(): the same `pfn` and `nr` as the kho_preserve_pages()
 * call; a sub-range of a preserved block is not supported (nothing checks it).
 */
export function kho_unpreserve_pages(kernel: Kernel, pfn: number, nr: number): void {
	const tree = unpreserveTree(kernel, "kho_unpreserve_pages");
	if (!tree || !Number.isSafeInteger(pfn) || !Number.isSafeInteger(nr) || pfn < 0 || nr < 0) return;
	__kho_unpreserve(kernel, tree, pfn, pfn + nr);
}

/**
 * kho_alloc_preserve(): a zeroed folio of get_order(size), preserved.
 * EINVAL for size 0, E2BIG above MAX_PAGE_ORDER, ENOMEM without memory, or
 * kho_preserve_folio()'s error (the folio is freed again).
 */
export function kho_alloc_preserve(kernel: Kernel, size: number): Folio {
	if (!kernel.config.KEXEC_HANDOVER) throw new Errno(EOPNOTSUPP);
	if (!Number.isSafeInteger(size) || size < 0) throw new Errno(EINVAL);
	if (size === 0) throw new Errno(EINVAL);
	const order = get_order(size);
	if (order > MAX_PAGE_ORDER) throw new Errno(E2BIG);
	const folio = folio_alloc(kernel.buddy, order);
	if (!folio) throw new Errno(ENOMEM);
	try {
		kho_preserve_folio(kernel, folio);
	} catch (e) {
		folio_put(folio);
		throw e;
	}
	return folio;
}

/** kho_unpreserve_free(): unpreserves and frees a kho_alloc_preserve() folio (null: nothing). */
export function kho_unpreserve_free(kernel: Kernel, folio: Folio | null): void {
	if (!folio) return;
	kho_unpreserve_folio(kernel, folio);
	folio_put(folio);
}
