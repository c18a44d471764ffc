import t from "tap";
import {
	FDT_BEGIN_NODE,
	FDT_END,
	FDT_END_NODE,
	FDT_ERR_ALIGNMENT,
	FDT_ERR_BADMAGIC,
	FDT_ERR_BADOFFSET,
	FDT_ERR_BADSTATE,
	FDT_ERR_BADSTRUCTURE,
	FDT_ERR_BADVERSION,
	FDT_ERR_NOSPACE,
	FDT_ERR_NOTFOUND,
	FDT_ERR_TRUNCATED,
	FDT_NOP,
	FDT_PROP,
	fdt32_st,
	fdt_begin_node,
	fdt_check_header,
	fdt_create,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_first_subnode,
	fdt_get_name,
	fdt_move,
	fdt_next_node,
	fdt_next_subnode,
	fdt_next_tag,
	fdt_off_dt_struct,
	fdt_offset_ptr,
	fdt_path_offset,
	fdt_property_string,
	fdt_property_u32,
	fdt_set_last_comp_version,
	fdt_set_off_dt_strings,
	fdt_set_off_dt_struct,
	fdt_set_off_mem_rsvmap,
	fdt_set_size_dt_strings,
	fdt_set_size_dt_struct,
	fdt_set_totalsize,
	fdt_set_version,
	fdt_size_dt_struct,
	fdt_totalsize,
} from "./libfdt.ts";

/** / { compatible = "t"; a { x = <1>; b { }; }; c { }; }; at struct offsets 0, 8, 24, 32, 48, 64. */
function tree(): Uint8Array {
	const b = new Uint8Array(512);
	const r = [
		fdt_create(b, 512),
		fdt_finish_reservemap(b),
		fdt_begin_node(b, ""),
		fdt_property_string(b, "compatible", "t"),
		fdt_begin_node(b, "a"),
		fdt_property_u32(b, "x", 1),
		fdt_begin_node(b, "b"),
		fdt_end_node(b),
		fdt_end_node(b),
		fdt_begin_node(b, "c"),
		fdt_end_node(b),
		fdt_end_node(b),
		fdt_finish(b),
	];
	if (r.some((e) => e !== 0)) throw new Error(String(r));
	return b.slice(0, fdt_totalsize(b));
}

function withHeader(edit: (b: Uint8Array) => void): Uint8Array {
	const b = tree();
	edit(b);
	return b;
}

t.test("fdt_check_header accepts a finished blob", async (t) => {
	t.equal(fdt_check_header(tree()), 0);
});

t.test("fdt_check_header: BADMAGIC for anything but FDT_MAGIC, an unfinished blob included", async (t) => {
	t.equal(fdt_check_header(new Uint8Array(64)), -FDT_ERR_BADMAGIC);
	t.equal(fdt_check_header(new Uint8Array(0)), -FDT_ERR_BADMAGIC);
	const sw = new Uint8Array(128);
	fdt_create(sw, 128);
	t.equal(fdt_check_header(sw), -FDT_ERR_BADMAGIC);
});

t.test("fdt_check_header: BADVERSION below 2, above 17-compatible, or version < last_comp_version", async (t) => {
	t.equal(fdt_check_header(withHeader((b) => fdt_set_version(b, 1))), -FDT_ERR_BADVERSION);
	t.equal(fdt_check_header(withHeader((b) => fdt_set_last_comp_version(b, 18))), -FDT_ERR_BADVERSION);
	t.equal(fdt_check_header(withHeader((b) => { fdt_set_version(b, 16); fdt_set_last_comp_version(b, 17); })), -FDT_ERR_BADVERSION);
	t.equal(fdt_check_header(withHeader((b) => fdt_set_version(b, 99))), 0, "a newer version that stays 16-compatible is fine");
});

t.test("fdt_check_header: TRUNCATED when totalsize or a block does not fit", async (t) => {
	t.equal(fdt_check_header(withHeader((b) => fdt_set_totalsize(b, 39))), -FDT_ERR_TRUNCATED, "smaller than the header");
	t.equal(fdt_check_header(withHeader((b) => fdt_set_totalsize(b, 0x80000000))), -FDT_ERR_TRUNCATED, "beyond INT_MAX");
	const b = tree();
	t.equal(fdt_check_header(b.subarray(0, b.length - 1)), -FDT_ERR_TRUNCATED, "the array ends before totalsize");
	t.equal(fdt_check_header(withHeader((b) => fdt_set_off_mem_rsvmap(b, 0x1000))), -FDT_ERR_TRUNCATED);
	t.equal(fdt_check_header(withHeader((b) => fdt_set_off_mem_rsvmap(b, 32))), -FDT_ERR_TRUNCATED, "inside the header");
	t.equal(fdt_check_header(withHeader((b) => fdt_set_size_dt_struct(b, 0x1000))), -FDT_ERR_TRUNCATED);
	t.equal(fdt_check_header(withHeader((b) => fdt_set_size_dt_strings(b, 0x1000))), -FDT_ERR_TRUNCATED);
	t.equal(fdt_check_header(withHeader((b) => fdt_set_off_dt_strings(b, 0xffffffff))), -FDT_ERR_TRUNCATED);
});

t.test("fdt_check_header: ALIGNMENT for a misaligned reservation map or structure block", async (t) => {
	t.equal(fdt_check_header(withHeader((b) => fdt_set_off_mem_rsvmap(b, 52))), -FDT_ERR_ALIGNMENT);
	t.equal(fdt_check_header(withHeader((b) => fdt_set_off_dt_struct(b, fdt_off_dt_struct(b) + 2))), -FDT_ERR_ALIGNMENT);
});

t.test("read functions refuse a blob whose address (byteOffset) is not 8-aligned", async (t) => {
	const b = tree();
	const mem = new Uint8Array(b.length + 8);
	mem.set(b, 4);
	t.equal(fdt_path_offset(mem.subarray(4), "/a"), -FDT_ERR_ALIGNMENT);
	mem.copyWithin(0, 4);
	t.equal(fdt_path_offset(mem, "/a"), 24);
	const sw = new Uint8Array(128);
	fdt_create(sw, 128);
	t.equal(fdt_path_offset(sw, "/"), -FDT_ERR_BADSTATE, "an empty sequential-write buffer is not readable yet");
});

t.test("fdt_next_tag steps token by token and reports the next offset", async (t) => {
	const b = tree();
	const seen: [number, number][] = [];
	const next = [0];
	for (let off = 0, tag = 0; tag !== FDT_END; off = next[0]!) {
		tag = fdt_next_tag(b, off, next);
		seen.push([tag, off]);
	}
	t.same(seen, [
		[FDT_BEGIN_NODE, 0], [FDT_PROP, 8], [FDT_BEGIN_NODE, 24], [FDT_PROP, 32], [FDT_BEGIN_NODE, 48], [FDT_END_NODE, 56],
		[FDT_END_NODE, 60], [FDT_BEGIN_NODE, 64], [FDT_END_NODE, 72], [FDT_END_NODE, 76], [FDT_END, 80],
	]);
	t.equal(next[0], 84);
	t.equal(fdt_size_dt_struct(b), 84);
});

t.test("fdt_next_tag: past the block is END/TRUNCATED, an unknown token END/BADSTRUCTURE", async (t) => {
	const b = tree();
	const next = [0];
	t.equal(fdt_next_tag(b, 84, next), FDT_END);
	t.equal(next[0], -FDT_ERR_TRUNCATED);
	t.equal(fdt_next_tag(b, -4, next), FDT_END);
	t.equal(next[0], -FDT_ERR_TRUNCATED);
	fdt32_st(b, fdt_off_dt_struct(b) + 56, 7);
	t.equal(fdt_next_tag(b, 56, next), FDT_END);
	t.equal(next[0], -FDT_ERR_BADSTRUCTURE);
	fdt32_st(b, fdt_off_dt_struct(b) + 56, FDT_NOP);
	t.equal(fdt_next_tag(b, 56, next), FDT_NOP);
	t.equal(next[0], 60);
});

t.test("fdt_next_tag: a property whose length runs past the block is cut short", async (t) => {
	const b = tree();
	fdt32_st(b, fdt_off_dt_struct(b) + 8 + 4, 1000);
	const next = [0];
	t.equal(fdt_next_tag(b, 8, next), FDT_END);
	t.equal(next[0], -FDT_ERR_BADSTRUCTURE);
	fdt32_st(b, fdt_off_dt_struct(b) + 8 + 4, 0x7ffffffe);
	t.equal(fdt_next_tag(b, 8, next), FDT_END, "length + offset >= INT_MAX");
});

t.test("fdt_offset_ptr bounds a range by the structure block", async (t) => {
	const b = tree();
	const base = fdt_off_dt_struct(b);
	t.equal(fdt_offset_ptr(b, 0, 4), base);
	t.equal(fdt_offset_ptr(b, 80, 4), base + 80);
	t.equal(fdt_offset_ptr(b, 80, 5), -1);
	t.equal(fdt_offset_ptr(b, -1, 1), -1);
});

t.test("fdt_next_node walks in document order and tracks depth", async (t) => {
	const b = tree();
	const depth = [0];
	const seen: string[] = [];
	let off = 0;
	while (off >= 0 && depth[0]! >= 0) {
		seen.push(`${depth[0]}:${fdt_get_name(b, off)}@${off}`);
		off = fdt_next_node(b, off, depth);
	}
	t.same(seen, ["0:@0", "1:a@24", "2:b@48", "1:c@64"]);
	t.equal(depth[0], -1, "left the root");
	t.equal(off, 80, "the offset just past the root's END_NODE");
	t.equal(fdt_next_node(b, 64), -FDT_ERR_NOTFOUND, "without depth: the end of the tree");
	t.equal(fdt_next_node(b, -1), 0, "-1 starts at the root");
	t.equal(fdt_next_node(b, 8), -FDT_ERR_BADOFFSET, "a property is not a node");
	t.equal(fdt_next_node(b, 2), -FDT_ERR_BADOFFSET, "misaligned");
});

t.test("fdt_first_subnode / fdt_next_subnode iterate children only", async (t) => {
	const b = tree();
	t.equal(fdt_first_subnode(b, 0), 24);
	t.equal(fdt_next_subnode(b, 24), 64, "skips a's child b");
	t.equal(fdt_next_subnode(b, 64), -FDT_ERR_NOTFOUND);
	t.equal(fdt_first_subnode(b, 64), -FDT_ERR_NOTFOUND, "c has no children");
	t.equal(fdt_first_subnode(b, 48), -FDT_ERR_NOTFOUND);
	t.equal(fdt_first_subnode(b, 8), -FDT_ERR_NOTFOUND, "error folded into NOTFOUND as in C");
});

t.test("fdt_move copies the blob and refuses a buffer that is too small", async (t) => {
	const b = tree();
	const dst = new Uint8Array(200);
	t.equal(fdt_move(b, dst, 200), 0);
	t.same(dst.subarray(0, b.length), b);
	t.equal(fdt_move(b, new Uint8Array(200), b.length - 1), -FDT_ERR_NOSPACE);
	t.equal(fdt_move(b, new Uint8Array(10), 200), -FDT_ERR_NOSPACE, "bufsize beyond the array");
	t.equal(fdt_move(b, dst, -1), -FDT_ERR_NOSPACE);
	t.equal(fdt_move(new Uint8Array(64), dst, 200), -FDT_ERR_BADMAGIC);
});
