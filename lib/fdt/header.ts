/**
 * The flattened device tree format (scripts/dtc/libfdt/fdt.h) and libfdt's
 * header accessors and byte helpers (libfdt.h): the 40-byte big-endian
 * header, the structure-block tokens, sizes, and `fdt32_ld`-style loads and
 * stores on a `Uint8Array` that stands for C's `void *fdt`.
 *
 * Loads and stores index the array byte by byte: a load past its end reads
 * zeros and a store past its end is dropped, so no helper here can throw on
 * a short or corrupt blob; the callers bound every offset as libfdt does.
 */

/** FDT_MAGIC: the first word of every finished device tree blob. */
export const FDT_MAGIC = 0xd00dfeed;
/** FDT_SW_MAGIC (~FDT_MAGIC): marks a blob still under sequential write. */
export const FDT_SW_MAGIC = ~FDT_MAGIC >>> 0;
/** Structure tokens are 32-bit and 4-byte aligned. */
export const FDT_TAGSIZE = 4;

/** Token: start of a node, followed by its NUL-terminated name, padded. */
export const FDT_BEGIN_NODE = 0x1;
/** Token: end of a node. */
export const FDT_END_NODE = 0x2;
/** Token: a property (u32 len, u32 nameoff, value padded to 4). */
export const FDT_PROP = 0x3;
/** Token: no operation, skipped by readers. */
export const FDT_NOP = 0x4;
/** Token: end of the structure block. */
export const FDT_END = 0x9;

/** Header size of a version 1 blob. */
export const FDT_V1_SIZE = 7 * 4;
/** Header size of a version 2 blob (adds boot_cpuid_phys). */
export const FDT_V2_SIZE = FDT_V1_SIZE + 4;
/** Header size of a version 3 blob (adds size_dt_strings). */
export const FDT_V3_SIZE = FDT_V2_SIZE + 4;
/** Header size of a version 16 blob. */
export const FDT_V16_SIZE = FDT_V3_SIZE;
/** Header size of a version 17 blob (adds size_dt_struct): sizeof(struct fdt_header). */
export const FDT_V17_SIZE = FDT_V16_SIZE + 4;

/** The oldest version libfdt reads. */
export const FDT_FIRST_SUPPORTED_VERSION = 0x02;
/** last_comp_version written by fdt_finish() and fdt_open_into(): 16. */
export const FDT_LAST_COMPATIBLE_VERSION = 0x10;
/** The version libfdt writes: 17. */
export const FDT_LAST_SUPPORTED_VERSION = 0x11;

/** sizeof(struct fdt_reserve_entry): u64 address, u64 size. */
export const FDT_RESERVE_ENTRY_SIZE = 16;
/** sizeof(struct fdt_property) without its value: tag, len, nameoff. */
export const FDT_PROPERTY_SIZE = 12;
/** sizeof(struct fdt_node_header) without its name: the tag. */
export const FDT_NODE_HEADER_SIZE = 4;

/** FDT_CREATE_FLAG_NO_NAME_DEDUP: fdt_create_with_flags() skips the string table search. */
export const FDT_CREATE_FLAG_NO_NAME_DEDUP = 0x1;
/** Every flag fdt_create_with_flags() accepts. */
export const FDT_CREATE_FLAGS_ALL = FDT_CREATE_FLAG_NO_NAME_DEDUP;

/** INT32_MAX / INT_MAX, libfdt's bound on sizes and offsets. */
export const INT_MAX = 0x7fffffff;

/** A C `int *` out-parameter: element 0 receives the value. */
export type IntPtr = Int32Array | number[];
/** A C `uint64_t *` out-parameter: element 0 receives the value. */
export type U64Ptr = BigUint64Array | bigint[];
/** A C `uint32_t *` out-parameter: element 0 receives the value. */
export type U32Ptr = Uint32Array | number[];

/** FDT_ALIGN(x, a) for a power-of-two `a`. */
export function FDT_ALIGN(x: number, a: number): number {
	return (x + a - 1) & ~(a - 1);
}

/** FDT_TAGALIGN(x): rounds up to the 4-byte token alignment. */
export function FDT_TAGALIGN(x: number): number {
	return FDT_ALIGN(x, FDT_TAGSIZE);
}

/** fdt32_ld(p): the big-endian u32 at `p[off]` (0 past the end of `p`). */
export function fdt32_ld(p: Uint8Array, off = 0): number {
	return ((p[off]! << 24) | (p[off + 1]! << 16) | (p[off + 2]! << 8) | p[off + 3]!) >>> 0;
}

/** fdt32_st(p, val): stores `val` as a big-endian u32 at `p[off]`. */
export function fdt32_st(p: Uint8Array, off: number, val: number): void {
	p[off] = val >>> 24;
	p[off + 1] = val >>> 16;
	p[off + 2] = val >>> 8;
	p[off + 3] = val;
}

/** fdt64_ld(p): the big-endian u64 at `p[off]`. */
export function fdt64_ld(p: Uint8Array, off = 0): bigint {
	return (BigInt(fdt32_ld(p, off)) << 32n) | BigInt(fdt32_ld(p, off + 4));
}

/** fdt64_st(p, val): stores `val` (taken modulo 2^64) as a big-endian u64 at `p[off]`. */
export function fdt64_st(p: Uint8Array, off: number, val: bigint | number): void {
	const v = BigInt.asUintN(64, BigInt(val));
	fdt32_st(p, off, Number(v >> 32n));
	fdt32_st(p, off + 4, Number(v & 0xffffffffn));
}

/** cpu_to_fdt32(val) as bytes: the 4-byte big-endian value property helpers write. */
export function cpu_to_fdt32(val: number): Uint8Array {
	const b = new Uint8Array(4);
	fdt32_st(b, 0, val);
	return b;
}

/** cpu_to_fdt64(val) as bytes: the 8-byte big-endian value property helpers write. */
export function cpu_to_fdt64(val: bigint | number): Uint8Array {
	const b = new Uint8Array(8);
	fdt64_st(b, 0, val);
	return b;
}

/**
 * cpu_to_le32(val) as bytes: what a little-endian kernel (x86_64, arm64)
 * stores with `fdt_property(fdt, name, &val, sizeof(u32))`, as KHO does.
 */
export function cpu_to_le32(val: number): Uint8Array {
	const b = new Uint8Array(4);
	b[0] = val;
	b[1] = val >>> 8;
	b[2] = val >>> 16;
	b[3] = val >>> 24;
	return b;
}

/** cpu_to_le64(val) as bytes: a native-endian u64 property value, as KHO writes. */
export function cpu_to_le64(val: bigint | number): Uint8Array {
	const v = BigInt.asUintN(64, BigInt(val));
	const b = new Uint8Array(8);
	b.set(cpu_to_le32(Number(v & 0xffffffffn)), 0);
	b.set(cpu_to_le32(Number(v >> 32n)), 4);
	return b;
}

/** le32_to_cpu of the 4 bytes at `p[off]`. */
export function le32_ld(p: Uint8Array, off = 0): number {
	return (p[off]! | (p[off + 1]! << 8) | (p[off + 2]! << 16) | (p[off + 3]! << 24)) >>> 0;
}

/** le64_to_cpu of the 8 bytes at `p[off]`. */
export function le64_ld(p: Uint8Array, off = 0): bigint {
	return (BigInt(le32_ld(p, off + 4)) << 32n) | BigInt(le32_ld(p, off));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

/** The bytes C sees for `s` (UTF-8), up to the first NUL as strlen() would. */
export function cstr(s: string): Uint8Array {
	const b = encoder.encode(s);
	const nul = b.indexOf(0);
	return nul >= 0 ? b.subarray(0, nul) : b;
}

/** The first `namelen` bytes of `s` (UTF-8) for the `_namelen` variants; fewer if `s` is shorter. */
export function cstrn(s: string, namelen: number): Uint8Array {
	const b = encoder.encode(s);
	return b.subarray(0, Math.max(0, Math.min(namelen, b.length)));
}

/** Decodes name or string bytes read from a blob (UTF-8, invalid bytes as U+FFFD). */
export function bytes_to_str(b: Uint8Array): string {
	return decoder.decode(b);
}

const OFF_MAGIC = 0;
const OFF_TOTALSIZE = 4;
const OFF_DT_STRUCT = 8;
const OFF_DT_STRINGS = 12;
const OFF_MEM_RSVMAP = 16;
const OFF_VERSION = 20;
const OFF_LAST_COMP_VERSION = 24;
const OFF_BOOT_CPUID_PHYS = 28;
const OFF_SIZE_DT_STRINGS = 32;
const OFF_SIZE_DT_STRUCT = 36;

/** fdt_magic(fdt): header word 0. */
export function fdt_magic(fdt: Uint8Array): number {
	return fdt32_ld(fdt, OFF_MAGIC);
}
/** fdt_totalsize(fdt): the blob's size in bytes, header included. */
export function fdt_totalsize(fdt: Uint8Array): number {
	return fdt32_ld(fdt, OFF_TOTALSIZE);
}
/** fdt_off_dt_struct(fdt): offset of the structure block. */
export function fdt_off_dt_struct(fdt: Uint8Array): number {
	return fdt32_ld(fdt, OFF_DT_STRUCT);
}
/** fdt_off_dt_strings(fdt): offset of the strings block. */
export function fdt_off_dt_strings(fdt: Uint8Array): number {
	return fdt32_ld(fdt, OFF_DT_STRINGS);
}
/** fdt_off_mem_rsvmap(fdt): offset of the memory reservation map. */
export function fdt_off_mem_rsvmap(fdt: Uint8Array): number {
	return fdt32_ld(fdt, OFF_MEM_RSVMAP);
}
/** fdt_version(fdt): the format version (17). */
export function fdt_version(fdt: Uint8Array): number {
	return fdt32_ld(fdt, OFF_VERSION);
}
/** fdt_last_comp_version(fdt): the oldest version this blob is compatible with (16). */
export function fdt_last_comp_version(fdt: Uint8Array): number {
	return fdt32_ld(fdt, OFF_LAST_COMP_VERSION);
}
/** fdt_boot_cpuid_phys(fdt): the boot CPU's physical id. */
export function fdt_boot_cpuid_phys(fdt: Uint8Array): number {
	return fdt32_ld(fdt, OFF_BOOT_CPUID_PHYS);
}
/** fdt_size_dt_strings(fdt): the strings block's length. */
export function fdt_size_dt_strings(fdt: Uint8Array): number {
	return fdt32_ld(fdt, OFF_SIZE_DT_STRINGS);
}
/** fdt_size_dt_struct(fdt): the structure block's length. */
export function fdt_size_dt_struct(fdt: Uint8Array): number {
	return fdt32_ld(fdt, OFF_SIZE_DT_STRUCT);
}

/** fdt_set_magic(fdt, val). */
export function fdt_set_magic(fdt: Uint8Array, val: number): void {
	fdt32_st(fdt, OFF_MAGIC, val);
}
/** fdt_set_totalsize(fdt, val). */
export function fdt_set_totalsize(fdt: Uint8Array, val: number): void {
	fdt32_st(fdt, OFF_TOTALSIZE, val);
}
/** fdt_set_off_dt_struct(fdt, val). */
export function fdt_set_off_dt_struct(fdt: Uint8Array, val: number): void {
	fdt32_st(fdt, OFF_DT_STRUCT, val);
}
/** fdt_set_off_dt_strings(fdt, val). */
export function fdt_set_off_dt_strings(fdt: Uint8Array, val: number): void {
	fdt32_st(fdt, OFF_DT_STRINGS, val);
}
/** fdt_set_off_mem_rsvmap(fdt, val). */
export function fdt_set_off_mem_rsvmap(fdt: Uint8Array, val: number): void {
	fdt32_st(fdt, OFF_MEM_RSVMAP, val);
}
/** fdt_set_version(fdt, val). */
export function fdt_set_version(fdt: Uint8Array, val: number): void {
	fdt32_st(fdt, OFF_VERSION, val);
}
/** fdt_set_last_comp_version(fdt, val). */
export function fdt_set_last_comp_version(fdt: Uint8Array, val: number): void {
	fdt32_st(fdt, OFF_LAST_COMP_VERSION, val);
}
/** fdt_set_boot_cpuid_phys(fdt, val). */
export function fdt_set_boot_cpuid_phys(fdt: Uint8Array, val: number): void {
	fdt32_st(fdt, OFF_BOOT_CPUID_PHYS, val);
}
/** fdt_set_size_dt_strings(fdt, val). */
export function fdt_set_size_dt_strings(fdt: Uint8Array, val: number): void {
	fdt32_st(fdt, OFF_SIZE_DT_STRINGS, val);
}
/** fdt_set_size_dt_struct(fdt, val). */
export function fdt_set_size_dt_struct(fdt: Uint8Array, val: number): void {
	fdt32_st(fdt, OFF_SIZE_DT_STRUCT, val);
}

/** fdt_header_size_(version): how many header bytes a blob of `version` has. */
export function fdt_header_size_(version: number): number {
	if (version <= 1) return FDT_V1_SIZE;
	if (version <= 2) return FDT_V2_SIZE;
	if (version <= 3) return FDT_V3_SIZE;
	if (version <= 16) return FDT_V16_SIZE;
	return FDT_V17_SIZE;
}

/** fdt_header_size(fdt): the header size for this blob's version. */
export function fdt_header_size(fdt: Uint8Array): number {
	return fdt_header_size_(fdt_version(fdt));
}
