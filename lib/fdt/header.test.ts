import t from "tap";
import {
	FDT_MAGIC,
	FDT_SW_MAGIC,
	FDT_TAGALIGN,
	cpu_to_fdt32,
	cpu_to_fdt64,
	cpu_to_le32,
	cpu_to_le64,
	cstr,
	cstrn,
	fdt32_ld,
	fdt32_st,
	fdt64_ld,
	fdt64_st,
	fdt_header_size_,
	fdt_magic,
	fdt_set_magic,
	fdt_set_size_dt_struct,
	fdt_size_dt_struct,
	fdt_totalsize,
	le32_ld,
	le64_ld,
} from "./header.ts";

t.test("magic numbers and tag alignment", async (t) => {
	t.equal(FDT_MAGIC, 0xd00dfeed);
	t.equal(FDT_SW_MAGIC, 0x2ff20112, "~FDT_MAGIC as a u32");
	t.same([0, 1, 3, 4, 5, 8].map(FDT_TAGALIGN), [0, 4, 4, 4, 8, 8]);
});

t.test("header fields are big-endian words at their fdt.h offsets", async (t) => {
	const b = new Uint8Array(40);
	fdt_set_magic(b, FDT_MAGIC);
	fdt_set_size_dt_struct(b, 0x01020304);
	t.same([...b.subarray(0, 4)], [0xd0, 0x0d, 0xfe, 0xed]);
	t.same([...b.subarray(36, 40)], [1, 2, 3, 4], "size_dt_struct is the last word");
	t.equal(fdt_magic(b), FDT_MAGIC);
	t.equal(fdt_size_dt_struct(b), 0x01020304);
});

t.test("header reads past a short array are 0 and stores past it are dropped, without throwing", async (t) => {
	const b = new Uint8Array(6);
	b.set([0xd0, 0x0d, 0xfe, 0xed, 0x12, 0x34]);
	t.equal(fdt_totalsize(b), 0x12340000);
	t.equal(fdt_size_dt_struct(b), 0);
	fdt_set_size_dt_struct(b, 7);
	t.same([...b], [0xd0, 0x0d, 0xfe, 0xed, 0x12, 0x34]);
	t.equal(fdt_magic(new Uint8Array(0)), 0);
});

t.test("fdt32/fdt64 loads and stores are big-endian and unaligned", async (t) => {
	const b = new Uint8Array(13);
	fdt32_st(b, 1, 0xdeadbeef);
	t.equal(fdt32_ld(b, 1), 0xdeadbeef);
	fdt64_st(b, 5, 0x0102030405060708n);
	t.same([...b.subarray(5, 13)], [1, 2, 3, 4, 5, 6, 7, 8]);
	t.equal(fdt64_ld(b, 5), 0x0102030405060708n);
	fdt64_st(b, 5, -1n);
	t.equal(fdt64_ld(b, 5), 0xffffffffffffffffn, "stored modulo 2^64");
	t.same([...cpu_to_fdt32(0x11223344)], [0x11, 0x22, 0x33, 0x44]);
	t.same([...cpu_to_fdt64(0x1122334455667788n)], [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
});

t.test("little-endian helpers are what KHO's native u64 properties hold", async (t) => {
	t.same([...cpu_to_le64(0x116be4000n)], [0x00, 0x40, 0xbe, 0x16, 0x01, 0, 0, 0]);
	t.equal(le64_ld(cpu_to_le64(0xfedcba9876543210n)), 0xfedcba9876543210n);
	t.same([...cpu_to_le32(0x11223344)], [0x44, 0x33, 0x22, 0x11]);
	t.equal(le32_ld(cpu_to_le32(0x80000001)), 0x80000001);
	t.same([...cpu_to_le64(4096)], [0, 0x10, 0, 0, 0, 0, 0, 0], "numbers work too");
});

t.test("C strings end at the first NUL; _namelen takes a byte prefix", async (t) => {
	t.same([...cstr("ab\0cd")], [0x61, 0x62]);
	t.same([...cstr("é")], [0xc3, 0xa9], "UTF-8");
	t.same([...cstrn("abcdef", 3)], [0x61, 0x62, 0x63]);
	t.same([...cstrn("ab", 10)], [0x61, 0x62], "never past the string");
	t.same([...cstrn("ab", -1)], []);
});

t.test("header size follows the version", async (t) => {
	t.same([1, 2, 3, 16, 17, 18].map(fdt_header_size_), [28, 32, 36, 36, 40, 40]);
});
