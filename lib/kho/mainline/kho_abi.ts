/**
 * The mainline KHO ABI (include/linux/kho/abi/kexec_handover.h, newest
 * stored text, and include/linux/kho/abi/kexec_metadata.h): the root FDT's
 * names, the radix tree's constants, `struct kho_vmalloc` and its chunk
 * pages, and `struct kho_kexec_metadata`. Everything here is a byte layout
 * one kernel writes and the next reads; values are CPU-native
 * (little-endian on x86_64), not FDT big-endian.
 */
import { PAGE_SHIFT, PAGE_SIZE } from "../../mm/physmem.ts";

/**
 * KHO_FDT_COMPATIBLE. "kho-v4" is the value in the newest stored
 * kexec_handover.h (digest-upstream §5.3: v2 radix map, v3 blob-size, v4);
 * luosim models no older mainline layout, so any other string is refused.
 */
export const KHO_FDT_COMPATIBLE = "kho-v4";
/** KHO_FDT_MEMORY_MAP_PROP_NAME: root property, u64 phys of the radix tree's root node. */
export const KHO_FDT_MEMORY_MAP_PROP_NAME = "preserved-memory-map";
/** KHO_SUB_TREE_PROP_NAME: a subtree node's u64 phys of its blob. */
export const KHO_SUB_TREE_PROP_NAME = "preserved-data";
/** KHO_SUB_TREE_SIZE_PROP_NAME: a subtree node's u64 blob size in bytes. */
export const KHO_SUB_TREE_SIZE_PROP_NAME = "blob-size";

/** KHO_PAGE_MAGIC ('KHOP'): stamped into page->private of each preserved block's head. */
export const KHO_PAGE_MAGIC = 0x4b484f50;

/** KHO_ORDER_0_LOG2: the order bit's position for order 0 (64 - PAGE_SHIFT). */
export const KHO_ORDER_0_LOG2 = 64 - PAGE_SHIFT;
/** KHO_TABLE_SIZE_LOG2: 512 u64 entries per intermediate node. */
export const KHO_TABLE_SIZE_LOG2 = 9;
/** KHO_BITMAP_SIZE_LOG2: 32768 bits per leaf. */
export const KHO_BITMAP_SIZE_LOG2 = PAGE_SHIFT + 3;
/** KHO_TREE_MAX_DEPTH: intermediate levels plus the bitmap level (6 with 4 KiB pages). */
export const KHO_TREE_MAX_DEPTH = Math.ceil((KHO_ORDER_0_LOG2 - KHO_BITMAP_SIZE_LOG2) / KHO_TABLE_SIZE_LOG2) + 1;

/** KHO_VMALLOC_SIZE: physical addresses per chunk page after its `next` header (511). */
export const KHO_VMALLOC_SIZE = (PAGE_SIZE - 8) / 8;
/** sizeof(struct kho_vmalloc). */
export const KHO_VMALLOC_DESC_SIZE = 16;
/** KHO_VMALLOC_ALLOC: the area came from vmalloc (VM_ALLOC). */
export const KHO_VMALLOC_ALLOC = 0x0001;
/** KHO_VMALLOC_HUGE_VMAP: the area may be mapped with huge pages (VM_ALLOW_HUGE_VMAP). */
export const KHO_VMALLOC_HUGE_VMAP = 0x0002;

/**
 * struct kho_vmalloc, 16 bytes: @0 u64 phys of the first chunk page (0:
 * none), @8 u32 total_pages, @12 u16 flags (KHO_VMALLOC_*), @14 u16 order.
 */
export interface KhoVmalloc {
	first: number;
	total_pages: number;
	flags: number;
	order: number;
}

/** A u64 read as a JS number; values past 2^53 (never a real address here) become Infinity. */
export function ld64(buf: Uint8Array, off: number): number {
	const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	const lo = v.getUint32(off, true);
	const hi = v.getUint32(off + 4, true);
	return hi >= 0x200000 ? Infinity : hi * 0x100000000 + lo;
}

/** Stores a non-negative safe integer as a little-endian u64. */
export function st64(buf: Uint8Array, off: number, val: number): void {
	const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	v.setUint32(off, val % 0x100000000, true);
	v.setUint32(off + 4, Math.floor(val / 0x100000000), true);
}

/** The 16 bytes of a `struct kho_vmalloc` (what memfd_luo_ser embeds at @32). */
export function kho_vmalloc_encode(desc: KhoVmalloc): Uint8Array {
	const buf = new Uint8Array(KHO_VMALLOC_DESC_SIZE);
	const v = new DataView(buf.buffer);
	st64(buf, 0, desc.first);
	v.setUint32(8, desc.total_pages >>> 0, true);
	v.setUint16(12, desc.flags & 0xffff, true);
	v.setUint16(14, desc.order & 0xffff, true);
	return buf;
}

/** Parses a `struct kho_vmalloc` from its first 16 bytes. */
export function kho_vmalloc_decode(buf: Uint8Array): KhoVmalloc {
	if (buf.length < KHO_VMALLOC_DESC_SIZE) throw new RangeError(`kho_vmalloc_decode: ${buf.length} bytes, need ${KHO_VMALLOC_DESC_SIZE}`);
	const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	return { first: ld64(buf, 0), total_pages: v.getUint32(8, true), flags: v.getUint16(12, true), order: v.getUint16(14, true) };
}

/** KHO_METADATA_NODE_NAME. */
export const KHO_METADATA_NODE_NAME = "kexec-metadata";
/** KHO_KEXEC_METADATA_VERSION. */
export const KHO_KEXEC_METADATA_VERSION = 1;
/** __NEW_UTS_LEN + 1: the release string's field. */
export const KHO_METADATA_RELEASE_LEN = 65;
/** sizeof(struct kho_kexec_metadata), packed: u32 version, char[65] previous_release, u32 kexec_count. */
export const KHO_KEXEC_METADATA_SIZE = 4 + KHO_METADATA_RELEASE_LEN + 4;

/** struct kho_kexec_metadata. */
export interface KhoKexecMetadata {
	version: number;
	previous_release: string;
	kexec_count: number;
}

/** The packed 73 bytes (strscpy: the release is cut to 64 bytes and NUL-terminated). */
export function kho_kexec_metadata_encode(m: KhoKexecMetadata): Uint8Array {
	const buf = new Uint8Array(KHO_KEXEC_METADATA_SIZE);
	const v = new DataView(buf.buffer);
	v.setUint32(0, m.version >>> 0, true);
	buf.set(new TextEncoder().encode(m.previous_release).subarray(0, KHO_METADATA_RELEASE_LEN - 1), 4);
	v.setUint32(4 + KHO_METADATA_RELEASE_LEN, m.kexec_count >>> 0, true);
	return buf;
}

/** Reads the fields of a `struct kho_kexec_metadata` (at least 73 bytes). */
export function kho_kexec_metadata_decode(buf: Uint8Array): KhoKexecMetadata {
	const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	const rel = buf.subarray(4, 4 + KHO_METADATA_RELEASE_LEN);
	const nul = rel.indexOf(0);
	return {
		version: v.getUint32(0, true),
		previous_release: new TextDecoder().decode(rel.subarray(0, nul < 0 ? KHO_METADATA_RELEASE_LEN - 1 : nul)),
		kexec_count: v.getUint32(4 + KHO_METADATA_RELEASE_LEN, true),
	};
}
