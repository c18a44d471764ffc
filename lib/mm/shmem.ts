/**
 * shmem files (mm/shmem.c): the memory filesystem behind memfd_create. A
 * shmem inode's data is a page cache of order-0 folios from the boot's
 * buddy allocator (shmem_inode.ts), so it lives in page frames of the
 * Machine's physical memory (DESIGN rules 4 and 5) and KHO can hand it
 * over in place. The cache is sparse: a page gets a frame on its first
 * write, fault or fallocate; reading a hole returns zeros and allocates
 * nothing. Folios are freed by truncation, hole punching, and when the
 * last File on the inode goes (each fd's open file description, and each
 * mapping, which holds its File). Mappings are in shmem_mmap.ts.
 *
 * Like Linux, a folio allocated by fallocate stays !uptodate (a hole to
 * SEEK_DATA) until it is written, faulted, or fallocated again.
 *
 * Differences: the files live on one internal mount per kernel (shm_mnt,
 * st_dev 0:1) with no size limit, as shm_mnt has none, so ENOSPC never
 * arises; there is no swap, so a page that does not fit in free memory is
 * ENOMEM (Linux would reclaim, then call the OOM killer); no huge pages;
 * RLIMIT_FSIZE is not enforced; a truncation does not take back the pages
 * a MAP_PRIVATE mapping already copied past the new EOF.
 */
import { Errno, EEXIST, EFBIG, EINVAL, ENOMEM, ENXIO, EOPNOTSUPP, EPERM } from "../kernel/errno.ts";
import { currentOrNull } from "../kernel/current.ts";
import { PAGE_SIZE } from "./physmem.ts";
import { File, FMODE_READ, FMODE_WRITE } from "../fs/file.ts";
import { Inode, S_IFMT, S_IFREG } from "../fs/inode.ts";
import { O_RDWR, SEEK_DATA, SEEK_HOLE } from "../fs/fcntl.ts";
import { genericFileLlseek, MAX_LFS_FILESIZE } from "../fs/readWrite.ts";
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from "../fs/falloc.ts";
import {
	F_SEAL_EXEC, F_SEAL_GROW, F_SEAL_SHRINK, ShmemInodeInfo, SHMEM_I, shmemInfo, shmemPageView, shmemSuper,
	type ShmemPage,
} from "./shmem_inode.ts";
import { shmemMmap } from "./shmem_mmap.ts";
import type { Folio } from "./folio.ts";
import type { FileOperations } from "../fs/file.ts";
import type { InodeAttr, InodeOperations } from "../fs/inode.ts";
import type { Kernel } from "../kernel/kernel.ts";

export {
	F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE, F_SEAL_EXEC, SHMEM_DEV, ShmemInodeInfo,
	SHMEM_I, shmemInfo, shmem_nr_pages, type ShmemPage,
} from "./shmem_inode.ts";
export { ShmemMapping } from "./shmem_mmap.ts";

/** 24 hours in ns: relatime updates atime at least this often. */
const DAY_NS = 24 * 3600 * 1_000_000_000;

/** shmem_file(): the file is a shmem (memfd) file. */
export function shmem_file(file: File): boolean {
	return shmemInfo(file.inode) !== null;
}

/**
 * shmem_read_folio() (SGP_CACHE): the uptodate folio at `pgoff`, allocated
 * for a hole; EINVAL at or past EOF, ENOMEM. What memfd_pin_folios uses.
 */
export function shmem_read_folio(inode: Inode, pgoff: number): Folio {
	const info = SHMEM_I(inode);
	if (pgoff * PAGE_SIZE >= inode.size) throw new Errno(EINVAL);
	const page = info.getPage(pgoff);
	page.uptodate = true;
	return page.folio;
}

/**
 * shmem_add_to_page_cache() for a restored folio (LUO retrieve): it
 * becomes the uptodate page at `pgoff`, its reference now the cache's.
 * EEXIST when the slot is taken.
 */
export function shmem_add_folio(inode: Inode, pgoff: number, folio: Folio): void {
	const info = SHMEM_I(inode);
	if (info.pages.has(pgoff)) throw new Errno(EEXIST);
	info.addPage(pgoff, folio, true);
}

/** The page cache as `[pgoff, folio, uptodate]` by page offset: what LUO/KHO preserve in place. */
export function shmem_folios(inode: Inode): [number, Folio, boolean][] {
	return [...SHMEM_I(inode).pages].sort((a, b) => a[0] - b[0]).map(([pgoff, p]) => [pgoff, p.folio, p.uptodate]);
}

/** shmem_freeze(): while frozen, size changes, writes past EOF and every fallocate are EPERM (LUO preserve). */
export function shmem_freeze(inode: Inode, freeze: boolean): void {
	SHMEM_I(inode).frozen = freeze;
}

/** shmem_truncate_range(): frees `[lstart, lend]` (lend null: to the end), zeroing partial pages. */
export function shmem_truncate_range(inode: Inode, lstart: number, lend: number | null): void {
	SHMEM_I(inode).truncateRange(lstart, lend);
}

function touchAtime(inode: Inode, now: number): void {
	if (inode.atimeNs <= inode.mtimeNs || inode.atimeNs <= inode.ctimeNs || now - inode.atimeNs >= DAY_NS) inode.atimeNs = now;
}

/** shmem_file_read_iter(): up to EOF; holes and !uptodate pages read as zeros. */
function shmemRead(file: File, count: number, ppos: { pos: number }): Uint8Array {
	const inode = file.inode;
	const info = SHMEM_I(inode);
	const pos = ppos.pos;
	const n = Math.max(0, Math.min(count, inode.size - pos));
	const out = new Uint8Array(n);
	for (let done = 0; done < n; ) {
		const off = (pos + done) % PAGE_SIZE;
		const chunk = Math.min(PAGE_SIZE - off, n - done);
		const page = info.pages.get(Math.floor((pos + done) / PAGE_SIZE));
		if (page?.uptodate) out.set(shmemPageView(page).subarray(off, off + chunk), done);
		done += chunk;
	}
	ppos.pos = pos + n;
	touchAtime(inode, info.kernel.clock.nowNs());
	return out;
}

/** shmem_write_begin(): the seal and freeze checks of one chunk, then its page. */
function writeBegin(info: ShmemInodeInfo, pos: number, len: number): ShmemPage {
	const size = info.inode.size;
	if (info.writeSealed) throw new Errno(EPERM);
	if (info.seals & F_SEAL_GROW && pos + len > size) throw new Errno(EPERM);
	if (info.frozen && pos + len > size) throw new Errno(EPERM);
	return info.getPage(Math.floor(pos / PAGE_SIZE));
}

/**
 * shmem_file_write_iter() + generic_perform_write(): page by page; a
 * chunk refused by a seal (EPERM) or by memory (ENOMEM) ends the write,
 * which is short if something was written. EFBIG at MAX_LFS_FILESIZE.
 */
function shmemWrite(file: File, data: Uint8Array, ppos: { pos: number }): number {
	const inode = file.inode;
	const info = SHMEM_I(inode);
	let pos = ppos.pos;
	if (data.length === 0) return 0;
	if (pos >= MAX_LFS_FILESIZE) throw new Errno(EFBIG);
	const len = Math.min(data.length, MAX_LFS_FILESIZE - pos);
	const now = info.kernel.clock.nowNs();
	inode.mtimeNs = inode.ctimeNs = now;
	let done = 0;
	while (done < len) {
		const off = pos % PAGE_SIZE;
		const chunk = Math.min(PAGE_SIZE - off, len - done);
		let page: ShmemPage;
		try {
			page = writeBegin(info, pos, chunk);
		} catch (e) {
			if (done > 0 && e instanceof Errno) break;
			throw e;
		}
		shmemPageView(page).set(data.subarray(done, done + chunk), off);
		page.uptodate = true;
		pos += chunk;
		done += chunk;
		if (pos > inode.size) inode.size = pos;
	}
	ppos.pos = pos;
	return done;
}

/**
 * mapping_seek_hole_data() over uptodate pages: ENXIO at or past EOF (or
 * for SEEK_DATA with no data after `start`); a hole runs to EOF at most.
 */
function seekHoleData(info: ShmemInodeInfo, start: number, whence: number): number {
	const end = info.inode.size;
	if (start >= end) throw new Errno(ENXIO);
	let idx = Math.floor(start / PAGE_SIZE);
	if (whence === SEEK_DATA) {
		let best = Infinity;
		for (const [pgoff, page] of info.pages) if (page.uptodate && pgoff >= idx && pgoff < best) best = pgoff;
		if (best * PAGE_SIZE >= end) throw new Errno(ENXIO);
		return Math.max(start, best * PAGE_SIZE);
	}
	while (info.pages.get(idx)?.uptodate) idx++;
	return Math.min(Math.max(start, idx * PAGE_SIZE), end);
}

/** shmem_file_llseek(): SEEK_DATA/SEEK_HOLE over the page cache, the rest as generic_file_llseek. */
function shmemLlseek(file: File, offset: number, whence: number): number {
	if (whence !== SEEK_DATA && whence !== SEEK_HOLE) return genericFileLlseek(file, offset, whence);
	if (offset < 0) throw new Errno(ENXIO);
	file.f_pos = seekHoleData(SHMEM_I(file.inode), offset, whence);
	return file.f_pos;
}

/**
 * shmem_fallocate(): EOPNOTSUPP for modes other than KEEP_SIZE and
 * PUNCH_HOLE; EPERM when frozen. PUNCH_HOLE: EPERM under a write seal,
 * then frees the range (partial pages zeroed). Allocation: EFBIG past
 * MAX_LFS_FILESIZE, EPERM past EOF under F_SEAL_GROW, ENOMEM (nothing
 * allocated) when the holes do not fit in free memory; then every page
 * of the range exists and, without KEEP_SIZE, the size covers it.
 */
function shmemFallocate(file: File, mode: number, offset: number, len: number): void {
	const inode = file.inode;
	const info = SHMEM_I(inode);
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) throw new Errno(EOPNOTSUPP);
	if (info.frozen) throw new Errno(EPERM);
	const now = (): void => {
		inode.mtimeNs = inode.ctimeNs = info.kernel.clock.nowNs();
	};
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		if (info.writeSealed) throw new Errno(EPERM);
		shmem_truncate_range(inode, offset, offset + len - 1);
		now();
		return;
	}
	const newEnd = offset + len;
	if (!(newEnd <= MAX_LFS_FILESIZE)) throw new Errno(EFBIG);
	if (info.seals & F_SEAL_GROW && newEnd > inode.size) throw new Errno(EPERM);
	const start = Math.floor(offset / PAGE_SIZE);
	const end = Math.ceil(newEnd / PAGE_SIZE);
	let present = 0;
	for (const pgoff of info.pages.keys()) if (pgoff >= start && pgoff < end) present++;
	if (end - start - present > info.kernel.buddy.nr_free_pages()) throw new Errno(ENOMEM);
	for (let pgoff = start; pgoff < end; pgoff++) {
		const page = info.pages.get(pgoff);
		// SGP_FALLOC initializes a folio an earlier fallocate left !uptodate; a new one stays !uptodate.
		if (page) page.uptodate = true;
		else info.getPage(pgoff);
	}
	if (!(mode & FALLOC_FL_KEEP_SIZE) && newEnd > inode.size) inode.size = newEnd;
	now();
}

/** shmem_setattr(): seals and freezing guard the size and the exec bits; a smaller size frees what lies past it. */
function shmemSetattr(inode: Inode, attr: InodeAttr): void {
	const info = SHMEM_I(inode);
	const now = info.kernel.clock.nowNs();
	if (attr.mode !== undefined && info.seals & F_SEAL_EXEC && (inode.mode ^ attr.mode) & 0o111) throw new Errno(EPERM);
	if (attr.size !== undefined) {
		const newsize = attr.size;
		const oldsize = inode.size;
		if (!Number.isSafeInteger(newsize) || newsize < 0) throw new Errno(EINVAL);
		if (newsize > MAX_LFS_FILESIZE) throw new Errno(EFBIG);
		if ((newsize < oldsize && info.seals & F_SEAL_SHRINK) || (newsize > oldsize && info.seals & F_SEAL_GROW)) throw new Errno(EPERM);
		if (info.frozen && newsize !== oldsize) throw new Errno(EPERM);
		if (newsize !== oldsize) {
			inode.size = newsize;
			inode.mtimeNs = now;
		}
		if (newsize <= oldsize) shmem_truncate_range(inode, newsize, null);
	}
	if (attr.mode !== undefined) inode.mode = (inode.mode & S_IFMT) | (attr.mode & 0o7777);
	if (attr.uid !== undefined) inode.uid = attr.uid;
	if (attr.gid !== undefined) inode.gid = attr.gid;
	if (attr.atimeNs !== undefined) inode.atimeNs = attr.atimeNs;
	if (attr.mtimeNs !== undefined) inode.mtimeNs = attr.mtimeNs;
	inode.ctimeNs = now;
}

/** shmem_file_operations. */
export const shmemFileOperations: FileOperations = {
	open: (inode) => {
		SHMEM_I(inode).openFiles++;
	},
	release: (inode) => {
		const info = SHMEM_I(inode);
		if (--info.openFiles === 0 && inode.nlink === 0) info.evict();
	},
	read: shmemRead,
	write: shmemWrite,
	llseek: shmemLlseek,
	mmap: shmemMmap,
	fallocate: shmemFallocate,
};

const shmemInodeOperations: InodeOperations = { setattr: shmemSetattr };

/**
 * shmem_file_setup(): an unlinked shmem file named `name` on the internal
 * mount, open O_RDWR, of `size` bytes (no pages), mode S_IFREG|0777, owned
 * by the caller's fsuid/fsgid; seals F_SEAL_SEAL. The caller owns the one
 * reference; /proc shows it as "/NAME (deleted)".
 */
export function shmem_file_setup(kernel: Kernel, name: string, size: number): File {
	const sb = shmemSuper(kernel);
	const cred = currentOrNull()?.cred;
	const inode = new Inode({
		sb, mode: S_IFREG | 0o777, fop: shmemFileOperations, op: shmemInodeOperations, uid: cred?.fsuid ?? 0,
		gid: cred?.fsgid ?? 0, size, timeNs: kernel.clock.nowNs(), parent: sb.root,
	});
	inode.nlink = 0;
	const info = new ShmemInodeInfo(kernel, inode);
	inode.i_private = info;
	info.openFiles = 1;
	return new File({
		f_op: shmemFileOperations, inode, path: { inode, name: `/${name}` }, f_flags: O_RDWR, f_mode: FMODE_READ | FMODE_WRITE,
		opener: currentOrNull(),
	});
}
