/**
 * The record luosim's seed-era memfd handler (`memfd-v1`, memfd_luo.ts)
 * leaves in preserved memory for the next kernel: its byte layout, and the
 * code that writes and validates it. The seed has no memfd handler; the
 * name is the one the LUO v2 series gave its handler, and the layout is
 * luosim's own. Everything is little-endian, in one naturally aligned block
 * of 2^order frames (a folio) that KHO preserves; the handler's u64 `data`
 * is the physical address of its first byte.
 *
 *     struct memfd_luo_v1 (header, 320 bytes)
 *     @0   u32  magic        MEMFD_LUO_MAGIC 0x4f554c4d (the bytes "MLUO")
 *     @4   u32  version      1
 *     @8   char compatible[16]  "memfd-v1", NUL-padded
 *     @24  u64  size         i_size in bytes
 *     @32  u64  pos          f_pos (rewritten at freeze)
 *     @40  u32  seals        F_SEAL_* bits
 *     @44  u32  nr_folios    entries that follow the header
 *     @48  u32  mode         permission bits (07777) of the inode
 *     @52  u32  name_len     bytes of name, at most 255
 *     @56  char name[256]    the file's name ("memfd:NAME"), NUL-padded
 *     @312 u64  reserved     0
 *
 *     struct memfd_luo_v1_folio (16 bytes each, from @320, by page offset)
 *     @0   u64  phys | flags  the folio's physical address; bit 0 is
 *                             MEMFD_LUO_V1_UPTODATE (bits 1..11 must be 0)
 *     @8   u64  index         page offset in the file, strictly increasing
 *
 * Every folio is order 0 (shmem's page cache here), one entry per page of
 * the file: the handler fills the holes at prepare so the file cannot gain
 * an unpreserved page afterwards. The largest record is one MAX_PAGE_ORDER
 * block, so a file of more than MEMFD_LUO_V1_MAX_FOLIOS pages (about
 * 1 GiB) cannot be preserved (EFBIG at prepare).
 */
import { Errno, EBADMSG } from "../../kernel/errno.ts";
import { MAX_PAGE_ORDER, PAGE_SIZE } from "../../mm/physmem.ts";

/** The handler's compatible string, which also names this layout's version. */
export const MEMFD_LUO_V1_COMPATIBLE = "memfd-v1";
/** The first u32 of every record: the bytes "MLUO". */
export const MEMFD_LUO_MAGIC = 0x4f554c4d;
/** The layout version in the header. */
export const MEMFD_LUO_V1_VERSION = 1;
/** Size of the header; the folio entries start here. */
export const MEMFD_LUO_V1_HDR_SIZE = 320;
/** Size of one folio entry. */
export const MEMFD_LUO_V1_FOLIO_SIZE = 16;
/** Entry flag: the page is uptodate (written, faulted or fallocated twice), so its bytes are the file's. */
export const MEMFD_LUO_V1_UPTODATE = 1;
/** The longest name a record holds (NAME_MAX). */
export const MEMFD_LUO_V1_NAME_MAX = 255;
/** The most entries one record block (MAX_PAGE_ORDER) holds. */
export const MEMFD_LUO_V1_MAX_FOLIOS = Math.floor(((PAGE_SIZE << MAX_PAGE_ORDER) - MEMFD_LUO_V1_HDR_SIZE) / MEMFD_LUO_V1_FOLIO_SIZE);

const OFF_MAGIC = 0;
const OFF_VERSION = 4;
const OFF_COMPATIBLE = 8;
const COMPATIBLE_LEN = 16;
const OFF_SIZE = 24;
const OFF_POS = 32;
const OFF_SEALS = 40;
const OFF_NR = 44;
const OFF_MODE = 48;
const OFF_NAME_LEN = 52;
const OFF_NAME = 56;
const OFF_RESERVED = 312;
const PAGE_MASK = BigInt(PAGE_SIZE - 1);

/** One page of the file as the record lists it. */
export interface MemfdLuoFolio {
	phys: number;
	index: number;
	uptodate: boolean;
}

/** What a record says about a file. */
export interface MemfdLuoRecord {
	size: number;
	pos: number;
	seals: number;
	mode: number;
	name: string;
	folios: MemfdLuoFolio[];
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function view(buf: Uint8Array): DataView {
	return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** The order of the block a record of `nrFolios` entries needs. */
export function memfd_luo_record_order(nrFolios: number): number {
	const pages = Math.ceil((MEMFD_LUO_V1_HDR_SIZE + nrFolios * MEMFD_LUO_V1_FOLIO_SIZE) / PAGE_SIZE);
	let order = 0;
	while (1 << order < pages) order++;
	return order;
}

/** Writes `rec` into `buf` (zeroed, large enough: see memfd_luo_record_order). */
export function memfd_luo_record_write(buf: Uint8Array, rec: MemfdLuoRecord): void {
	const dv = view(buf);
	dv.setUint32(OFF_MAGIC, MEMFD_LUO_MAGIC, true);
	dv.setUint32(OFF_VERSION, MEMFD_LUO_V1_VERSION, true);
	buf.set(enc.encode(MEMFD_LUO_V1_COMPATIBLE), OFF_COMPATIBLE);
	dv.setBigUint64(OFF_SIZE, BigInt(rec.size), true);
	dv.setBigUint64(OFF_POS, BigInt(rec.pos), true);
	dv.setUint32(OFF_SEALS, rec.seals, true);
	dv.setUint32(OFF_NR, rec.folios.length, true);
	dv.setUint32(OFF_MODE, rec.mode, true);
	const name = enc.encode(rec.name).subarray(0, MEMFD_LUO_V1_NAME_MAX);
	dv.setUint32(OFF_NAME_LEN, name.length, true);
	buf.set(name, OFF_NAME);
	rec.folios.forEach((f, i) => {
		const off = MEMFD_LUO_V1_HDR_SIZE + i * MEMFD_LUO_V1_FOLIO_SIZE;
		dv.setBigUint64(off, BigInt(f.phys) | (f.uptodate ? BigInt(MEMFD_LUO_V1_UPTODATE) : 0n), true);
		dv.setBigUint64(off + 8, BigInt(f.index), true);
	});
}

/** Rewrites the position of a record already written (the freeze step). */
export function memfd_luo_record_set_pos(buf: Uint8Array, pos: number): void {
	view(buf).setBigUint64(OFF_POS, BigInt(pos), true);
}

/** A u64 field as a safe integer, or EBADMSG. */
function safe(v: bigint): number {
	if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Errno(EBADMSG);
	return Number(v);
}

/**
 * Reads and validates the header of the record in `buf`: EBADMSG for a
 * wrong magic, version or compatible, a nonzero reserved field, a size or
 * position past 2^53, a name longer than 255 bytes, or more entries than
 * `buf` holds. Returns the header and how many entries follow.
 */
function readHeader(buf: Uint8Array): { rec: Omit<MemfdLuoRecord, "folios">; nr: number } {
	if (buf.length < MEMFD_LUO_V1_HDR_SIZE) throw new Errno(EBADMSG);
	const dv = view(buf);
	if (dv.getUint32(OFF_MAGIC, true) !== MEMFD_LUO_MAGIC || dv.getUint32(OFF_VERSION, true) !== MEMFD_LUO_V1_VERSION) throw new Errno(EBADMSG);
	const compat = buf.subarray(OFF_COMPATIBLE, OFF_COMPATIBLE + COMPATIBLE_LEN);
	const want = enc.encode(MEMFD_LUO_V1_COMPATIBLE);
	if (!compat.every((b, i) => b === (want[i] ?? 0))) throw new Errno(EBADMSG);
	if (dv.getBigUint64(OFF_RESERVED, true) !== 0n) throw new Errno(EBADMSG);
	const nameLen = dv.getUint32(OFF_NAME_LEN, true);
	if (nameLen > MEMFD_LUO_V1_NAME_MAX) throw new Errno(EBADMSG);
	const nr = dv.getUint32(OFF_NR, true);
	if (MEMFD_LUO_V1_HDR_SIZE + nr * MEMFD_LUO_V1_FOLIO_SIZE > buf.length) throw new Errno(EBADMSG);
	return {
		rec: {
			size: safe(dv.getBigUint64(OFF_SIZE, true)),
			pos: safe(dv.getBigUint64(OFF_POS, true)),
			seals: dv.getUint32(OFF_SEALS, true),
			mode: dv.getUint32(OFF_MODE, true) & 0o7777,
			name: dec.decode(buf.subarray(OFF_NAME, OFF_NAME + nameLen)),
		},
		nr,
	};
}

/**
 * Reads and validates a whole record held in `buf` (the restored block).
 * Besides the header checks: every entry must be a page-aligned address
 * below `memBytes` with no flag but UPTODATE, and the indexes must
 * increase and lie inside the file. Anything else is EBADMSG.
 */
export function memfd_luo_record_read(buf: Uint8Array, memBytes: number): MemfdLuoRecord {
	const { rec, nr } = readHeader(buf);
	const dv = view(buf);
	const pages = Math.ceil(rec.size / PAGE_SIZE);
	const folios: MemfdLuoFolio[] = [];
	let last = -1;
	for (let i = 0; i < nr; i++) {
		const off = MEMFD_LUO_V1_HDR_SIZE + i * MEMFD_LUO_V1_FOLIO_SIZE;
		const word = dv.getBigUint64(off, true);
		const flags = Number(word & PAGE_MASK);
		if (flags & ~MEMFD_LUO_V1_UPTODATE) throw new Errno(EBADMSG);
		const phys = safe(word & ~PAGE_MASK);
		const index = safe(dv.getBigUint64(off + 8, true));
		if (phys + PAGE_SIZE > memBytes || index <= last || index >= pages) throw new Errno(EBADMSG);
		last = index;
		folios.push({ phys, index, uptodate: (flags & MEMFD_LUO_V1_UPTODATE) !== 0 });
	}
	return { ...rec, folios };
}
