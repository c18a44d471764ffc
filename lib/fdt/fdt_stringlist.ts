/**
 * String-list properties and `compatible` matching (the tail of
 * scripts/dtc/libfdt/fdt_ro.c, dtc v1.8.1), plus typed getters for the
 * u32/u64 properties KHO reads.
 *
 * A string list is NUL-separated strings in one property value
 * (`compatible = "a", "b"` is "a\0b\0").
 */
import { FDT_ERR_BADVALUE, FDT_ERR_NOTFOUND } from "./errors.ts";
import { fdt_next_node, fdt_ro_probe_ } from "./fdt.ts";
import { fdt_getprop } from "./fdt_ro.ts";
import { bytes_to_str, cstr, fdt32_ld, fdt64_ld, le32_ld, le64_ld } from "./header.ts";
import type { IntPtr, U32Ptr, U64Ptr } from "./header.ts";

/**
 * The memory `strlist` points into, from its first byte to the end of its
 * ArrayBuffer: fdt_stringlist_contains() compares `strlen(str) + 1` bytes
 * and so reads one byte past a list that ends without a NUL, as the C does
 * (in a blob that byte is padding, usually 0).
 */
function memFrom(strlist: Uint8Array): Uint8Array {
	return new Uint8Array(strlist.buffer, strlist.byteOffset, strlist.buffer.byteLength - strlist.byteOffset);
}

/** fdt_stringlist_contains(strlist, listlen, str): 1 if `str` is one of the list's strings, else 0. */
export function fdt_stringlist_contains(strlist: Uint8Array, listlen: number, str: string): number {
	const s = cstr(str);
	const len = s.length;
	const mem = memFrom(strlist);
	let p = 0;
	while (listlen >= len) {
		let i = 0;
		while (i < len && mem[p + i] === s[i]) i++;
		if (i === len && mem[p + len] === 0) return 1;
		let nul = -1;
		for (let j = p; j < p + listlen; j++) {
			if (mem[j] === 0) {
				nul = j;
				break;
			}
		}
		if (nul < 0) return 0;
		listlen -= nul - p + 1;
		p = nul + 1;
	}
	return 0;
}

/** Each string's [start, end) in a list value, or -FDT_ERR_BADVALUE when the last one lacks its NUL. */
function split_(list: Uint8Array): [number, number][] | number {
	const out: [number, number][] = [];
	let p = 0;
	while (p < list.length) {
		const nul = list.indexOf(0, p);
		if (nul < 0) return -FDT_ERR_BADVALUE;
		out.push([p, nul]);
		p = nul + 1;
	}
	return out;
}

/** fdt_stringlist_count(fdt, nodeoffset, property): how many strings the property holds, or an error. */
export function fdt_stringlist_count(fdt: Uint8Array, nodeoffset: number, property: string): number {
	const len = [0];
	const list = fdt_getprop(fdt, nodeoffset, property, len);
	if (list === null) return len[0]!;
	const parts = split_(list);
	return typeof parts === "number" ? parts : parts.length;
}

/** fdt_stringlist_search(fdt, nodeoffset, property, string): the index of `string` in the list, or -FDT_ERR_NOTFOUND. */
export function fdt_stringlist_search(fdt: Uint8Array, nodeoffset: number, property: string, string: string): number {
	const len = [0];
	const list = fdt_getprop(fdt, nodeoffset, property, len);
	if (list === null) return len[0]!;
	const s = cstr(string);
	let p = 0;
	for (let idx = 0; p < list.length; idx++) {
		const nul = list.indexOf(0, p);
		if (nul < 0) return -FDT_ERR_BADVALUE;
		if (nul - p === s.length && s.every((b, i) => list[p + i] === b)) return idx;
		p = nul + 1;
	}
	return -FDT_ERR_NOTFOUND;
}

/** fdt_stringlist_get(fdt, nodeoffset, property, idx, lenp): string `idx` of the list, or null (error in lenp). */
export function fdt_stringlist_get(fdt: Uint8Array, nodeoffset: number, property: string, idx: number, lenp?: IntPtr): string | null {
	const len = [0];
	const list = fdt_getprop(fdt, nodeoffset, property, len);
	let err = len[0]!;
	if (list !== null) {
		err = -FDT_ERR_NOTFOUND;
		let p = 0;
		for (; p < list.length; idx--) {
			const nul = list.indexOf(0, p);
			if (nul < 0) {
				err = -FDT_ERR_BADVALUE;
				break;
			}
			if (idx === 0) {
				if (lenp) lenp[0] = nul - p;
				return bytes_to_str(list.subarray(p, nul));
			}
			p = nul + 1;
		}
	}
	if (lenp) lenp[0] = err;
	return null;
}

/**
 * fdt_node_check_compatible(fdt, nodeoffset, compatible): 0 if the node's
 * `compatible` list contains `compatible`, 1 if not, or the error from
 * fdt_getprop() (-FDT_ERR_NOTFOUND when it has no `compatible`).
 */
export function fdt_node_check_compatible(fdt: Uint8Array, nodeoffset: number, compatible: string): number {
	const len = [0];
	const prop = fdt_getprop(fdt, nodeoffset, "compatible", len);
	if (prop === null) return len[0]!;
	return fdt_stringlist_contains(prop, len[0]!, compatible) ? 0 : 1;
}

/** fdt_node_offset_by_compatible(fdt, startoffset, compatible): the next node (after startoffset; -1 = from the root) compatible with it. */
export function fdt_node_offset_by_compatible(fdt: Uint8Array, startoffset: number, compatible: string): number {
	const err = fdt_ro_probe_(fdt);
	if (err < 0) return err;
	let offset: number;
	for (offset = fdt_next_node(fdt, startoffset); offset >= 0; offset = fdt_next_node(fdt, offset)) {
		const r = fdt_node_check_compatible(fdt, offset, compatible);
		if (r < 0 && r !== -FDT_ERR_NOTFOUND) return r;
		if (r === 0) return offset;
	}
	return offset;
}

function getprop_sized_(fdt: Uint8Array, nodeoffset: number, name: string, size: number): Uint8Array | number {
	const len = [0];
	const p = fdt_getprop(fdt, nodeoffset, name, len);
	if (p === null) return len[0]!;
	return len[0] === size ? p : -FDT_ERR_BADVALUE;
}

/**
 * luosim helper: reads a 4-byte big-endian (DT cell) property into valp[0].
 * 0, -FDT_ERR_BADVALUE if the value is not 4 bytes, or fdt_getprop()'s error.
 */
export function fdt_getprop_u32(fdt: Uint8Array, nodeoffset: number, name: string, valp: U32Ptr): number {
	const p = getprop_sized_(fdt, nodeoffset, name, 4);
	if (typeof p === "number") return p;
	valp[0] = fdt32_ld(p);
	return 0;
}

/** luosim helper: reads an 8-byte big-endian property (fdt_property_u64's format) into valp[0]. */
export function fdt_getprop_u64(fdt: Uint8Array, nodeoffset: number, name: string, valp: U64Ptr): number {
	const p = getprop_sized_(fdt, nodeoffset, name, 8);
	if (typeof p === "number") return p;
	valp[0] = fdt64_ld(p);
	return 0;
}

/** luosim helper: reads a 4-byte native-endian (little-endian) property, as KHO stores u32s. */
export function fdt_getprop_le32(fdt: Uint8Array, nodeoffset: number, name: string, valp: U32Ptr): number {
	const p = getprop_sized_(fdt, nodeoffset, name, 4);
	if (typeof p === "number") return p;
	valp[0] = le32_ld(p);
	return 0;
}

/**
 * luosim helper: reads an 8-byte native-endian (little-endian) property, as
 * KHO stores `fdt` and `preserved-memory-map` (get_unaligned((u64 *)p)).
 */
export function fdt_getprop_le64(fdt: Uint8Array, nodeoffset: number, name: string, valp: U64Ptr): number {
	const p = getprop_sized_(fdt, nodeoffset, name, 8);
	if (typeof p === "number") return p;
	valp[0] = le64_ld(p);
	return 0;
}
