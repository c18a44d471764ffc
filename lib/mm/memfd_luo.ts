/**
 * Preserving memfds across a live update (mm/memfd_luo.c, "memfd-v2"): the
 * mainline LUO file handler for shmem files that have no name in any
 * directory (memfds; luosim's tmpfs keeps its files in memfs, so they are
 * not shmem and no handler takes them: ENOENT from LUO, as for an
 * MFD_HUGETLB memfd or any other fd).
 *
 * preserve() freezes the inode (shmem_freeze: no size change, no
 * fallocate), pins every page of the file (a hole gets a zeroed page),
 * preserves each folio in place with KHO and describes it in a folio
 * array in preserved vmalloc memory; the `struct memfd_luo_ser` of
 * memfd_luo_ser.ts, in a page of its own, is the file's serialized data.
 * Pages are handed over where they are, so what is written into the file
 * after PRESERVE_FD (inside its size) is what the next kernel sees, on the
 * same frames. retrieve() builds a fresh memfd around those frames;
 * finish() frees them when nobody retrieved the file.
 *
 * Seals are preserved (only MEMFD_LUO_ALL_SEALS; anything else is
 * EOPNOTSUPP); the name, mode, owner, FD_CLOEXEC, mappings and locks are
 * not. As upstream, the restored file is mode 0777, so a preserved
 * F_SEAL_EXEC comes back with the write, grow and shrink seals that
 * memfd_add_seals() adds for an executable file.
 *
 * Not modelled: memcg charging and shmem block accounting of the restored
 * folios, and the dirty bit (luosim has no writeback; every entry is
 * recorded DIRTY|UPTODATE as upstream does). Added by luosim: an incoming
 * record outside memory, or one counting more folios than its array holds,
 * makes retrieve EINVAL (and finish skip it) where the kernel would read
 * whatever memory is there.
 */
import { Errno, EEXIST, EFBIG, EINVAL, EIO, ENOMEM, EOPNOTSUPP, errnoName } from "../kernel/errno.ts";
import { folio_address, folio_get, folio_put, page_folio, type Folio } from "./folio.ts";
import { PAGE_SIZE, PFN_PHYS, PHYS_PFN, offset_in_page } from "./physmem.ts";
import { SHMEM_I, shmem_file, shmem_freeze, shmem_read_folio } from "./shmem.ts";
import { memfd_add_seals, memfd_alloc_file, memfd_get_seals, MFD_ALLOW_SEALING } from "../fs/memfd.ts";
import { MAX_LFS_FILESIZE } from "../fs/readWrite.ts";
import {
	kho_alloc_preserve, kho_preserve_folio, kho_preserve_vmalloc, kho_restore_folio, kho_restore_free, kho_restore_vmalloc,
	kho_unpreserve_folio, kho_unpreserve_free, kho_unpreserve_vmalloc, type KhoVmalloc,
} from "../kho/mainline/kho.ts";
import { vcalloc, vfree, vmalloc_read, vmalloc_write, type VmallocArea } from "./vmalloc.ts";
import { liveupdate_register_file_handler } from "../liveupdate/mainline/luo_file.ts";
import {
	MEMFD_LUO_ALL_SEALS, MEMFD_LUO_FH_COMPATIBLE, MEMFD_LUO_FOLIO_DIRTY, MEMFD_LUO_FOLIO_SER_SIZE, MEMFD_LUO_FOLIO_UPTODATE,
	memfd_luo_folio_ser_read, memfd_luo_folio_ser_write, memfd_luo_ser,
} from "./memfd_luo_ser.ts";
import type { File } from "../fs/file.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { LiveupdateFileHandler, LiveupdateFileOpArgs } from "../liveupdate/mainline/luo_file.ts";

export { MEMFD_LUO_FH_COMPATIBLE } from "./memfd_luo_ser.ts";

/** UINT_MAX: memfd_pin_folios() counts folios in an unsigned int. */
const UINT_MAX = 0xffffffff;

/** pr_fmt: KBUILD_MODNAME of mm/memfd_luo.o. */
const PFX = "memfd_luo: ";

/** What preserve() leaves in `private_data` for unpreserve(): the folio array's vmalloc area (null for size 0). */
export interface MemfdLuoPrivate {
	readonly folios: VmallocArea | null;
}

/**
 * phys_to_virt() of a `struct memfd_luo_ser`: its page and its offset in
 * it. Null for 0, or (a luosim check; the kernel would read whatever is
 * there) for an address whose record does not lie in memory in one page.
 */
function serAt(kernel: Kernel, phys: number): { bytes: Uint8Array; off: number } | null {
	const off = offset_in_page(phys);
	if (!phys || !Number.isSafeInteger(phys) || PHYS_PFN(phys) >= kernel.buddy.nr_pages || off + memfd_luo_ser.size > PAGE_SIZE) return null;
	return { bytes: kernel.buddy.pm.page(PHYS_PFN(phys)), off };
}

/**
 * The folio array of an incoming record as bytes. Null (a luosim check)
 * when the restored area is too small for `nr` entries, where the kernel
 * would read past its end.
 */
function folioTable(area: VmallocArea, nr: number): Uint8Array | null {
	const len = nr * MEMFD_LUO_FOLIO_SER_SIZE;
	return Number.isSafeInteger(len) && len <= area.size ? vmalloc_read(area, 0, len) : null;
}

function hex(n: number): string {
	return n.toString(16);
}

/**
 * memfd_pin_folios(file, 0, size - 1): every page of the file, a hole
 * getting a zeroed uptodate page (shmem_read_folio), each with one more
 * reference (the pin). On failure the pins taken are dropped and the error
 * is thrown; the pages allocated for holes stay in the file.
 */
function memfd_pin_folios(file: File, nrPages: number): Folio[] {
	const info = SHMEM_I(file.inode);
	const folios: Folio[] = [];
	try {
		for (let pgoff = 0; pgoff < nrPages; pgoff++) {
			const folio = info.pages.get(pgoff)?.folio ?? shmem_read_folio(file.inode, pgoff);
			folio_get(folio);
			folios.push(folio);
		}
	} catch (e) {
		for (const f of folios) folio_put(f);
		throw e;
	}
	return folios;
}

/**
 * memfd_luo_preserve_folios(): pins and preserves every page, zeroing and
 * marking uptodate the ones fallocate left !uptodate, and preserves the
 * folio array. Size 0: no folios and a zero descriptor. On failure
 * everything it did is undone (pages allocated for holes stay).
 */
function memfd_luo_preserve_folios(kernel: Kernel, file: File): { desc: KhoVmalloc; nr: number; area: VmallocArea | null } {
	const inode = file.inode;
	const size = inode.size;
	if (size === 0) return { desc: { first: 0, total_pages: 0, flags: 0, order: 0 }, nr: 0, area: null };
	const folios = memfd_pin_folios(file, Math.ceil(size / PAGE_SIZE));
	const nr = folios.length;
	const area = vcalloc(kernel.buddy, nr, MEMFD_LUO_FOLIO_SER_SIZE);
	if (!area) {
		for (const f of folios) folio_put(f);
		throw new Errno(ENOMEM);
	}
	const info = SHMEM_I(inode);
	const table = new Uint8Array(nr * MEMFD_LUO_FOLIO_SER_SIZE);
	let i = 0;
	try {
		for (; i < nr; i++) {
			const folio = folios[i]!;
			kho_preserve_folio(kernel, folio);
			const page = info.pages.get(i);
			if (page && !page.uptodate) {
				folio_address(folio).fill(0);
				page.uptodate = true;
			}
			// A mapping may still write to any folio before the kexec, so every entry says DIRTY.
			memfd_luo_folio_ser_write(table, i, { pfn: folio.pfn, flags: MEMFD_LUO_FOLIO_DIRTY | MEMFD_LUO_FOLIO_UPTODATE, index: i });
		}
		vmalloc_write(area, 0, table);
		return { desc: kho_preserve_vmalloc(kernel, area), nr, area };
	} catch (e) {
		for (i = i - 1; i >= 0; i--) kho_unpreserve_folio(kernel, folios[i]!);
		vfree(area);
		for (const f of folios) folio_put(f);
		throw e;
	}
}

/** memfd_luo_unpreserve_folios(): unpreserves the array and every folio, drops the pins, frees the array. */
function memfd_luo_unpreserve_folios(kernel: Kernel, desc: KhoVmalloc, area: VmallocArea | null, nr: number): void {
	if (nr === 0 || !area) return;
	kho_unpreserve_vmalloc(kernel, desc);
	const table = vmalloc_read(area, 0, nr * MEMFD_LUO_FOLIO_SER_SIZE);
	for (let i = 0; i < nr; i++) {
		const { pfn } = memfd_luo_folio_ser_read(table, i);
		if (!pfn) continue;
		const folio = page_folio(kernel.buddy, pfn);
		kho_unpreserve_folio(kernel, folio);
		folio_put(folio);
	}
	vfree(area);
}

/**
 * preserve(): freezes the inode, then fills a preserved `memfd_luo_ser`
 * and the folio array. EOPNOTSUPP for a seal this version cannot carry,
 * EFBIG for a file of more than UINT_MAX pages, or the errno of KHO
 * (EINVAL, ENOMEM) or of allocating a hole's page (ENOMEM). On failure the
 * inode is thawed and nothing stays preserved.
 */
function memfd_luo_preserve(args: LiveupdateFileOpArgs): void {
	const kernel = args.kernel;
	const file = args.file!;
	const inode = file.inode;
	shmem_freeze(inode, true);
	let ser: Folio | null = null;
	try {
		ser = kho_alloc_preserve(kernel, memfd_luo_ser.size);
		const seals = memfd_get_seals(file);
		if (seals & ~MEMFD_LUO_ALL_SEALS) throw new Errno(EOPNOTSUPP);
		const view = memfd_luo_ser.view(folio_address(ser));
		view.set("pos", file.f_pos);
		if (Math.ceil(inode.size / PAGE_SIZE) > UINT_MAX) throw new Errno(EFBIG);
		view.set("size", inode.size);
		view.set("seals", seals);
		const { desc, nr, area } = memfd_luo_preserve_folios(kernel, file);
		view.set("folios", desc);
		view.set("nr_folios", nr);
		const priv: MemfdLuoPrivate = { folios: area };
		args.private_data = priv;
		args.serialized_data = BigInt(PFN_PHYS(ser.pfn));
	} catch (e) {
		kho_unpreserve_free(kernel, ser);
		shmem_freeze(inode, false);
		throw e;
	}
}

/** freeze(): the position may have moved since preserve; nothing else can change (seals added since are not taken). */
function memfd_luo_freeze(args: LiveupdateFileOpArgs): void {
	if (!args.serialized_data) {
		args.kernel.pr_warn(`WARNING: mm/memfd_luo.c: memfd_luo_freeze: !args->serialized_data`);
		throw new Errno(EINVAL);
	}
	const at = serAt(args.kernel, Number(args.serialized_data))!;
	memfd_luo_ser.view(at.bytes, at.off).set("pos", args.file!.f_pos);
}

/** unpreserve(): the session closed before a kexec; the inode thaws and every preservation is undone. */
function memfd_luo_unpreserve(args: LiveupdateFileOpArgs): void {
	const kernel = args.kernel;
	if (!args.serialized_data) {
		kernel.pr_warn(`WARNING: mm/memfd_luo.c: memfd_luo_unpreserve: !args->serialized_data`);
		return;
	}
	shmem_freeze(args.file!.inode, false);
	const phys = Number(args.serialized_data);
	const at = serAt(kernel, phys)!;
	const ser = memfd_luo_ser.decode(at.bytes, at.off);
	const priv = args.private_data as MemfdLuoPrivate;
	memfd_luo_unpreserve_folios(kernel, descOf(ser.folios), priv.folios, Number(ser.nr_folios));
	kho_unpreserve_free(kernel, page_folio(kernel.buddy, PHYS_PFN(phys)));
}

/** The KHO descriptor as kho_restore_vmalloc() takes it. */
function descOf(v: { first: bigint; total_pages: number; flags: number; order: number }): KhoVmalloc {
	return { first: Number(v.first), total_pages: v.total_pages, flags: v.flags, order: v.order };
}

/** Restores and frees the folios of entries `from..nr-1` (what a failed retrieve could not insert). */
function putRemaining(kernel: Kernel, table: Uint8Array, from: number, nr: number): void {
	for (let j = from; j < nr; j++) {
		const { pfn } = memfd_luo_folio_ser_read(table, j);
		if (!pfn) continue;
		const folio = kho_restore_folio(kernel, PFN_PHYS(pfn));
		if (folio) folio_put(folio);
	}
}

/**
 * memfd_luo_retrieve_folios(): each entry's folio, restored from KHO on its
 * own frame, becomes the page at its index. EIO when a folio cannot be
 * restored, EEXIST when two entries name one index; then the folios not
 * inserted yet are freed (those inserted go with the file).
 */
function memfd_luo_retrieve_folios(kernel: Kernel, file: File, table: Uint8Array, nr: number): void {
	const info = SHMEM_I(file.inode);
	for (let i = 0; i < nr; i++) {
		const e = memfd_luo_folio_ser_read(table, i);
		if (!e.pfn) continue;
		const folio = kho_restore_folio(kernel, PFN_PHYS(e.pfn));
		if (!folio) {
			kernel.pr_err(`${PFX}Unable to restore folio at physical address: ${hex(PFN_PHYS(e.pfn))}`);
			putRemaining(kernel, table, i + 1, nr);
			throw new Errno(EIO);
		}
		// shmem_add_to_page_cache(): a slot taken (or an index no file can have) refuses the folio.
		const err = !Number.isSafeInteger(e.index) ? EINVAL : info.pages.has(e.index) ? EEXIST : 0;
		if (err) {
			kernel.pr_err(`shmem: failed to add to page cache folio index ${i}: -${err}`);
			folio_put(folio);
			putRemaining(kernel, table, i + 1, nr);
			throw new Errno(err);
		}
		info.addPage(e.index, folio, (e.flags & MEMFD_LUO_FOLIO_UPTODATE) !== 0);
	}
}

/**
 * retrieve(): a fresh memfd (empty name, O_RDWR|O_LARGEFILE, sealing
 * allowed, then the saved seals), its position and size as saved, and the
 * preserved folios as its pages. EOPNOTSUPP for unknown seals, EINVAL when
 * the folio array cannot be restored, EIO when a folio cannot. The
 * serialized page is freed whatever the outcome.
 */
function memfd_luo_retrieve(args: LiveupdateFileOpArgs): void {
	const kernel = args.kernel;
	const phys = Number(args.serialized_data);
	const at = serAt(kernel, phys);
	if (!at) throw new Errno(EINVAL);
	const ser = memfd_luo_ser.decode(at.bytes, at.off);
	try {
		if (ser.seals & ~MEMFD_LUO_ALL_SEALS) throw new Errno(EOPNOTSUPP);
		const file = memfd_alloc_file(kernel, "", MFD_ALLOW_SEALING);
		try {
			try {
				memfd_add_seals(file, ser.seals);
			} catch (e) {
				if (e instanceof Errno) kernel.pr_err(`${PFX}failed to add seals: -${errnoName(e.errno)}`);
				throw e;
			}
			// vfs_setpos(): a position past MAX_LFS_FILESIZE is EINVAL, which retrieve ignores.
			if (ser.pos <= BigInt(MAX_LFS_FILESIZE)) file.f_pos = Number(ser.pos);
			file.inode.size = Number(ser.size);
			const nr = Number(ser.nr_folios);
			if (nr) {
				const area = kho_restore_vmalloc(kernel, descOf(ser.folios));
				if (!area) throw new Errno(EINVAL);
				try {
					const table = folioTable(area, nr);
					if (!table) throw new Errno(EINVAL);
					memfd_luo_retrieve_folios(kernel, file, table, nr);
				} finally {
					vfree(area);
				}
			}
		} catch (e) {
			file.put();
			throw e;
		}
		args.file = file;
	} finally {
		kho_restore_free(kernel, phys);
	}
}

/** finish(): a file nobody retrieved loses its data here: every folio, the array and the serialized page are freed. */
function memfd_luo_finish(args: LiveupdateFileOpArgs): void {
	const kernel = args.kernel;
	if (args.retrieve_status) return;
	const phys = Number(args.serialized_data);
	const at = serAt(kernel, phys);
	if (!at) return;
	const ser = memfd_luo_ser.decode(at.bytes, at.off);
	const nr = Number(ser.nr_folios);
	if (nr) {
		const area = kho_restore_vmalloc(kernel, descOf(ser.folios));
		const table = area && folioTable(area, nr);
		if (table) {
			for (let i = 0; i < nr; i++) {
				const { pfn } = memfd_luo_folio_ser_read(table, i);
				if (!pfn) continue;
				const folio = kho_restore_folio(kernel, PFN_PHYS(pfn));
				if (folio) folio_put(folio);
				else kernel.pr_warn(`${PFX}Unable to restore folio at physical address: ${hex(PFN_PHYS(pfn))}`);
			}
		}
		if (area) vfree(area);
	}
	kho_restore_free(kernel, phys);
}

/** can_preserve(): a shmem file with no link in any directory. */
function memfd_luo_can_preserve(_kernel: Kernel, _handler: LiveupdateFileHandler, file: File): boolean {
	return shmem_file(file) && file.inode.nlink === 0;
}

/** get_id(): the inode, so two fds (or dups) of one memfd are one preserved object. */
function memfd_luo_get_id(file: File): unknown {
	return file.inode;
}

/** memfd_luo_handler: `struct liveupdate_file_handler` with MEMFD_LUO_FH_COMPATIBLE. */
export const memfd_luo_handler: LiveupdateFileHandler = {
	compatible: MEMFD_LUO_FH_COMPATIBLE,
	ops: {
		can_preserve: memfd_luo_can_preserve,
		preserve: memfd_luo_preserve,
		unpreserve: memfd_luo_unpreserve,
		freeze: memfd_luo_freeze,
		retrieve: memfd_luo_retrieve,
		finish: memfd_luo_finish,
		get_id: memfd_luo_get_id,
	},
};

/**
 * memfd_luo_init() (late_initcall): registers the handler on a mainline
 * kernel with CONFIG_LIVEUPDATE_MEMFD. EOPNOTSUPP (LUO off) is not an
 * error; any other registration error is printed and returned.
 */
export function memfd_luo_init(kernel: Kernel): number {
	if (kernel.abi !== "mainline" || !kernel.config.LIVEUPDATE_MEMFD) return 0;
	try {
		liveupdate_register_file_handler(kernel, memfd_luo_handler);
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		if (e.errno === EOPNOTSUPP) return 0;
		kernel.pr_err(`${PFX}Could not register luo filesystem handler: -${errnoName(e.errno)}`);
		return -e.errno;
	}
	return 0;
}
