/**
 * The memfd Live Update ABI (include/linux/kho/abi/memfd.h, "memfd-v2"):
 * what the memfd handler (memfd_luo.ts) writes into preserved memory for
 * the next kernel. Both records are `__packed` little-endian byte layouts;
 * the folio array lives in vmalloc memory preserved with
 * kho_preserve_vmalloc, described by the `struct kho_vmalloc` at @32 of
 * `struct memfd_luo_ser` (include/linux/kho/abi/kexec_handover.h).
 *
 *     struct memfd_luo_ser (48 bytes)         struct memfd_luo_folio_ser (16 bytes)
 *     @0  u64 pos                             @0  u64 pfn:52 | flags:12 (bits 52..63)
 *     @8  u64 size                            @8  u64 index (page offset in the file)
 *     @16 u32 seals
 *     @20 u32 flags (reserved, 0)
 *     @24 u64 nr_folios
 *     @32 struct kho_vmalloc folios: u64 first, u32 total_pages, u16 flags, u16 order
 *
 * The layouts are checked against gcc by memfd_luo_ser.abi.ts.
 */
import { struct, u16, u32, u64 } from "../uaccess/struct.ts";
import { F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE } from "./shmem_inode.ts";

/** MEMFD_LUO_FH_COMPATIBLE: the handler's compatible string, the version of this ABI. */
export const MEMFD_LUO_FH_COMPATIBLE = "memfd-v2";

/** MEMFD_LUO_FOLIO_DIRTY: the folio holds data from the user. */
export const MEMFD_LUO_FOLIO_DIRTY = 1 << 0;
/** MEMFD_LUO_FOLIO_UPTODATE: the folio was zeroed (or written), so its bytes are the file's. */
export const MEMFD_LUO_FOLIO_UPTODATE = 1 << 1;

/**
 * MEMFD_LUO_ALL_SEALS: the seals this version can preserve. Any other bit
 * makes preserve and retrieve fail with EOPNOTSUPP (a new seal needs a new
 * compatible).
 */
export const MEMFD_LUO_ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;

/** struct kho_vmalloc (16 bytes): `first` is a KHOSER pointer, the phys of the first chunk page. */
export const kho_vmalloc = struct("kho_vmalloc", { first: u64, total_pages: u32, flags: u16, order: u16 });

/** struct memfd_luo_ser, `__packed` (48 bytes). */
export const memfd_luo_ser = struct(
	"memfd_luo_ser",
	{ pos: u64, size: u64, seals: u32, flags: u32, nr_folios: u64, folios: kho_vmalloc },
	{ packed: true },
);

/** sizeof(struct memfd_luo_folio_ser): one u64 of bitfields, then the index. */
export const MEMFD_LUO_FOLIO_SER_SIZE = 16;
/** Width of the `pfn` bitfield (bits 0..51); `flags` takes the 12 bits above it. */
export const MEMFD_LUO_PFN_BITS = 52;
const PFN_MASK = (1n << BigInt(MEMFD_LUO_PFN_BITS)) - 1n;
const FLAGS_MASK = (1n << 12n) - 1n;

/** One decoded `struct memfd_luo_folio_ser`. */
export interface MemfdLuoFolioSer {
	pfn: number;
	flags: number;
	index: number;
}

/** Writes entry `i` of a folio array held in `buf` (gcc puts `pfn:52` in the low bits of the first u64). */
export function memfd_luo_folio_ser_write(buf: Uint8Array, i: number, e: MemfdLuoFolioSer): void {
	const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	const off = i * MEMFD_LUO_FOLIO_SER_SIZE;
	const word = (BigInt(e.pfn) & PFN_MASK) | ((BigInt(e.flags) & FLAGS_MASK) << BigInt(MEMFD_LUO_PFN_BITS));
	dv.setBigUint64(off, word, true);
	dv.setBigUint64(off + 8, BigInt(e.index), true);
}

/**
 * Reads entry `i` of a folio array held in `buf`. An index past 2^53 (no
 * file luosim holds is that large) reads as Infinity, which the caller's
 * page-cache insertion refuses.
 */
export function memfd_luo_folio_ser_read(buf: Uint8Array, i: number): MemfdLuoFolioSer {
	const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	const off = i * MEMFD_LUO_FOLIO_SER_SIZE;
	const word = dv.getBigUint64(off, true);
	const index = dv.getBigUint64(off + 8, true);
	return {
		pfn: Number(word & PFN_MASK),
		flags: Number((word >> BigInt(MEMFD_LUO_PFN_BITS)) & FLAGS_MASK),
		index: index > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(index),
	};
}
