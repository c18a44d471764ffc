/**
 * libfdt's sequential-write functions (scripts/dtc/libfdt/fdt_sw.c, dtc
 * v1.8.1): build a tree in a caller-supplied buffer, front to back, as the
 * kernel builds KHO's root FDT in one page.
 *
 * All state lives in the buffer, as in C: while building, the header's
 * magic is FDT_SW_MAGIC, last_comp_version holds the create flags, the
 * structure block grows up from the reservation map and the strings block
 * grows down from the end of the buffer (property name offsets are negative
 * until fdt_finish() moves the strings down and fixes them). The states:
 * after fdt_create() only reservemap calls work; fdt_finish_reservemap()
 * opens the structure; fdt_finish() completes the blob. A call out of order
 * is -FDT_ERR_BADSTATE; a full buffer is -FDT_ERR_NOSPACE and leaves the
 * tree as it was, so the caller may grow the buffer (fdt_resize) and retry.
 */
import { FDT_ERR_BADFLAGS, FDT_ERR_BADMAGIC, FDT_ERR_BADSTATE, FDT_ERR_BADVALUE, FDT_ERR_INTERNAL, FDT_ERR_NOSPACE } from "./errors.ts";
import { fdt_find_string_len_, fdt_next_tag } from "./fdt.ts";
import {
	FDT_ALIGN,
	FDT_BEGIN_NODE,
	FDT_CREATE_FLAGS_ALL,
	FDT_CREATE_FLAG_NO_NAME_DEDUP,
	FDT_END,
	FDT_END_NODE,
	FDT_LAST_COMPATIBLE_VERSION,
	FDT_LAST_SUPPORTED_VERSION,
	FDT_MAGIC,
	FDT_NODE_HEADER_SIZE,
	FDT_PROP,
	FDT_PROPERTY_SIZE,
	FDT_RESERVE_ENTRY_SIZE,
	FDT_SW_MAGIC,
	FDT_TAGALIGN,
	FDT_TAGSIZE,
	FDT_V17_SIZE,
	cpu_to_fdt32,
	cpu_to_fdt64,
	cstr,
	fdt32_ld,
	fdt32_st,
	fdt64_st,
	fdt_last_comp_version,
	fdt_magic,
	fdt_off_dt_strings,
	fdt_off_dt_struct,
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
} from "./header.ts";

function fdt_sw_probe_(fdt: Uint8Array): number {
	if (fdt_magic(fdt) === FDT_MAGIC) return -FDT_ERR_BADSTATE;
	if (fdt_magic(fdt) !== FDT_SW_MAGIC) return -FDT_ERR_BADMAGIC;
	// C trusts totalsize; here a header claiming more than the array is corrupt.
	if (fdt_totalsize(fdt) > fdt.length) return -FDT_ERR_BADSTATE;
	return 0;
}

function fdt_sw_probe_memrsv_(fdt: Uint8Array): number {
	const err = fdt_sw_probe_(fdt);
	if (err) return err;
	return fdt_off_dt_strings(fdt) !== 0 ? -FDT_ERR_BADSTATE : 0;
}

function fdt_sw_probe_struct_(fdt: Uint8Array): number {
	const err = fdt_sw_probe_(fdt);
	if (err) return err;
	return fdt_off_dt_strings(fdt) !== fdt_totalsize(fdt) ? -FDT_ERR_BADSTATE : 0;
}

/** Extends the structure block by `len` bytes; their index in `fdt`, or -1 when they do not fit. */
function fdt_grab_space_(fdt: Uint8Array, len: number): number {
	const offset = fdt_size_dt_struct(fdt);
	const spaceleft = fdt_totalsize(fdt) - fdt_off_dt_struct(fdt) - fdt_size_dt_strings(fdt);
	if (offset + len > spaceleft) return -1;
	fdt_set_size_dt_struct(fdt, offset + len);
	return fdt_off_dt_struct(fdt) + offset;
}

/**
 * fdt_create_with_flags(buf, bufsize, flags): starts an empty tree in the
 * first `bufsize` bytes of `buf`, zeroing them. 0, -FDT_ERR_NOSPACE if
 * bufsize is below the 48-byte header (or beyond the array),
 * -FDT_ERR_BADFLAGS for unknown flags.
 */
export function fdt_create_with_flags(buf: Uint8Array, bufsize: number, flags: number): number {
	const hdrsize = FDT_ALIGN(FDT_V17_SIZE, FDT_RESERVE_ENTRY_SIZE);
	if (!(bufsize >= hdrsize) || bufsize > buf.length) return -FDT_ERR_NOSPACE;
	if ((flags & ~FDT_CREATE_FLAGS_ALL) !== 0) return -FDT_ERR_BADFLAGS;

	buf.fill(0, 0, bufsize);
	fdt_set_magic(buf, FDT_SW_MAGIC);
	fdt_set_version(buf, FDT_LAST_SUPPORTED_VERSION);
	fdt_set_last_comp_version(buf, flags);
	fdt_set_totalsize(buf, bufsize);
	fdt_set_off_mem_rsvmap(buf, hdrsize);
	fdt_set_off_dt_struct(buf, hdrsize);
	fdt_set_off_dt_strings(buf, 0);
	return 0;
}

/** fdt_create(buf, bufsize): fdt_create_with_flags(buf, bufsize, 0). */
export function fdt_create(buf: Uint8Array, bufsize: number): number {
	return fdt_create_with_flags(buf, bufsize, 0);
}

/**
 * fdt_resize(fdt, buf, bufsize): moves a tree under construction into `buf`
 * (a new buffer, or the same one grown) of `bufsize` bytes.
 * 0, -FDT_ERR_NOSPACE if its contents do not fit, or a state error.
 */
export function fdt_resize(fdt: Uint8Array, buf: Uint8Array, bufsize: number): number {
	const err = fdt_sw_probe_(fdt);
	if (err) return err;

	const headsize = fdt_off_dt_struct(fdt) + fdt_size_dt_struct(fdt);
	const tailsize = fdt_size_dt_strings(fdt);
	if (headsize + tailsize > fdt_totalsize(fdt)) return -FDT_ERR_INTERNAL;
	if (headsize + tailsize > bufsize || bufsize > buf.length) return -FDT_ERR_NOSPACE;

	const oldtail = fdt_totalsize(fdt) - tailsize;
	const newtail = bufsize - tailsize;
	// TypedArray.set copies through a temporary when both views share memory: memmove.
	const head = fdt.subarray(0, headsize);
	const tail = fdt.subarray(oldtail, oldtail + tailsize);
	if (buf.buffer === fdt.buffer && buf.byteOffset > fdt.byteOffset) {
		buf.set(tail.slice(), newtail);
		buf.set(head.slice(), 0);
	} else {
		buf.set(head.slice(), 0);
		buf.set(tail.slice(), newtail);
	}

	fdt_set_totalsize(buf, bufsize);
	if (fdt_off_dt_strings(buf) !== 0) fdt_set_off_dt_strings(buf, bufsize);
	return 0;
}

/** fdt_add_reservemap_entry(fdt, addr, size): appends a /memreserve/ entry. 0, -FDT_ERR_NOSPACE, -FDT_ERR_BADSTATE. */
export function fdt_add_reservemap_entry(fdt: Uint8Array, addr: bigint | number, size: bigint | number): number {
	const err = fdt_sw_probe_memrsv_(fdt);
	if (err) return err;

	const offset = fdt_off_dt_struct(fdt);
	if (offset + FDT_RESERVE_ENTRY_SIZE > fdt_totalsize(fdt)) return -FDT_ERR_NOSPACE;
	fdt64_st(fdt, offset, addr);
	fdt64_st(fdt, offset + 8, size);
	fdt_set_off_dt_struct(fdt, offset + FDT_RESERVE_ENTRY_SIZE);
	return 0;
}

/** fdt_finish_reservemap(fdt): writes the (0, 0) terminator and opens the structure block. */
export function fdt_finish_reservemap(fdt: Uint8Array): number {
	const err = fdt_add_reservemap_entry(fdt, 0, 0);
	if (err) return err;
	fdt_set_off_dt_strings(fdt, fdt_totalsize(fdt));
	return 0;
}

/** fdt_begin_node(fdt, name): opens node `name` ("" for the root) inside the current one. */
export function fdt_begin_node(fdt: Uint8Array, name: string): number {
	const err = fdt_sw_probe_struct_(fdt);
	if (err) return err;

	const n = cstr(name);
	const namelen = n.length + 1;
	const nh = fdt_grab_space_(fdt, FDT_NODE_HEADER_SIZE + FDT_TAGALIGN(namelen));
	if (nh < 0) return -FDT_ERR_NOSPACE;

	fdt32_st(fdt, nh, FDT_BEGIN_NODE);
	fdt.set(n, nh + FDT_NODE_HEADER_SIZE);
	fdt[nh + FDT_NODE_HEADER_SIZE + n.length] = 0;
	return 0;
}

/** fdt_end_node(fdt): closes the current node. */
export function fdt_end_node(fdt: Uint8Array): number {
	const err = fdt_sw_probe_struct_(fdt);
	if (err) return err;

	const en = fdt_grab_space_(fdt, FDT_TAGSIZE);
	if (en < 0) return -FDT_ERR_NOSPACE;
	fdt32_st(fdt, en, FDT_END_NODE);
	return 0;
}

/** Adds `s` to the strings block at the buffer's end; its (negative) offset, or 0 when there is no room. */
function fdt_add_string_(fdt: Uint8Array, s: Uint8Array): number {
	const strtabsize = fdt_size_dt_strings(fdt);
	const len = s.length + 1;
	const offset = -strtabsize - len;
	const struct_top = fdt_off_dt_struct(fdt) + fdt_size_dt_struct(fdt);
	if (fdt_totalsize(fdt) + offset < struct_top) return 0;

	const at = fdt_totalsize(fdt) + offset;
	fdt.set(s, at);
	fdt[at + s.length] = 0;
	fdt_set_size_dt_strings(fdt, strtabsize + len);
	return offset;
}

/**
 * Finds `s` in the strings block (also as the tail of a longer name, as
 * libfdt does) or adds it; allocated[0] says whether it was added.
 */
function fdt_find_add_string_(fdt: Uint8Array, s: Uint8Array, allocated: boolean[]): number {
	const strtabsize = fdt_size_dt_strings(fdt);
	const strtab = fdt_totalsize(fdt);
	allocated[0] = false;
	const p = fdt_find_string_len_(fdt, strtab - strtabsize, strtabsize, s);
	if (p >= 0) return p - strtab;
	allocated[0] = true;
	return fdt_add_string_(fdt, s);
}

/**
 * fdt_property_placeholder(fdt, name, len, valp): adds property `name` with
 * room for `len` bytes; valp[0] receives a view of them to fill in. The
 * view stays valid after fdt_finish() (only the strings block moves), which
 * is how KHO fills in `preserved-memory-map` late.
 */
export function fdt_property_placeholder(fdt: Uint8Array, name: string, len: number, valp?: (Uint8Array | null)[]): number {
	const err = fdt_sw_probe_struct_(fdt);
	if (err) return err;
	if (!Number.isInteger(len)) return -FDT_ERR_BADVALUE;

	const n = cstr(name);
	const allocated = [true];
	const nameoff =
		(fdt_last_comp_version(fdt) & FDT_CREATE_FLAG_NO_NAME_DEDUP) !== 0
			? fdt_add_string_(fdt, n)
			: fdt_find_add_string_(fdt, n, allocated);
	if (nameoff === 0) return -FDT_ERR_NOSPACE;

	// A negative len is a huge size_t in C: no room, after the name went in.
	const prop = len >= 0 ? fdt_grab_space_(fdt, FDT_PROPERTY_SIZE + FDT_TAGALIGN(len)) : -1;
	if (prop < 0) {
		if (allocated[0]) fdt_set_size_dt_strings(fdt, fdt_size_dt_strings(fdt) - (n.length + 1));
		return -FDT_ERR_NOSPACE;
	}

	fdt32_st(fdt, prop, FDT_PROP);
	fdt32_st(fdt, prop + 4, len);
	fdt32_st(fdt, prop + 8, nameoff);
	if (valp) valp[0] = fdt.subarray(prop + FDT_PROPERTY_SIZE, prop + FDT_PROPERTY_SIZE + len);
	return 0;
}

/**
 * fdt_property(fdt, name, val, len): adds property `name` with the first
 * `len` bytes of `val` (all of it by default). -FDT_ERR_BADVALUE if `len`
 * is longer than `val` (C would read past it) or not an integer.
 */
export function fdt_property(fdt: Uint8Array, name: string, val: Uint8Array, len: number = val.length): number {
	if (!Number.isInteger(len) || len > val.length) return -FDT_ERR_BADVALUE;
	const ptr: (Uint8Array | null)[] = [null];
	const ret = fdt_property_placeholder(fdt, name, len, ptr);
	if (ret) return ret;
	ptr[0]!.set(val.subarray(0, len));
	return 0;
}

/** fdt_property_u32(fdt, name, val): a 4-byte big-endian property. */
export function fdt_property_u32(fdt: Uint8Array, name: string, val: number): number {
	return fdt_property(fdt, name, cpu_to_fdt32(val));
}

/** fdt_property_u64(fdt, name, val): an 8-byte big-endian property. */
export function fdt_property_u64(fdt: Uint8Array, name: string, val: bigint | number): number {
	return fdt_property(fdt, name, cpu_to_fdt64(val));
}

/** fdt_property_cell(fdt, name, val): fdt_property_u32(). */
export function fdt_property_cell(fdt: Uint8Array, name: string, val: number): number {
	return fdt_property_u32(fdt, name, val);
}

/** fdt_property_string(fdt, name, str): `str` and its NUL (strlen(str) + 1 bytes). */
export function fdt_property_string(fdt: Uint8Array, name: string, str: string): number {
	const s = cstr(str);
	const v = new Uint8Array(s.length + 1);
	v.set(s);
	return fdt_property(fdt, name, v);
}

/**
 * fdt_finish(fdt): writes FDT_END, moves the strings block down behind the
 * structure, fixes every property's name offset and turns the header into
 * a finished version-17 blob whose totalsize is the compact size.
 */
export function fdt_finish(fdt: Uint8Array): number {
	const err = fdt_sw_probe_struct_(fdt);
	if (err) return err;

	const end = fdt_grab_space_(fdt, FDT_TAGSIZE);
	if (end < 0) return -FDT_ERR_NOSPACE;
	fdt32_st(fdt, end, FDT_END);

	const oldstroffset = fdt_totalsize(fdt) - fdt_size_dt_strings(fdt);
	const newstroffset = fdt_off_dt_struct(fdt) + fdt_size_dt_struct(fdt);
	fdt.copyWithin(newstroffset, oldstroffset, oldstroffset + fdt_size_dt_strings(fdt));
	fdt_set_off_dt_strings(fdt, newstroffset);

	let offset = 0;
	let tag: number;
	const next = [0];
	while ((tag = fdt_next_tag(fdt, offset, next)) !== FDT_END) {
		if (tag === FDT_PROP) {
			const nameoff = fdt_off_dt_struct(fdt) + offset + 8;
			fdt32_st(fdt, nameoff, (fdt32_ld(fdt, nameoff) | 0) + fdt_size_dt_strings(fdt));
		}
		offset = next[0]!;
	}
	if (next[0]! < 0) return next[0]!;

	fdt_set_totalsize(fdt, newstroffset + fdt_size_dt_strings(fdt));
	fdt_set_last_comp_version(fdt, FDT_LAST_COMPATIBLE_VERSION);
	fdt_set_magic(fdt, FDT_MAGIC);
	return 0;
}
