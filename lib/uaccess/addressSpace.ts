/**
 * The per-process user address space (include/linux/mm_types.h: struct
 * mm_struct): mmap, munmap and mprotect on a sorted list of VMAs (mm/mmap.c,
 * mm/vma.c, mm/mprotect.c), and the primitives the kernel uses to touch
 * user memory (arch/x86/include/asm/uaccess.h: copy_from_user,
 * copy_to_user, get_user, put_user, strncpy_from_user).
 *
 * A bad user pointer is `Errno(EFAULT)`, never a JS exception (DESIGN rule
 * 4), and a failed copy writes nothing: the whole range is checked first.
 * Addresses are JS numbers (user space ends below 2^47); u64 values are
 * bigint. A page lookup is a binary search over the VMAs (O(log n)) behind
 * a one-entry cache of the last VMA used.
 */
import { Errno, EACCES, EEXIST, EFAULT, EINVAL, ENOMEM, EOPNOTSUPP, EPERM, fail } from "../kernel/errno.ts";
import {
	AnonShmem, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED,
	MAP_SHARED_VALIDATE, MAP_TYPE, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_SEM, PROT_WRITE, Vma, protReadable,
	protWritable, type VmaBacking,
} from "./vma.ts";

export {
	PAGE_SHIFT, PAGE_SIZE, PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC, PROT_SEM, PROT_GROWSDOWN, PROT_GROWSUP,
	MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_TYPE, MAP_FIXED, MAP_ANONYMOUS, MAP_NORESERVE, MAP_POPULATE,
	MAP_FIXED_NOREPLACE, Vma, AnonShmem, type VmaBacking,
} from "./vma.ts";

/** TASK_SIZE_MAX with 4-level page tables: the end of user space (arch/x86/include/asm/page_64_types.h). */
export const TASK_SIZE = 0x7ffffffff000;
/** vm.mmap_min_addr (CONFIG_DEFAULT_MMAP_MIN_ADDR=65536): nothing is ever mapped below it, so NULL faults. */
export const MMAP_MIN_ADDR = 0x10000;
/** mm->mmap_base: top-down allocation starts below it (arch/x86/mm/mmap.c, without randomization). */
export const MMAP_BASE = 0x7f0000000000;

const PROT_KNOWN = PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM;
/**
 * LEGACY_MAP_MASK (include/linux/mman.h): SHARED PRIVATE FIXED ANONYMOUS
 * DENYWRITE EXECUTABLE UNINITIALIZED GROWSDOWN LOCKED NORESERVE POPULATE
 * NONBLOCK STACK HUGETLB 32BIT HUGE_2MB HUGE_1GB. Nothing else passes
 * MAP_SHARED_VALIDATE on a file (not even MAP_FIXED_NOREPLACE, as in Linux).
 */
const LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | 0x0800 | 0x1000 | 0x4000000 | 0x0100 |
	0x2000 | MAP_NORESERVE | MAP_POPULATE | 0x10000 | 0x20000 | 0x40000 | 0x40 | (21 << 26) | (30 << 26);
/** The flags a VMA keeps (the rest only steer mmap itself). */
const VMA_FLAGS = MAP_TYPE | MAP_ANONYMOUS | MAP_NORESERVE;

const decoder = new TextDecoder();
/** Copies up to this many bytes go byte by byte (a typed-array view costs more than the loop). */
const SHORT_COPY = 64;

function pageAlign(n: number): number {
	return Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

/**
 * `addr % PAGE_SIZE` for an address (a non-negative integer): user
 * addresses are above 2^31, where `%` is a floating-point remainder that
 * costs a call; this is plain arithmetic.
 */
function pageOffset(addr: number): number {
	return addr - Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
}

function isAddr(n: number): boolean {
	return Number.isSafeInteger(n) && n >= 0;
}

/** `v.readPage(idx)`: a fault in the backing is EFAULT to the caller (the kernel's exception fixup). */
function readPageOrFault(v: Vma, idx: number): Uint8Array | null {
	try {
		return v.readPage(idx);
	} catch (e) {
		if (e instanceof Errno) fail(EFAULT);
		throw e;
	}
}

/** `v.writePage(idx)`, a backing fault being EFAULT. */
function writePageOrFault(v: Vma, idx: number): Uint8Array {
	try {
		return v.writePage(idx);
	} catch (e) {
		if (e instanceof Errno) fail(EFAULT);
		throw e;
	}
}

/** struct mm_struct: one process's user memory. */
export class AddressSpace {
	/** The VMAs, sorted by address, never overlapping. */
	private list: Vma[] = [];
	/** The last VMA a lookup found (mm->vmacache of old kernels). */
	private cache: Vma | undefined = undefined;
	/**
	 * Where libc's scratch stack is mapped (mm->start_stack's region), set by
	 * libc when it maps it (lib/libc/sys.ts); 0 and 0 while it has none.
	 * fork copies it with the mapping; an exec starts a new address space.
	 */
	stackStart = 0;
	stackEnd = 0;

	/** Index of the first VMA whose end is above `addr` (it contains `addr` if its start is not above it). */
	private lowerBound(addr: number): number {
		const list = this.list;
		let lo = 0;
		let hi = list.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (list[mid]!.end <= addr) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	}

	/** find_vma() that must contain `addr`: the VMA holding it, or undefined. */
	findVma(addr: number): Vma | undefined {
		const c = this.cache;
		if (c !== undefined && addr >= c.start && addr < c.end) return c;
		const v = this.list[this.lowerBound(addr)];
		// `!(<=)` also refuses NaN.
		if (v === undefined || !(v.start <= addr)) return undefined;
		this.cache = v;
		return v;
	}

	/** The VMAs in address order (what /proc/self/maps prints). Do not modify. */
	vmas(): readonly Vma[] {
		return this.list;
	}

	/**
	 * mmap(2) after the file lookup: maps `length` bytes and returns the
	 * address. `backing` (with `pgoff`, in pages) is the file's; without one
	 * the mapping is anonymous. Errors, in Linux's order: EINVAL for length
	 * 0 or unknown prot bits; ENOMEM when the length overflows or no room is
	 * left; EINVAL for an unaligned MAP_FIXED address; EPERM below
	 * mmap_min_addr; EEXIST for MAP_FIXED_NOREPLACE over a mapping; EINVAL
	 * for a mapping type other than MAP_SHARED or MAP_PRIVATE (a file may
	 * also use MAP_SHARED_VALIDATE, an anonymous mapping may not);
	 * EOPNOTSUPP for a flag outside LEGACY_MAP_MASK with MAP_SHARED_VALIDATE;
	 * EACCES for a writable shared mapping of a backing that forbids writes.
	 * On failure the caller keeps its reference to `backing`.
	 * MAP_FIXED replaces what was there. Otherwise a free, page-aligned hint
	 * is used as is, else the highest free range below MMAP_BASE.
	 */
	mmap(addr: number, length: number, prot: number, flags: number, backing?: VmaBacking, pgoff = 0): number {
		if (!isAddr(addr) || !Number.isSafeInteger(length) || !Number.isSafeInteger(pgoff) || pgoff < 0) fail(EINVAL);
		if (length === 0) fail(EINVAL);
		if ((prot & ~PROT_KNOWN) !== 0) fail(EINVAL);
		if ((flags & MAP_FIXED_NOREPLACE) !== 0) flags |= MAP_FIXED;
		if (length < 0 || length > TASK_SIZE) fail(ENOMEM);
		const len = pageAlign(length);
		let start: number;
		if ((flags & MAP_FIXED) !== 0) {
			if (addr > TASK_SIZE - len) fail(ENOMEM);
			if (addr % PAGE_SIZE !== 0) fail(EINVAL);
			if (addr < MMAP_MIN_ADDR) fail(EPERM);
			if ((flags & MAP_FIXED_NOREPLACE) !== 0 && this.intersects(addr, addr + len)) fail(EEXIST);
			start = addr;
		} else {
			start = this.getUnmappedArea(addr, len);
		}
		const type = flags & MAP_TYPE;
		// An anonymous mapping knows only MAP_SHARED and MAP_PRIVATE: MAP_SHARED_VALIDATE is EINVAL there.
		if (type !== MAP_SHARED && type !== MAP_PRIVATE && (backing === undefined || type !== MAP_SHARED_VALIDATE)) fail(EINVAL);
		if (type === MAP_SHARED_VALIDATE && (flags & ~LEGACY_MAP_MASK) !== 0) fail(EOPNOTSUPP);
		const shared = type !== MAP_PRIVATE;
		if (shared && protWritable(prot) && backing?.mayWrite === false) fail(EACCES);
		const vmaFlags = ((flags & VMA_FLAGS & ~MAP_TYPE) | (shared ? MAP_SHARED : MAP_PRIVATE)) >>> 0;
		if (backing === undefined && shared) {
			backing = new AnonShmem();
			pgoff = 0;
		}
		if ((flags & MAP_FIXED) !== 0) this.unmapRange(start, start + len);
		const vma = new Vma(start, start + len, prot, vmaFlags, backing === undefined ? 0 : pgoff, backing);
		this.list.splice(this.lowerBound(start), 0, vma);
		this.mergeAround(start, start + len);
		return start;
	}

	/**
	 * munmap(2): removes every mapping in `[addr, addr + length)`, splitting
	 * VMAs at the edges; unmapping nothing is not an error. EINVAL for an
	 * unaligned address, a zero length, or a range beyond user space.
	 */
	munmap(addr: number, length: number): void {
		if (!isAddr(addr) || !Number.isSafeInteger(length) || length < 0) fail(EINVAL);
		if (addr % PAGE_SIZE !== 0 || addr > TASK_SIZE || length > TASK_SIZE - addr) fail(EINVAL);
		const len = pageAlign(length);
		if (len === 0) fail(EINVAL);
		this.unmapRange(addr, addr + len);
	}

	/**
	 * mprotect(2): sets the protection of `[addr, addr + len)`, splitting
	 * VMAs at the edges. EINVAL for an unaligned address or an unknown prot
	 * bit (PROT_GROWSDOWN/UP too: no VMA here grows); ENOMEM when the range
	 * starts in a hole or runs into one; EACCES for PROT_WRITE on a shared
	 * mapping that may not be written. As in Linux, the VMAs before a hole
	 * or an EACCES VMA have been changed when the error is returned.
	 */
	mprotect(addr: number, len: number, prot: number): void {
		if (!isAddr(addr) || !Number.isSafeInteger(len) || len < 0) fail(EINVAL);
		if (addr % PAGE_SIZE !== 0) fail(EINVAL);
		if (len === 0) return;
		const end = addr + pageAlign(len);
		if (end > TASK_SIZE) fail(ENOMEM);
		if ((prot & ~PROT_KNOWN) !== 0) fail(EINVAL);
		this.cache = undefined;
		let error = 0;
		let tmp = addr;
		for (let v = this.findVma(addr); tmp < end; v = this.list[this.lowerBound(tmp)]) {
			if (v === undefined || v.start > tmp) {
				error = ENOMEM;
				break;
			}
			if (protWritable(prot) && v.shared && v.backing?.mayWrite === false) {
				error = EACCES;
				break;
			}
			const segEnd = Math.min(end, v.end);
			this.splitAt(tmp);
			this.splitAt(segEnd);
			this.list[this.lowerBound(tmp)]!.prot = prot;
			tmp = segEnd;
		}
		this.mergeAround(addr, tmp);
		this.cache = undefined;
		if (error !== 0) fail(error);
	}

	/** Drops every mapping (exit_mmap at exit, or before exec). */
	unmapAll(): void {
		for (const v of this.list) v.backing?.close?.();
		this.list = [];
		this.cache = undefined;
	}

	/** The child's address space at fork: private pages copied, MAP_SHARED pages and backings shared. */
	fork(): AddressSpace {
		const child = new AddressSpace();
		child.list = this.list.map((v) => v.forkCopy());
		child.stackStart = this.stackStart;
		child.stackEnd = this.stackEnd;
		return child;
	}

	/**
	 * copy_from_user(): a copy of `len` bytes at `addr`. EFAULT (and nothing
	 * read) if any byte is unmapped or unreadable. A copy within one page
	 * allocates only the result.
	 */
	copyFromUser(addr: number, len: number): Uint8Array {
		if (!isAddr(addr) || !Number.isSafeInteger(len) || len < 0) fail(EFAULT);
		if (len === 0) return new Uint8Array(0);
		const off = pageOffset(addr);
		if (off + len <= PAGE_SIZE) {
			const v = this.findVma(addr);
			if (v === undefined || !protReadable(v.prot)) fail(EFAULT);
			const page = readPageOrFault(v, (addr - off - v.start) / PAGE_SIZE);
			return page === null ? new Uint8Array(len) : page.slice(off, off + len);
		}
		this.checkRange(addr, len, false);
		const out = new Uint8Array(len);
		this.forEachPage(addr, len, (v, idx, pageOff, n, done) => {
			const page = readPageOrFault(v, idx);
			if (page !== null) out.set(page.subarray(pageOff, pageOff + n), done);
		});
		return out;
	}

	/**
	 * copy_from_user() into a buffer the caller has: `len` bytes at `addr`
	 * into `out[0, len)`, with copyFromUser's EFAULT (and then `out` is
	 * untouched). It saves the intermediate copy on the paths that copy
	 * straight on (libc handing a result back to the program's array).
	 */
	copyFromUserTo(addr: number, out: Uint8Array, len: number): void {
		if (len > out.length) throw new RangeError(`copyFromUserTo: ${len} bytes do not fit in ${out.length}`);
		const off = pageOffset(addr);
		if (isAddr(addr) && Number.isSafeInteger(len) && len > 0 && off + len <= PAGE_SIZE) {
			const v = this.findVma(addr);
			if (v === undefined || !protReadable(v.prot)) fail(EFAULT);
			const page = readPageOrFault(v, (addr - off - v.start) / PAGE_SIZE);
			if (page === null) out.fill(0, 0, len);
			// A few bytes copy faster one by one than through a subarray view.
			else if (len <= SHORT_COPY) for (let i = 0; i < len; i++) out[i] = page[off + i]!;
			else out.set(page.subarray(off, off + len));
			return;
		}
		out.set(this.copyFromUser(addr, len));
	}

	/**
	 * copy_to_user(): stores `data` at `addr`. EFAULT if any byte is
	 * unmapped or not writable, and then nothing at all is written.
	 */
	copyToUser(addr: number, data: Uint8Array): void {
		const len = data.length;
		if (!isAddr(addr)) fail(EFAULT);
		if (len === 0) return;
		const off = pageOffset(addr);
		if (off + len <= PAGE_SIZE) {
			const v = this.findVma(addr);
			if (v === undefined || !protWritable(v.prot)) fail(EFAULT);
			const page = writePageOrFault(v, (addr - off - v.start) / PAGE_SIZE);
			// A few bytes (a path, an attribute's text) copy faster one by one than through set().
			if (len <= SHORT_COPY) for (let i = 0; i < len; i++) page[off + i] = data[i]!;
			else page.set(data, off);
			return;
		}
		this.checkRange(addr, len, true);
		this.forEachPage(addr, len, (v, idx) => {
			if (!v.pagePresent(idx)) fail(EFAULT);
		});
		this.forEachPage(addr, len, (v, idx, pageOff, n, done) => {
			v.writePage(idx).set(data.subarray(done, done + n), pageOff);
		});
	}

	/**
	 * clear_user(): zeroes `len` bytes at `addr`, with copyToUser's EFAULT
	 * (nothing written then); within one page it needs no zero buffer.
	 */
	clearUser(addr: number, len: number): void {
		const off = pageOffset(addr);
		if (isAddr(addr) && Number.isSafeInteger(len) && len > 0 && off + len <= PAGE_SIZE) {
			const v = this.findVma(addr);
			if (v === undefined || !protWritable(v.prot)) fail(EFAULT);
			writePageOrFault(v, (addr - off - v.start) / PAGE_SIZE).fill(0, off, off + len);
			return;
		}
		if (!Number.isSafeInteger(len) || len < 0) fail(EFAULT);
		this.copyToUser(addr, new Uint8Array(len));
	}

	/** get_user(): the unsigned little-endian value of 1, 2 or 4 bytes (number) or 8 bytes (bigint) at `addr`; EFAULT. */
	getUser(addr: number, size: 1 | 2 | 4): number;
	getUser(addr: number, size: 8): bigint;
	getUser(addr: number, size: 1 | 2 | 4 | 8): number | bigint;
	getUser(addr: number, size: 1 | 2 | 4 | 8): number | bigint {
		if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new RangeError(`getUser: size ${String(size)} is not 1, 2, 4 or 8`);
		let b: Uint8Array;
		let o = 0;
		const off = pageOffset(addr);
		const v = isAddr(addr) && off + size <= PAGE_SIZE ? this.findVma(addr) : undefined;
		if (v !== undefined && protReadable(v.prot)) {
			const page = readPageOrFault(v, (addr - off - v.start) / PAGE_SIZE);
			if (page === null) return size === 8 ? 0n : 0;
			b = page;
			o = off;
		} else {
			b = this.copyFromUser(addr, size);
		}
		switch (size) {
			case 1:
				return b[o]!;
			case 2:
				return b[o]! | (b[o + 1]! << 8);
			case 4:
				return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
			default: {
				const lo = (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
				const hi = (b[o + 4]! | (b[o + 5]! << 8) | (b[o + 6]! << 16) | (b[o + 7]! << 24)) >>> 0;
				return (BigInt(hi) << 32n) | BigInt(lo);
			}
		}
	}

	/** put_user(): stores `value` (truncated to `size` bytes, two's complement) little-endian at `addr`; EFAULT. */
	putUser(addr: number, size: 1 | 2 | 4 | 8, value: number | bigint): void {
		if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new RangeError(`putUser: size ${String(size)} is not 1, 2, 4 or 8`);
		let lo: number;
		let hi = 0;
		if (typeof value === "bigint" || size === 8) {
			const v = BigInt.asUintN(64, BigInt(value));
			lo = Number(v & 0xffffffffn);
			hi = Number(v >> 32n);
		} else {
			lo = value | 0;
		}
		const off = pageOffset(addr);
		const v = isAddr(addr) && off + size <= PAGE_SIZE ? this.findVma(addr) : undefined;
		const direct = v !== undefined && protWritable(v.prot);
		const b = direct ? writePageOrFault(v, (addr - off - v.start) / PAGE_SIZE) : new Uint8Array(size);
		const o = direct ? off : 0;
		for (let i = 0; i < size; i++) b[o + i] = (i < 4 ? lo >>> (i * 8) : hi >>> ((i - 4) * 8)) & 0xff;
		if (!direct) this.copyToUser(addr, b);
	}

	/**
	 * strncpy_from_user(): the string at `addr`, up to the first NUL or
	 * `max` bytes (decoded as UTF-8); `terminated` tells whether a NUL was
	 * found. EFAULT if a hole comes before either.
	 */
	strncpyFromUser(addr: number, max: number): { str: string; terminated: boolean } {
		if (!isAddr(addr) || !Number.isSafeInteger(max) || max < 0) fail(EFAULT);
		const chunks: Uint8Array[] = [];
		let total = 0;
		let cur = addr;
		while (total < max) {
			const v = this.findVma(cur);
			if (v === undefined || !protReadable(v.prot)) fail(EFAULT);
			const off = pageOffset(cur);
			const n = Math.min(max - total, PAGE_SIZE - off);
			const page = readPageOrFault(v, (cur - off - v.start) / PAGE_SIZE);
			if (total === 0 && page !== null) {
				const again = sameStringAgain(page, off, n);
				if (again !== null) return { str: again, terminated: true };
			}
			let nul = page === null ? 0 : page.indexOf(0, off) - off;
			if (nul >= n) nul = -1;
			if (nul >= 0) {
				// The common case, a string within one page, skips the chunk list.
				if (chunks.length === 0) return { str: page === null ? "" : decodeInterned(page, off, off + nul), terminated: true };
				if (page !== null) chunks.push(page.subarray(off, off + nul));
				return { str: decodeChunks(chunks, total + nul), terminated: true };
			}
			chunks.push(page!.subarray(off, off + n));
			total += n;
			cur += n;
		}
		return { str: decodeChunks(chunks, total), terminated: false };
	}

	/**
	 * Whether `len` bytes at `addr` can be loaded (or stored, with `write`)
	 * by user code: libc uses it to raise SIGSEGV where C would fault,
	 * instead of returning EFAULT.
	 */
	access(addr: number, len: number, write: boolean): boolean {
		if (!isAddr(addr) || !Number.isSafeInteger(len) || len < 0) return false;
		if (len === 0) return true;
		const off = pageOffset(addr);
		if (off + len <= PAGE_SIZE) {
			// One page (every small buffer): one VMA to look at, no range walk.
			const v = this.findVma(addr);
			if (v === undefined || !(write ? protWritable(v.prot) : protReadable(v.prot))) return false;
			return v.pagePresent((addr - off - v.start) / PAGE_SIZE);
		}
		try {
			this.checkRange(addr, len, write);
			this.forEachPage(addr, len, (v, idx) => {
				if (!v.pagePresent(idx)) fail(EFAULT);
			});
			return true;
		} catch (e) {
			if (e instanceof Errno) return false;
			throw e;
		}
	}

	/** EFAULT unless every byte of `[addr, addr + len)` is mapped with read (or write) permission. */
	private checkRange(addr: number, len: number, write: boolean): void {
		const end = addr + len;
		let i = this.lowerBound(addr);
		let v = this.list[i];
		if (v === undefined || v.start > addr) fail(EFAULT);
		for (;;) {
			if (!(write ? protWritable(v.prot) : protReadable(v.prot))) fail(EFAULT);
			if (v.end >= end) return;
			const next: Vma | undefined = this.list[++i];
			if (next === undefined || next.start !== v.end) fail(EFAULT);
			v = next;
		}
	}

	/** Calls `fn(vma, pageIndex, offsetInPage, bytes, bytesDone)` for each page piece of a range known to be mapped. */
	private forEachPage(addr: number, len: number, fn: (v: Vma, idx: number, off: number, n: number, done: number) => void): void {
		let done = 0;
		let i = this.lowerBound(addr);
		while (done < len) {
			const cur = addr + done;
			let v = this.list[i]!;
			if (cur >= v.end) v = this.list[++i]!;
			const off = pageOffset(cur);
			const n = Math.min(len - done, PAGE_SIZE - off);
			fn(v, (cur - off - v.start) / PAGE_SIZE, off, n, done);
			done += n;
		}
	}

	private intersects(start: number, end: number): boolean {
		const v = this.list[this.lowerBound(start)];
		return v !== undefined && v.start < end;
	}

	/**
	 * get_unmapped_area(): a free, page-aligned `len`-byte range. A hint is
	 * rounded up to a page and used when free; otherwise the highest gap
	 * below MMAP_BASE (arch_get_unmapped_area_topdown), then the lowest above
	 * it; ENOMEM when there is none.
	 */
	private getUnmappedArea(hint: number, len: number): number {
		if (hint !== 0) {
			const h = Math.max(pageAlign(hint), MMAP_MIN_ADDR);
			if (h <= TASK_SIZE - len && !this.intersects(h, h + len)) return h;
		}
		let hi = MMAP_BASE;
		for (let i = this.list.length - 1; i >= -1; i--) {
			const v = this.list[i];
			if (v !== undefined && v.start >= hi) continue;
			const lo = Math.max(v === undefined ? 0 : v.end, MMAP_MIN_ADDR);
			if (hi - lo >= len) return hi - len;
			if (v !== undefined) hi = v.start;
		}
		let lo = MMAP_BASE;
		for (let i = this.lowerBound(MMAP_BASE); i <= this.list.length; i++) {
			const v = this.list[i];
			const gapEnd = v === undefined ? TASK_SIZE : v.start;
			if (gapEnd - lo >= len) return lo;
			if (v !== undefined) lo = Math.max(lo, v.end);
		}
		fail(ENOMEM);
	}

	/** Splits the VMA that strictly contains `addr`, if any. */
	private splitAt(addr: number): void {
		const i = this.lowerBound(addr);
		const v = this.list[i];
		if (v !== undefined && v.start < addr && addr < v.end) this.list.splice(i + 1, 0, v.split(addr));
	}

	/** Removes every mapping in `[start, end)` (do_vmi_munmap). */
	private unmapRange(start: number, end: number): void {
		this.splitAt(start);
		this.splitAt(end);
		const i = this.lowerBound(start);
		let j = i;
		while (j < this.list.length && this.list[j]!.start < end) j++;
		for (const v of this.list.splice(i, j - i)) v.backing?.close?.();
		this.cache = undefined;
	}

	/** Merges compatible neighbours from the VMA before `start` to the one after `end` (vma_merge). */
	private mergeAround(start: number, end: number): void {
		let i = Math.max(0, this.lowerBound(start) - 1);
		while (i + 1 < this.list.length && this.list[i]!.start <= end) {
			const a = this.list[i]!;
			const b = this.list[i + 1]!;
			if (a.canMerge(b)) {
				a.merge(b);
				this.list.splice(i + 1, 1);
			} else {
				i++;
			}
		}
		this.cache = undefined;
	}
}

/**
 * The short string strncpyFromUser decoded last, and where: the page
 * object and the offset in it. libc builds a call's path at the same
 * stack address every time; when that place holds the same bytes again
 * (compared, with the NUL after them) the string is the same, with no
 * search, hash or decoding.
 */
let lastPage: Uint8Array | null = null;
let lastOff = 0;
let lastString: InternEntry = { bytes: new Uint8Array(0), str: "" };

/** The string last decoded at `page[off]`, if the same bytes and a NUL are there again within `n` bytes; else null. */
function sameStringAgain(page: Uint8Array, off: number, n: number): string | null {
	if (page !== lastPage || off !== lastOff) return null;
	const b = lastString.bytes;
	const len = b.length;
	if (len >= n || page[off + len] !== 0) return null;
	for (let i = 0; i < len; i++) if (page[off + i] !== b[i]) return null;
	return lastString.str;
}

/** A decoded string and a copy of its bytes. */
interface InternEntry {
	bytes: Uint8Array;
	str: string;
}

/** Strings up to this many bytes go through the decode cache. */
const INTERN_MAX_LEN = 128;
/** Entries the decode cache holds before it starts over. */
const INTERN_ENTRIES = 256;
/** Recently decoded short strings, by a hash of their bytes (FNV-1a). */
const interned = new Map<number, InternEntry>();

/**
 * `page[start, end)` decoded as UTF-8. Programs pass the same few paths
 * over and over, and decoding costs far more than hashing and comparing a
 * few bytes, so short strings come from a cache when the bytes match.
 */
function decodeInterned(page: Uint8Array, start: number, end: number): string {
	const len = end - start;
	if (len > INTERN_MAX_LEN) return decoder.decode(page.subarray(start, end));
	let h = 0x811c9dc5;
	for (let i = start; i < end; i++) h = Math.imul(h ^ page[i]!, 0x01000193);
	let entry = interned.get(h);
	if (entry !== undefined && entry.bytes.length === len) {
		const b = entry.bytes;
		let i = 0;
		while (i < len && b[i] === page[start + i]) i++;
		if (i !== len) entry = undefined;
	} else {
		entry = undefined;
	}
	if (entry === undefined) {
		const bytes = page.slice(start, end);
		entry = { bytes, str: decoder.decode(bytes) };
		if (interned.size >= INTERN_ENTRIES) interned.clear();
		interned.set(h, entry);
	}
	lastPage = page;
	lastOff = start;
	lastString = entry;
	return entry.str;
}

function decodeChunks(chunks: Uint8Array[], total: number): string {
	if (chunks.length === 1) return decoder.decode(chunks[0]);
	const all = new Uint8Array(total);
	let o = 0;
	for (const c of chunks) {
		all.set(c, o);
		o += c.length;
	}
	return decoder.decode(all);
}
