import t from "tap";
import { KhoMemTrack, KHOSER_BITMAP_SIZE, kho_mem_deserialize_walk, kho_mem_ser_free, kho_mem_serialize, kho_range_blocks, PRESERVE_BITS, type KhoPreservedBlock } from "./kho_mem.ts";
import { PhysicalMemory, PAGE_SIZE, PFN_PHYS } from "../mm/physmem.ts";
import { BuddyAllocator } from "../mm/buddy.ts";

function buddy(mib = 64): BuddyAllocator {
	const b = new BuddyAllocator(new PhysicalMemory(mib * 1024 * 1024));
	b.reserve(0, 1); // keep physical address 0 (KHO's NULL) out of the way, as x86 does
	return b;
}

function walk(pm: PhysicalMemory, first: number): { blocks: KhoPreservedBlock[]; fault: string | null } {
	const blocks: KhoPreservedBlock[] = [];
	const fault = kho_mem_deserialize_walk(pm, first, (b) => blocks.push(b));
	return { blocks, fault };
}

function u64(pm: PhysicalMemory, phys: number): number {
	return Number(new DataView(pm.read(phys, 8).buffer).getBigUint64(0, true));
}
function u32(pm: PhysicalMemory, phys: number): number {
	return new DataView(pm.read(phys, 4).buffer).getUint32(0, true);
}

t.test("a range splits into the largest naturally aligned blocks, front to back", async (t) => {
	t.same(kho_range_blocks(0, 8), [[0, 3]]);
	t.same(kho_range_blocks(1, 8), [[1, 0], [2, 1], [4, 2]]);
	t.same(kho_range_blocks(4, 11), [[4, 2], [8, 1], [10, 0]]);
	t.same(kho_range_blocks(0x100, 0x100 + 3), [[0x100, 1], [0x102, 0]]);
	t.same(kho_range_blocks(5, 5), [], "an empty range has no blocks");
	t.same(kho_range_blocks(0, 1 << 20), [[0, 20]], "orders above MAX_PAGE_ORDER are recorded as such");
});

t.test("the tracker keeps one bit per (order, block); preserving twice is one bit", async (t) => {
	const tr = new KhoMemTrack();
	tr.preserve(8, 3);
	tr.preserve(8, 3);
	tr.preserve(8, 0);
	t.ok(tr.isPreserved(8, 3));
	t.ok(tr.isPreserved(8, 0));
	t.notOk(tr.isPreserved(9, 0));
	t.notOk(tr.isPreserved(8, 2), "orders are separate sets");
	t.equal(tr.count(), 2);
	tr.unpreserve(8, 3);
	t.notOk(tr.isPreserved(8, 3));
	tr.unpreserve(123, 5);
	t.equal(tr.count(), 1, "clearing an unknown block does nothing");
	tr.clear();
	t.equal(tr.count(), 0);
	t.same(tr.entries(), []);
});

t.test("bitmap index and bit follow pfn >> order over 4096-bit bitmaps", async (t) => {
	const tr = new KhoMemTrack();
	tr.preserve(PRESERVE_BITS * 3 + 9, 0);
	tr.preserve((PRESERVE_BITS + 2) << 2, 2);
	const e = tr.entries();
	t.same(e.map(({ order, index }) => [order, index]), [[0, 3], [2, 1]], "orders ascending, then indexes");
	t.equal(e[0]!.bits[1], 1 << 1, "bit 9 is byte 1, bit 1");
	t.equal(e[1]!.bits[0], 1 << 2);
	t.ok(tr.entries()[0]!.bits.length === 512);
});

t.test("serialization writes the chunk layout: header, then {phys_start, bitmap} pairs", async (t) => {
	const b = buddy();
	const tr = new KhoMemTrack();
	tr.preserve(0x234, 0);
	tr.preserve(0x40, 4);
	tr.preserve(PRESERVE_BITS * 2 + 1, 0);
	const map = kho_mem_serialize(b, tr)!;
	const pm = b.pm;
	const c0 = map.firstChunkPhys;
	t.equal(c0 % PAGE_SIZE, 0);
	t.equal(u32(pm, c0 + 8), 0, "first chunk: order 0");
	t.equal(u32(pm, c0 + 12), 2, "two bitmaps of order 0");
	t.equal(u64(pm, c0 + 16), 0, "phys_start of bitmap index 0");
	t.equal(u64(pm, c0 + 32), PRESERVE_BITS * 2 * PAGE_SIZE, "phys_start of bitmap index 2 = (2 * 4096) << 12");
	const bm = u64(pm, c0 + 24);
	t.ok(map.pfns.includes(Math.floor(bm / PAGE_SIZE)), "bitmaps live in frames the map owns");
	t.equal(u64(pm, c0 + 40), bm + 512, "bitmaps share a frame, 512 bytes apart");
	t.equal(pm.read(bm + (0x234 >> 3), 1)[0], 1 << (0x234 & 7));
	const c1 = u64(pm, c0);
	t.not(c1, 0, "order 4 starts a new chunk");
	t.equal(u32(pm, c1 + 8), 4);
	t.equal(u32(pm, c1 + 12), 1);
	t.equal(u64(pm, c1), 0, "last chunk: next = 0");
	t.equal(pm.read(u64(pm, c1 + 24), 1)[0], 1 << 4, "block 0x40 >> 4 = bit 4");
	t.same(walk(pm, c0), { blocks: [{ phys: PFN_PHYS(0x234), order: 0 }, { phys: PFN_PHYS(PRESERVE_BITS * 2 + 1), order: 0 }, { phys: PFN_PHYS(0x40), order: 4 }], fault: null });
	const free = b.nr_free_pages();
	kho_mem_ser_free(b, map);
	t.equal(b.nr_free_pages(), free + map.pfns.length, "freeing gives every chunk and bitmap frame back");
});

t.test("a chunk holds 255 bitmaps; the 256th of the same order opens another chunk", async (t) => {
	const b = buddy(4096);
	const tr = new KhoMemTrack();
	for (let i = 0; i <= KHOSER_BITMAP_SIZE; i++) tr.preserve(i * PRESERVE_BITS, 0);
	const map = kho_mem_serialize(b, tr)!;
	const pm = b.pm;
	t.equal(KHOSER_BITMAP_SIZE, 255);
	t.equal(u32(pm, map.firstChunkPhys + 12), 255);
	const next = u64(pm, map.firstChunkPhys);
	t.equal(u32(pm, next + 8), 0, "same order");
	t.equal(u32(pm, next + 12), 1);
	t.equal(walk(pm, map.firstChunkPhys).blocks.length, 256);
});

t.test("an empty tracker serializes to no chunk at all", async (t) => {
	const b = buddy();
	const map = kho_mem_serialize(b, new KhoMemTrack())!;
	t.same(map, { firstChunkPhys: 0, pfns: [] });
	t.same(walk(b.pm, 0), { blocks: [], fault: null });
});

t.test("cleared bits stay as empty bitmaps, as the kernel's xarray keeps them", async (t) => {
	const b = buddy();
	const tr = new KhoMemTrack();
	tr.preserve(5, 0);
	tr.unpreserve(5, 0);
	const map = kho_mem_serialize(b, tr)!;
	t.equal(u32(b.pm, map.firstChunkPhys + 12), 1, "one (empty) bitmap recorded");
	t.same(walk(b.pm, map.firstChunkPhys).blocks, []);
});

t.test("running out of frames fails with nothing taken", async (t) => {
	const b = buddy(4);
	while (b.alloc_pages(0) !== null);
	const tr = new KhoMemTrack();
	tr.preserve(3, 0);
	t.equal(kho_mem_serialize(b, tr), null);
	t.equal(b.nr_free_pages(), 0);
	const b2 = buddy(4);
	let last = -1;
	for (let p = b2.alloc_pages(0); p !== null; p = b2.alloc_pages(0)) last = p;
	b2.__free_pages(last, 0); // room for the chunk, not for the bitmap page
	t.equal(kho_mem_serialize(b2, tr), null);
	t.equal(b2.nr_free_pages(), 1, "the chunk frame came back");
});

t.test("a corrupt list stops the walk with the reason; earlier blocks stay reported", async (t) => {
	const b = buddy();
	const pm = b.pm;
	const tr = new KhoMemTrack();
	tr.preserve(7, 0);
	const map = kho_mem_serialize(b, tr)!;
	const c = map.firstChunkPhys;
	const put64 = (phys: number, v: number): void => {
		const buf = new Uint8Array(8);
		new DataView(buf.buffer).setBigUint64(0, BigInt(v), true);
		pm.write(phys, buf);
	};
	t.match(walk(pm, c + 8).fault, /misaligned/);
	t.match(walk(pm, pm.sizeBytes).fault, /outside memory/);
	put64(c, c);
	const loop = walk(pm, c);
	t.match(loop.fault, /linked twice/);
	t.same(loop.blocks, [{ phys: PFN_PHYS(7), order: 0 }]);
	put64(c, 0);
	const hdr = new Uint8Array(4);
	new DataView(hdr.buffer).setUint32(0, 256, true);
	pm.write(c + 12, hdr);
	t.match(walk(pm, c).fault, /256 entries/);
	new DataView(hdr.buffer).setUint32(0, 1, true);
	pm.write(c + 12, hdr);
	new DataView(hdr.buffer).setUint32(0, 99, true);
	pm.write(c + 8, hdr);
	t.match(walk(pm, c).fault, /order 99/);
	new DataView(hdr.buffer).setUint32(0, 10, true);
	pm.write(c + 8, hdr);
	put64(c + 16, pm.sizeBytes);
	t.match(walk(pm, c).fault, /past the end of memory/);
	put64(c + 16, 0);
	put64(c + 24, pm.sizeBytes - 100);
	t.match(walk(pm, c).fault, /bitmap 0 is outside memory/);
});
