/**
 * The user heap behind libc's malloc, calloc, realloc and free, modelled on
 * glibc's malloc/malloc.c (2.36): chunk sizes as request2size() computes
 * them (16-byte aligned, 32 bytes at least, the header 16 bytes before the
 * returned pointer), exact-size LIFO bins for freed small chunks (like
 * tcache), coalescing best-fit reuse of freed larger ones (which also
 * serve small requests when their bin is empty), and a separate mapping
 * for requests of MMAP_THRESHOLD and more.
 *
 * The memory is real user memory of an AddressSpace (arenas are
 * `mmap(MAP_PRIVATE|MAP_ANONYMOUS, PROT_READ|PROT_WRITE)`); the
 * bookkeeping lives in JS, so a program that writes past its buffer
 * corrupts its neighbour's data but never the allocator. Errors follow
 * glibc: failure is 0 (NULL, the caller sets ENOMEM); a free() of a
 * pointer malloc did not return throws HeapError, glibc's
 * malloc_printerr() + abort().
 */
import { Errno } from "../kernel/errno.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE, type AddressSpace } from "./addressSpace.ts";

/** MALLOC_ALIGNMENT on x86_64: every pointer malloc returns is a multiple of it. */
export const MALLOC_ALIGNMENT = 16;
/** DEFAULT_MMAP_THRESHOLD_MIN: chunks this big or bigger get a mapping of their own. */
export const MMAP_THRESHOLD = 128 * 1024;
/** Size of each arena mapping (glibc grows the main arena with brk; luosim maps arenas). */
export const ARENA_SIZE = 1 << 20;

const SIZE_SZ = 8;
const MINSIZE = 32;
/** Chunk header: prev_size and size, in front of the user pointer. */
const CHUNK_HDR = 16;
/** Chunks up to this size go to exact-size bins (tcache covers up to 1032 bytes). */
const SMALL_MAX = 1024;

/** glibc's malloc_printerr(): heap misuse that aborts the process ("free(): invalid pointer"). */
export class HeapError extends Error {
	override name = "HeapError";
}

/** request2size(): the chunk size for a request of `req` bytes. */
function request2size(req: number): number {
	const s = req + SIZE_SZ + MALLOC_ALIGNMENT - 1;
	return s < MINSIZE ? MINSIZE : s - (s % MALLOC_ALIGNMENT);
}

/** One process's malloc state over its address space. */
export class UserHeap {
	/** In-use chunks: user pointer → chunk size, or −(mapping length) for an mmapped chunk. */
	private inuse = new Map<number, number>();
	/** Free small chunks: chunk size → user pointers, last freed first. */
	private bins = new Map<number, number[]>();
	/** User pointers sitting in `bins` (to tell a double free from a wild pointer). */
	private binned = new Set<number>();
	/** Free larger chunks: chunk start → size, and chunk end → start, for coalescing. */
	private freeStart = new Map<number, number>();
	private freeEnd = new Map<number, number>();
	/** The untouched rest of the current arena: [top, topEnd). */
	private top = 0;
	private topEnd = 0;

	constructor(readonly mm: AddressSpace) {}

	/** malloc(3): a 16-byte aligned pointer to `size` bytes; `malloc(0)` is a unique pointer too; 0 when out of memory. */
	malloc(size: number): number {
		if (!Number.isSafeInteger(size) || size < 0) return 0;
		const csize = request2size(size);
		if (csize >= MMAP_THRESHOLD) return this.mmapChunk(size);
		return (csize <= SMALL_MAX && this.fromBin(csize)) || this.fromFreeList(csize) || this.fromTop(csize);
	}

	/** calloc(3): `nmemb * size` zeroed bytes; 0 when out of memory or when the product overflows. */
	calloc(nmemb: number, size: number): number {
		const total = nmemb * size;
		if (!Number.isSafeInteger(nmemb) || !Number.isSafeInteger(size) || nmemb < 0 || size < 0 || !Number.isSafeInteger(total)) return 0;
		const mem = this.malloc(total);
		// A fresh mapping is zero already; recycled chunks are not.
		if (mem !== 0 && total > 0 && this.inuse.get(mem)! > 0) this.mm.copyToUser(mem, new Uint8Array(total));
		return mem;
	}

	/**
	 * free(3): `free(0)` does nothing. A pointer malloc did not return, or
	 * one already freed, throws HeapError with glibc's message.
	 */
	free(ptr: number): void {
		if (ptr === 0) return;
		const csize = this.inuse.get(ptr);
		if (csize === undefined) {
			if (this.binned.has(ptr)) throw new HeapError("free(): double free detected in tcache 2");
			if (this.freeStart.has(ptr - CHUNK_HDR)) throw new HeapError("double free or corruption (!prev)");
			throw new HeapError("free(): invalid pointer");
		}
		this.inuse.delete(ptr);
		if (csize < 0) {
			this.mm.munmap(ptr - CHUNK_HDR, -csize);
		} else if (csize <= SMALL_MAX) {
			let bin = this.bins.get(csize);
			if (bin === undefined) this.bins.set(csize, (bin = []));
			bin.push(ptr);
			this.binned.add(ptr);
		} else {
			this.freeLarge(ptr - CHUNK_HDR, csize);
		}
	}

	/**
	 * realloc(3): `realloc(0, n)` is malloc(n); `realloc(p, 0)` frees p and
	 * returns 0 (glibc's REALLOC_ZERO_BYTES_FREES). Shrinks in place, grows
	 * in place at the top of the arena, otherwise moves the contents. On
	 * failure returns 0 and `ptr` is untouched. An unknown `ptr` throws
	 * HeapError ("realloc(): invalid pointer").
	 */
	realloc(ptr: number, size: number): number {
		if (ptr === 0) return this.malloc(size);
		const old = this.inuse.get(ptr);
		if (old === undefined) throw new HeapError("realloc(): invalid pointer");
		if (size === 0) {
			this.free(ptr);
			return 0;
		}
		if (!Number.isSafeInteger(size) || size < 0) return 0;
		const csize = request2size(size);
		if (old > 0 && csize <= old) return ptr;
		if (old < 0 && size <= -old - CHUNK_HDR && csize >= MMAP_THRESHOLD) return ptr;
		if (old > 0 && ptr - CHUNK_HDR + old === this.top && this.top + (csize - old) + MINSIZE <= this.topEnd) {
			this.top += csize - old;
			this.inuse.set(ptr, csize);
			return ptr;
		}
		const mem = this.malloc(size);
		if (mem === 0) return 0;
		try {
			this.mm.copyToUser(mem, this.mm.copyFromUser(ptr, Math.min(this.usable(old), size)));
		} catch (e) {
			this.free(mem);
			throw e;
		}
		this.free(ptr);
		return mem;
	}

	/** malloc_usable_size(3): bytes usable at `ptr` (at least what was asked for); 0 for NULL. */
	malloc_usable_size(ptr: number): number {
		if (ptr === 0) return 0;
		const csize = this.inuse.get(ptr);
		if (csize === undefined) throw new HeapError("malloc_usable_size(): invalid pointer");
		return this.usable(csize);
	}

	/** The child's heap at fork: the same chunks, over the child's copy of the address space. */
	fork(mm: AddressSpace): UserHeap {
		const h = new UserHeap(mm);
		h.inuse = new Map(this.inuse);
		h.bins = new Map([...this.bins].map(([k, v]) => [k, [...v]]));
		h.binned = new Set(this.binned);
		h.freeStart = new Map(this.freeStart);
		h.freeEnd = new Map(this.freeEnd);
		h.top = this.top;
		h.topEnd = this.topEnd;
		return h;
	}

	private usable(csize: number): number {
		return csize < 0 ? -csize - CHUNK_HDR : csize - SIZE_SZ;
	}

	private fromBin(csize: number): number {
		const mem = this.bins.get(csize)?.pop();
		if (mem === undefined) return 0;
		this.binned.delete(mem);
		this.inuse.set(mem, csize);
		return mem;
	}

	/** Best fit among the free larger chunks, splitting off a remainder of MINSIZE or more. */
	private fromFreeList(csize: number): number {
		let best = -1;
		let bestSize = Infinity;
		for (const [start, size] of this.freeStart) {
			if (size >= csize && size < bestSize) {
				best = start;
				bestSize = size;
				if (size === csize) break;
			}
		}
		if (best < 0) return 0;
		this.unlinkFree(best, bestSize);
		let take = bestSize;
		if (bestSize - csize >= MINSIZE) {
			this.linkFree(best + csize, bestSize - csize);
			take = csize;
		}
		this.inuse.set(best + CHUNK_HDR, take);
		return best + CHUNK_HDR;
	}

	/** Carves a chunk off the top of the arena, mapping a new arena when it does not fit. */
	private fromTop(csize: number): number {
		// MINSIZE stays free above the last chunk: its usable bytes reach 8 into the next header.
		if (this.top + csize + MINSIZE > this.topEnd && !this.newArena()) return 0;
		const chunk = this.top;
		this.top += csize;
		this.inuse.set(chunk + CHUNK_HDR, csize);
		return chunk + CHUNK_HDR;
	}

	private newArena(): boolean {
		let base: number;
		try {
			base = this.mm.mmap(0, ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
		} catch (e) {
			if (e instanceof Errno) return false;
			throw e;
		}
		const rest = this.topEnd - MINSIZE - this.top;
		if (rest >= MINSIZE) this.linkFree(this.top, rest);
		this.top = base;
		this.topEnd = base + ARENA_SIZE;
		return true;
	}

	private mmapChunk(size: number): number {
		const len = Math.ceil((size + CHUNK_HDR) / PAGE_SIZE) * PAGE_SIZE;
		let base: number;
		try {
			base = this.mm.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
		} catch (e) {
			if (e instanceof Errno) return 0;
			throw e;
		}
		this.inuse.set(base + CHUNK_HDR, -len);
		return base + CHUNK_HDR;
	}

	/** Frees a larger chunk, merging it with free neighbours and with the top (glibc's _int_free consolidation). */
	private freeLarge(start: number, size: number): void {
		const prev = this.freeEnd.get(start);
		if (prev !== undefined) {
			const prevSize = start - prev;
			this.unlinkFree(prev, prevSize);
			start = prev;
			size += prevSize;
		}
		const nextSize = this.freeStart.get(start + size);
		if (nextSize !== undefined) {
			this.unlinkFree(start + size, nextSize);
			size += nextSize;
		}
		if (start + size === this.top) this.top = start;
		else this.linkFree(start, size);
	}

	private linkFree(start: number, size: number): void {
		this.freeStart.set(start, size);
		this.freeEnd.set(start + size, start);
	}

	private unlinkFree(start: number, size: number): void {
		this.freeStart.delete(start);
		this.freeEnd.delete(start + size);
	}
}
