/**
 * The KHO radix tree (kernel/liveupdate/kexec_handover.c kho_radix_*,
 * include/linux/kho_radix_tree.h, the tree ABI in
 * include/linux/kho/abi/kexec_handover.h): the map of preserved memory,
 * kept in physical pages from the first preservation on and handed to the
 * next kernel in place.
 *
 * Every node is one page. An intermediate node is `u64 table[512]` of
 * child physical addresses (0: none); a leaf is a bitmap of 32768 bits.
 * A block of 2^order pages at `phys` has the key
 * `(1 << (64 - PAGE_SHIFT - order)) | (phys >> (PAGE_SHIFT + order))`;
 * with 4 KiB pages levels 5..1 index key bits 59:51, 50:42, 41:33, 32:24,
 * 23:15 and the leaf bit is key bits 14:0. Keys stay below 2^53, so luosim
 * computes them with plain numbers.
 */
import { Errno, ENOMEM } from "../../kernel/errno.ts";
import { PAGE_SIZE, PFN_PHYS, PHYS_PFN, type PhysicalMemory } from "../../mm/physmem.ts";
import { KHO_BITMAP_SIZE_LOG2, KHO_ORDER_0_LOG2, KHO_TABLE_SIZE_LOG2, KHO_TREE_MAX_DEPTH, ld64, st64 } from "./kho_abi.ts";

const TABLE_ENTRIES = 1 << KHO_TABLE_SIZE_LOG2;
const BITMAP_BITS = 1 << KHO_BITMAP_SIZE_LOG2;

/** struct kho_radix_tree: the root node's frame and how to get and free node pages. */
export interface KhoRadixTree {
	readonly pm: PhysicalMemory;
	/** The root node's PFN (never 0 once set up: the first MiB is reserved). */
	readonly root: number;
	/** get_zeroed_page(): a zeroed frame's PFN, or null when memory is exhausted. */
	readonly alloc: () => number | null;
	/** free_page(). */
	readonly free: (pfn: number) => void;
}

/** kho_radix_encode_key(): the key of the block of `order` at `pfn`. */
export function kho_radix_encode_key(pfn: number, order: number): number {
	return 2 ** (KHO_ORDER_0_LOG2 - order) + Math.floor(pfn / 2 ** order);
}

/**
 * kho_radix_decode_key(): the block a key names, as its first PFN and
 * order (fls64 gives the order bit; the address is what lies below it).
 * Null for key 0, which names nothing.
 */
export function kho_radix_decode_key(key: number): { pfn: number; order: number } | null {
	for (let order = 0; order <= KHO_ORDER_0_LOG2; order++) {
		const bit = 2 ** (KHO_ORDER_0_LOG2 - order);
		if (key >= bit) return { pfn: (key - bit) * 2 ** order, order };
	}
	return null;
}

/** kho_radix_get_table_index(): the child slot of `key` in a node of `level` (5..1). */
export function kho_radix_get_table_index(key: number, level: number): number {
	const s = (level - 1) * KHO_TABLE_SIZE_LOG2 + KHO_BITMAP_SIZE_LOG2;
	return Math.floor(key / 2 ** s) % TABLE_ENTRIES;
}

/** kho_radix_get_bitmap_index(): the leaf bit of `key`. */
export function kho_radix_get_bitmap_index(key: number): number {
	return key % BITMAP_BITS;
}

/**
 * kho_radix_add_page(): sets the block's bit, making the missing nodes on
 * its path. ENOMEM when a node page cannot be had; the nodes made by this
 * call are freed and the tree is as before.
 */
export function kho_radix_add_page(tree: KhoRadixTree, pfn: number, order: number): void {
	const key = kho_radix_encode_key(pfn, order);
	const made: number[] = [];
	let anchor: { node: Uint8Array; idx: number } | null = null;
	let node = tree.pm.page(tree.root);
	for (let level = KHO_TREE_MAX_DEPTH - 1; level > 0; level--) {
		const idx = kho_radix_get_table_index(key, level);
		const child = ld64(node, idx * 8);
		if (child) {
			node = tree.pm.page(PHYS_PFN(child));
			continue;
		}
		const fresh = tree.alloc();
		if (fresh === null) {
			for (const p of made) tree.free(p);
			if (anchor) st64(anchor.node, anchor.idx * 8, 0);
			throw new Errno(ENOMEM);
		}
		st64(node, idx * 8, PFN_PHYS(fresh));
		anchor ??= { node, idx };
		made.push(fresh);
		node = tree.pm.page(fresh);
	}
	const bit = kho_radix_get_bitmap_index(key);
	node[bit >>> 3] = node[bit >>> 3]! | (1 << (bit & 7));
}

/** The leaf bitmap page on `key`'s path, or null where the path does not exist. */
function kho_radix_find_leaf(tree: KhoRadixTree, key: number): Uint8Array | null {
	let node = tree.pm.page(tree.root);
	for (let level = KHO_TREE_MAX_DEPTH - 1; level > 0; level--) {
		const child = ld64(node, kho_radix_get_table_index(key, level) * 8);
		if (!child) return null;
		node = tree.pm.page(PHYS_PFN(child));
	}
	return node;
}

/**
 * kho_radix_del_page(): clears the block's bit; empty nodes stay. False
 * when its path does not exist (the kernel WARNs and returns), true
 * otherwise, whether or not the bit was set.
 */
export function kho_radix_del_page(tree: KhoRadixTree, pfn: number, order: number): boolean {
	const key = kho_radix_encode_key(pfn, order);
	const leaf = kho_radix_find_leaf(tree, key);
	if (!leaf) return false;
	const bit = kho_radix_get_bitmap_index(key);
	leaf[bit >>> 3] = leaf[bit >>> 3]! & ~(1 << (bit & 7));
	return true;
}

/** Whether the block's bit is set (luosim's own query, for tests and checks). */
export function kho_radix_test_page(tree: KhoRadixTree, pfn: number, order: number): boolean {
	const key = kho_radix_encode_key(pfn, order);
	const leaf = kho_radix_find_leaf(tree, key);
	if (!leaf) return false;
	const bit = kho_radix_get_bitmap_index(key);
	return (leaf[bit >>> 3]! & (1 << (bit & 7))) !== 0;
}

/** A tree the walk refuses to follow further: carries the reason. */
export class KhoRadixCorrupt extends Error {}

/**
 * kho_radix_walk_tree(): calls `cb(pfn, order)` for every set bit, in key
 * order (all blocks of the highest order first, then by address). luosim
 * also refuses what would crash a real kernel: a child pointer that is not
 * a page inside memory, a node reached twice, or a block past the end of
 * memory; it throws KhoRadixCorrupt. `cb` may throw to stop the walk.
 */
export function kho_radix_walk_tree(pm: PhysicalMemory, rootPfn: number, cb: (pfn: number, order: number) => void): void {
	const seen = new Set<number>([rootPfn]);
	const walk = (nodePfn: number, level: number, start: number): void => {
		const page = pm.page(nodePfn);
		const words = new Uint32Array(page.buffer, page.byteOffset, PAGE_SIZE / 4);
		const shift = 2 ** ((level - 1) * KHO_TABLE_SIZE_LOG2 + KHO_BITMAP_SIZE_LOG2);
		for (let i = 0; i < TABLE_ENTRIES; i++) {
			if (words[2 * i] === 0 && words[2 * i + 1] === 0) continue;
			const child = ld64(page, i * 8);
			if (child % PAGE_SIZE !== 0 || child + PAGE_SIZE > pm.sizeBytes)
				throw new KhoRadixCorrupt(`node at 0x${PFN_PHYS(nodePfn).toString(16)} slot ${i} points at 0x${child.toString(16)}, not a page in memory`);
			const childPfn = PHYS_PFN(child);
			if (seen.has(childPfn)) throw new KhoRadixCorrupt(`node at 0x${child.toString(16)} is reached twice`);
			seen.add(childPfn);
			const key = start + i * shift;
			if (level === 1) walkLeaf(pm, childPfn, key, cb);
			else walk(childPfn, level - 1, key);
		}
	};
	walk(rootPfn, KHO_TREE_MAX_DEPTH - 1, 0);
}

/** kho_radix_walk_leaf(): each set bit of the leaf at `leafPfn`, whose keys start at `key`. */
function walkLeaf(pm: PhysicalMemory, leafPfn: number, key: number, cb: (pfn: number, order: number) => void): void {
	const page = pm.page(leafPfn);
	const words = new Uint32Array(page.buffer, page.byteOffset, PAGE_SIZE / 4);
	for (let w = 0; w < words.length; w++) {
		let bits = words[w]!;
		while (bits !== 0) {
			const b = 31 - Math.clz32(bits & -bits);
			bits &= bits - 1;
			const block = kho_radix_decode_key(key + w * 32 + b);
			if (!block) continue;
			if (block.pfn + 2 ** block.order > pm.nr_pages)
				throw new KhoRadixCorrupt(`block 0x${PFN_PHYS(block.pfn).toString(16)} of order ${block.order} lies past the end of memory`);
			cb(block.pfn, block.order);
		}
	}
}

/** Frees every node page of the tree except the root (for a kho_init that failed). */
export function kho_radix_free_nodes(tree: KhoRadixTree): void {
	const pages: number[] = [];
	const walk = (nodePfn: number, level: number): void => {
		const page = tree.pm.page(nodePfn);
		for (let i = 0; i < TABLE_ENTRIES; i++) {
			const child = ld64(page, i * 8);
			if (!child) continue;
			if (level > 1) walk(PHYS_PFN(child), level - 1);
			pages.push(PHYS_PFN(child));
		}
	};
	walk(tree.root, KHO_TREE_MAX_DEPTH - 1);
	for (const p of pages) tree.free(p);
}
