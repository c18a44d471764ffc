/**
 * mmap of a shmem file (mm/shmem.c: shmem_mmap, shmem_fault;
 * mm/memfd.c: memfd_check_seals_mmap; mm/mmap.c: mapping_map_writable).
 * A mapping's pages are the page cache's own frames, so stores through a
 * MAP_SHARED mapping are what read() returns and the reverse; a fault
 * allocates the page of a hole. A MAP_PRIVATE mapping reads the cache
 * until its first store to a page, which copies it (lib/uaccess/vma.ts).
 *
 * Each VMA holds a reference to the File (vma->vm_file), so the inode
 * and its folios outlive close() while mapped. The VMAs of one open file
 * with the same VM_MAYWRITE share one backing, so adjacent ones merge as
 * Linux merges them. A fault at or past EOF fails as SIGBUS does (the
 * kernel's copy routines see EFAULT).
 */
import { Errno, EFAULT, EPERM } from "../kernel/errno.ts";
import { FMODE_WRITE } from "../fs/file.ts";
import { MAP_PRIVATE, MAP_TYPE, PROT_WRITE } from "../uaccess/vma.ts";
import { PAGE_SIZE } from "./physmem.ts";
import { SHMEM_I, shmemPageView } from "./shmem_inode.ts";
import type { File, MmapRequest } from "../fs/file.ts";
import type { VmaBacking } from "../uaccess/vma.ts";
import type { Inode } from "../fs/inode.ts";

/** The VmaBacking of the mappings of one shmem File with one VM_MAYWRITE; each VMA on it holds a reference. */
export class ShmemMapping implements VmaBacking {
	constructor(
		readonly file: File,
		/** VM_MAYWRITE of a shared mapping: false for a read-only fd or a write-sealed file. */
		readonly mayWrite: boolean,
		/** Counted in i_mmap_writable (shared and VM_MAYWRITE). */
		private readonly countsWritable: boolean,
	) {}

	/** The mapped inode. */
	get inode(): Inode {
		return this.file.inode;
	}

	/** What /proc/PID/maps prints: d_path of the file, "/memfd:NAME (deleted)". */
	get name(): string {
		const name = this.file.path?.name ?? "";
		return this.inode.nlink === 0 ? `${name} (deleted)` : name;
	}

	/** shmem_fault(): the page's frame, allocated for a hole; EFAULT (SIGBUS) at or past EOF, ENOMEM. */
	getPage(pgoff: number): Uint8Array {
		const info = SHMEM_I(this.inode);
		if (pgoff * PAGE_SIZE >= this.inode.size) throw new Errno(EFAULT);
		const page = info.getPage(pgoff);
		page.uptodate = true;
		return shmemPageView(page);
	}

	/** The PFN behind page `pgoff` without faulting it in, or null (a hole, or past EOF): for /proc/PID/pagemap. */
	pfn(pgoff: number): number | null {
		if (pgoff * PAGE_SIZE >= this.inode.size) return null;
		return SHMEM_I(this.inode).pages.get(pgoff)?.folio.pfn ?? null;
	}

	/** vm_ops->open: another VMA references the file (a new mapping, a split, a fork). */
	open(): void {
		this.file.get();
		if (this.countsWritable) SHMEM_I(this.inode).mmapWritable++;
	}

	/** vm_ops->close: a VMA went away (munmap, merge, exit). */
	close(): void {
		if (this.countsWritable) SHMEM_I(this.inode).mmapWritable--;
		this.file.put();
	}
}

const backings = new WeakMap<File, Map<string, ShmemMapping>>();

/**
 * shmem_mmap() with the seal checks mmap makes for a memfd: a shared
 * PROT_WRITE mapping of a write-sealed file is EPERM; a shared read-only
 * one of it can never become writable (mprotect: EACCES). The new VMA's
 * reference to `file` is taken here.
 */
export function shmemMmap(file: File, req: MmapRequest): VmaBacking {
	const info = SHMEM_I(file.inode);
	const shared = (req.flags & MAP_TYPE) !== MAP_PRIVATE;
	let mayWrite = !shared || (file.f_mode & FMODE_WRITE) !== 0;
	if (shared && info.writeSealed) {
		if (req.prot & PROT_WRITE) throw new Errno(EPERM);
		mayWrite = false;
	}
	const countsWritable = shared && mayWrite;
	let byKind = backings.get(file);
	if (!byKind) backings.set(file, (byKind = new Map()));
	const key = `${mayWrite}/${countsWritable}`;
	let backing = byKind.get(key);
	if (!backing) byKind.set(key, (backing = new ShmemMapping(file, mayWrite, countsWritable)));
	backing.open();
	return backing;
}
