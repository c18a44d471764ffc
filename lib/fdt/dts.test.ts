import t from "tap";
import { dts_propval, fdt_to_dts } from "./dts.ts";
import {
	FDT_ERR_BADMAGIC,
	FDT_ERR_BADSTRUCTURE,
	FDT_ERR_TRUNCATED,
	cpu_to_le64,
	fdt32_st,
	fdt_add_reservemap_entry,
	fdt_begin_node,
	fdt_create,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_off_dt_struct,
	fdt_property,
	fdt_property_string,
	fdt_property_u32,
	fdt_size_dt_struct,
	fdt_totalsize,
} from "./libfdt.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

t.test("values are guessed as dtc guesses them: strings, cells, bytes", async (t) => {
	t.equal(dts_propval(new Uint8Array(0)), ";");
	t.equal(dts_propval(enc("kho-v1\0")), ' = "kho-v1";');
	t.equal(dts_propval(enc("a\0bb\0")), ' = "a\\0bb";', "a list prints with \\0 inside one string");
	t.equal(dts_propval(new Uint8Array([0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef])), " = <0x01 0xdeadbeef>;");
	t.equal(dts_propval(new Uint8Array(4)), " = <0x00>;", "all NULs are not a string");
	t.equal(dts_propval(enc("abc")), " = [61 62 63];", "no final NUL, not a multiple of 4");
	t.equal(dts_propval(enc("abc\0")), ' = "abc";', "a string wins over a cell");
	t.equal(dts_propval(enc("a\0\0\0")), " = <0x61000000>;", "more NULs than text is not a string");
	t.equal(dts_propval(cpu_to_le64(0x116be4000n)), " = <0x40be16 0x1000000>;", "KHO's little-endian u64, as fdt.rst shows it");
});

t.test("strings escape what dtc escapes", async (t) => {
	t.equal(dts_propval(enc('q"b\\\t\n\r\x07\x08\x0b\x0c\0')), ' = "q\\"b\\\\\\t\\n\\r\\a\\b\\v\\f";');
});

function sample(): Uint8Array {
	const b = new Uint8Array(1024);
	fdt_create(b, 1024);
	fdt_add_reservemap_entry(b, 0x10000000n, 0x4000n);
	fdt_finish_reservemap(b);
	fdt_begin_node(b, "");
	fdt_property_string(b, "compatible", "kho-v1");
	fdt_begin_node(b, "LUO");
	fdt_property_u32(b, "n", 3);
	fdt_property(b, "e", new Uint8Array(0));
	fdt_begin_node(b, "sub@1");
	fdt_end_node(b);
	fdt_end_node(b);
	fdt_begin_node(b, "memblock");
	fdt_end_node(b);
	fdt_end_node(b);
	fdt_finish(b);
	return b.slice(0, fdt_totalsize(b));
}

t.test("fdt_to_dts prints the tree with tabs, blank lines before child nodes, and /memreserve/", async (t) => {
	t.equal(
		fdt_to_dts(sample()),
		[
			"/dts-v1/;",
			"",
			"/memreserve/\t0x0000000010000000 0x0000000000004000;",
			"/ {",
			'\tcompatible = "kho-v1";',
			"",
			"\tLUO {",
			"\t\tn = <0x03>;",
			"\t\te;",
			"",
			"\t\tsub@1 {",
			"\t\t};",
			"\t};",
			"",
			"\tmemblock {",
			"\t};",
			"};",
			"",
		].join("\n"),
	);
});

t.test("fdt_to_dts returns the libfdt error for a bad or corrupt blob", async (t) => {
	t.equal(fdt_to_dts(new Uint8Array(64)), -FDT_ERR_BADMAGIC);
	const b = sample();
	t.equal(fdt_to_dts(b.subarray(0, b.length - 4)), -FDT_ERR_TRUNCATED);
	const s = fdt_off_dt_struct(b) + fdt_size_dt_struct(b);
	fdt32_st(b, s - 8, 0x0000000f);
	t.equal(fdt_to_dts(b), -FDT_ERR_BADSTRUCTURE, "an unknown token where the root's END_NODE was");
});

t.test("fdt_to_dts walks a deeply nested tree without recursion", async (t) => {
	const depth = 12000;
	const size = 64 + depth * 12 + 64;
	const b = new Uint8Array(size);
	fdt_create(b, size);
	fdt_finish_reservemap(b);
	fdt_begin_node(b, "");
	for (let i = 0; i < depth; i++) fdt_begin_node(b, "n");
	for (let i = 0; i <= depth; i++) fdt_end_node(b);
	t.equal(fdt_finish(b), 0);
	const out = fdt_to_dts(b);
	t.type(out, "string");
	const innermost = `\n${"\t".repeat(depth)}n {\n${"\t".repeat(depth)}};\n`;
	t.ok((out as string).includes(innermost), "the innermost node, indented 12000 tabs");
});
