import t from "tap";
import { PhysicalMemory } from "../../mm/physmem.ts";
import { ENOMEM } from "../../kernel/errno.ts";
import { errnoOf } from "../testing.ts";
import { KHO_TREE_MAX_DEPTH, ld64, st64 } from "./kho_abi.ts";
import {
	KhoRadixCorrupt,
	kho_radix_add_page,
	kho_radix_decode_key,
	kho_radix_del_page,
	kho_radix_encode_key,
	kho_radix_get_bitmap_index,
	kho_radix_get_table_index,
	kho_radix_test_page,
	kho_radix_walk_tree,
	type KhoRadixTree,
} from "./kho_radix.ts";

const MiB = 1024 * 1024;

/** A tree over 64 MiB of memory whose node pages come from PFN 0x100 upwards (`limit` of them). */
function makeTree(limit = 64): { tree: KhoRadixTree; freed: number[]; used: () => number } {
	const pm = new PhysicalMemory(64 * MiB);
	let next = 0x101;
	const freed: number[] = [];
	const tree: KhoRadixTree = {
		pm,
		root: 0x100,
		alloc: () => (next - 0x101 < limit ? next++ : null),
		free: (pfn) => void freed.push(pfn),
	};
	return { tree, freed, used: () => next - 0x101 };
}

function walk(tree: KhoRadixTree): [number, number][] {
	const out: [number, number][] = [];
	kho_radix_walk_tree(tree.pm, tree.root, (pfn, order) => void out.push([pfn, order]));
	return out;
}

t.test("the tree has 6 levels with 4 KiB pages", async (t) => {
	t.equal(KHO_TREE_MAX_DEPTH, 6);
});

t.test("a key is the order bit above the address shifted by its order", async (t) => {
	t.equal(kho_radix_encode_key(0x1234, 0), 2 ** 52 + 0x1234);
	t.equal(kho_radix_encode_key(0x400, 10), 2 ** 42 + 1);
	t.equal(kho_radix_encode_key(0x402, 1), 2 ** 51 + 0x201);
});

t.test("decoding a key gives back the block", async (t) => {
	for (const [pfn, order] of [[0x1234, 0], [0x400, 10], [0x402, 1], [0xfffff000, 12], [0, 0]] as const)
		t.same(kho_radix_decode_key(kho_radix_encode_key(pfn, order)), { pfn, order }, `${pfn}/${order}`);
	t.equal(kho_radix_decode_key(0), null, "key 0 names nothing");
});

t.test("levels 5..1 index key bits 59:51 .. 23:15 and the leaf bit is 14:0", async (t) => {
	const key = 2 ** 52 + 0x12345678;
	t.equal(kho_radix_get_table_index(key, 5), 2, "bit 52 is bit 1 of level 5");
	t.equal(kho_radix_get_table_index(key, 4), 0);
	t.equal(kho_radix_get_table_index(key, 2), Math.floor(0x12345678 / 2 ** 24) % 512);
	t.equal(kho_radix_get_table_index(key, 1), Math.floor(0x12345678 / 2 ** 15) % 512);
	t.equal(kho_radix_get_bitmap_index(key), 0x12345678 % 32768);
});

t.test("adding a block sets its leaf bit through five new node pages", async (t) => {
	const { tree, used } = makeTree();
	kho_radix_add_page(tree, 0x1234, 0);
	t.equal(used(), 5);
	t.ok(kho_radix_test_page(tree, 0x1234, 0));
	t.notOk(kho_radix_test_page(tree, 0x1234, 1), "another order is another key");
	t.notOk(kho_radix_test_page(tree, 0x1235, 0));
	t.equal(ld64(tree.pm.page(0x100), 2 * 8), 0x101 * 4096, "root slot 2 (bit 52) points at the first node");
});

t.test("blocks that share a leaf share its path", async (t) => {
	const { tree, used } = makeTree();
	kho_radix_add_page(tree, 0x1234, 0);
	kho_radix_add_page(tree, 0x1235, 0);
	t.equal(used(), 5);
});

t.test("a failed node allocation frees the nodes made and unlinks them", async (t) => {
	const { tree, freed } = makeTree(3);
	t.equal(errnoOf(() => kho_radix_add_page(tree, 0x1234, 0)), ENOMEM);
	t.same(freed, [0x101, 0x102, 0x103]);
	t.equal(ld64(tree.pm.page(0x100), 2 * 8), 0, "the root points nowhere again");
});

t.test("deleting clears the bit and keeps the nodes", async (t) => {
	const { tree, freed } = makeTree();
	kho_radix_add_page(tree, 0x1234, 0);
	t.ok(kho_radix_del_page(tree, 0x1234, 0));
	t.notOk(kho_radix_test_page(tree, 0x1234, 0));
	t.same(freed, []);
	t.same(walk(tree), []);
});

t.test("deleting a block whose path does not exist reports it", async (t) => {
	const { tree } = makeTree();
	t.notOk(kho_radix_del_page(tree, 0x1234, 3));
});

t.test("a walk gives every block, highest order first, then by address", async (t) => {
	const { tree } = makeTree();
	for (const [pfn, order] of [[0x3000, 0], [0x1000, 0], [0x2000, 9], [0x2400, 10]] as const) kho_radix_add_page(tree, pfn, order);
	t.same(walk(tree), [[0x2400, 10], [0x2000, 9], [0x1000, 0], [0x3000, 0]]);
});

t.test("a walk refuses a child pointer that is not a page in memory", async (t) => {
	const { tree } = makeTree();
	kho_radix_add_page(tree, 0x1234, 0);
	st64(tree.pm.page(0x101), 0, 0x123);
	t.throws(() => walk(tree), /not a page in memory/);
	st64(tree.pm.page(0x101), 0, 128 * MiB);
	t.throws(() => walk(tree), /not a page in memory/);
});

t.test("a walk refuses a node reached twice", async (t) => {
	const { tree } = makeTree();
	kho_radix_add_page(tree, 0x1234, 0);
	st64(tree.pm.page(0x100), 3 * 8, ld64(tree.pm.page(0x100), 2 * 8));
	t.throws(() => walk(tree), /reached twice/);
	try {
		walk(tree);
	} catch (e) {
		t.ok(e instanceof KhoRadixCorrupt, "the walk's own error type");
	}
});

t.test("a walk refuses a block past the end of memory", async (t) => {
	const { tree } = makeTree();
	kho_radix_add_page(tree, 0x40000, 0);
	t.throws(() => walk(tree), /past the end of memory/);
});
