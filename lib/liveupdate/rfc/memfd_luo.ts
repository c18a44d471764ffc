/**
 * luosim's memfd handler for the seed-era LUO (`memfd-v1`, written to the
 * seed's `struct liveupdate_filesystem`, seed 000 patch 08; the seed has no
 * memfd handler, the name is the one the LUO v2 series used). A memfd
 * (an unlinked shmem file) registered with FD_PRESERVE crosses the kexec
 * in place: its page frames are preserved through KHO and the next kernel
 * builds a memfd on the very same frames (same bytes, same PFNs, as
 * /proc/self/pagemap shows root).
 *
 * The phases, called by luo_files.ts:
 * - can_preserve: a shmem file with no link (memfd_create's files);
 * - prepare (inside KHO's FINALIZE notifier, so preserving is allowed):
 *   fills the file's holes (so no page can appear later), freezes its size
 *   (shmem_freeze: growing, shrinking and fallocate are EPERM until
 *   cancel), writes the record (memfd_luo_record.ts) into a fresh folio,
 *   preserves that folio and every page of the file with
 *   kho_preserve_folio (no copy), and returns the record's physical
 *   address as the u64 data. EFBIG for a file too large for one record,
 *   ENOMEM; a failure undoes what this call did (filled holes stay, as
 *   zeroed pages);
 * - freeze: writes the position the file has now into the record;
 * - cancel: unpreserves (KHO has usually dropped its tracking already:
 *   luo_cancel is kho_abort, whose EBUSY is ignored as luo_fdt_destroy
 *   ignores it), frees the record and unfreezes the file;
 * - retrieve (next kernel): restores the record and validates it (EBADMSG
 *   for anything that is not a memfd-v1 record, or an address that is not
 *   a preserved block), restores every listed folio into the page cache
 *   of a new memfd with the old name, size, position, seals and mode, and
 *   frees the record;
 * - finish: for a file never retrieved, restores and frees its pages and
 *   record, so FINISH leaves nothing reserved.
 *
 * Pages that fallocate(FALLOC_FL_KEEP_SIZE) put past EOF are not carried
 * (they hold only zeros). The same inode preserved twice (a second
 * FD_PRESERVE of the memfd, or of a reopened copy: the seed allows both)
 * shares one record, prepared once and cancelled with its last user; in
 * the next kernel both tokens give the same open file, while it is open
 * (retrieving the second after the first was closed is ENOENT).
 */
import type { Kernel } from "../../kernel/kernel.ts";
import { Errno, EBADMSG, EBUSY, EFBIG, EINVAL, ENOENT, ENOMEM, errnoReturn } from "../../kernel/errno.ts";
import type { File } from "../../fs/file.ts";
import { S_IFMT } from "../../fs/inode.ts";
import type { Inode } from "../../fs/inode.ts";
import { memfd_alloc_file } from "../../fs/memfd.ts";
import { folio_address, folio_alloc, folio_pfn, folio_put, type Folio } from "../../mm/folio.ts";
import { PAGE_SIZE, PFN_PHYS } from "../../mm/physmem.ts";
import { SHMEM_I, shmem_file, shmem_folios, shmem_freeze } from "../../mm/shmem.ts";
import { kho_preserve_folio, kho_restore_folio, kho_unpreserve_folio } from "../../kho/kho.ts";
import { liveupdate_enabled } from "../liveupdate.ts";
import { luoSeedEra } from "./luo_internal.ts";
import { liveupdate_register_filesystem, type LiveupdateFilesystem } from "./luo_files.ts";
import {
	memfd_luo_record_order, memfd_luo_record_read, memfd_luo_record_set_pos, memfd_luo_record_write,
	MEMFD_LUO_V1_COMPATIBLE, MEMFD_LUO_V1_MAX_FOLIOS, type MemfdLuoFolio, type MemfdLuoRecord,
} from "./memfd_luo_record.ts";

export { MEMFD_LUO_V1_COMPATIBLE } from "./memfd_luo_record.ts";

/** One inode prepared in this kernel. */
interface Outgoing {
	readonly inode: Inode;
	readonly record: Folio;
	readonly folios: readonly Folio[];
	users: number;
}

interface MemfdLuoState {
	/** Prepared inodes, by inode and by data. */
	readonly byInode: Map<Inode, Outgoing>;
	readonly byData: Map<bigint, Outgoing>;
	/** Records retrieved in this kernel: data → the file built from it. */
	readonly retrieved: Map<bigint, File>;
}

const states = new WeakMap<Kernel, MemfdLuoState>();

function state(kernel: Kernel): MemfdLuoState {
	let st = states.get(kernel);
	if (!st) {
		st = { byInode: new Map(), byData: new Map(), retrieved: new Map() };
		states.set(kernel, st);
	}
	return st;
}

const PR = `${MEMFD_LUO_V1_COMPATIBLE}: `;

/** kho_unpreserve_folio that tolerates KHO having already dropped its tracking (EBUSY while finalized). */
function unpreserve(kernel: Kernel, folio: Folio): void {
	try {
		kho_unpreserve_folio(kernel, folio);
	} catch (e) {
		if (!(e instanceof Errno) || e.errno !== EBUSY) throw e;
	}
}

/** can_preserve: a memfd, i.e. a shmem file with no name in any directory. */
function memfd_luo_can_preserve(_kernel: Kernel, file: File): boolean {
	return shmem_file(file) && file.inode.nlink === 0;
}

/** The file's pages below EOF, all present (holes filled), as record entries and folios. */
function collectPages(inode: Inode): { entries: MemfdLuoFolio[]; folios: Folio[] } {
	const info = SHMEM_I(inode);
	const pages = Math.ceil(inode.size / PAGE_SIZE);
	if (pages > MEMFD_LUO_V1_MAX_FOLIOS) throw new Errno(EFBIG);
	for (let pgoff = 0; pgoff < pages; pgoff++) info.getPage(pgoff);
	const entries: MemfdLuoFolio[] = [];
	const folios: Folio[] = [];
	for (const [index, folio, uptodate] of shmem_folios(inode)) {
		if (index >= pages) continue;
		entries.push({ phys: PFN_PHYS(folio_pfn(folio)), index, uptodate });
		folios.push(folio);
	}
	return { entries, folios };
}

/** prepare: preserve the pages in place and the record describing them; the record's address is the data. */
function memfd_luo_prepare(kernel: Kernel, file: File): bigint {
	const st = state(kernel);
	const inode = file.inode;
	const have = st.byInode.get(inode);
	if (have) {
		have.users++;
		return BigInt(PFN_PHYS(have.record.pfn));
	}
	const { entries, folios } = collectPages(inode);
	const record = folio_alloc(kernel.buddy, memfd_luo_record_order(entries.length));
	if (!record) throw new Errno(ENOMEM);
	const info = SHMEM_I(inode);
	memfd_luo_record_write(folio_address(record), {
		size: inode.size, pos: file.f_pos, seals: info.seals, mode: inode.mode & 0o7777,
		name: file.path?.name.replace(/^\//, "") ?? "", folios: entries,
	});
	const done: Folio[] = [];
	try {
		for (const f of [record, ...folios]) {
			kho_preserve_folio(kernel, f);
			done.push(f);
		}
	} catch (e) {
		for (const f of done) unpreserve(kernel, f);
		folio_put(record);
		throw e;
	}
	shmem_freeze(inode, true);
	const out: Outgoing = { inode, record, folios, users: 1 };
	const data = BigInt(PFN_PHYS(record.pfn));
	st.byInode.set(inode, out);
	st.byData.set(data, out);
	return data;
}

/** The prepared inode behind `data`; EINVAL for data this handler did not hand out. */
function outgoing(kernel: Kernel, data: bigint): Outgoing {
	const out = state(kernel).byData.get(data);
	if (!out) throw new Errno(EINVAL);
	return out;
}

/** freeze: the file's position now is the one the next kernel gets. */
function memfd_luo_freeze(kernel: Kernel, file: File, _arg: unknown, data: bigint): bigint {
	memfd_luo_record_set_pos(folio_address(outgoing(kernel, data).record), file.f_pos);
	return data;
}

/** cancel: undo prepare once its last user cancels. */
function memfd_luo_cancel(kernel: Kernel, _file: File, _arg: unknown, data: bigint): void {
	const st = state(kernel);
	const out = st.byData.get(data);
	if (!out || --out.users > 0) return;
	for (const f of out.folios) unpreserve(kernel, f);
	unpreserve(kernel, out.record);
	folio_put(out.record);
	shmem_freeze(out.inode, false);
	st.byInode.delete(out.inode);
	st.byData.delete(data);
}

/** The incoming record at `data`, restored and validated; EBADMSG (record freed) when it is not one. */
function restoreRecord(kernel: Kernel, data: bigint): { folio: Folio; rec: MemfdLuoRecord } {
	if (data > BigInt(Number.MAX_SAFE_INTEGER) || data % BigInt(PAGE_SIZE) !== 0n) throw new Errno(EBADMSG);
	const folio = kho_restore_folio(kernel, Number(data));
	if (!folio) throw new Errno(EBADMSG);
	try {
		return { folio, rec: memfd_luo_record_read(folio_address(folio), kernel.machine.physmem.sizeBytes) };
	} catch (e) {
		folio_put(folio);
		throw e;
	}
}

/** kho_restore_folio of every listed page; EBADMSG (all of them freed again) when one is not preserved. */
function restorePages(kernel: Kernel, rec: MemfdLuoRecord): Folio[] {
	const folios: Folio[] = [];
	for (const f of rec.folios) {
		const folio = kho_restore_folio(kernel, f.phys);
		if (!folio) {
			for (const g of folios) folio_put(g);
			throw new Errno(EBADMSG);
		}
		folios.push(folio);
	}
	return folios;
}

/** retrieve: a new memfd on the preserved pages. */
function memfd_luo_retrieve(kernel: Kernel, _arg: unknown, data: bigint): File {
	const st = state(kernel);
	const seen = st.retrieved.get(data);
	if (seen) {
		if (seen.refcount <= 0) throw new Errno(ENOENT);
		return seen.get();
	}
	const { folio: record, rec } = restoreRecord(kernel, data);
	let folios: Folio[];
	try {
		folios = restorePages(kernel, rec);
	} catch (e) {
		folio_put(record);
		throw e;
	}
	const file = memfd_alloc_file(kernel, rec.name, 0);
	const inode = file.inode;
	const info = SHMEM_I(inode);
	rec.folios.forEach((f, i) => info.addPage(f.index, folios[i]!, f.uptodate));
	inode.size = rec.size;
	inode.mode = (inode.mode & S_IFMT) | rec.mode;
	info.seals = rec.seals;
	file.f_pos = rec.pos;
	folio_put(record);
	st.retrieved.set(data, file);
	return file;
}

/** finish: a file nobody retrieved gives its pages and record back. */
function memfd_luo_finish(kernel: Kernel, _file: File | null, _arg: unknown, data: bigint, reclaimed: boolean): void {
	if (reclaimed || state(kernel).retrieved.has(data)) return;
	let restored: { folio: Folio; rec: MemfdLuoRecord };
	try {
		restored = restoreRecord(kernel, data);
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		kernel.pr_warn(`${PR}no valid record at 0x${data.toString(16)}; its pages stay reserved`);
		return;
	}
	let folios: Folio[] = [];
	try {
		folios = restorePages(kernel, restored.rec);
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		kernel.pr_warn(`${PR}record at 0x${data.toString(16)} lists memory that is not preserved; its pages stay reserved`);
	}
	for (const f of folios) folio_put(f);
	folio_put(restored.folio);
}

/** The handler, registered once per seed-era kernel with LUO on. */
export const memfd_luo_fs: LiveupdateFilesystem = {
	compatible: MEMFD_LUO_V1_COMPATIBLE,
	can_preserve: memfd_luo_can_preserve,
	prepare: memfd_luo_prepare,
	freeze: memfd_luo_freeze,
	cancel: memfd_luo_cancel,
	finish: memfd_luo_finish,
	retrieve: memfd_luo_retrieve,
};

/**
 * memfd_luo_v1_init (late_initcall, after the LUO core): registers memfd-v1.
 * 0 at once on a mainline kernel or with LUO off; -errno when the
 * registration fails.
 */
export function memfd_luo_v1_init(kernel: Kernel): number {
	if (!luoSeedEra(kernel) || !liveupdate_enabled(kernel)) return 0;
	return errnoReturn(() => liveupdate_register_filesystem(kernel, memfd_luo_fs));
}

/** The physical frame numbers of a memfd's pages, by page offset (tests and docs use it). */
export function memfd_luo_pfns(file: File): number[] {
	return shmem_folios(file.inode).map(([, folio]) => folio_pfn(folio));
}
