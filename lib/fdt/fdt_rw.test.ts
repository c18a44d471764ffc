import t from "tap";
import { walkFdt } from "./fdt-oracle.ts";
import {
	FDT_ERR_BADLAYOUT,
	FDT_ERR_BADOFFSET,
	FDT_ERR_BADVALUE,
	FDT_ERR_BADVERSION,
	FDT_ERR_EXISTS,
	FDT_ERR_NOSPACE,
	FDT_ERR_NOTFOUND,
	fdt_add_subnode,
	fdt_begin_node,
	fdt_check_header,
	fdt_create,
	fdt_create_empty_tree,
	fdt_del_node,
	fdt_delprop,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_first_property_offset,
	fdt_first_subnode,
	fdt_get_name,
	fdt_getprop,
	fdt_getprop_by_offset,
	fdt_next_property_offset,
	fdt_next_subnode,
	fdt_node_check_compatible,
	fdt_off_dt_strings,
	fdt_off_dt_struct,
	fdt_off_mem_rsvmap,
	fdt_open_into,
	fdt_pack,
	fdt_path_offset,
	fdt_property_string,
	fdt_property_u32,
	fdt_set_off_dt_strings,
	fdt_set_off_dt_struct,
	fdt_set_totalsize,
	fdt_set_version,
	fdt_setprop,
	fdt_setprop_cell,
	fdt_setprop_placeholder,
	fdt_setprop_string,
	fdt_setprop_u32,
	fdt_setprop_u64,
	fdt_size_dt_strings,
	fdt_size_dt_struct,
	fdt_totalsize,
	fdt_version,
} from "./libfdt.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function propNames(fdt: Uint8Array, node: number): string[] {
	const names: string[] = [];
	for (let p = fdt_first_property_offset(fdt, node); p >= 0; p = fdt_next_property_offset(fdt, p)) {
		const n: (string | null)[] = [null];
		fdt_getprop_by_offset(fdt, p, n);
		names.push(n[0]!);
	}
	return names;
}

function childNames(fdt: Uint8Array, node: number): string[] {
	const names: string[] = [];
	for (let c = fdt_first_subnode(fdt, node); c >= 0; c = fdt_next_subnode(fdt, c)) names.push(fdt_get_name(fdt, c)!);
	return names;
}

/** / { a = <1>; b = "x"; n1 { }; n2 { k = <2>; }; } opened into `size` bytes. */
function editable(size = 1024): Uint8Array {
	const b = new Uint8Array(size);
	const r = [
		fdt_create(b, size),
		fdt_finish_reservemap(b),
		fdt_begin_node(b, ""),
		fdt_property_u32(b, "a", 1),
		fdt_property_string(b, "b", "x"),
		fdt_begin_node(b, "n1"),
		fdt_end_node(b),
		fdt_begin_node(b, "n2"),
		fdt_property_u32(b, "k", 2),
		fdt_end_node(b),
		fdt_end_node(b),
		fdt_finish(b),
		fdt_open_into(b, b, size),
	];
	if (r.some((e) => e !== 0)) throw new Error(String(r));
	return b;
}

t.test("fdt_create_empty_tree: a root node only, totalsize the whole buffer (LUO's 1 MiB FDT)", async (t) => {
	const b = new Uint8Array(1 << 20);
	t.equal(fdt_create_empty_tree(b, 1 << 20), 0);
	t.equal(fdt_check_header(b), 0);
	t.equal(fdt_totalsize(b), 1 << 20);
	t.equal(fdt_version(b), 17);
	t.equal(fdt_size_dt_struct(b), 16, "BEGIN_NODE \"\", END_NODE, END");
	t.equal(fdt_setprop_string(b, 0, "compatible", "luo-v1"), 0);
	t.equal(fdt_node_check_compatible(b, 0, "luo-v1"), 0);
	t.equal(fdt_create_empty_tree(new Uint8Array(64), 64), -FDT_ERR_NOSPACE);
});

t.test("fdt_setprop adds a missing property first in its node, replaces an existing one in place", async (t) => {
	const b = editable();
	t.equal(fdt_setprop(b, 0, "new", enc("v\0")), 0);
	t.same(propNames(b, 0), ["new", "a", "b"]);
	t.equal(fdt_setprop(b, 0, "a", new Uint8Array(10).fill(7)), 0, "grow");
	t.same(propNames(b, 0), ["new", "a", "b"]);
	t.same(fdt_getprop(b, 0, "a"), new Uint8Array(10).fill(7));
	t.equal(fdt_setprop(b, 0, "a", new Uint8Array([9])), 0, "shrink");
	t.same(fdt_getprop(b, 0, "a"), new Uint8Array([9]));
	t.same(fdt_getprop(b, 0, "b"), enc("x\0"), "the neighbour survives");
	t.equal(fdt_getprop(b, fdt_path_offset(b, "/n2"), "k")?.length, 4, "offsets after the edit moved; a fresh lookup finds them");
	t.equal(fdt_check_header(b), 0);
});

t.test("fdt_setprop helpers encode like their sequential-write twins", async (t) => {
	const b = editable();
	const n2 = fdt_path_offset(b, "/n2");
	t.equal(fdt_setprop_u32(b, n2, "u32", 0x01020304), 0);
	t.equal(fdt_setprop_cell(b, fdt_path_offset(b, "/n2"), "cell", 5), 0);
	t.equal(fdt_setprop_u64(b, fdt_path_offset(b, "/n2"), "u64", 0x0102030405060708n), 0);
	t.equal(fdt_setprop_string(b, fdt_path_offset(b, "/n2"), "s", "luo-v1"), 0);
	const n = fdt_path_offset(b, "/n2");
	t.same(fdt_getprop(b, n, "u32"), new Uint8Array([1, 2, 3, 4]));
	t.same(fdt_getprop(b, n, "cell"), new Uint8Array([0, 0, 0, 5]));
	t.same(fdt_getprop(b, n, "u64"), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
	t.same(fdt_getprop(b, n, "s"), enc("luo-v1\0"));
});

t.test("fdt_setprop_placeholder hands out the value to fill in", async (t) => {
	const b = editable();
	const data: (Uint8Array | null)[] = [null];
	t.equal(fdt_setprop_placeholder(b, 0, "ph", 3, data), 0);
	data[0]!.set([1, 2, 3]);
	t.same(fdt_getprop(b, 0, "ph"), new Uint8Array([1, 2, 3]));
});

t.test("fdt_setprop errors: BADOFFSET off a node, BADVALUE for a bad length, NOSPACE leaves the blob unchanged", async (t) => {
	const b = editable(200);
	t.equal(fdt_setprop(b, 4, "x", new Uint8Array(1)), -FDT_ERR_BADOFFSET);
	t.equal(fdt_setprop(b, fdt_first_property_offset(b, 0), "x", new Uint8Array(1)), -FDT_ERR_BADOFFSET);
	t.equal(fdt_setprop(b, 0, "x", new Uint8Array(1), 2), -FDT_ERR_BADVALUE);
	t.equal(fdt_setprop(b, 0, "x", new Uint8Array(1), -1), -FDT_ERR_BADVALUE);
	const before = b.slice();
	t.equal(fdt_setprop(b, 0, "a-new-name", new Uint8Array(100)), -FDT_ERR_NOSPACE);
	t.same(b.subarray(0, fdt_off_dt_strings(b) + fdt_size_dt_strings(b)), before.subarray(0, fdt_off_dt_strings(before) + fdt_size_dt_strings(before)), "the added name is rolled back");
	t.equal(fdt_size_dt_strings(b), fdt_size_dt_strings(before));
	t.equal(fdt_setprop(b, 0, "a", new Uint8Array(100)), -FDT_ERR_NOSPACE, "growing an existing one");
	t.same(fdt_getprop(b, 0, "a"), new Uint8Array([0, 0, 0, 1]));
});

t.test("fdt_delprop removes a property; NOTFOUND when it is not there", async (t) => {
	const b = editable();
	t.equal(fdt_delprop(b, 0, "a"), 0);
	t.same(propNames(b, 0), ["b"]);
	t.equal(fdt_delprop(b, 0, "a"), -FDT_ERR_NOTFOUND);
	t.equal(fdt_delprop(b, 4, "b"), -FDT_ERR_BADOFFSET);
});

t.test("fdt_add_subnode puts the node after the parent's properties, before its other children", async (t) => {
	const b = editable();
	const off = fdt_add_subnode(b, 0, "LUO");
	t.ok(off > 0);
	t.equal(fdt_get_name(b, off), "LUO");
	t.same(childNames(b, 0), ["LUO", "n1", "n2"]);
	t.same(propNames(b, 0), ["a", "b"]);
	t.equal(fdt_setprop_string(b, off, "compatible", "luo-v1"), 0, "the returned offset is usable");
	t.equal(fdt_node_check_compatible(b, fdt_path_offset(b, "/LUO"), "luo-v1"), 0);
});

t.test("fdt_add_subnode: EXISTS for a taken name, also when only the unit address differs", async (t) => {
	const b = editable();
	t.equal(fdt_add_subnode(b, 0, "n1"), -FDT_ERR_EXISTS);
	t.ok(fdt_add_subnode(b, 0, "cpu@0") > 0);
	t.equal(fdt_add_subnode(b, 0, "cpu"), -FDT_ERR_EXISTS, '"cpu" matches "cpu@0"');
	t.ok(fdt_add_subnode(b, 0, "cpu@1") > 0);
	t.equal(fdt_add_subnode(b, 4, "x"), -FDT_ERR_BADOFFSET);
	const full = editable();
	fdt_pack(full);
	t.equal(fdt_add_subnode(full, 0, "n3"), -FDT_ERR_NOSPACE, "a packed blob has no room");
});

t.test("fdt_del_node removes the node and its subtree", async (t) => {
	const b = editable();
	fdt_add_subnode(b, fdt_path_offset(b, "/n2"), "child");
	t.equal(fdt_del_node(b, fdt_path_offset(b, "/n2")), 0);
	t.same(childNames(b, 0), ["n1"]);
	t.equal(fdt_path_offset(b, "/n2/child"), -FDT_ERR_NOTFOUND);
	t.equal(fdt_del_node(b, 4), -FDT_ERR_BADOFFSET);
	t.equal(fdt_check_header(b), 0);
});

t.test("fdt_open_into grows a blob into a larger buffer, or refuses one too small", async (t) => {
	const b = new Uint8Array(256);
	fdt_create(b, 256);
	fdt_finish_reservemap(b);
	fdt_begin_node(b, "");
	fdt_property_u32(b, "a", 1);
	fdt_end_node(b);
	fdt_finish(b);
	const compact = b.slice(0, fdt_totalsize(b));
	const big = new Uint8Array(4096);
	t.equal(fdt_open_into(compact, big, 4096), 0);
	t.equal(fdt_totalsize(big), 4096);
	t.equal(walkFdt(big), walkFdt(compact));
	t.equal(fdt_open_into(compact, new Uint8Array(4096), compact.length - 1), -FDT_ERR_NOSPACE);
	t.equal(fdt_open_into(compact, new Uint8Array(100), 4096), -FDT_ERR_NOSPACE, "bufsize beyond the array");
	t.equal(fdt_open_into(new Uint8Array(64), big, 4096), -9, "BADMAGIC");
});

/** A blob with its strings block before its structure block, as some writers lay it out. */
function misordered(): Uint8Array {
	const b = editable(1024);
	fdt_pack(b);
	const size = fdt_totalsize(b);
	const out = new Uint8Array(size + 4);
	const rsv = fdt_off_mem_rsvmap(b);
	const structOff = fdt_off_dt_struct(b);
	const structSize = fdt_size_dt_struct(b);
	const strOff = fdt_off_dt_strings(b);
	const strSize = fdt_size_dt_strings(b);
	out.set(b.subarray(0, structOff));
	out.set(b.subarray(strOff, strOff + strSize), structOff);
	const newStruct = structOff + ((strSize + 3) & ~3);
	out.set(b.subarray(structOff, structOff + structSize), newStruct);
	fdt_set_off_dt_strings(out, structOff);
	fdt_set_off_dt_struct(out, newStruct);
	fdt_set_totalsize(out, newStruct + structSize);
	if (rsv !== 40) throw new Error("fdt_pack puts the reservation map right after the header");
	return out.slice(0, newStruct + structSize);
}

t.test("a misordered blob reads fine, cannot be edited (BADLAYOUT), and fdt_open_into reorders it", async (t) => {
	const m = misordered();
	t.equal(fdt_check_header(m), 0);
	t.equal(fdt_getprop(m, fdt_path_offset(m, "/n2"), "k")?.length, 4);
	t.equal(fdt_setprop_u32(m, 0, "a", 5), -FDT_ERR_BADLAYOUT);
	const big = new Uint8Array(1024);
	t.equal(fdt_open_into(m, big, 1024), 0);
	t.ok(fdt_off_dt_strings(big) > fdt_off_dt_struct(big), "strings now follow the structure");
	t.equal(walkFdt(big), walkFdt(m));
	t.equal(fdt_setprop_u32(big, 0, "a", 5), 0);
});

t.test("fdt_open_into reorders inside the same memory when the copy would overlap the source", async (t) => {
	const m = misordered();
	const mem = new Uint8Array(2048);
	mem.set(m);
	const expected = walkFdt(m);
	t.equal(fdt_open_into(mem.subarray(0, m.length), mem, 2048), 0);
	t.equal(walkFdt(mem), expected);
	t.equal(fdt_open_into(m, m, m.length), -FDT_ERR_NOSPACE, "no room after the blob for the reordered copy");
});

t.test("read-write functions refuse a version 16 blob until fdt_open_into upgrades it", async (t) => {
	const b = editable();
	fdt_set_version(b, 16);
	t.equal(fdt_setprop_u32(b, 0, "a", 5), -FDT_ERR_BADVERSION);
	t.equal(fdt_add_subnode(b, 0, "x"), -FDT_ERR_BADVERSION);
	const big = new Uint8Array(2048);
	t.equal(fdt_open_into(b, big, 2048), 0);
	t.equal(fdt_version(big), 17);
	t.equal(fdt_setprop_u32(big, 0, "a", 5), 0);
});

t.test("fdt_pack shrinks totalsize to the data", async (t) => {
	const b = editable(4096);
	const expected = walkFdt(b);
	t.equal(fdt_pack(b), 0);
	t.equal(fdt_totalsize(b), fdt_off_dt_strings(b) + fdt_size_dt_strings(b));
	t.ok(fdt_totalsize(b) < 200);
	t.equal(fdt_off_mem_rsvmap(b), 40, "blocks start right after the header");
	t.equal(walkFdt(b), expected);
	t.equal(fdt_setprop_u32(b, 0, "a", 2), 0, "same-size edits still fit");
	t.equal(fdt_setprop_u32(b, 0, "new", 2), -FDT_ERR_NOSPACE, "growing edits do not");
});
