import t from "tap";
import {
	FDT_ERR_BADOFFSET,
	FDT_ERR_BADVALUE,
	FDT_ERR_NOTFOUND,
	cpu_to_le32,
	cpu_to_le64,
	fdt_begin_node,
	fdt_create,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_getprop_le32,
	fdt_getprop_le64,
	fdt_getprop_u32,
	fdt_getprop_u64,
	fdt_node_check_compatible,
	fdt_node_offset_by_compatible,
	fdt_path_offset,
	fdt_property,
	fdt_property_string,
	fdt_property_u32,
	fdt_property_u64,
	fdt_stringlist_contains,
	fdt_stringlist_count,
	fdt_stringlist_get,
	fdt_stringlist_search,
	fdt_totalsize,
} from "./libfdt.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** / { compatible = "a,b", "kho-v1"; bad = "x\0yz" (no final NUL); a { compatible = "kho-v1"; ... }; b { compatible = "kho-v1" without its NUL }; c { }; } */
function sample(): Uint8Array {
	const b = new Uint8Array(1024);
	const r = [
		fdt_create(b, 1024),
		fdt_finish_reservemap(b),
		fdt_begin_node(b, ""),
		fdt_property(b, "compatible", enc("a,b\0kho-v1\0")),
		fdt_property(b, "bad", enc("x\0yz")),
		fdt_begin_node(b, "a"),
		fdt_property_string(b, "compatible", "kho-v1"),
		fdt_property_u32(b, "be32", 0x11223344),
		fdt_property_u64(b, "be64", 0x1122334455667788n),
		fdt_property(b, "le32", cpu_to_le32(0x11223344)),
		fdt_property(b, "le64", cpu_to_le64(0x1122334455667788n)),
		fdt_end_node(b),
		fdt_begin_node(b, "b"),
		fdt_property(b, "compatible", enc("kho-v1")),
		fdt_end_node(b),
		fdt_begin_node(b, "c"),
		fdt_end_node(b),
		fdt_end_node(b),
		fdt_finish(b),
	];
	if (r.some((e) => e !== 0)) throw new Error(String(r));
	return b.slice(0, fdt_totalsize(b));
}

t.test("fdt_stringlist_contains matches whole strings only", async (t) => {
	const list = enc("a,b\0kho-v1\0");
	t.equal(fdt_stringlist_contains(list, list.length, "kho-v1"), 1);
	t.equal(fdt_stringlist_contains(list, list.length, "a,b"), 1);
	t.equal(fdt_stringlist_contains(list, list.length, "kho"), 0, "a prefix is not a match");
	t.equal(fdt_stringlist_contains(list, list.length, "v1"), 0, "nor a suffix");
	t.equal(fdt_stringlist_contains(list, 4, "kho-v1"), 0, "only listlen bytes are searched");
	t.equal(fdt_stringlist_contains(enc("ab"), 2, "zz"), 0, "malformed: no NUL");
});

t.test("fdt_node_check_compatible: 0 when listed, 1 when not, the getprop error otherwise", async (t) => {
	const b = sample();
	t.equal(fdt_node_check_compatible(b, 0, "kho-v1"), 0);
	t.equal(fdt_node_check_compatible(b, 0, "kho-v2"), 1);
	t.equal(fdt_node_check_compatible(b, fdt_path_offset(b, "/c"), "kho-v1"), -FDT_ERR_NOTFOUND);
	t.equal(fdt_node_check_compatible(b, 3, "kho-v1"), -FDT_ERR_BADOFFSET);
});

t.test("a compatible without its final NUL still matches, as C reads the padding byte after it", async (t) => {
	const b = sample();
	t.equal(fdt_node_check_compatible(b, fdt_path_offset(b, "/b"), "kho-v1"), 0);
	t.equal(fdt_node_check_compatible(b, fdt_path_offset(b, "/b"), "kho-v"), 1);
});

t.test("fdt_node_offset_by_compatible iterates over matching nodes", async (t) => {
	const b = sample();
	const found: number[] = [];
	for (let off = fdt_node_offset_by_compatible(b, -1, "kho-v1"); off >= 0; off = fdt_node_offset_by_compatible(b, off, "kho-v1")) found.push(off);
	t.same(found, [0, fdt_path_offset(b, "/a"), fdt_path_offset(b, "/b")]);
	t.equal(fdt_node_offset_by_compatible(b, -1, "nope"), -FDT_ERR_NOTFOUND);
});

t.test("fdt_stringlist_count / search / get", async (t) => {
	const b = sample();
	const len = [0];
	t.equal(fdt_stringlist_count(b, 0, "compatible"), 2);
	t.equal(fdt_stringlist_search(b, 0, "compatible", "kho-v1"), 1);
	t.equal(fdt_stringlist_search(b, 0, "compatible", "kho"), -FDT_ERR_NOTFOUND);
	t.equal(fdt_stringlist_get(b, 0, "compatible", 1, len), "kho-v1");
	t.equal(len[0], 6);
	t.equal(fdt_stringlist_get(b, 0, "compatible", 2, len), null);
	t.equal(len[0], -FDT_ERR_NOTFOUND);
	t.equal(fdt_stringlist_count(b, 0, "missing"), -FDT_ERR_NOTFOUND);
	t.equal(fdt_stringlist_get(b, 0, "missing", 0, len), null);
	t.equal(len[0], -FDT_ERR_NOTFOUND);
});

t.test("a list whose last string lacks its NUL is BADVALUE once the walk reaches it", async (t) => {
	const b = sample();
	const len = [0];
	t.equal(fdt_stringlist_count(b, 0, "bad"), -FDT_ERR_BADVALUE);
	t.equal(fdt_stringlist_search(b, 0, "bad", "x"), 0, "found before the bad tail");
	t.equal(fdt_stringlist_search(b, 0, "bad", "yz"), -FDT_ERR_BADVALUE);
	t.equal(fdt_stringlist_get(b, 0, "bad", 0, len), "x");
	t.equal(fdt_stringlist_get(b, 0, "bad", 1, len), null);
	t.equal(len[0], -FDT_ERR_BADVALUE);
});

t.test("typed getters read big-endian and native little-endian values of the right size", async (t) => {
	const b = sample();
	const a = fdt_path_offset(b, "/a");
	const v32 = [0];
	const v64 = [0n];
	t.equal(fdt_getprop_u32(b, a, "be32", v32), 0);
	t.equal(v32[0], 0x11223344);
	t.equal(fdt_getprop_le32(b, a, "le32", v32), 0);
	t.equal(v32[0], 0x11223344);
	t.equal(fdt_getprop_u64(b, a, "be64", v64), 0);
	t.equal(v64[0], 0x1122334455667788n);
	t.equal(fdt_getprop_le64(b, a, "le64", v64), 0);
	t.equal(v64[0], 0x1122334455667788n);
	t.equal(fdt_getprop_le64(b, a, "be64", v64), 0);
	t.equal(v64[0], 0x8877665544332211n, "the other byte order reads swapped");
});

t.test("typed getters: BADVALUE for the wrong size, NOTFOUND when missing, and valp untouched", async (t) => {
	const b = sample();
	const a = fdt_path_offset(b, "/a");
	const v64 = [5n];
	t.equal(fdt_getprop_u64(b, a, "be32", v64), -FDT_ERR_BADVALUE);
	t.equal(fdt_getprop_le64(b, a, "nope", v64), -FDT_ERR_NOTFOUND);
	t.equal(fdt_getprop_u32(b, a, "be64", [0]), -FDT_ERR_BADVALUE);
	t.equal(fdt_getprop_le32(b, 3, "le32", [0]), -FDT_ERR_BADOFFSET);
	t.equal(v64[0], 5n);
});
