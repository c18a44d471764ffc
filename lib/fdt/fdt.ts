/**
 * libfdt's core walker (scripts/dtc/libfdt/fdt.c, dtc v1.8.1): header
 * probes, `fdt_check_header`, `fdt_offset_ptr`, `fdt_next_tag`,
 * `fdt_next_node` and the subnode iterators every other file builds on.
 *
 * Offsets are structure-block offsets, as in C. One addition to C: a blob's
 * bytes end at `fdt.length` as well as at `totalsize` (C trusts totalsize;
 * here the array is the memory), so a header that claims more bytes than
 * the array holds is -FDT_ERR_TRUNCATED and no read goes past either.
 */
import {
	FDT_ERR_ALIGNMENT,
	FDT_ERR_BADMAGIC,
	FDT_ERR_BADOFFSET,
	FDT_ERR_BADSTATE,
	FDT_ERR_BADSTRUCTURE,
	FDT_ERR_BADVERSION,
	FDT_ERR_NOSPACE,
	FDT_ERR_NOTFOUND,
	FDT_ERR_TRUNCATED,
} from "./errors.ts";
import {
	FDT_BEGIN_NODE,
	FDT_END,
	FDT_END_NODE,
	FDT_FIRST_SUPPORTED_VERSION,
	FDT_LAST_SUPPORTED_VERSION,
	FDT_MAGIC,
	FDT_NOP,
	FDT_PROP,
	FDT_PROPERTY_SIZE,
	FDT_SW_MAGIC,
	FDT_TAGALIGN,
	FDT_TAGSIZE,
	INT_MAX,
	fdt32_ld,
	fdt_header_size,
	fdt_last_comp_version,
	fdt_magic,
	fdt_off_dt_strings,
	fdt_off_dt_struct,
	fdt_off_mem_rsvmap,
	fdt_size_dt_strings,
	fdt_size_dt_struct,
	fdt_totalsize,
	fdt_version,
} from "./header.ts";
import type { IntPtr } from "./header.ts";

/**
 * fdt_ro_probe_(fdt): the minimal check every read-only entry point makes.
 * Returns totalsize, or -FDT_ERR_ALIGNMENT (byteOffset not 8-aligned),
 * -FDT_ERR_BADMAGIC, -FDT_ERR_BADVERSION, -FDT_ERR_BADSTATE (a
 * sequential-write blob with nothing in it yet), -FDT_ERR_TRUNCATED.
 */
export function fdt_ro_probe_(fdt: Uint8Array): number {
	const totalsize = fdt_totalsize(fdt);

	if ((fdt.byteOffset & 7) !== 0) return -FDT_ERR_ALIGNMENT;

	if (fdt_magic(fdt) === FDT_MAGIC) {
		if (fdt_version(fdt) < FDT_FIRST_SUPPORTED_VERSION) return -FDT_ERR_BADVERSION;
		if (fdt_last_comp_version(fdt) > FDT_LAST_SUPPORTED_VERSION) return -FDT_ERR_BADVERSION;
	} else if (fdt_magic(fdt) === FDT_SW_MAGIC) {
		if (fdt_size_dt_struct(fdt) === 0) return -FDT_ERR_BADSTATE;
	} else {
		return -FDT_ERR_BADMAGIC;
	}

	if (totalsize < INT_MAX && totalsize <= fdt.length) return totalsize;
	return -FDT_ERR_TRUNCATED;
}

function check_off_(hdrsize: number, totalsize: number, off: number): boolean {
	return off >= hdrsize && off <= totalsize;
}

function check_block_(hdrsize: number, totalsize: number, base: number, size: number): boolean {
	return check_off_(hdrsize, totalsize, base) && check_off_(hdrsize, totalsize, base + size);
}

/**
 * fdt_check_header(fdt): full header sanity check of a finished blob.
 * 0, or -FDT_ERR_BADMAGIC, -FDT_ERR_BADVERSION, -FDT_ERR_ALIGNMENT
 * (a block offset misaligned), -FDT_ERR_TRUNCATED (a block outside
 * totalsize, or totalsize beyond the array).
 */
export function fdt_check_header(fdt: Uint8Array): number {
	if (fdt_magic(fdt) !== FDT_MAGIC) return -FDT_ERR_BADMAGIC;
	if (fdt_version(fdt) < FDT_FIRST_SUPPORTED_VERSION || fdt_last_comp_version(fdt) > FDT_LAST_SUPPORTED_VERSION)
		return -FDT_ERR_BADVERSION;
	if (fdt_version(fdt) < fdt_last_comp_version(fdt)) return -FDT_ERR_BADVERSION;

	const hdrsize = fdt_header_size(fdt);
	const totalsize = fdt_totalsize(fdt);
	if (totalsize < hdrsize || totalsize > INT_MAX || totalsize > fdt.length) return -FDT_ERR_TRUNCATED;

	if (fdt_off_mem_rsvmap(fdt) % 8 !== 0) return -FDT_ERR_ALIGNMENT;
	if (fdt_off_dt_struct(fdt) % FDT_TAGSIZE !== 0) return -FDT_ERR_ALIGNMENT;

	if (!check_off_(hdrsize, totalsize, fdt_off_mem_rsvmap(fdt))) return -FDT_ERR_TRUNCATED;

	if (fdt_version(fdt) < 17) {
		if (!check_off_(hdrsize, totalsize, fdt_off_dt_struct(fdt))) return -FDT_ERR_TRUNCATED;
	} else if (!check_block_(hdrsize, totalsize, fdt_off_dt_struct(fdt), fdt_size_dt_struct(fdt))) {
		return -FDT_ERR_TRUNCATED;
	}

	if (!check_block_(hdrsize, totalsize, fdt_off_dt_strings(fdt), fdt_size_dt_strings(fdt)))
		return -FDT_ERR_TRUNCATED;

	return 0;
}

/**
 * fdt_offset_ptr(fdt, offset, len): where `len` bytes at structure offset
 * `offset` start in `fdt` (an index into the array), or -1 when any of them
 * lies outside the structure block, totalsize or the array (C's NULL).
 */
export function fdt_offset_ptr(fdt: Uint8Array, offset: number, len: number): number {
	if (!(offset >= 0)) return -1;
	const absoffset = offset + fdt_off_dt_struct(fdt);
	if (absoffset + len > Math.min(fdt_totalsize(fdt), fdt.length)) return -1;
	if (fdt_version(fdt) >= 0x11 && offset + len > fdt_size_dt_struct(fdt)) return -1;
	return absoffset;
}

/**
 * fdt_next_tag(fdt, startoffset, nextoffset): the token at `startoffset`;
 * `nextoffset[0]` gets the offset of the token after it. A token cut short
 * or unknown reads as FDT_END with nextoffset -FDT_ERR_TRUNCATED or
 * -FDT_ERR_BADSTRUCTURE.
 */
export function fdt_next_tag(fdt: Uint8Array, startoffset: number, nextoffset?: IntPtr): number {
	const next = nextoffset ?? [0];
	let offset = startoffset;

	next[0] = -FDT_ERR_TRUNCATED;
	const tagp = fdt_offset_ptr(fdt, offset, FDT_TAGSIZE);
	if (tagp === -1) return FDT_END;
	const tag = fdt32_ld(fdt, tagp);
	offset += FDT_TAGSIZE;

	next[0] = -FDT_ERR_BADSTRUCTURE;
	switch (tag) {
		case FDT_BEGIN_NODE: {
			let p: number;
			do {
				p = fdt_offset_ptr(fdt, offset++, 1);
			} while (p !== -1 && fdt[p] !== 0);
			if (p === -1) return FDT_END;
			break;
		}
		case FDT_PROP: {
			const lenp = fdt_offset_ptr(fdt, offset, 4);
			if (lenp === -1) return FDT_END;
			const len = fdt32_ld(fdt, lenp);
			if (len + offset >= INT_MAX) return FDT_END;
			offset += FDT_PROPERTY_SIZE - FDT_TAGSIZE + len;
			if (fdt_version(fdt) < 0x10 && len >= 8 && (offset - len) % 8 !== 0) offset += 4;
			break;
		}
		case FDT_END:
		case FDT_END_NODE:
		case FDT_NOP:
			break;
		default:
			return FDT_END;
	}

	if (fdt_offset_ptr(fdt, startoffset, offset - startoffset) === -1) return FDT_END;

	next[0] = FDT_TAGALIGN(offset);
	return tag;
}

/** fdt_check_node_offset_(fdt, offset): the offset after the BEGIN_NODE at `offset`, or -FDT_ERR_BADOFFSET. */
export function fdt_check_node_offset_(fdt: Uint8Array, offset: number): number {
	if (!(offset >= 0) || offset % FDT_TAGSIZE !== 0) return -FDT_ERR_BADOFFSET;
	const next = [0];
	if (fdt_next_tag(fdt, offset, next) !== FDT_BEGIN_NODE) return -FDT_ERR_BADOFFSET;
	return next[0]!;
}

/** fdt_check_prop_offset_(fdt, offset): the offset after the PROP at `offset`, or -FDT_ERR_BADOFFSET. */
export function fdt_check_prop_offset_(fdt: Uint8Array, offset: number): number {
	if (!(offset >= 0) || offset % FDT_TAGSIZE !== 0) return -FDT_ERR_BADOFFSET;
	const next = [0];
	if (fdt_next_tag(fdt, offset, next) !== FDT_PROP) return -FDT_ERR_BADOFFSET;
	return next[0]!;
}

/**
 * fdt_next_node(fdt, offset, depth): the next node in document order after
 * `offset` (-1 starts at the root). `depth[0]` tracks the nesting; when it
 * drops below 0 the walk has left the starting node and the offset past its
 * end is returned. -FDT_ERR_NOTFOUND at the end of the tree, or an error.
 */
export function fdt_next_node(fdt: Uint8Array, offset: number, depth?: IntPtr): number {
	let nextoffset = 0;
	let tag: number;
	const next = [0];

	if (offset >= 0) {
		nextoffset = fdt_check_node_offset_(fdt, offset);
		if (nextoffset < 0) return nextoffset;
	}

	do {
		offset = nextoffset;
		tag = fdt_next_tag(fdt, offset, next);
		nextoffset = next[0]!;

		switch (tag) {
			case FDT_PROP:
			case FDT_NOP:
				break;
			case FDT_BEGIN_NODE:
				if (depth) depth[0] = depth[0]! + 1;
				break;
			case FDT_END_NODE:
				if (depth) {
					depth[0] = depth[0]! - 1;
					if (depth[0] < 0) return nextoffset;
				}
				break;
			case FDT_END:
				if (nextoffset >= 0 || (nextoffset === -FDT_ERR_TRUNCATED && !depth)) return -FDT_ERR_NOTFOUND;
				return nextoffset;
		}
	} while (tag !== FDT_BEGIN_NODE);

	return offset;
}

/** fdt_first_subnode(fdt, offset): the first child of the node at `offset`, or -FDT_ERR_NOTFOUND. */
export function fdt_first_subnode(fdt: Uint8Array, offset: number): number {
	const depth = [0];
	offset = fdt_next_node(fdt, offset, depth);
	if (offset < 0 || depth[0] !== 1) return -FDT_ERR_NOTFOUND;
	return offset;
}

/** fdt_next_subnode(fdt, offset): the next sibling of the node at `offset`, or -FDT_ERR_NOTFOUND. */
export function fdt_next_subnode(fdt: Uint8Array, offset: number): number {
	const depth = [1];
	do {
		offset = fdt_next_node(fdt, offset, depth);
		if (offset < 0 || depth[0]! < 1) return -FDT_ERR_NOTFOUND;
	} while (depth[0]! > 1);
	return offset;
}

/**
 * fdt_find_string_len_(): the index in `fdt` of the first place in the
 * `tabsize` bytes at `strtab` where `s` followed by NUL appears (also inside
 * a longer string, as its tail), or -1.
 */
export function fdt_find_string_len_(fdt: Uint8Array, strtab: number, tabsize: number, s: Uint8Array): number {
	const slen = s.length;
	// Outside the array nothing can match; clamping keeps a corrupt size from looping for ever.
	const last = Math.min(strtab + tabsize, fdt.length) - (slen + 1);
	for (let p = Math.max(strtab, 0); p <= last; p++) {
		let i = 0;
		while (i < slen && fdt[p + i] === s[i]) i++;
		if (i === slen && fdt[p + slen] === 0) return p;
	}
	return -1;
}

/**
 * fdt_move(fdt, buf, bufsize): copies the blob into `buf` (which may
 * overlap it in the same ArrayBuffer). 0, -FDT_ERR_NOSPACE when it does
 * not fit in `bufsize` (or `buf`), or a probe error.
 */
export function fdt_move(fdt: Uint8Array, buf: Uint8Array, bufsize: number): number {
	if (bufsize < 0) return -FDT_ERR_NOSPACE;
	const err = fdt_ro_probe_(fdt);
	if (err < 0) return err;
	const totalsize = fdt_totalsize(fdt);
	if (totalsize > bufsize || totalsize > buf.length) return -FDT_ERR_NOSPACE;
	buf.set(fdt.subarray(0, totalsize), 0);
	return 0;
}
