import t from "tap";
import {
	FDT_ERR_BADOFFSET,
	FDT_ERR_BADPATH,
	FDT_ERR_BADPHANDLE,
	FDT_ERR_BADSTRUCTURE,
	FDT_ERR_NOTFOUND,
	FDT_ERR_TRUNCATED,
	fdt32_st,
	fdt_add_reservemap_entry,
	fdt_begin_node,
	fdt_create,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_first_property_offset,
	fdt_get_alias,
	fdt_get_mem_rsv,
	fdt_get_name,
	fdt_get_phandle,
	fdt_get_string,
	fdt_getprop,
	fdt_getprop_by_offset,
	fdt_getprop_namelen,
	fdt_next_property_offset,
	fdt_node_depth,
	fdt_node_offset_by_phandle,
	fdt_node_offset_by_prop_value,
	fdt_num_mem_rsv,
	fdt_off_dt_strings,
	fdt_off_mem_rsvmap,
	fdt_parent_offset,
	fdt_path_offset,
	fdt_path_offset_namelen,
	fdt_property,
	fdt_property_string,
	fdt_property_u32,
	fdt_size_dt_strings,
	fdt_string,
	fdt_subnode_offset,
	fdt_subnode_offset_namelen,
	fdt_supernode_atdepth_offset,
	fdt_totalsize,
} from "./libfdt.ts";

type Build = (b: Uint8Array) => number;
const node = (name: string, ...body: Build[]): Build[] => [(b) => fdt_begin_node(b, name), ...body, fdt_end_node];

function build(parts: Build[], rsv: [bigint, bigint][] = []): Uint8Array {
	const b = new Uint8Array(2048);
	const r = [fdt_create(b, 2048), ...rsv.map(([a, s]) => fdt_add_reservemap_entry(b, a, s)), fdt_finish_reservemap(b), ...parts.map((p) => p(b)), fdt_finish(b)];
	if (r.some((e) => e !== 0)) throw new Error(String(r));
	return b.slice(0, fdt_totalsize(b));
}

const prop = (name: string, s: string): Build => (b) => fdt_property_string(b, name, s);
const u32 = (name: string, v: number): Build => (b) => fdt_property_u32(b, name, v);

/** The test tree: cpus with unit addresses, aliases, phandles. */
function sample(): Uint8Array {
	return build(
		node(
			"",
			prop("compatible", "luosim"),
			prop("model", "m"),
			...node("aliases", prop("luo", "/LUO"), prop("bad", "LUO"), prop("cpu1", "/cpus/cpu@1")),
			...node("cpus", ...node("cpu@0", u32("reg", 0), u32("phandle", 1)), ...node("cpu@1", u32("reg", 1), u32("linux,phandle", 2)), ...node("cpu", u32("reg", 9))),
			...node("LUO", prop("compatible", "luo-v1"), ...node("subsystems")),
		),
		[[0x1000n, 0x2000n], [0x8000n, 0x10n]],
	);
}

t.test("fdt_get_name: the root is empty, names keep their unit address", async (t) => {
	const b = sample();
	const len = [0];
	t.equal(fdt_get_name(b, 0, len), "");
	t.equal(len[0], 0);
	t.equal(fdt_get_name(b, fdt_path_offset(b, "/cpus/cpu@1"), len), "cpu@1");
	t.equal(len[0], 5);
	t.equal(fdt_get_name(b, fdt_first_property_offset(b, 0), len), null, "a property offset");
	t.equal(len[0], -FDT_ERR_BADOFFSET);
	t.equal(fdt_get_name(b, 1 << 20, len), null);
	t.equal(len[0], -FDT_ERR_BADOFFSET);
});

t.test("fdt_path_offset resolves absolute paths and tolerates repeated slashes", async (t) => {
	const b = sample();
	t.equal(fdt_path_offset(b, "/"), 0);
	const sub = fdt_path_offset(b, "/LUO/subsystems");
	t.ok(sub > 0);
	t.equal(fdt_path_offset(b, "//LUO///subsystems/"), sub);
	t.equal(fdt_get_name(b, sub), "subsystems");
	t.equal(fdt_path_offset(b, "/LUO/nope"), -FDT_ERR_NOTFOUND);
	t.equal(fdt_path_offset(b, ""), -FDT_ERR_BADPATH);
	t.equal(fdt_path_offset_namelen(b, "/LUO/subsystems", 4), fdt_path_offset(b, "/LUO"));
	t.equal(fdt_path_offset_namelen(b, "/LUO", 0), -FDT_ERR_BADPATH);
});

t.test("fdt_path_offset resolves aliases that name absolute paths", async (t) => {
	const b = sample();
	t.equal(fdt_path_offset(b, "luo/subsystems"), fdt_path_offset(b, "/LUO/subsystems"));
	t.equal(fdt_path_offset(b, "cpu1"), fdt_path_offset(b, "/cpus/cpu@1"));
	t.equal(fdt_get_alias(b, "luo"), "/LUO");
	t.equal(fdt_path_offset(b, "bad"), -FDT_ERR_BADPATH, "an alias must be an absolute path");
	t.equal(fdt_get_alias(b, "bad"), null);
	t.equal(fdt_path_offset(b, "nope/x"), -FDT_ERR_BADPATH);
});

t.test("subnode names match exactly, or without the unit address when the query has none", async (t) => {
	const b = sample();
	const cpus = fdt_path_offset(b, "/cpus");
	t.equal(fdt_subnode_offset(b, cpus, "cpu@1"), fdt_path_offset(b, "/cpus/cpu@1"));
	t.equal(fdt_get_name(b, fdt_subnode_offset(b, cpus, "cpu")), "cpu@0", "the first node named cpu or cpu@...");
	t.equal(fdt_subnode_offset(b, cpus, "cpu@"), -FDT_ERR_NOTFOUND);
	t.equal(fdt_subnode_offset(b, cpus, "cp"), -FDT_ERR_NOTFOUND);
	t.equal(fdt_subnode_offset(b, cpus, "cpu@2"), -FDT_ERR_NOTFOUND);
	t.equal(fdt_subnode_offset_namelen(b, cpus, "cpu@1xyz", 5), fdt_path_offset(b, "/cpus/cpu@1"));
	t.equal(fdt_subnode_offset(b, 0, "subsystems"), -FDT_ERR_NOTFOUND, "grandchildren do not count");
	t.equal(fdt_subnode_offset(b, 3, "x"), -FDT_ERR_BADOFFSET);
});

t.test("fdt_getprop returns a view of the value and its length", async (t) => {
	const b = sample();
	const len = [0];
	const v = fdt_getprop(b, 0, "compatible", len);
	t.same(v, new TextEncoder().encode("luosim\0"));
	t.equal(len[0], 7);
	v![0] = 0x4c;
	t.same(fdt_getprop(b, 0, "compatible"), new TextEncoder().encode("Luosim\0"), "writes go to the blob (fdt_getprop_w)");
	t.equal(fdt_getprop(b, 0, "nope", len), null);
	t.equal(len[0], -FDT_ERR_NOTFOUND);
	t.equal(fdt_getprop(b, 4, "compatible", len), null);
	t.equal(len[0], -FDT_ERR_BADOFFSET);
	t.same(fdt_getprop_namelen(b, 0, "modelXYZ", 5), new TextEncoder().encode("m\0"));
});

t.test("properties iterate in order; fdt_getprop_by_offset names them", async (t) => {
	const b = sample();
	const seen: string[] = [];
	const len = [0];
	let p: number;
	for (p = fdt_first_property_offset(b, 0); p >= 0; p = fdt_next_property_offset(b, p)) {
		const name: (string | null)[] = [null];
		const v = fdt_getprop_by_offset(b, p, name, len);
		seen.push(`${name[0]}=${v!.length}/${len[0]}`);
	}
	t.same(seen, ["compatible=7/7", "model=2/2"]);
	t.equal(p, -FDT_ERR_NOTFOUND);
	t.equal(fdt_first_property_offset(b, fdt_path_offset(b, "/LUO/subsystems")), -FDT_ERR_NOTFOUND);
	t.equal(fdt_next_property_offset(b, 0), -FDT_ERR_BADOFFSET, "a node is not a property");
	t.equal(fdt_getprop_by_offset(b, 0, undefined, len), null);
	t.equal(len[0], -FDT_ERR_BADOFFSET);
});

t.test("fdt_get_string reads the strings block and rejects offsets outside it", async (t) => {
	const b = sample();
	const len = [0];
	t.equal(fdt_get_string(b, 0, len), "linux,phandle", "the sequential writer leaves the last new name first");
	t.equal(len[0], 13);
	t.equal(fdt_string(b, 6), "phandle", "any offset inside a string is a string");
	t.equal(fdt_get_string(b, fdt_size_dt_strings(b), len), null);
	t.equal(len[0], -FDT_ERR_BADOFFSET);
	t.equal(fdt_get_string(b, -1, len), null);
	t.equal(len[0], -FDT_ERR_BADOFFSET);
	b[fdt_off_dt_strings(b) + fdt_size_dt_strings(b) - 1] = 0x41;
	const last = fdt_size_dt_strings(b) - 2;
	t.equal(fdt_get_string(b, last, len), null, "no NUL before the end of the block");
	t.equal(len[0], -FDT_ERR_TRUNCATED);
});

t.test("reading a tree still under construction (negative name offsets)", async (t) => {
	const b = new Uint8Array(512);
	fdt_create(b, 512);
	fdt_finish_reservemap(b);
	fdt_begin_node(b, "");
	fdt_property_string(b, "compatible", "kho-v1");
	fdt_begin_node(b, "LUO");
	t.equal(fdt_getprop(b, 0, "compatible")?.length, 7);
	t.equal(fdt_path_offset(b, "/LUO"), 28);
	const name: (string | null)[] = [null];
	fdt_getprop_by_offset(b, fdt_first_property_offset(b, 0), name);
	t.equal(name[0], "compatible");
});

t.test("the memory reservation map", async (t) => {
	const b = sample();
	t.equal(fdt_num_mem_rsv(b), 2);
	const a = [0n];
	const s = [0n];
	t.equal(fdt_get_mem_rsv(b, 1, a, s), 0);
	t.same([a[0], s[0]], [0x8000n, 0x10n]);
	t.equal(fdt_get_mem_rsv(b, 2, a, s), 0, "the terminator is an entry too");
	t.same([a[0], s[0]], [0n, 0n]);
	t.equal(fdt_get_mem_rsv(b, 1000, a, s), -FDT_ERR_BADOFFSET);
	t.equal(fdt_get_mem_rsv(b, -1, a, s), -FDT_ERR_BADOFFSET);
	for (let off = fdt_off_mem_rsvmap(b); off < b.length; off += 16) fdt32_st(b, off + 12, 1);
	t.equal(fdt_num_mem_rsv(b), -FDT_ERR_TRUNCATED, "no (0, 0) terminator before the end");
});

t.test("parents and depths", async (t) => {
	const b = sample();
	const sub = fdt_path_offset(b, "/LUO/subsystems");
	t.equal(fdt_parent_offset(b, sub), fdt_path_offset(b, "/LUO"));
	t.equal(fdt_parent_offset(b, fdt_path_offset(b, "/LUO")), 0);
	t.equal(fdt_parent_offset(b, 0), -FDT_ERR_NOTFOUND);
	t.equal(fdt_node_depth(b, sub), 2);
	t.equal(fdt_node_depth(b, 0), 0);
	const d = [0];
	t.equal(fdt_supernode_atdepth_offset(b, sub, 0, d), 0);
	t.equal(d[0], 2);
	t.equal(fdt_supernode_atdepth_offset(b, sub, 3), -FDT_ERR_NOTFOUND);
	t.equal(fdt_supernode_atdepth_offset(b, sub, -1), -FDT_ERR_NOTFOUND);
	t.equal(fdt_parent_offset(b, sub + 4), -FDT_ERR_BADOFFSET);
	t.equal(fdt_parent_offset(b, 1 << 20), -FDT_ERR_BADSTRUCTURE, "past the root: the walk runs off the tree, as in C");
});

t.test("phandles: phandle or linux,phandle; 0 and ~0 are invalid", async (t) => {
	const b = sample();
	const cpu1 = fdt_path_offset(b, "/cpus/cpu@1");
	t.equal(fdt_get_phandle(b, fdt_path_offset(b, "/cpus/cpu@0")), 1);
	t.equal(fdt_get_phandle(b, cpu1), 2);
	t.equal(fdt_get_phandle(b, 0), 0);
	t.equal(fdt_node_offset_by_phandle(b, 2), cpu1);
	t.equal(fdt_node_offset_by_phandle(b, 3), -FDT_ERR_NOTFOUND);
	t.equal(fdt_node_offset_by_phandle(b, 0), -FDT_ERR_BADPHANDLE);
	t.equal(fdt_node_offset_by_phandle(b, 0xffffffff), -FDT_ERR_BADPHANDLE);
});

t.test("fdt_node_offset_by_prop_value finds nodes by a property's bytes", async (t) => {
	const b = sample();
	const one = new Uint8Array([0, 0, 0, 1]);
	const cpu1 = fdt_node_offset_by_prop_value(b, -1, "reg", one);
	t.equal(cpu1, fdt_path_offset(b, "/cpus/cpu@1"));
	t.equal(fdt_node_offset_by_prop_value(b, cpu1, "reg", one), -FDT_ERR_NOTFOUND, "searching on after it");
	t.equal(fdt_node_offset_by_prop_value(b, -1, "reg", one, 3), -FDT_ERR_NOTFOUND, "the length must match too");
});

t.test("an empty property is a zero-length view", async (t) => {
	const b = build(node("", (b) => fdt_property(b, "empty", new Uint8Array(0))));
	const len = [7];
	const v = fdt_getprop(b, 0, "empty", len);
	t.ok(v instanceof Uint8Array);
	t.equal(v!.length, 0);
	t.equal(len[0], 0);
});
