/**
 * Virtual memory areas (include/linux/mm_types.h: struct vm_area_struct)
 * and the constants of the mmap family (include/uapi/asm-generic/mman-common.h,
 * include/uapi/linux/mman.h, arch/x86/include/asm/page_types.h).
 *
 * A Vma holds its own private pages (anonymous memory and the copy-on-write
 * copies of a MAP_PRIVATE file mapping); shared pages live in the backing
 * object, so every address space that maps it sees the same bytes.
 */

/** log2 of the page size. */
export const PAGE_SHIFT = 12;
/** The x86_64 base page size. */
export const PAGE_SIZE = 4096;

/** Page protections (mmap's and mprotect's `prot`). */
export const PROT_NONE = 0x0;
/** Readable. */
export const PROT_READ = 0x1;
/** Writable (and so readable: x86 has no write-only pages). */
export const PROT_WRITE = 0x2;
/** Executable. */
export const PROT_EXEC = 0x4;
/** Accepted and ignored, as on x86. */
export const PROT_SEM = 0x8;
/** mprotect on a grows-down VMA only (none here: EINVAL). */
export const PROT_GROWSDOWN = 0x01000000;
/** mprotect on a grows-up VMA only (none here: EINVAL). */
export const PROT_GROWSUP = 0x02000000;

/** Stores are shared with every mapping of the object (and reach the file). */
export const MAP_SHARED = 0x01;
/** Stores are private to this mapping (copy-on-write). */
export const MAP_PRIVATE = 0x02;
/** MAP_SHARED that fails (EOPNOTSUPP) on flags it does not know; files only. */
export const MAP_SHARED_VALIDATE = 0x03;
/** Mask of the mapping type. */
export const MAP_TYPE = 0x0f;
/** Map exactly at `addr`, replacing what is there. */
export const MAP_FIXED = 0x10;
/** No file: zero-filled memory. */
export const MAP_ANONYMOUS = 0x20;
/** Do not reserve swap (accepted; nothing is reserved here anyway). */
export const MAP_NORESERVE = 0x4000;
/** Prefault the pages (accepted; faulting is invisible here). */
export const MAP_POPULATE = 0x8000;
/** MAP_FIXED, but EEXIST instead of replacing a mapping. */
export const MAP_FIXED_NOREPLACE = 0x100000;

/**
 * The object behind a file or memfd mapping (a later module's page cache):
 * what `file->f_op->mmap` hands to the address space.
 */
export interface VmaBacking {
	/** Page `pgoff` of the backing object (a 4 KiB view that stays valid); may throw Errno (e.g. beyond EOF). */
	getPage(pgoff: number): Uint8Array;
	/** Human name for /proc/self/maps ("/memfd:x (deleted)"). */
	name: string;
	/**
	 * false when a MAP_SHARED mapping may never become writable (the file
	 * was opened read-only, or is write-sealed): PROT_WRITE is then EACCES,
	 * in mmap and in mprotect (VM_MAYWRITE in mm/mmap.c, mm/mprotect.c).
	 */
	mayWrite?: boolean;
	/**
	 * vm_operations_struct.open: another VMA now references the backing
	 * (a split or a fork). The VMA that mmap() creates does not call it: the
	 * reference the caller passed in is that VMA's.
	 */
	open?(): void;
	/** vm_operations_struct.close: a VMA referencing the backing went away (munmap, merge, exit). */
	close?(): void;
}

/**
 * Shared anonymous memory (mm/shmem.c: shmem_zero_setup): a MAP_SHARED
 * mapping without a file gets an unnamed shmem object, which a fork child
 * shares. /proc/self/maps shows it as "/dev/zero (deleted)".
 */
export class AnonShmem implements VmaBacking {
	readonly name = "/dev/zero (deleted)";
	private readonly pages = new Map<number, Uint8Array>();

	/** Page `pgoff`, zero-filled on first touch. */
	getPage(pgoff: number): Uint8Array {
		let page = this.pages.get(pgoff);
		if (page === undefined) {
			page = new Uint8Array(PAGE_SIZE);
			this.pages.set(pgoff, page);
		}
		return page;
	}
}

/** A readable mapping: x86 page tables cannot express write-only, so PROT_WRITE implies read (arch/x86/mm/pgprot.c). */
export function protReadable(prot: number): boolean {
	return (prot & (PROT_READ | PROT_WRITE)) !== 0;
}

/** A writable mapping. */
export function protWritable(prot: number): boolean {
	return (prot & PROT_WRITE) !== 0;
}

/**
 * struct vm_area_struct: `[start, end)` with one protection and one set of
 * flags. `flags` keeps the mapping type (MAP_SHARED or MAP_PRIVATE;
 * MAP_SHARED_VALIDATE is stored as MAP_SHARED) and MAP_ANONYMOUS /
 * MAP_NORESERVE; `pgoff` is the first page's offset in `backing` (0 for
 * private anonymous memory). `pages` holds the private pages by page index
 * from `start`, allocated on first write.
 */
export class Vma {
	/**
	 * The private page used last and its index: programs touch the same
	 * page again and again (a stack, a buffer), as a TLB knows, and this
	 * saves the map lookup. Reset wherever `pages` loses or moves pages.
	 */
	private hotIdx = -1;
	private hotPage: Uint8Array | undefined = undefined;

	constructor(
		public start: number,
		public end: number,
		public prot: number,
		public flags: number,
		public pgoff: number,
		public backing: VmaBacking | undefined,
		public pages: Map<number, Uint8Array> = new Map(),
	) {}

	/** MAP_SHARED: stores go to the backing object (VM_SHARED). */
	get shared(): boolean {
		return (this.flags & MAP_TYPE) === MAP_SHARED;
	}

	/** Number of pages. */
	get npages(): number {
		return (this.end - this.start) / PAGE_SIZE;
	}

	/**
	 * The page at index `idx` for a load, or null for a private anonymous
	 * page never written (reads as zeros, nothing allocated: the zero page).
	 * May throw the backing's Errno.
	 */
	readPage(idx: number): Uint8Array | null {
		if (this.shared) return this.backing!.getPage(this.pgoff + idx);
		if (idx === this.hotIdx) return this.hotPage!;
		const page = this.pages.get(idx);
		if (page !== undefined) {
			this.hotIdx = idx;
			this.hotPage = page;
			return page;
		}
		return this.backing === undefined ? null : this.backing.getPage(this.pgoff + idx);
	}

	/**
	 * The page at index `idx` for a store: the shared page, or this VMA's
	 * private page, zero-filled or copied from the backing on first write
	 * (copy-on-write, mm/memory.c: do_wp_page / do_anonymous_page). May
	 * throw the backing's Errno, before anything is allocated.
	 */
	writePage(idx: number): Uint8Array {
		if (this.shared) return this.backing!.getPage(this.pgoff + idx);
		if (idx === this.hotIdx) return this.hotPage!;
		let page = this.pages.get(idx);
		if (page === undefined) {
			const src = this.backing?.getPage(this.pgoff + idx);
			page = src === undefined ? new Uint8Array(PAGE_SIZE) : src.slice(0, PAGE_SIZE);
			this.pages.set(idx, page);
		}
		this.hotIdx = idx;
		this.hotPage = page;
		return page;
	}

	/** True when page `idx` can be faulted in (the backing has it). */
	pagePresent(idx: number): boolean {
		if (this.backing === undefined || (!this.shared && this.pages.has(idx))) return true;
		try {
			this.backing.getPage(this.pgoff + idx);
			return true;
		} catch {
			return false;
		}
	}

	/**
	 * Splits at `addr` (page aligned, strictly inside): this VMA keeps
	 * `[start, addr)`, the returned one gets `[addr, end)` and the pages
	 * above (mm/mmap.c: __split_vma).
	 */
	split(addr: number): Vma {
		const k = (addr - this.start) / PAGE_SIZE;
		const tail = new Vma(addr, this.end, this.prot, this.flags, this.backing === undefined ? 0 : this.pgoff + k, this.backing);
		this.hotIdx = -1;
		this.hotPage = undefined;
		for (const [idx, page] of this.pages) {
			if (idx >= k) {
				tail.pages.set(idx - k, page);
				this.pages.delete(idx);
			}
		}
		this.end = addr;
		this.backing?.open?.();
		return tail;
	}

	/** True when `next` (starting at this.end) can be merged into this VMA (mm/vma.c: is_mergeable_vma). */
	canMerge(next: Vma): boolean {
		return (
			this.end === next.start &&
			this.prot === next.prot &&
			this.flags === next.flags &&
			this.backing === next.backing &&
			(this.backing === undefined || next.pgoff === this.pgoff + this.npages)
		);
	}

	/** Absorbs `next` (canMerge must hold); `next` is dropped. */
	merge(next: Vma): void {
		const n = this.npages;
		for (const [idx, page] of next.pages) this.pages.set(idx + n, page);
		this.end = next.end;
		next.backing?.close?.();
	}

	/** The child's copy at fork (kernel/fork.c: dup_mmap): private pages copied, the backing shared. */
	forkCopy(): Vma {
		const pages = new Map<number, Uint8Array>();
		for (const [idx, page] of this.pages) pages.set(idx, page.slice());
		this.backing?.open?.();
		return new Vma(this.start, this.end, this.prot, this.flags, this.pgoff, this.backing, pages);
	}
}
