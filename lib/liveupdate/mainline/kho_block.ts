/**
 * KHO serialization blocks (kernel/liveupdate/kho_block.c,
 * include/linux/kho_block.h, include/linux/kho/abi/block.h): a chain of
 * preserved pages, each a 16-byte `struct kho_block_header_ser { next,
 * count }` followed by fixed-size entries, linked by physical address so
 * that the next kernel can walk it. LUO keeps its sessions and each
 * session's files in such chains.
 *
 * An outgoing set grows a page at a time (kho_alloc_preserve) before an
 * entry is added and shrinks when entries go, last first; it holds at most
 * KHO_MAX_BLOCKS pages (ENOSPC beyond). An incoming set is restored from a
 * head address and validated: a cycle, a chain longer than KHO_MAX_BLOCKS,
 * or a block whose count is 0 or more than a block holds is EINVAL, and
 * the pages not taken are freed.
 *
 * luosim difference: where the kernel would dereference a `next` that
 * points outside RAM or into the middle of a page (and oops), this reports
 * the chain as corrupted (EINVAL) instead.
 */
import { Errno, EINVAL, ENOSPC } from "../../kernel/errno.ts";
import { kho_alloc_preserve, kho_restore_free, kho_unpreserve_free } from "../../kho/mainline/kho.ts";
import { folio_pfn, type Folio } from "../../mm/folio.ts";
import { PAGE_SIZE, PFN_PHYS, PHYS_PFN, offset_in_page } from "../../mm/physmem.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** KHO_BLOCK_SIZE: one page per block. */
export const KHO_BLOCK_SIZE = PAGE_SIZE;
/** KHO_MAX_BLOCKS: the most blocks a set holds (about 40 MB with 4 KiB pages). */
export const KHO_MAX_BLOCKS = 10000;
/** sizeof(struct kho_block_header_ser). */
export const KHO_BLOCK_HEADER_SIZE = 16;

/** struct kho_block: one page of the chain and, for an outgoing set, its folio. */
interface KhoBlock {
	readonly phys: number;
	readonly folio: Folio | null;
	/** The page's bytes (phys_to_virt). */
	readonly mem: Uint8Array;
}

/** struct kho_block_set. */
export interface KhoBlockSet {
	readonly kernel: Kernel;
	readonly entry_size: number;
	readonly count_per_block: number;
	/** Restored from the previous kernel: its pages are given back with kho_restore_free. */
	incoming: boolean;
	readonly blocks: KhoBlock[];
	head_pa: number;
}

/** kho_block_set_init(): an empty set of `entry_size`-byte entries. */
export function kho_block_set_init(kernel: Kernel, entry_size: number): KhoBlockSet {
	const count_per_block = Math.floor((KHO_BLOCK_SIZE - KHO_BLOCK_HEADER_SIZE) / entry_size);
	return { kernel, entry_size, count_per_block, incoming: false, blocks: [], head_pa: 0 };
}

function dv(mem: Uint8Array): DataView {
	return new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
}

function hdrNext(mem: Uint8Array): bigint {
	return dv(mem).getBigUint64(0, true);
}

function hdrCount(mem: Uint8Array): bigint {
	return dv(mem).getBigUint64(8, true);
}

function setNext(mem: Uint8Array, pa: number): void {
	dv(mem).setBigUint64(0, BigInt(pa), true);
}

function setCount(mem: Uint8Array, n: number): void {
	dv(mem).setBigUint64(8, BigInt(n), true);
}

/** phys_to_virt() of a block header, or null when `pa` cannot be one (outside RAM or not page aligned). */
function blockAt(kernel: Kernel, pa: bigint): Uint8Array | null {
	const pm = kernel.buddy.pm;
	if (pa > BigInt(Number.MAX_SAFE_INTEGER)) return null;
	const phys = Number(pa);
	if (offset_in_page(phys) !== 0 || PHYS_PFN(phys) >= pm.nr_pages) return null;
	return pm.page(PHYS_PFN(phys));
}

function freeBlock(bs: KhoBlockSet, b: KhoBlock): void {
	if (bs.incoming || b.folio === null) kho_restore_free(bs.kernel, b.phys);
	else kho_unpreserve_free(bs.kernel, b.folio);
}

/** kho_block_add(): links a page at the tail; ENOSPC at KHO_MAX_BLOCKS. */
function kho_block_add(bs: KhoBlockSet, b: KhoBlock): void {
	if (bs.blocks.length >= KHO_MAX_BLOCKS) throw new Errno(ENOSPC);
	const last = bs.blocks.at(-1);
	bs.blocks.push(b);
	if (last) setNext(last.mem, b.phys);
	else bs.head_pa = b.phys;
}

function shrinkOne(bs: KhoBlockSet): void {
	const last = bs.blocks.pop();
	if (!last) return;
	freeBlock(bs, last);
	const newLast = bs.blocks.at(-1);
	if (newLast) setNext(newLast.mem, 0);
	else bs.head_pa = 0;
}

/**
 * kho_block_set_grow(): adds preserved pages until `count` entries fit.
 * ENOMEM (allocation) or ENOSPC (KHO_MAX_BLOCKS); on failure the set is
 * as before. EINVAL on an incoming set.
 */
export function kho_block_set_grow(bs: KhoBlockSet, count: number): void {
	if (bs.incoming) throw new Errno(EINVAL);
	const orig = bs.blocks.length;
	try {
		while (count > bs.blocks.length * bs.count_per_block) {
			const folio = kho_alloc_preserve(bs.kernel, KHO_BLOCK_SIZE);
			const phys = PFN_PHYS(folio_pfn(folio));
			const b: KhoBlock = { phys, folio, mem: bs.kernel.buddy.pm.page(folio_pfn(folio)) };
			try {
				kho_block_add(bs, b);
			} catch (e) {
				kho_unpreserve_free(bs.kernel, folio);
				throw e;
			}
		}
	} catch (e) {
		while (bs.blocks.length > orig) shrinkOne(bs);
		throw e;
	}
}

/** kho_block_set_shrink(): frees trailing pages no longer needed for `count` entries (removal must be last-in first-out). */
export function kho_block_set_shrink(bs: KhoBlockSet, count: number): void {
	while (bs.blocks.length > 0 && count <= (bs.blocks.length - 1) * bs.count_per_block) shrinkOne(bs);
}

/** kho_block_set_is_cyclic(): Floyd over the chain from head_pa; also true past KHO_MAX_BLOCKS or on a bad pointer. */
function isCyclic(bs: KhoBlockSet): boolean {
	const k = bs.kernel;
	let fast: bigint = BigInt(bs.head_pa);
	let slow: bigint = fast;
	let count = 0;
	for (;;) {
		if (count++ >= KHO_MAX_BLOCKS) return corrupted(k);
		const f1 = blockAt(k, fast);
		if (!f1) return corrupted(k);
		if (hdrNext(f1) === 0n) return false;
		fast = hdrNext(f1);
		const f2 = blockAt(k, fast);
		if (!f2) return corrupted(k);
		if (hdrNext(f2) === 0n) return false;
		fast = hdrNext(f2);
		slow = hdrNext(blockAt(k, slow)!);
		if (slow === fast) return corrupted(k);
	}
}

function corrupted(kernel: Kernel): true {
	kernel.pr_err("luo: Block set is corrupted");
	return true;
}

/**
 * kho_block_set_restore(): takes over the chain at `head_pa` from the
 * previous kernel (0: an empty set). EINVAL for a corrupted chain or an
 * invalid block count; then every page of the chain is freed.
 */
export function kho_block_set_restore(bs: KhoBlockSet, head_pa: number): void {
	bs.incoming = true;
	if (!head_pa) return;
	bs.head_pa = head_pa;
	if (isCyclic(bs)) {
		bs.head_pa = 0;
		throw new Errno(EINVAL);
	}
	let next = BigInt(head_pa);
	try {
		while (next !== 0n) {
			const mem = blockAt(bs.kernel, next)!;
			const count = hdrCount(mem);
			if (count === 0n || count > BigInt(bs.count_per_block)) {
				bs.kernel.pr_warn(`luo: Block contains invalid entry count: ${count}`);
				throw new Errno(EINVAL);
			}
			kho_block_add(bs, { phys: Number(next), folio: null, mem });
			next = hdrNext(mem);
		}
	} catch (e) {
		kho_block_set_destroy(bs);
		while (next !== 0n) {
			const phys = Number(next);
			next = hdrNext(blockAt(bs.kernel, next)!);
			kho_restore_free(bs.kernel, phys);
		}
		throw e;
	}
}

/** kho_block_set_destroy(): frees every page of the set. */
export function kho_block_set_destroy(bs: KhoBlockSet): void {
	for (const b of bs.blocks.splice(0)) freeBlock(bs, b);
	bs.head_pa = 0;
}

/** kho_block_set_clear(): zeroes every entry and count (after a failed serialization). */
export function kho_block_set_clear(bs: KhoBlockSet): void {
	for (const b of bs.blocks) {
		setCount(b.mem, 0);
		b.mem.fill(0, KHO_BLOCK_HEADER_SIZE);
	}
}

/** kho_block_set_head_pa(): the first page's physical address, 0 when empty. */
export function kho_block_set_head_pa(bs: KhoBlockSet): number {
	return bs.head_pa;
}

/** kho_block_set_is_empty(): no pages. */
export function kho_block_set_is_empty(bs: KhoBlockSet): boolean {
	return bs.blocks.length === 0;
}

/** struct kho_block_set_it: a position in a set (block index and entry index). */
export class KhoBlockSetIt {
	private block = 0;
	private i = 0;

	/** kho_block_set_it_init(). */
	constructor(private readonly bs: KhoBlockSet) {}

	private entry(idx: number): Uint8Array {
		const off = KHO_BLOCK_HEADER_SIZE + idx * this.bs.entry_size;
		return this.bs.blocks[this.block]!.mem.subarray(off, off + this.bs.entry_size);
	}

	/** kho_block_set_it_reserve_entry(): the next free slot (its block's count grows), or null when the set is full. */
	reserve_entry(): Uint8Array | null {
		if (this.bs.blocks.length === 0) return null;
		if (this.i === this.bs.count_per_block) {
			if (this.block === this.bs.blocks.length - 1) return null;
			this.block++;
			this.i = 0;
		}
		const e = this.entry(this.i++);
		setCount(this.bs.blocks[this.block]!.mem, this.i);
		return e;
	}

	/** kho_block_set_it_read_entry(): the next written entry (by each block's count), or null at the end. */
	read_entry(): Uint8Array | null {
		if (this.bs.blocks.length === 0) return null;
		if (BigInt(this.i) === hdrCount(this.bs.blocks[this.block]!.mem)) {
			if (this.block === this.bs.blocks.length - 1) return null;
			this.block++;
			this.i = 0;
		}
		return this.entry(this.i++);
	}

	/** kho_block_set_it_prev(): steps back one slot and returns it, or null at the start. */
	prev(): Uint8Array | null {
		if (this.bs.blocks.length === 0) return null;
		if (this.i === 0) {
			if (this.block === 0) return null;
			this.block--;
			this.i = this.bs.count_per_block;
		}
		return this.entry(--this.i);
	}
}
