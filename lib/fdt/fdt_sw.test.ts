import t from "tap";
import {
	FDT_CREATE_FLAG_NO_NAME_DEDUP,
	FDT_ERR_BADFLAGS,
	FDT_ERR_BADMAGIC,
	FDT_ERR_BADSTATE,
	FDT_ERR_BADVALUE,
	FDT_ERR_NOSPACE,
	FDT_MAGIC,
	FDT_SW_MAGIC,
	cpu_to_le64,
	fdt_add_reservemap_entry,
	fdt_begin_node,
	fdt_check_header,
	fdt_create,
	fdt_create_with_flags,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_get_string,
	fdt_getprop,
	fdt_last_comp_version,
	fdt_magic,
	fdt_off_dt_strings,
	fdt_off_dt_struct,
	fdt_off_mem_rsvmap,
	fdt_path_offset,
	fdt_property,
	fdt_property_cell,
	fdt_property_placeholder,
	fdt_property_string,
	fdt_property_u32,
	fdt_property_u64,
	fdt_resize,
	fdt_size_dt_strings,
	fdt_size_dt_struct,
	fdt_totalsize,
	fdt_version,
	le64_ld,
} from "./libfdt.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

t.test("fdt_create zeroes the buffer and sets up the sequential-write header", async (t) => {
	const b = new Uint8Array(256).fill(0xaa);
	t.equal(fdt_create(b, 200), 0);
	t.equal(fdt_magic(b), FDT_SW_MAGIC);
	t.equal(fdt_totalsize(b), 200);
	t.equal(fdt_version(b), 17);
	t.equal(fdt_off_mem_rsvmap(b), 48, "the header rounded up to a reservation entry");
	t.equal(fdt_off_dt_struct(b), 48);
	t.equal(fdt_off_dt_strings(b), 0, "0 means: still in the reservation map");
	t.ok(b.subarray(40, 200).every((x) => x === 0));
	t.equal(b[200], 0xaa, "nothing past bufsize is touched");
});

t.test("fdt_create: NOSPACE below 48 bytes or beyond the array, BADFLAGS for unknown flags", async (t) => {
	t.equal(fdt_create(new Uint8Array(64), 47), -FDT_ERR_NOSPACE);
	t.equal(fdt_create(new Uint8Array(64), -1), -FDT_ERR_NOSPACE);
	t.equal(fdt_create(new Uint8Array(64), 65), -FDT_ERR_NOSPACE);
	t.equal(fdt_create(new Uint8Array(48), 48), 0);
	t.equal(fdt_create_with_flags(new Uint8Array(64), 64, 2), -FDT_ERR_BADFLAGS);
	t.equal(fdt_create_with_flags(new Uint8Array(64), 64, FDT_CREATE_FLAG_NO_NAME_DEDUP), 0);
});

t.test("calls out of order are BADSTATE; a buffer that was never created is BADMAGIC", async (t) => {
	const b = new Uint8Array(256);
	t.equal(fdt_begin_node(new Uint8Array(256), ""), -FDT_ERR_BADMAGIC);
	fdt_create(b, 256);
	t.equal(fdt_begin_node(b, ""), -FDT_ERR_BADSTATE, "the reservation map is still open");
	t.equal(fdt_property_u32(b, "x", 1), -FDT_ERR_BADSTATE);
	t.equal(fdt_finish(b), -FDT_ERR_BADSTATE);
	t.equal(fdt_finish_reservemap(b), 0);
	t.equal(fdt_add_reservemap_entry(b, 1, 2), -FDT_ERR_BADSTATE, "the reservation map is closed");
	t.equal(fdt_finish_reservemap(b), -FDT_ERR_BADSTATE);
	t.equal(fdt_begin_node(b, ""), 0);
	t.equal(fdt_end_node(b), 0);
	t.equal(fdt_finish(b), 0);
	t.equal(fdt_begin_node(b, "late"), -FDT_ERR_BADSTATE, "a finished tree takes no more");
	t.equal(fdt_finish(b), -FDT_ERR_BADSTATE);
});

t.test("fdt_finish packs the strings behind the structure and completes the header", async (t) => {
	const b = new Uint8Array(4096);
	fdt_create(b, 4096);
	fdt_add_reservemap_entry(b, 0x1000n, 0x2000n);
	fdt_finish_reservemap(b);
	fdt_begin_node(b, "");
	fdt_property_string(b, "compatible", "kho-v1");
	fdt_end_node(b);
	t.equal(fdt_finish(b), 0);
	t.equal(fdt_magic(b), FDT_MAGIC);
	t.equal(fdt_version(b), 17);
	t.equal(fdt_last_comp_version(b), 16);
	t.equal(fdt_off_dt_struct(b), 48 + 32, "two reservation entries");
	t.equal(fdt_size_dt_struct(b), 8 + 20 + 4 + 4);
	t.equal(fdt_off_dt_strings(b), fdt_off_dt_struct(b) + fdt_size_dt_struct(b));
	t.equal(fdt_size_dt_strings(b), 11);
	t.equal(fdt_totalsize(b), fdt_off_dt_strings(b) + 11, "compact, not the buffer size");
	t.equal(fdt_check_header(b), 0);
	t.equal(fdt_get_string(b, 0), "compatible");
});

t.test("property names are stored once, also as the tail of a longer name", async (t) => {
	const build = (flags: number): Uint8Array => {
		const b = new Uint8Array(1024);
		fdt_create_with_flags(b, 1024, flags);
		fdt_finish_reservemap(b);
		fdt_begin_node(b, "");
		fdt_property_string(b, "compatible", "a");
		fdt_begin_node(b, "n");
		fdt_property_string(b, "compatible", "b");
		fdt_property_u32(b, "patible", 1);
		fdt_end_node(b);
		fdt_end_node(b);
		fdt_finish(b);
		return b;
	};
	const dedup = build(0);
	t.equal(fdt_size_dt_strings(dedup), 11, '"compatible\\0" only: "patible" points into it');
	t.equal(fdt_getprop(dedup, fdt_path_offset(dedup, "/n"), "patible")?.length, 4);
	const nodedup = build(FDT_CREATE_FLAG_NO_NAME_DEDUP);
	t.equal(fdt_size_dt_strings(nodedup), 11 * 2 + 8, "every name stored again");
	t.same(fdt_getprop(nodedup, fdt_path_offset(nodedup, "/n"), "compatible"), enc("b\0"));
});

t.test("NOSPACE leaves the tree as it was; after fdt_resize the same call succeeds", async (t) => {
	const b = new Uint8Array(96);
	fdt_create(b, 96);
	fdt_finish_reservemap(b);
	fdt_begin_node(b, "");
	fdt_property_u32(b, "a", 1);
	const before = b.slice();
	t.equal(fdt_property(b, "a-long-property-name", new Uint8Array(16)), -FDT_ERR_NOSPACE);
	t.same(b.subarray(0, 40), before.subarray(0, 40), "header unchanged, the new name rolled back");
	t.equal(fdt_begin_node(b, "a-node-with-a-long-name"), -FDT_ERR_NOSPACE);
	t.same(b.subarray(0, 40), before.subarray(0, 40));

	const big = new Uint8Array(512);
	t.equal(fdt_resize(b, big, 40), -FDT_ERR_NOSPACE, "too small for what is there");
	t.equal(fdt_resize(b, big, 1024), -FDT_ERR_NOSPACE, "bufsize beyond the array");
	t.equal(fdt_resize(b, big, 512), 0);
	t.equal(fdt_totalsize(big), 512);
	t.equal(fdt_property(big, "a-long-property-name", new Uint8Array(16)), 0);
	t.equal(fdt_end_node(big), 0);
	t.equal(fdt_finish(big), 0);
	t.equal(fdt_getprop(big, 0, "a")?.length, 4);
	t.equal(fdt_getprop(big, 0, "a-long-property-name")?.length, 16);
});

t.test("fdt_resize can grow a tree in place, inside the same memory", async (t) => {
	const mem = new Uint8Array(512);
	const small = mem.subarray(0, 128);
	fdt_create(small, 128);
	fdt_finish_reservemap(small);
	fdt_begin_node(small, "");
	fdt_property_string(small, "compatible", "kho-v1");
	t.equal(fdt_resize(small, mem, 512), 0);
	fdt_end_node(mem);
	t.equal(fdt_finish(mem), 0);
	t.same(fdt_getprop(mem, 0, "compatible"), enc("kho-v1\0"));
});

t.test("a placeholder is filled in later, even after fdt_finish (KHO's preserved-memory-map)", async (t) => {
	const b = new Uint8Array(4096);
	fdt_create(b, 4096);
	fdt_finish_reservemap(b);
	fdt_begin_node(b, "");
	fdt_property_string(b, "compatible", "kho-v1");
	const valp: (Uint8Array | null)[] = [null];
	t.equal(fdt_property_placeholder(b, "preserved-memory-map", 8, valp), 0);
	t.equal(valp[0]!.length, 8);
	fdt_begin_node(b, "LUO");
	fdt_end_node(b);
	fdt_end_node(b);
	fdt_finish(b);
	valp[0]!.set(cpu_to_le64(0x116be4000n));
	t.equal(le64_ld(fdt_getprop(b, 0, "preserved-memory-map")!), 0x116be4000n);
});

t.test("value helpers: u32/u64/cell are big-endian, strings carry their NUL", async (t) => {
	const b = new Uint8Array(512);
	fdt_create(b, 512);
	fdt_finish_reservemap(b);
	fdt_begin_node(b, "");
	fdt_property_u32(b, "u32", 0x01020304);
	fdt_property_cell(b, "cell", 5);
	fdt_property_u64(b, "u64", 0x0102030405060708n);
	fdt_property_string(b, "s", "ab\0cd");
	fdt_property(b, "prefix", enc("abcdef"), 2);
	fdt_property(b, "empty", new Uint8Array(0));
	fdt_end_node(b);
	fdt_finish(b);
	t.same(fdt_getprop(b, 0, "u32"), new Uint8Array([1, 2, 3, 4]));
	t.same(fdt_getprop(b, 0, "cell"), new Uint8Array([0, 0, 0, 5]));
	t.same(fdt_getprop(b, 0, "u64"), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
	t.same(fdt_getprop(b, 0, "s"), enc("ab\0"), "the C string ends at the first NUL");
	t.same(fdt_getprop(b, 0, "prefix"), enc("ab"));
	t.equal(fdt_getprop(b, 0, "empty")?.length, 0);
});

t.test("fdt_property: a length longer than the value is BADVALUE, a negative one NOSPACE as in C", async (t) => {
	const b = new Uint8Array(512);
	fdt_create(b, 512);
	fdt_finish_reservemap(b);
	fdt_begin_node(b, "");
	const strings = fdt_size_dt_strings(b);
	t.equal(fdt_property(b, "x", new Uint8Array(2), 3), -FDT_ERR_BADVALUE);
	t.equal(fdt_property(b, "x", new Uint8Array(2), 1.5), -FDT_ERR_BADVALUE);
	t.equal(fdt_property(b, "x", new Uint8Array(2), -1), -FDT_ERR_NOSPACE);
	t.equal(fdt_size_dt_strings(b), strings, "the name was rolled back");
});
