/**
 * KHO's preserved-memory tracking and its serialized form
 * (kernel/kexec_handover.c, v6.16 + RFC v2 patch 03): `struct
 * kho_mem_track` with one sparse set of 512-byte bitmaps per order, the
 * split of a physical range into naturally aligned blocks, and the linked
 * list of `struct khoser_mem_chunk` pages that the next kernel walks.
 *
 * The tracker is the old kernel's private memory (xarrays of kzalloc'd
 * bitmaps in Linux, Maps here); only `kho_mem_serialize` output, written
 * into frames at finalize, crosses kexec. Layout, all little-endian:
 *
 *     khoser_mem_chunk (one 4096-byte page)
 *       0   u64 next       phys of the next chunk, 0 = end
 *       8   u32 order
 *      12   u32 num_elms
 *      16   255 x khoser_mem_bitmap_ptr { u64 phys_start; u64 bitmap; }
 *     bitmap: 512 bytes, bit b (byte b/8, bit b%8) = block
 *             phys_start + (b << (order + PAGE_SHIFT)) is preserved
 *
 * One chunk holds one order; orders ascend; a new chunk starts per order
 * and when 255 entries are used. The chunks and bitmaps are ordinary
 * kernel pages, not preserved: the next kernel reads them before it
 * allocates anything outside scratch.
 */
import { PAGE_SHIFT, PAGE_SIZE, PFN_PHYS, type PhysicalMemory } from "../mm/physmem.ts";
import type { BuddyAllocator } from "../mm/buddy.ts";

/** PRESERVE_BITS: bits in one kho_mem_phys_bits bitmap (512 bytes). */
export const PRESERVE_BITS = 512 * 8;
/** sizeof(struct kho_mem_phys_bits). */
export const KHO_BITMAP_BYTES = PRESERVE_BITS / 8;
/** sizeof(struct khoser_mem_chunk_hdr). */
export const KHOSER_CHUNK_HDR_SIZE = 16;
/** sizeof(struct khoser_mem_bitmap_ptr). */
export const KHOSER_BITMAP_PTR_SIZE = 16;
/** KHOSER_BITMAP_SIZE: bitmap pointers per chunk, (4096 - 16) / 16 = 255. */
export const KHOSER_BITMAP_SIZE = (PAGE_SIZE - KHOSER_CHUNK_HDR_SIZE) / KHOSER_BITMAP_PTR_SIZE;
/** The highest order a serialized chunk may claim that still gives exact addresses here. */
const MAX_SERIALIZED_ORDER = 40;

/** count_trailing_zeros() of a PFN; BITS_PER_LONG for 0, as the kernel's. */
function ctz(n: number): number {
	if (n === 0) return 64;
	let z = 0;
	while (n % 2 === 0) {
		n /= 2;
		z++;
	}
	return z;
}

/** ilog2() of a positive integer. */
function ilog2(n: number): number {
	return Math.floor(Math.log2(n));
}

/**
 * The blocks `[pfn, endPfn)` is recorded as by kho_preserve_phys and looked
 * up as by kho_unpreserve_phys: from the start, each block has order
 * `min(ctz(pfn), ilog2(end_pfn - pfn))`.
 */
export function kho_range_blocks(pfn: number, endPfn: number): [number, number][] {
	const blocks: [number, number][] = [];
	while (pfn < endPfn) {
		const order = Math.min(ctz(pfn), ilog2(endPfn - pfn));
		blocks.push([pfn, order]);
		pfn += 2 ** order;
	}
	return blocks;
}

/** struct kho_mem_track: order → bitmap index → bitmap. Empty bitmaps stay until abort, as in Linux. */
export class KhoMemTrack {
	private readonly orders = new Map<number, Map<number, Uint8Array>>();

	/** __kho_preserve_order(): sets the bit of block `pfn` at `order`, creating its bitmap. */
	preserve(pfn: number, order: number): void {
		const high = Math.floor(pfn / 2 ** order);
		let phys = this.orders.get(order);
		if (!phys) {
			phys = new Map();
			this.orders.set(order, phys);
		}
		const idx = Math.floor(high / PRESERVE_BITS);
		let bits = phys.get(idx);
		if (!bits) {
			bits = new Uint8Array(KHO_BITMAP_BYTES);
			phys.set(idx, bits);
		}
		const bit = high % PRESERVE_BITS;
		bits[bit >> 3] = bits[bit >> 3]! | (1 << (bit & 7));
	}

	/** __kho_unpreserve_order(): clears the bit of block `pfn` at `order` if its bitmap exists. */
	unpreserve(pfn: number, order: number): void {
		const high = Math.floor(pfn / 2 ** order);
		const bits = this.orders.get(order)?.get(Math.floor(high / PRESERVE_BITS));
		if (!bits) return;
		const bit = high % PRESERVE_BITS;
		bits[bit >> 3] = bits[bit >> 3]! & ~(1 << (bit & 7));
	}

	/** Whether the bit of block `pfn` at `order` is set. */
	isPreserved(pfn: number, order: number): boolean {
		const high = Math.floor(pfn / 2 ** order);
		const bits = this.orders.get(order)?.get(Math.floor(high / PRESERVE_BITS));
		if (!bits) return false;
		const bit = high % PRESERVE_BITS;
		return (bits[bit >> 3]! & (1 << (bit & 7))) !== 0;
	}

	/** The bitmaps as xa_for_each visits them: orders ascending, then indexes ascending. */
	entries(): { order: number; index: number; bits: Uint8Array }[] {
		const out: { order: number; index: number; bits: Uint8Array }[] = [];
		for (const order of [...this.orders.keys()].sort((a, b) => a - b)) {
			const phys = this.orders.get(order)!;
			for (const index of [...phys.keys()].sort((a, b) => a - b)) out.push({ order, index, bits: phys.get(index)! });
		}
		return out;
	}

	/** The number of set bits: how many blocks are preserved. */
	count(): number {
		let n = 0;
		for (const { bits } of this.entries()) for (const byte of bits) for (let v = byte; v; v &= v - 1) n++;
		return n;
	}

	/** The kfree loop of __kho_abort: every bitmap of every order goes. */
	clear(): void {
		this.orders.clear();
	}
}

/** The serialized map in frames: the first chunk's address and every frame to give back on abort. */
export interface KhoSerializedMap {
	/** Physical address of the first khoser_mem_chunk (0 = no chunks). */
	firstChunkPhys: number;
	/** Every frame holding chunks or bitmaps (order-0 allocations). */
	pfns: number[];
}

/**
 * kho_mem_serialize(): writes `track` as a chunk list into freshly
 * allocated frames. Null when memory runs out (the kernel's -ENOMEM),
 * after giving back what it took. Bitmaps share frames, eight to a page,
 * as kzalloc(512) packs them into a slab page.
 */
export function kho_mem_serialize(buddy: BuddyAllocator, track: KhoMemTrack): KhoSerializedMap | null {
	const pm = buddy.pm;
	const pfns: number[] = [];
	const allocPage = (): number | null => {
		const pfn = buddy.alloc_pages(0);
		if (pfn !== null) pfns.push(pfn);
		return pfn;
	};
	const chunks: { phys: number; buf: Uint8Array; view: DataView }[] = [];
	let bitmapPage = -1;
	let bitmapSlot = PAGE_SIZE; // no room until a page is taken
	let chunk: (typeof chunks)[number] | null = null;
	let lastOrder = -1;

	const newChunk = (order: number): boolean => {
		const pfn = allocPage();
		if (pfn === null) return false;
		const buf = new Uint8Array(PAGE_SIZE);
		const next = { phys: PFN_PHYS(pfn), buf, view: new DataView(buf.buffer) };
		next.view.setUint32(8, order, true);
		if (chunk) chunk.view.setBigUint64(0, BigInt(next.phys), true);
		chunks.push(next);
		chunk = next;
		return true;
	};
	const fail = (): null => {
		for (const pfn of pfns) buddy.__free_pages(pfn, 0);
		return null;
	};

	for (const { order, index, bits } of track.entries()) {
		if (order !== lastOrder) {
			if (!newChunk(order)) return fail();
			lastOrder = order;
		}
		let num = chunk!.view.getUint32(12, true);
		if (num === KHOSER_BITMAP_SIZE) {
			if (!newChunk(order)) return fail();
			num = 0;
		}
		if (bitmapSlot + KHO_BITMAP_BYTES > PAGE_SIZE) {
			const pfn = allocPage();
			if (pfn === null) return fail();
			bitmapPage = PFN_PHYS(pfn);
			bitmapSlot = 0;
		}
		const bitmapPhys = bitmapPage + bitmapSlot;
		bitmapSlot += KHO_BITMAP_BYTES;
		pm.write(bitmapPhys, bits);
		const elm = KHOSER_CHUNK_HDR_SIZE + num * KHOSER_BITMAP_PTR_SIZE;
		const physStart = index * PRESERVE_BITS * 2 ** (order + PAGE_SHIFT);
		chunk!.view.setBigUint64(elm, BigInt(physStart), true);
		chunk!.view.setBigUint64(elm + 8, BigInt(bitmapPhys), true);
		chunk!.view.setUint32(12, num + 1, true);
	}
	for (const c of chunks) pm.write(c.phys, c.buf);
	return { firstChunkPhys: chunks.length ? chunks[0]!.phys : 0, pfns };
}

/** kho_mem_ser_free() plus the bitmaps' kfree: gives the frames of a serialized map back. */
export function kho_mem_ser_free(buddy: BuddyAllocator, map: KhoSerializedMap): void {
	for (const pfn of map.pfns) buddy.__free_pages(pfn, 0);
}

/** One preserved block found in a serialized map. */
export interface KhoPreservedBlock {
	phys: number;
	order: number;
}

/**
 * kho_mem_deserialize()'s walk: every preserved block of the chunk list at
 * `firstChunkPhys`, read from physical memory only, passed to `found` in
 * list order. Returns null, or why the walk stopped early: luosim checks
 * what a real kernel would trust and crash on (a chunk or bitmap outside
 * memory or misaligned, a loop, a count above 255, a block past the end of
 * memory); the blocks reported before the fault stay reported.
 */
export function kho_mem_deserialize_walk(pm: PhysicalMemory, firstChunkPhys: number, found: (b: KhoPreservedBlock) => void): string | null {
	const seen = new Set<number>();
	let phys = firstChunkPhys;
	while (phys !== 0) {
		const where = `chunk at 0x${phys.toString(16)}`;
		if (!Number.isSafeInteger(phys) || phys % PAGE_SIZE !== 0 || phys + PAGE_SIZE > pm.sizeBytes) return `${where} is outside memory or misaligned`;
		if (seen.has(phys)) return `${where} is linked twice`;
		seen.add(phys);
		const buf = pm.read(phys, PAGE_SIZE);
		const view = new DataView(buf.buffer);
		const next = Number(view.getBigUint64(0, true));
		const order = view.getUint32(8, true);
		const num = view.getUint32(12, true);
		if (order > MAX_SERIALIZED_ORDER) return `${where} has order ${order}`;
		if (num > KHOSER_BITMAP_SIZE) return `${where} has ${num} entries`;
		const blockBytes = 2 ** (order + PAGE_SHIFT);
		for (let i = 0; i < num; i++) {
			const elm = KHOSER_CHUNK_HDR_SIZE + i * KHOSER_BITMAP_PTR_SIZE;
			const start = Number(view.getBigUint64(elm, true));
			const bitmap = Number(view.getBigUint64(elm + 8, true));
			if (!Number.isSafeInteger(bitmap) || bitmap === 0 || bitmap + KHO_BITMAP_BYTES > pm.sizeBytes) return `${where}: bitmap ${i} is outside memory`;
			const bits = pm.read(bitmap, KHO_BITMAP_BYTES);
			for (let byte = 0; byte < KHO_BITMAP_BYTES; byte++) {
				const v = bits[byte]!;
				if (v === 0) continue;
				for (let b = 0; b < 8; b++) {
					if (!(v & (1 << b))) continue;
					const blockPhys = start + (byte * 8 + b) * blockBytes;
					if (!Number.isSafeInteger(blockPhys) || blockPhys + blockBytes > pm.sizeBytes) return `${where}: block 0x${blockPhys.toString(16)} of order ${order} is past the end of memory`;
					found({ phys: blockPhys, order });
				}
			}
		}
		phys = next;
	}
	return null;
}
