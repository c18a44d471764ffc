import t from "tap";
import { EINVAL, ENOSPC } from "../../kernel/errno.ts";
import { errnoOf } from "../../fs/syscalls/testing.ts";
import { PHYS_PFN } from "../../mm/physmem.ts";
import { bootMainline, preservedBlocks } from "./testing.ts";
import {
	KHO_MAX_BLOCKS, KhoBlockSetIt, kho_block_set_clear, kho_block_set_destroy, kho_block_set_grow, kho_block_set_head_pa,
	kho_block_set_init, kho_block_set_is_empty, kho_block_set_restore, kho_block_set_shrink,
} from "./kho_block.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** A set of 64-byte entries (63 a block) with `n` entries written, each entry's first byte its index + 1. */
function filled(k: Kernel, n: number): ReturnType<typeof kho_block_set_init> {
	const bs = kho_block_set_init(k, 64);
	kho_block_set_grow(bs, n);
	const it = new KhoBlockSetIt(bs);
	for (let i = 0; i < n; i++) it.reserve_entry()![0] = i + 1;
	return bs;
}

function pageAt(k: Kernel, pa: number): DataView {
	const m = k.buddy.pm.page(PHYS_PFN(pa));
	return new DataView(m.buffer, m.byteOffset, m.byteLength);
}

t.test("a block holds (PAGE_SIZE - 16) / entry_size entries", async (t) => {
	const k = bootMainline();
	t.equal(kho_block_set_init(k, 64).count_per_block, 63);
	t.equal(kho_block_set_init(k, 80).count_per_block, 51);
});

t.test("grow adds pages only when the entries do not fit, linked by physical address", async (t) => {
	const k = bootMainline();
	const bs = kho_block_set_init(k, 64);
	t.ok(kho_block_set_is_empty(bs));
	kho_block_set_grow(bs, 63);
	t.equal(bs.blocks.length, 1);
	kho_block_set_grow(bs, 64);
	t.equal(bs.blocks.length, 2);
	t.equal(kho_block_set_head_pa(bs), bs.blocks[0]!.phys);
	t.equal(Number(pageAt(k, bs.blocks[0]!.phys).getBigUint64(0, true)), bs.blocks[1]!.phys, "next of the first is the second");
	t.equal(pageAt(k, bs.blocks[1]!.phys).getBigUint64(0, true), 0n, "the last has next 0");
});

t.test("shrink frees the pages the remaining entries do not need", async (t) => {
	const k = bootMainline();
	const bs = kho_block_set_init(k, 64);
	kho_block_set_grow(bs, 127);
	t.equal(bs.blocks.length, 3);
	kho_block_set_shrink(bs, 64);
	t.equal(bs.blocks.length, 2);
	t.equal(pageAt(k, bs.blocks[1]!.phys).getBigUint64(0, true), 0n, "the new last has next 0");
	kho_block_set_shrink(bs, 0);
	t.ok(kho_block_set_is_empty(bs));
	t.equal(kho_block_set_head_pa(bs), 0);
});

t.test("grow past KHO_MAX_BLOCKS is ENOSPC and leaves the set as it was", async (t) => {
	const k = bootMainline();
	const bs = kho_block_set_init(k, 64);
	kho_block_set_grow(bs, 1);
	const preserved = preservedBlocks(k).length;
	t.equal(errnoOf(() => kho_block_set_grow(bs, 63 * KHO_MAX_BLOCKS + 1)), ENOSPC);
	t.equal(bs.blocks.length, 1);
	t.equal(preservedBlocks(k).length, preserved, "the pages it took are no longer preserved");
});

t.test("the iterator reads back what it reserved, across blocks, and steps back", async (t) => {
	const k = bootMainline();
	const bs = filled(k, 70);
	t.equal(Number(pageAt(k, bs.blocks[0]!.phys).getBigUint64(8, true)), 63, "a full block counts 63");
	t.equal(Number(pageAt(k, bs.blocks[1]!.phys).getBigUint64(8, true)), 7);
	const it = new KhoBlockSetIt(bs);
	const seen: number[] = [];
	for (let e = it.read_entry(); e; e = it.read_entry()) seen.push(e[0]!);
	t.same(seen, Array.from({ length: 70 }, (_, i) => i + 1));
	const back = new KhoBlockSetIt(bs);
	for (let i = 0; i < 64; i++) back.reserve_entry();
	t.equal(back.prev()![0], 64);
	t.equal(back.prev()![0], 63, "prev crosses into the previous block");
});

t.test("reserve_entry returns null when the set is full", async (t) => {
	const k = bootMainline();
	const bs = kho_block_set_init(k, 64);
	t.equal(new KhoBlockSetIt(bs).reserve_entry(), null, "no blocks");
	kho_block_set_grow(bs, 1);
	const it = new KhoBlockSetIt(bs);
	for (let i = 0; i < 63; i++) t.not(it.reserve_entry(), null);
	t.equal(it.reserve_entry(), null);
});

t.test("clear zeroes every count and entry", async (t) => {
	const k = bootMainline();
	const bs = filled(k, 3);
	kho_block_set_clear(bs);
	t.equal(pageAt(k, bs.blocks[0]!.phys).getBigUint64(8, true), 0n);
	t.equal(k.buddy.pm.page(PHYS_PFN(bs.blocks[0]!.phys))[16], 0);
});

t.test("restore takes over a chain written by another set", async (t) => {
	const k = bootMainline();
	const out = filled(k, 100);
	const inc = kho_block_set_init(k, 64);
	kho_block_set_restore(inc, kho_block_set_head_pa(out));
	t.ok(inc.incoming);
	t.equal(inc.blocks.length, 2);
	let n = 0;
	const it = new KhoBlockSetIt(inc);
	while (it.read_entry()) n++;
	t.equal(n, 100);
});

t.test("restore of head 0 is an empty incoming set", async (t) => {
	const k = bootMainline();
	const inc = kho_block_set_init(k, 64);
	kho_block_set_restore(inc, 0);
	t.ok(inc.incoming);
	t.ok(kho_block_set_is_empty(inc));
});

t.test("restore refuses a block whose count is 0 or more than a block holds", async (t) => {
	for (const bad of [0n, 64n]) {
		const k = bootMainline();
		const out = filled(k, 70);
		pageAt(k, out.blocks[1]!.phys).setBigUint64(8, bad, true);
		const inc = kho_block_set_init(k, 64);
		t.equal(errnoOf(() => kho_block_set_restore(inc, out.head_pa)), EINVAL, `count ${bad}`);
		t.ok(kho_block_set_is_empty(inc));
		t.ok(k.log.all().some((r) => r.text === `luo: Block contains invalid entry count: ${bad}`));
	}
});

t.test("restore refuses a cycle", async (t) => {
	const k = bootMainline();
	const out = filled(k, 130);
	pageAt(k, out.blocks[2]!.phys).setBigUint64(0, BigInt(out.blocks[0]!.phys), true);
	const inc = kho_block_set_init(k, 64);
	t.equal(errnoOf(() => kho_block_set_restore(inc, out.head_pa)), EINVAL);
	t.equal(inc.head_pa, 0);
	t.ok(k.log.all().some((r) => r.text === "luo: Block set is corrupted"));
});

t.test("restore refuses a next pointer outside memory or inside a page", async (t) => {
	for (const bad of [1n << 50n, 8n]) {
		const k = bootMainline();
		const out = filled(k, 10);
		pageAt(k, out.blocks[0]!.phys).setBigUint64(0, BigInt(out.blocks[0]!.phys) + bad, true);
		t.equal(errnoOf(() => kho_block_set_restore(kho_block_set_init(k, 64), out.head_pa)), EINVAL);
	}
});

t.test("grow on an incoming set is EINVAL", async (t) => {
	const k = bootMainline();
	const inc = kho_block_set_init(k, 64);
	kho_block_set_restore(inc, 0);
	t.equal(errnoOf(() => kho_block_set_grow(inc, 1)), EINVAL);
});

t.test("destroy unpreserves and frees every page", async (t) => {
	const k = bootMainline();
	const before = preservedBlocks(k).length;
	const free = k.buddy.nr_free_pages();
	const bs = filled(k, 200);
	t.equal(preservedBlocks(k).length, before + 4);
	kho_block_set_destroy(bs);
	t.ok(kho_block_set_is_empty(bs));
	t.equal(kho_block_set_head_pa(bs), 0);
	t.equal(preservedBlocks(k).length, before);
	t.equal(k.buddy.nr_free_pages(), free);
});
