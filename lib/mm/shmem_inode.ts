/**
 * The core of a shmem inode (mm/shmem.c: struct shmem_inode_info and its
 * page cache): order-0 folios from the boot's buddy allocator indexed by
 * page offset, the seals, and the per-kernel NR_SHMEM count. The page
 * cache is sparse: a page exists only once it was written, faulted or
 * fallocated. shmem.ts builds the files on it, shmem_mmap.ts the mappings.
 */
import { Errno, ENOMEM } from "../kernel/errno.ts";
import { folio_alloc, folio_page_address, folio_put, type Folio } from "./folio.ts";
import { PAGE_SIZE } from "./physmem.ts";
import { Inode, makedev, S_IFDIR } from "../fs/inode.ts";
import { TMPFS_MAGIC } from "../fs/tmpfs.ts";
import type { SuperBlock } from "../fs/inode.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** Seals (include/uapi/linux/fcntl.h): no more seals. */
export const F_SEAL_SEAL = 0x0001;
/** The size may not shrink. */
export const F_SEAL_SHRINK = 0x0002;
/** The size may not grow. */
export const F_SEAL_GROW = 0x0004;
/** No writes at all (write(), shared writable mappings). */
export const F_SEAL_WRITE = 0x0008;
/** No new writes; writable mappings made before keep working. */
export const F_SEAL_FUTURE_WRITE = 0x0010;
/** The exec bits of the mode may not change. */
export const F_SEAL_EXEC = 0x0020;

/** st_dev of shmem inodes: shm_mnt, the kernel's internal tmpfs, is 0:1 on x86_64 boots. */
export const SHMEM_DEV = makedev(0, 1);

/** One page-cache entry: the folio and PG_uptodate. */
export interface ShmemPage {
	readonly folio: Folio;
	uptodate: boolean;
}

interface ShmemState {
	readonly sb: SuperBlock;
	/** NR_SHMEM: pages in every shmem page cache of the kernel. */
	nrPages: number;
}

const states = new WeakMap<Kernel, ShmemState>();

/** The kernel's shm_mnt superblock and counters (made on first use). */
function shmemState(kernel: Kernel): ShmemState {
	let st = states.get(kernel);
	if (!st) {
		const sb = { fsType: "tmpfs", dev: SHMEM_DEV, magic: TMPFS_MAGIC, root: null as unknown as Inode };
		sb.root = new Inode({ sb, mode: S_IFDIR | 0o1777, fop: {}, timeNs: kernel.clock.nowNs() });
		sb.root.parent = sb.root;
		st = { sb, nrPages: 0 };
		states.set(kernel, st);
	}
	return st;
}

/** shm_mnt's superblock: where every shmem inode of `kernel` lives. */
export function shmemSuper(kernel: Kernel): SuperBlock {
	return shmemState(kernel).sb;
}

/** NR_SHMEM: frames held by the shmem page caches of `kernel` (/proc/meminfo Shmem). */
export function shmem_nr_pages(kernel: Kernel): number {
	return states.get(kernel)?.nrPages ?? 0;
}

/** The 4 KiB view of a cached page (what a mapping hands to user space). */
export function shmemPageView(page: ShmemPage): Uint8Array {
	return folio_page_address(page.folio, 0);
}

/** struct shmem_inode_info, kept in inode.i_private. */
export class ShmemInodeInfo {
	/** mapping->i_pages: page offset → entry. */
	readonly pages = new Map<number, ShmemPage>();
	/** F_SEAL_* bits; F_SEAL_SEAL until memfd_create allows sealing. */
	seals = F_SEAL_SEAL;
	/** SHMEM_F_MAPPING_FROZEN (LUO): size changes, growing writes and fallocate are EPERM. */
	frozen = false;
	/** mapping->i_mmap_writable: shared mappings that may write (F_SEAL_WRITE is EBUSY while > 0). */
	mmapWritable = 0;
	/** Open Files on the inode; the last one going frees the folios (evict). */
	openFiles = 0;

	constructor(
		readonly kernel: Kernel,
		readonly inode: Inode,
	) {}

	/** A write seal: F_SEAL_WRITE or F_SEAL_FUTURE_WRITE. */
	get writeSealed(): boolean {
		return (this.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0;
	}

	/**
	 * shmem_get_folio(): the page at `pgoff`, allocated (zeroed, not yet
	 * uptodate) if missing; ENOMEM when the buddy allocator has no frame.
	 */
	getPage(pgoff: number): ShmemPage {
		const page = this.pages.get(pgoff);
		if (page) return page;
		const folio = folio_alloc(this.kernel.buddy, 0);
		if (!folio) throw new Errno(ENOMEM);
		return this.addPage(pgoff, folio, false);
	}

	/** shmem_add_to_page_cache(): `folio` (the caller's reference) becomes page `pgoff`. */
	addPage(pgoff: number, folio: Folio, uptodate: boolean): ShmemPage {
		const page = { folio, uptodate };
		this.pages.set(pgoff, page);
		shmemState(this.kernel).nrPages++;
		return page;
	}

	/** Drops page `pgoff` from the cache and its reference to the folio. */
	removePage(pgoff: number): void {
		const page = this.pages.get(pgoff);
		if (!page) return;
		this.pages.delete(pgoff);
		shmemState(this.kernel).nrPages--;
		folio_put(page.folio);
	}

	/**
	 * shmem_undo_range() (not unfalloc): frees the pages wholly inside
	 * `[lstart, lend]` (lend null: to the end) and zeroes the covered part
	 * of a partial first or last page.
	 */
	truncateRange(lstart: number, lend: number | null): void {
		const start = Math.ceil(lstart / PAGE_SIZE);
		const end = lend === null ? Infinity : Math.floor((lend + 1) / PAGE_SIZE);
		for (const pgoff of [...this.pages.keys()]) if (pgoff >= start && pgoff < end) this.removePage(pgoff);
		const first = Math.floor(lstart / PAGE_SIZE);
		this.truncatePartial(first, lstart, lend);
		if (lend !== null && Math.floor(lend / PAGE_SIZE) !== first) this.truncatePartial(Math.floor(lend / PAGE_SIZE), lstart, lend);
	}

	/** truncate_inode_partial_folio(): zero the covered bytes, or drop the page when all of it is covered. */
	private truncatePartial(pgoff: number, lstart: number, lend: number | null): void {
		const page = this.pages.get(pgoff);
		if (!page) return;
		const pos = pgoff * PAGE_SIZE;
		const from = Math.max(lstart - pos, 0);
		const to = lend === null ? PAGE_SIZE : Math.min(lend + 1 - pos, PAGE_SIZE);
		if (from === 0 && to === PAGE_SIZE) this.removePage(pgoff);
		else if (from < to) shmemPageView(page).fill(0, from, to);
	}

	/** shmem_evict_inode(): every folio goes back (a pinned one lives on for its pinner). */
	evict(): void {
		for (const pgoff of [...this.pages.keys()]) this.removePage(pgoff);
	}
}

/** SHMEM_I(): the shmem data of an inode, or null for any other inode. */
export function shmemInfo(inode: Inode): ShmemInodeInfo | null {
	return inode.i_private instanceof ShmemInodeInfo ? inode.i_private : null;
}

/** SHMEM_I() of an inode known to be shmem (anything else is a kernel bug and throws). */
export function SHMEM_I(inode: Inode): ShmemInodeInfo {
	const info = shmemInfo(inode);
	if (!info) throw new Error(`shmem: inode ${inode.ino} is not a shmem inode`);
	return info;
}
