/**
 * libfdt's read-write functions (scripts/dtc/libfdt/fdt_rw.c, dtc v1.8.1)
 * and fdt_create_empty_tree() (fdt_empty_tree.c): edit a finished blob in
 * place inside its buffer, as LUO edits its FDT with fdt_setprop_string().
 *
 * The blob's totalsize is its buffer: fdt_open_into() copies a blob into a
 * larger buffer (or grows it where it is) and edits splice bytes within
 * totalsize, returning -FDT_ERR_NOSPACE when they would not fit. Editing
 * shifts every offset after the edit point, so callers look nodes up again
 * afterwards, as in C. New properties go first in their node and new
 * subnodes right after the parent's properties, as libfdt places them.
 */
import { FDT_ERR_BADLAYOUT, FDT_ERR_BADOFFSET, FDT_ERR_BADVALUE, FDT_ERR_BADVERSION, FDT_ERR_EXISTS, FDT_ERR_INTERNAL, FDT_ERR_NOSPACE, FDT_ERR_NOTFOUND } from "./errors.ts";
import { fdt_check_node_offset_, fdt_find_string_len_, fdt_move, fdt_next_node, fdt_next_tag, fdt_ro_probe_ } from "./fdt.ts";
import { fdt_get_property_namelen_, fdt_num_mem_rsv, fdt_subnode_offset_namelen } from "./fdt_ro.ts";
import { fdt_create, fdt_begin_node, fdt_end_node, fdt_finish, fdt_finish_reservemap } from "./fdt_sw.ts";
import {
	FDT_ALIGN,
	FDT_BEGIN_NODE,
	FDT_END,
	FDT_END_NODE,
	FDT_LAST_COMPATIBLE_VERSION,
	FDT_LAST_SUPPORTED_VERSION,
	FDT_MAGIC,
	FDT_NODE_HEADER_SIZE,
	FDT_NOP,
	FDT_PROP,
	FDT_PROPERTY_SIZE,
	FDT_RESERVE_ENTRY_SIZE,
	FDT_TAGALIGN,
	FDT_TAGSIZE,
	FDT_V17_SIZE,
	cpu_to_fdt32,
	cpu_to_fdt64,
	cstr,
	cstrn,
	fdt32_st,
	fdt_boot_cpuid_phys,
	fdt_off_dt_strings,
	fdt_off_dt_struct,
	fdt_off_mem_rsvmap,
	fdt_set_boot_cpuid_phys,
	fdt_set_last_comp_version,
	fdt_set_magic,
	fdt_set_off_dt_strings,
	fdt_set_off_dt_struct,
	fdt_set_off_mem_rsvmap,
	fdt_set_size_dt_strings,
	fdt_set_size_dt_struct,
	fdt_set_totalsize,
	fdt_set_version,
	fdt_size_dt_strings,
	fdt_size_dt_struct,
	fdt_totalsize,
	fdt_version,
} from "./header.ts";

/** Where the reservation map starts in a packed blob: the header, 8-aligned. */
const PACKED_RSVMAP_OFF = FDT_ALIGN(FDT_V17_SIZE, 8);

function fdt_blocks_misordered_(fdt: Uint8Array, mem_rsv_size: number, struct_size: number): boolean {
	return (
		fdt_off_mem_rsvmap(fdt) < PACKED_RSVMAP_OFF ||
		fdt_off_dt_struct(fdt) < fdt_off_mem_rsvmap(fdt) + mem_rsv_size ||
		fdt_off_dt_strings(fdt) < fdt_off_dt_struct(fdt) + struct_size ||
		fdt_totalsize(fdt) < fdt_off_dt_strings(fdt) + fdt_size_dt_strings(fdt)
	);
}

function fdt_rw_probe_(fdt: Uint8Array): number {
	const err = fdt_ro_probe_(fdt);
	if (err < 0) return err;
	if (fdt_version(fdt) < 17) return -FDT_ERR_BADVERSION;
	if (fdt_blocks_misordered_(fdt, FDT_RESERVE_ENTRY_SIZE, fdt_size_dt_struct(fdt))) return -FDT_ERR_BADLAYOUT;
	if (fdt_version(fdt) > FDT_LAST_SUPPORTED_VERSION) fdt_set_version(fdt, FDT_LAST_SUPPORTED_VERSION);
	return 0;
}

function fdt_data_size_(fdt: Uint8Array): number {
	return fdt_off_dt_strings(fdt) + fdt_size_dt_strings(fdt);
}

/** Replaces `oldlen` bytes at index `p` with `newlen` bytes, moving everything after them up to the end of the strings. */
function fdt_splice_(fdt: Uint8Array, p: number, oldlen: number, newlen: number): number {
	const dsize = fdt_data_size_(fdt);
	if (oldlen < 0 || p + oldlen > dsize) return -FDT_ERR_BADOFFSET;
	if (p < 0 || dsize + newlen < oldlen) return -FDT_ERR_BADOFFSET;
	if (dsize - oldlen + newlen > fdt_totalsize(fdt)) return -FDT_ERR_NOSPACE;
	fdt.copyWithin(p + newlen, p + oldlen, dsize);
	return 0;
}

function fdt_splice_struct_(fdt: Uint8Array, p: number, oldlen: number, newlen: number): number {
	const delta = newlen - oldlen;
	const err = fdt_splice_(fdt, p, oldlen, newlen);
	if (err) return err;
	fdt_set_size_dt_struct(fdt, fdt_size_dt_struct(fdt) + delta);
	fdt_set_off_dt_strings(fdt, fdt_off_dt_strings(fdt) + delta);
	return 0;
}

function fdt_splice_string_(fdt: Uint8Array, newlen: number): number {
	const p = fdt_off_dt_strings(fdt) + fdt_size_dt_strings(fdt);
	const err = fdt_splice_(fdt, p, 0, newlen);
	if (err) return err;
	fdt_set_size_dt_strings(fdt, fdt_size_dt_strings(fdt) + newlen);
	return 0;
}

function fdt_find_add_string_(fdt: Uint8Array, s: Uint8Array, allocated: boolean[]): number {
	const strtab = fdt_off_dt_strings(fdt);
	allocated[0] = false;
	const p = fdt_find_string_len_(fdt, strtab, fdt_size_dt_strings(fdt), s);
	if (p >= 0) return p - strtab;

	const at = strtab + fdt_size_dt_strings(fdt);
	const err = fdt_splice_string_(fdt, s.length + 1);
	if (err) return err;
	allocated[0] = true;
	fdt.set(s, at);
	fdt[at + s.length] = 0;
	return at - strtab;
}

/** Resizes the node's property `name` to `len` bytes: the index of its struct in `fdt`, or an error. */
function fdt_resize_property_(fdt: Uint8Array, nodeoffset: number, name: Uint8Array, len: number): number {
	const oldlen = [0];
	const offset = fdt_get_property_namelen_(fdt, nodeoffset, name, oldlen);
	if (offset < 0) return oldlen[0]!;
	const prop = fdt_off_dt_struct(fdt) + offset;
	const err = fdt_splice_struct_(fdt, prop + FDT_PROPERTY_SIZE, FDT_TAGALIGN(oldlen[0]!), FDT_TAGALIGN(len));
	if (err) return err;
	fdt32_st(fdt, prop + 4, len);
	return prop;
}

function fdt_add_property_(fdt: Uint8Array, nodeoffset: number, name: Uint8Array, len: number): number {
	const nextoffset = fdt_check_node_offset_(fdt, nodeoffset);
	if (nextoffset < 0) return nextoffset;

	const allocated = [false];
	const namestroff = fdt_find_add_string_(fdt, name, allocated);
	if (namestroff < 0) return namestroff;

	const prop = fdt_off_dt_struct(fdt) + nextoffset;
	const err = fdt_splice_struct_(fdt, prop, 0, FDT_PROPERTY_SIZE + FDT_TAGALIGN(len));
	if (err) {
		if (allocated[0]) fdt_set_size_dt_strings(fdt, fdt_size_dt_strings(fdt) - (name.length + 1));
		return err;
	}
	fdt32_st(fdt, prop, FDT_PROP);
	fdt32_st(fdt, prop + 4, len);
	fdt32_st(fdt, prop + 8, namestroff);
	return prop;
}

/**
 * fdt_setprop_placeholder(fdt, nodeoffset, name, len, prop_data): makes
 * property `name` `len` bytes long (creating it first in the node if it is
 * missing); prop_data[0] receives a view of its value to fill in.
 */
export function fdt_setprop_placeholder(fdt: Uint8Array, nodeoffset: number, name: string, len: number, prop_data?: (Uint8Array | null)[]): number {
	const err = fdt_rw_probe_(fdt);
	if (err) return err;
	// C takes a negative len as a huge size; no blob can hold it.
	if (!Number.isInteger(len) || len < 0) return -FDT_ERR_BADVALUE;

	const n = cstr(name);
	let prop = fdt_resize_property_(fdt, nodeoffset, n, len);
	if (prop === -FDT_ERR_NOTFOUND) prop = fdt_add_property_(fdt, nodeoffset, n, len);
	if (prop < 0) return prop;
	if (prop_data) prop_data[0] = fdt.subarray(prop + FDT_PROPERTY_SIZE, prop + FDT_PROPERTY_SIZE + len);
	return 0;
}

/**
 * fdt_setprop(fdt, nodeoffset, name, val, len): sets property `name` to the
 * first `len` bytes of `val` (all of it by default). 0, -FDT_ERR_NOSPACE,
 * -FDT_ERR_BADOFFSET, -FDT_ERR_BADLAYOUT, ...; -FDT_ERR_BADVALUE if `len`
 * is negative or longer than `val`.
 */
export function fdt_setprop(fdt: Uint8Array, nodeoffset: number, name: string, val: Uint8Array, len: number = val.length): number {
	if (!Number.isInteger(len) || len < 0 || len > val.length) return -FDT_ERR_BADVALUE;
	const data: (Uint8Array | null)[] = [null];
	const err = fdt_setprop_placeholder(fdt, nodeoffset, name, len, data);
	if (err) return err;
	data[0]!.set(val.subarray(0, len));
	return 0;
}

/** fdt_setprop_u32(fdt, nodeoffset, name, val): a 4-byte big-endian value. */
export function fdt_setprop_u32(fdt: Uint8Array, nodeoffset: number, name: string, val: number): number {
	return fdt_setprop(fdt, nodeoffset, name, cpu_to_fdt32(val));
}

/** fdt_setprop_u64(fdt, nodeoffset, name, val): an 8-byte big-endian value. */
export function fdt_setprop_u64(fdt: Uint8Array, nodeoffset: number, name: string, val: bigint | number): number {
	return fdt_setprop(fdt, nodeoffset, name, cpu_to_fdt64(val));
}

/** fdt_setprop_cell(fdt, nodeoffset, name, val): fdt_setprop_u32(). */
export function fdt_setprop_cell(fdt: Uint8Array, nodeoffset: number, name: string, val: number): number {
	return fdt_setprop_u32(fdt, nodeoffset, name, val);
}

/** fdt_setprop_string(fdt, nodeoffset, name, str): `str` and its NUL. */
export function fdt_setprop_string(fdt: Uint8Array, nodeoffset: number, name: string, str: string): number {
	const s = cstr(str);
	const v = new Uint8Array(s.length + 1);
	v.set(s);
	return fdt_setprop(fdt, nodeoffset, name, v);
}

/** fdt_delprop(fdt, nodeoffset, name): removes property `name`; -FDT_ERR_NOTFOUND if it is missing. */
export function fdt_delprop(fdt: Uint8Array, nodeoffset: number, name: string): number {
	const err = fdt_rw_probe_(fdt);
	if (err) return err;
	const len = [0];
	const offset = fdt_get_property_namelen_(fdt, nodeoffset, cstr(name), len);
	if (offset < 0) return len[0]!;
	return fdt_splice_struct_(fdt, fdt_off_dt_struct(fdt) + offset, FDT_PROPERTY_SIZE + FDT_TAGALIGN(len[0]!), 0);
}

/**
 * fdt_add_subnode_namelen(fdt, parentoffset, name, namelen): adds an empty
 * child named by the first `namelen` bytes of `name`; returns its offset,
 * or -FDT_ERR_EXISTS, -FDT_ERR_NOSPACE, ...
 */
export function fdt_add_subnode_namelen(fdt: Uint8Array, parentoffset: number, name: string, namelen: number): number {
	const err = fdt_rw_probe_(fdt);
	if (err) return err;

	let offset = fdt_subnode_offset_namelen(fdt, parentoffset, name, namelen);
	if (offset >= 0) return -FDT_ERR_EXISTS;
	if (offset !== -FDT_ERR_NOTFOUND) return offset;

	const next = [0];
	let tag = fdt_next_tag(fdt, parentoffset, next);
	if (tag !== FDT_BEGIN_NODE) return -FDT_ERR_INTERNAL;
	do {
		offset = next[0]!;
		tag = fdt_next_tag(fdt, offset, next);
	} while (tag === FDT_PROP || tag === FDT_NOP);

	const n = cstrn(name, namelen);
	const nh = fdt_off_dt_struct(fdt) + offset;
	const nodelen = FDT_NODE_HEADER_SIZE + FDT_TAGALIGN(n.length + 1) + FDT_TAGSIZE;
	const e = fdt_splice_struct_(fdt, nh, 0, nodelen);
	if (e) return e;

	fdt32_st(fdt, nh, FDT_BEGIN_NODE);
	fdt.fill(0, nh + FDT_NODE_HEADER_SIZE, nh + FDT_NODE_HEADER_SIZE + FDT_TAGALIGN(n.length + 1));
	fdt.set(n, nh + FDT_NODE_HEADER_SIZE);
	fdt32_st(fdt, nh + nodelen - FDT_TAGSIZE, FDT_END_NODE);
	return offset;
}

/** fdt_add_subnode(fdt, parentoffset, name): adds child `name`; its offset or an error. */
export function fdt_add_subnode(fdt: Uint8Array, parentoffset: number, name: string): number {
	const n = cstr(name);
	return fdt_add_subnode_namelen(fdt, parentoffset, name, n.length);
}

/** fdt_del_node(fdt, nodeoffset): removes the node and everything under it. */
export function fdt_del_node(fdt: Uint8Array, nodeoffset: number): number {
	const err = fdt_rw_probe_(fdt);
	if (err) return err;

	let endoffset = nodeoffset;
	const depth = [0];
	while (endoffset >= 0 && depth[0]! >= 0) endoffset = fdt_next_node(fdt, endoffset, depth);
	if (endoffset < 0) return endoffset;

	return fdt_splice_struct_(fdt, fdt_off_dt_struct(fdt) + nodeoffset, endoffset - nodeoffset, 0);
}

/** Lays the three blocks of `old` out back to back after the header of `dst` (views that may share memory). */
function fdt_packblocks_(old: Uint8Array, dst: Uint8Array, mem_rsv_size: number, struct_size: number, strings_size: number): void {
	const mem_rsv_off = PACKED_RSVMAP_OFF;
	const struct_off = mem_rsv_off + mem_rsv_size;
	const strings_off = struct_off + struct_size;
	// TypedArray.set copies through a temporary when the views overlap: memmove.
	const move = (to: number, from: number, len: number): void => dst.set(old.subarray(from, from + len), to);

	move(mem_rsv_off, fdt_off_mem_rsvmap(old), mem_rsv_size);
	fdt_set_off_mem_rsvmap(dst, mem_rsv_off);

	move(struct_off, fdt_off_dt_struct(old), struct_size);
	fdt_set_off_dt_struct(dst, struct_off);
	fdt_set_size_dt_struct(dst, struct_size);

	move(strings_off, fdt_off_dt_strings(old), strings_size);
	fdt_set_off_dt_strings(dst, strings_off);
	fdt_set_size_dt_strings(dst, fdt_size_dt_strings(old));
}

/**
 * fdt_open_into(fdt, buf, bufsize): copies the blob into `buf` (the same
 * array, or another view of the same memory, is fine), reordering its
 * blocks if needed, and makes totalsize `bufsize` so that edits have room.
 * 0, -FDT_ERR_NOSPACE if it does not fit, or a probe error.
 */
export function fdt_open_into(fdt: Uint8Array, buf: Uint8Array, bufsize: number): number {
	let err = fdt_ro_probe_(fdt);
	if (err < 0) return err;
	if (bufsize > buf.length) return -FDT_ERR_NOSPACE;

	err = fdt_num_mem_rsv(fdt);
	if (err < 0) return err;
	const mem_rsv_size = (err + 1) * FDT_RESERVE_ENTRY_SIZE;

	let struct_size: number;
	if (fdt_version(fdt) >= 17) {
		struct_size = fdt_size_dt_struct(fdt);
	} else if (fdt_version(fdt) === 16) {
		const next = [0];
		while (fdt_next_tag(fdt, next[0]!, next) !== FDT_END);
		struct_size = next[0]!;
		if (struct_size < 0) return struct_size;
	} else {
		return -FDT_ERR_BADVERSION;
	}

	if (!fdt_blocks_misordered_(fdt, mem_rsv_size, struct_size)) {
		err = fdt_move(fdt, buf, bufsize);
		if (err) return err;
		fdt_set_version(buf, 17);
		fdt_set_size_dt_struct(buf, struct_size);
		fdt_set_totalsize(buf, bufsize);
		return 0;
	}

	const newsize = PACKED_RSVMAP_OFF + mem_rsv_size + struct_size + fdt_size_dt_strings(fdt);
	if (bufsize < newsize) return -FDT_ERR_NOSPACE;

	// Build at the start of buf, or right after the old blob if that would overlap it.
	let tmp = 0;
	if (buf.buffer === fdt.buffer) {
		const fdtstart = fdt.byteOffset;
		const fdtend = fdtstart + fdt_totalsize(fdt);
		if (buf.byteOffset + newsize > fdtstart && buf.byteOffset < fdtend) {
			tmp = fdtend - buf.byteOffset;
			if (tmp + newsize > bufsize) return -FDT_ERR_NOSPACE;
		}
	}

	fdt_packblocks_(fdt, buf.subarray(tmp), mem_rsv_size, struct_size, fdt_size_dt_strings(fdt));
	buf.copyWithin(0, tmp, tmp + newsize);

	fdt_set_magic(buf, FDT_MAGIC);
	fdt_set_totalsize(buf, bufsize);
	fdt_set_version(buf, 17);
	fdt_set_last_comp_version(buf, FDT_LAST_COMPATIBLE_VERSION);
	fdt_set_boot_cpuid_phys(buf, fdt_boot_cpuid_phys(fdt));
	return 0;
}

/** fdt_pack(fdt): squeezes out free space; totalsize becomes the data size. */
export function fdt_pack(fdt: Uint8Array): number {
	const err = fdt_rw_probe_(fdt);
	if (err) return err;
	const n = fdt_num_mem_rsv(fdt);
	if (n < 0) return n;
	const mem_rsv_size = (n + 1) * FDT_RESERVE_ENTRY_SIZE;
	// A reservation map running into the structure block would make C write past totalsize.
	if (PACKED_RSVMAP_OFF + mem_rsv_size + fdt_size_dt_struct(fdt) + fdt_size_dt_strings(fdt) > fdt_totalsize(fdt))
		return -FDT_ERR_BADLAYOUT;
	fdt_packblocks_(fdt, fdt, mem_rsv_size, fdt_size_dt_struct(fdt), fdt_size_dt_strings(fdt));
	fdt_set_totalsize(fdt, fdt_data_size_(fdt));
	return 0;
}

/**
 * fdt_create_empty_tree(buf, bufsize): a finished tree with only a root
 * node, opened into the whole `bufsize` so it can be edited; as LUO makes
 * its 1 MiB FDT (totalsize stays `bufsize`).
 */
export function fdt_create_empty_tree(buf: Uint8Array, bufsize: number): number {
	let err = fdt_create(buf, bufsize);
	if (err) return err;
	err = fdt_finish_reservemap(buf);
	if (err) return err;
	err = fdt_begin_node(buf, "");
	if (err) return err;
	err = fdt_end_node(buf);
	if (err) return err;
	err = fdt_finish(buf);
	if (err) return err;
	return fdt_open_into(buf, buf, bufsize);
}
