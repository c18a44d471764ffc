/**
 * libfdt's read-only functions (scripts/dtc/libfdt/fdt_ro.c, dtc v1.8.1):
 * strings, the memory reservation map, node and property lookup, paths and
 * aliases, parents, string lists and `compatible` matching.
 *
 * C returns pointers into the blob; here a property value is a `subarray`
 * view of `fdt` (writes through it change the blob, like fdt_getprop_w) and
 * names are decoded strings. `int *lenp` and friends are one-element arrays.
 * Every function validates offsets against the structure block, totalsize
 * and the array, and returns libfdt's negative errors instead of throwing.
 */
import {
	FDT_ERR_BADOFFSET,
	FDT_ERR_BADPATH,
	FDT_ERR_BADPHANDLE,
	FDT_ERR_BADSTRUCTURE,
	FDT_ERR_INTERNAL,
	FDT_ERR_NOTFOUND,
	FDT_ERR_TRUNCATED,
} from "./errors.ts";
import {
	fdt_check_node_offset_,
	fdt_check_prop_offset_,
	fdt_next_node,
	fdt_next_tag,
	fdt_ro_probe_,
} from "./fdt.ts";
import {
	FDT_END,
	FDT_MAGIC,
	FDT_NODE_HEADER_SIZE,
	FDT_NOP,
	FDT_PROP,
	FDT_PROPERTY_SIZE,
	FDT_RESERVE_ENTRY_SIZE,
	FDT_SW_MAGIC,
	bytes_to_str,
	cstr,
	cstrn,
	fdt32_ld,
	fdt64_ld,
	fdt_magic,
	fdt_off_dt_strings,
	fdt_off_dt_struct,
	fdt_off_mem_rsvmap,
	fdt_size_dt_strings,
	fdt_totalsize,
	fdt_version,
} from "./header.ts";
import type { IntPtr, U64Ptr } from "./header.ts";

function memchr(fdt: Uint8Array, from: number, len: number, c: number): number {
	for (let i = from; i < from + len; i++) if (fdt[i] === c) return i;
	return -1;
}

function strlen(fdt: Uint8Array, p: number): number {
	let n = 0;
	while (p + n < fdt.length && fdt[p + n] !== 0) n++;
	return n;
}

/** fdt_get_string() on bytes: the string's index in `fdt`, or -1 with the error in lenp. */
export function fdt_get_string_(fdt: Uint8Array, stroffset: number, lenp: IntPtr): number {
	const totalsize = fdt_ro_probe_(fdt);
	let err = totalsize;
	if (totalsize >= 0) {
		err = -FDT_ERR_BADOFFSET;
		const absoffset = (stroffset + fdt_off_dt_strings(fdt)) >>> 0;
		if (absoffset < totalsize) {
			let len = totalsize - absoffset;
			let ok = false;
			if (fdt_magic(fdt) === FDT_MAGIC) {
				if (stroffset >= 0 && (fdt_version(fdt) < 17 || stroffset < fdt_size_dt_strings(fdt))) {
					if (fdt_version(fdt) >= 17) len = Math.min(len, fdt_size_dt_strings(fdt) - stroffset);
					ok = true;
				}
			} else if (fdt_magic(fdt) === FDT_SW_MAGIC) {
				const sw_stroffset = -stroffset >>> 0;
				if (stroffset < 0 && sw_stroffset <= fdt_size_dt_strings(fdt)) {
					len = Math.min(len, sw_stroffset);
					ok = true;
				}
			} else {
				err = -FDT_ERR_INTERNAL;
			}
			if (ok) {
				const n = memchr(fdt, absoffset, len, 0);
				if (n >= 0) {
					lenp[0] = n - absoffset;
					return absoffset;
				}
				err = -FDT_ERR_TRUNCATED;
			}
		}
	}
	lenp[0] = err;
	return -1;
}

/** fdt_get_string(fdt, stroffset, lenp): the string at `stroffset` in the strings block, or null (error in lenp). */
export function fdt_get_string(fdt: Uint8Array, stroffset: number, lenp?: IntPtr): string | null {
	const len = [0];
	const s = fdt_get_string_(fdt, stroffset, len);
	if (lenp) lenp[0] = len[0]!;
	return s < 0 ? null : bytes_to_str(fdt.subarray(s, s + len[0]!));
}

/** fdt_string(fdt, stroffset): fdt_get_string() without the length. */
export function fdt_string(fdt: Uint8Array, stroffset: number): string | null {
	return fdt_get_string(fdt, stroffset);
}

function fdt_string_eq_(fdt: Uint8Array, stroffset: number, s: Uint8Array): boolean {
	const slen = [0];
	const p = fdt_get_string_(fdt, stroffset, slen);
	if (p < 0 || slen[0] !== s.length) return false;
	for (let i = 0; i < s.length; i++) if (fdt[p + i] !== s[i]) return false;
	return true;
}

function fdt_mem_rsv(fdt: Uint8Array, n: number): number {
	const absoffset = fdt_off_mem_rsvmap(fdt) + n * FDT_RESERVE_ENTRY_SIZE;
	if (!(absoffset >= fdt_off_mem_rsvmap(fdt))) return -1;
	if (absoffset + FDT_RESERVE_ENTRY_SIZE > Math.min(fdt_totalsize(fdt), fdt.length)) return -1;
	return absoffset;
}

/** fdt_get_mem_rsv(fdt, n, address, size): reservation map entry `n`. 0 or -FDT_ERR_BADOFFSET / a probe error. */
export function fdt_get_mem_rsv(fdt: Uint8Array, n: number, address: U64Ptr, size: U64Ptr): number {
	const err = fdt_ro_probe_(fdt);
	if (err < 0) return err;
	const re = fdt_mem_rsv(fdt, n);
	if (re < 0) return -FDT_ERR_BADOFFSET;
	address[0] = fdt64_ld(fdt, re);
	size[0] = fdt64_ld(fdt, re + 8);
	return 0;
}

/** fdt_num_mem_rsv(fdt): entries before the (0, 0) terminator, or -FDT_ERR_TRUNCATED / a probe error. */
export function fdt_num_mem_rsv(fdt: Uint8Array): number {
	const err = fdt_ro_probe_(fdt);
	if (err < 0) return err;
	for (let i = 0, re = fdt_mem_rsv(fdt, 0); re >= 0; re = fdt_mem_rsv(fdt, ++i)) {
		if (fdt64_ld(fdt, re + 8) === 0n) return i;
	}
	return -FDT_ERR_TRUNCATED;
}

function nextprop_(fdt: Uint8Array, offset: number): number {
	const next = [0];
	let tag: number;
	do {
		tag = fdt_next_tag(fdt, offset, next);
		if (tag === FDT_END) return next[0]! >= 0 ? -FDT_ERR_BADSTRUCTURE : next[0]!;
		if (tag === FDT_PROP) return offset;
		offset = next[0]!;
	} while (tag === FDT_NOP);
	return -FDT_ERR_NOTFOUND;
}

/** fdt_get_name() on bytes: the name's index in `fdt`, or -1 with the error in lenp. */
export function fdt_get_name_(fdt: Uint8Array, nodeoffset: number, lenp: IntPtr): number {
	let err = fdt_ro_probe_(fdt);
	if (err >= 0) err = fdt_check_node_offset_(fdt, nodeoffset);
	if (err < 0) {
		lenp[0] = err;
		return -1;
	}
	let nameptr = fdt_off_dt_struct(fdt) + nodeoffset + FDT_NODE_HEADER_SIZE;
	if (fdt_version(fdt) < 0x10) {
		// Before v16 a node's name is its full path: libfdt gives the leaf.
		const n = strlen(fdt, nameptr);
		const slash = fdt.subarray(nameptr, nameptr + n).lastIndexOf(0x2f);
		if (slash < 0) {
			lenp[0] = -FDT_ERR_BADSTRUCTURE;
			return -1;
		}
		nameptr += slash + 1;
	}
	lenp[0] = strlen(fdt, nameptr);
	return nameptr;
}

/** fdt_get_name(fdt, nodeoffset, lenp): the node's name ("" for the root, "cpu@0"), or null (error in lenp). */
export function fdt_get_name(fdt: Uint8Array, nodeoffset: number, lenp?: IntPtr): string | null {
	const len = [0];
	const p = fdt_get_name_(fdt, nodeoffset, len);
	if (lenp) lenp[0] = len[0]!;
	return p < 0 ? null : bytes_to_str(fdt.subarray(p, p + len[0]!));
}

function fdt_nodename_eq_(fdt: Uint8Array, offset: number, s: Uint8Array): boolean {
	const olen = [0];
	const p = fdt_get_name_(fdt, offset, olen);
	const len = s.length;
	if (p < 0 || olen[0]! < len) return false;
	for (let i = 0; i < len; i++) if (fdt[p + i] !== s[i]) return false;
	if (fdt[p + len] === 0) return true;
	// "node" matches "node@addr" unless the query names a unit address itself.
	return !s.includes(0x40) && fdt[p + len] === 0x40;
}

function subnode_offset_(fdt: Uint8Array, offset: number, name: Uint8Array): number {
	const err = fdt_ro_probe_(fdt);
	if (err < 0) return err;
	const depth = [0];
	for (; offset >= 0 && depth[0]! >= 0; offset = fdt_next_node(fdt, offset, depth)) {
		if (depth[0] === 1 && fdt_nodename_eq_(fdt, offset, name)) return offset;
	}
	if (depth[0]! < 0) return -FDT_ERR_NOTFOUND;
	return offset;
}

/** fdt_subnode_offset_namelen(fdt, parentoffset, name, namelen): child named by the first `namelen` bytes of `name`. */
export function fdt_subnode_offset_namelen(fdt: Uint8Array, parentoffset: number, name: string, namelen: number): number {
	return subnode_offset_(fdt, parentoffset, cstrn(name, namelen));
}

/** fdt_subnode_offset(fdt, parentoffset, name): the child `name` ("node" also matches "node@1"), or -FDT_ERR_NOTFOUND. */
export function fdt_subnode_offset(fdt: Uint8Array, parentoffset: number, name: string): number {
	return subnode_offset_(fdt, parentoffset, cstr(name));
}

function path_offset_(fdt: Uint8Array, path: Uint8Array): number {
	const err = fdt_ro_probe_(fdt);
	if (err < 0) return err;
	const end = path.length;
	if (end <= 0) return -FDT_ERR_BADPATH;

	let p = 0;
	let offset = 0;
	if (path[0] !== 0x2f) {
		let q = path.indexOf(0x2f);
		if (q < 0) q = end;
		const alias = alias_(fdt, path.subarray(0, q));
		if (alias === null) return -FDT_ERR_BADPATH;
		offset = path_offset_(fdt, alias);
		p = q;
	}

	while (p < end) {
		while (path[p] === 0x2f) {
			p++;
			if (p === end) return offset;
		}
		let q = path.indexOf(0x2f, p);
		if (q < 0) q = end;
		offset = subnode_offset_(fdt, offset, path.subarray(p, q));
		if (offset < 0) return offset;
		p = q;
	}
	return offset;
}

/** fdt_path_offset_namelen(fdt, path, namelen): fdt_path_offset() on the first `namelen` bytes of `path`. */
export function fdt_path_offset_namelen(fdt: Uint8Array, path: string, namelen: number): number {
	if (namelen <= 0) {
		const err = fdt_ro_probe_(fdt);
		return err < 0 ? err : -FDT_ERR_BADPATH;
	}
	return path_offset_(fdt, cstrn(path, namelen));
}

/** fdt_path_offset(fdt, path): the node at "/a/b" (or "alias/b"), or -FDT_ERR_NOTFOUND / -FDT_ERR_BADPATH. */
export function fdt_path_offset(fdt: Uint8Array, path: string): number {
	return path_offset_(fdt, cstr(path));
}

/** fdt_first_property_offset(fdt, nodeoffset): the node's first property, or -FDT_ERR_NOTFOUND. */
export function fdt_first_property_offset(fdt: Uint8Array, nodeoffset: number): number {
	const offset = fdt_check_node_offset_(fdt, nodeoffset);
	if (offset < 0) return offset;
	return nextprop_(fdt, offset);
}

/** fdt_next_property_offset(fdt, offset): the property after the one at `offset`, or -FDT_ERR_NOTFOUND. */
export function fdt_next_property_offset(fdt: Uint8Array, offset: number): number {
	offset = fdt_check_prop_offset_(fdt, offset);
	if (offset < 0) return offset;
	return nextprop_(fdt, offset);
}

function get_property_by_offset_(fdt: Uint8Array, offset: number, lenp: IntPtr): number {
	const err = fdt_check_prop_offset_(fdt, offset);
	if (err < 0) {
		lenp[0] = err;
		return -1;
	}
	const prop = fdt_off_dt_struct(fdt) + offset;
	lenp[0] = fdt32_ld(fdt, prop + 4) | 0;
	return prop;
}

/** The property named `name` under the node: its structure offset, or an error in lenp. */
export function fdt_get_property_namelen_(fdt: Uint8Array, nodeoffset: number, name: Uint8Array, lenp: IntPtr): number {
	let offset: number;
	for (offset = fdt_first_property_offset(fdt, nodeoffset); offset >= 0; offset = fdt_next_property_offset(fdt, offset)) {
		const prop = get_property_by_offset_(fdt, offset, lenp);
		if (prop < 0) {
			offset = -FDT_ERR_INTERNAL;
			break;
		}
		if (fdt_string_eq_(fdt, fdt32_ld(fdt, prop + 8) | 0, name)) return offset;
	}
	lenp[0] = offset;
	return -1;
}

/** Where a property's value starts: after the 12-byte header, realigned to 8 in pre-v16 blobs. */
function prop_data_(fdt: Uint8Array, offset: number, len: number): number {
	const data = fdt_off_dt_struct(fdt) + offset + FDT_PROPERTY_SIZE;
	if (fdt_version(fdt) < 0x10 && (offset + FDT_PROPERTY_SIZE) % 8 !== 0 && len >= 8) return data + 4;
	return data;
}

function getprop_(fdt: Uint8Array, nodeoffset: number, name: Uint8Array, lenp?: IntPtr): Uint8Array | null {
	const len = [0];
	const poffset = fdt_get_property_namelen_(fdt, nodeoffset, name, len);
	if (lenp) lenp[0] = len[0]!;
	if (poffset < 0) return null;
	const data = prop_data_(fdt, poffset, len[0]!);
	return fdt.subarray(data, data + len[0]!);
}

/** fdt_getprop_namelen(fdt, nodeoffset, name, namelen, lenp): fdt_getprop() for the first `namelen` bytes of `name`. */
export function fdt_getprop_namelen(fdt: Uint8Array, nodeoffset: number, name: string, namelen: number, lenp?: IntPtr): Uint8Array | null {
	return getprop_(fdt, nodeoffset, cstrn(name, namelen), lenp);
}

/**
 * fdt_getprop(fdt, nodeoffset, name, lenp): the value of property `name` as
 * a view into the blob, with its length in lenp; null when it is missing
 * (lenp = -FDT_ERR_NOTFOUND) or on error (lenp = the error).
 */
export function fdt_getprop(fdt: Uint8Array, nodeoffset: number, name: string, lenp?: IntPtr): Uint8Array | null {
	return getprop_(fdt, nodeoffset, cstr(name), lenp);
}

/**
 * fdt_getprop_by_offset(fdt, offset, namep, lenp): the value of the property
 * at structure offset `offset`; namep[0] receives its name.
 */
export function fdt_getprop_by_offset(fdt: Uint8Array, offset: number, namep?: (string | null)[], lenp?: IntPtr): Uint8Array | null {
	const len = [0];
	const prop = get_property_by_offset_(fdt, offset, len);
	if (lenp) lenp[0] = len[0]!;
	if (prop < 0) return null;
	if (namep) {
		const namelen = [0];
		namep[0] = fdt_get_string(fdt, fdt32_ld(fdt, prop + 8) | 0, namelen);
		if (namep[0] === null) {
			if (lenp) lenp[0] = namelen[0]!;
			return null;
		}
	}
	const data = prop_data_(fdt, offset, len[0]!);
	return fdt.subarray(data, data + len[0]!);
}

/** fdt_get_phandle(fdt, nodeoffset): the node's `phandle` (or `linux,phandle`), 0 if none. */
export function fdt_get_phandle(fdt: Uint8Array, nodeoffset: number): number {
	const len = [0];
	let php = fdt_getprop(fdt, nodeoffset, "phandle", len);
	if (php === null || len[0] !== 4) {
		php = fdt_getprop(fdt, nodeoffset, "linux,phandle", len);
		if (php === null || len[0] !== 4) return 0;
	}
	return fdt32_ld(php);
}

function alias_(fdt: Uint8Array, name: Uint8Array): Uint8Array | null {
	const offset = fdt_path_offset(fdt, "/aliases");
	if (offset < 0) return null;
	const len = [0];
	const alias = getprop_(fdt, offset, name, len);
	if (alias === null || len[0]! <= 0 || alias[len[0]! - 1] !== 0 || alias[0] !== 0x2f) return null;
	return alias.subarray(0, alias.indexOf(0));
}

/** fdt_get_alias(fdt, name): the path `/aliases/<name>` names, or null. */
export function fdt_get_alias(fdt: Uint8Array, name: string): string | null {
	const a = alias_(fdt, cstr(name));
	return a === null ? null : bytes_to_str(a);
}

/** fdt_node_offset_by_prop_value(fdt, startoffset, propname, propval, proplen): next node whose property equals the bytes. */
export function fdt_node_offset_by_prop_value(fdt: Uint8Array, startoffset: number, propname: string, propval: Uint8Array, proplen = propval.length): number {
	const err = fdt_ro_probe_(fdt);
	if (err < 0) return err;
	const len = [0];
	let offset: number;
	for (offset = fdt_next_node(fdt, startoffset); offset >= 0; offset = fdt_next_node(fdt, offset)) {
		const val = fdt_getprop(fdt, offset, propname, len);
		if (val !== null && len[0] === proplen && val.every((b, i) => b === propval[i])) return offset;
	}
	return offset;
}

/** fdt_node_offset_by_phandle(fdt, phandle): the node with that phandle, -FDT_ERR_BADPHANDLE for 0 or ~0. */
export function fdt_node_offset_by_phandle(fdt: Uint8Array, phandle: number): number {
	if (phandle === 0 || phandle >>> 0 === 0xffffffff) return -FDT_ERR_BADPHANDLE;
	const err = fdt_ro_probe_(fdt);
	if (err < 0) return err;
	let offset: number;
	for (offset = fdt_next_node(fdt, -1); offset >= 0; offset = fdt_next_node(fdt, offset)) {
		if (fdt_get_phandle(fdt, offset) === phandle >>> 0) return offset;
	}
	return offset;
}
