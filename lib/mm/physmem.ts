/**
 * The Machine's physical memory: 4 KiB page frames addressed by PFN
 * (arch/x86/include/asm/page_types.h, include/linux/pfn.h). This is the one
 * thing that survives kexec (DESIGN rule 5), so it holds bytes and nothing a
 * kernel knows about them: struct pages live in each boot's Memmap.
 *
 * Frames cost nothing until first touched. Backing is allocated per chunk of
 * MAX_ORDER_NR_PAGES frames (4 MiB, one buddy block of the largest order), so
 * every block the page allocator hands out is one contiguous view; the host
 * OS maps a chunk's zero pages only when written, so host memory follows the
 * touched frames.
 *
 * Poisoning is lazy (mm/page_poison.c writes PAGE_POISON into freed pages;
 * here the write waits): `poisonAllExcept` bumps a global generation and
 * stamps the kept frames with it; any other frame reads as PAGE_POISON, and
 * its first touch fills it, so a missed preservation fails loudly without
 * writing gigabytes. physmem_dump.ts writes it to a file for a kexec into
 * a new process.
 */
/** log2 of the page size. */
export const PAGE_SHIFT = 12;
/** The x86_64 base page size. */
export const PAGE_SIZE = 4096;
/** The largest buddy order (include/linux/mmzone.h: MAX_PAGE_ORDER, x86_64 default). */
export const MAX_PAGE_ORDER = 10;
/** Frames in a block of the largest order: also the backing chunk size. */
export const MAX_ORDER_NR_PAGES = 1 << MAX_PAGE_ORDER;
/**
 * What a frame that nobody kept reads as after poisoning
 * (include/linux/poison.h: PAGE_POISON, the byte page poisoning writes into
 * free pages).
 */
export const PAGE_POISON = 0xaa;

/** Largest supported memory: PFNs must stay small enough for 32-bit bit operations. */
const MAX_NR_PAGES = 2 ** 30;
const CHUNK_SHIFT = MAX_PAGE_ORDER;
const CHUNK_BYTES = MAX_ORDER_NR_PAGES * PAGE_SIZE;

/** include/linux/pfn.h PFN_PHYS: the physical address of a frame. */
export function PFN_PHYS(pfn: number): number {
	return pfn * PAGE_SIZE;
}

/** include/linux/pfn.h PHYS_PFN: the frame holding a physical address. */
export function PHYS_PFN(phys: number): number {
	return Math.floor(phys / PAGE_SIZE);
}

/** include/linux/mm.h PAGE_ALIGN: round up to a page boundary. */
export function PAGE_ALIGN(addr: number): number {
	return Math.ceil(addr / PAGE_SIZE) * PAGE_SIZE;
}

/**
 * include/asm-generic/getorder.h get_order: the smallest order whose block
 * of pages holds `size` bytes (0 for a size of 0 or up to one page).
 */
export function get_order(size: number): number {
	const pages = Math.ceil(size / PAGE_SIZE);
	let order = 0;
	while (2 ** order < pages) order++;
	return order;
}

/** include/linux/mm.h offset_in_page: the byte offset inside its frame. */
export function offset_in_page(addr: number): number {
	return addr % PAGE_SIZE;
}

/** Frames to keep when poisoning: a predicate, or `[pfn, count]` ranges. */
export type KeepSpec = ((pfn: number) => boolean) | Iterable<readonly [number, number]>;

function hex(n: number): string {
	return `0x${n.toString(16)}`;
}

/**
 * Physical memory of `sizeBytes` (a positive multiple of PAGE_SIZE).
 * Out-of-range addresses are kernel bugs: they throw a RangeError naming the
 * address, never an errno.
 */
export class PhysicalMemory {
	/** Bytes of memory. */
	readonly sizeBytes: number;
	/** Number of frames (max_pfn). */
	readonly nr_pages: number;
	private readonly chunks: (Uint8Array | undefined)[];
	private readonly views: ((Uint8Array | undefined)[] | undefined)[];
	/** Per frame: the generation whose contents it holds; any other reads as poison. */
	private readonly frameGen: Uint32Array;
	/** Per frame: 1 once its backing bytes were written (they may be non-zero). */
	private readonly touched: Uint8Array;
	private generation = 0;
	private nrTouched = 0;

	constructor(sizeBytes: number) {
		if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % PAGE_SIZE !== 0)
			throw new RangeError(`physmem: size ${sizeBytes} is not a positive multiple of ${PAGE_SIZE}`);
		if (sizeBytes / PAGE_SIZE > MAX_NR_PAGES)
			throw new RangeError(`physmem: size ${hex(sizeBytes)} exceeds ${hex(MAX_NR_PAGES * PAGE_SIZE)}`);
		this.sizeBytes = sizeBytes;
		this.nr_pages = sizeBytes / PAGE_SIZE;
		const nchunks = Math.ceil(this.nr_pages / MAX_ORDER_NR_PAGES);
		this.chunks = new Array<Uint8Array | undefined>(nchunks);
		this.views = new Array<(Uint8Array | undefined)[] | undefined>(nchunks);
		this.frameGen = new Uint32Array(this.nr_pages);
		this.touched = new Uint8Array(this.nr_pages);
	}

	/** Frames whose backing was written: the host memory in use (a dump records those not poisoned). */
	get touchedFrames(): number {
		return this.nrTouched;
	}

	/** How many times memory was poisoned: 0 on a fresh machine, 1 after loading a poisoned dump. */
	get poisonGeneration(): number {
		return this.generation;
	}

	/** True when the frame's backing was written since the machine started (its bytes may be non-zero). */
	isTouched(pfn: number): boolean {
		this.checkPfn(pfn, 1);
		return this.touched[pfn] === 1;
	}

	/** True when `pfn` reads as the poison pattern (poisoned and not written since). */
	isPoisoned(pfn: number): boolean {
		this.checkPfn(pfn, 1);
		return this.frameGen[pfn] !== this.generation;
	}

	/**
	 * page_address(pfn_to_page(pfn)): a 4 KiB view of the frame, the same
	 * object on every call for the life of this memory (user mappings and KHO
	 * hold it). Touches the frame (a poisoned one is filled now). A view taken
	 * before a poisoning that did not keep the frame is a dangling pointer: it
	 * sees the poison only once the frame is touched again.
	 */
	page(pfn: number): Uint8Array {
		this.checkPfn(pfn, 1);
		this.touch(pfn);
		const c = pfn >>> CHUNK_SHIFT;
		let views = this.views[c];
		if (views === undefined) {
			views = new Array<Uint8Array | undefined>(MAX_ORDER_NR_PAGES);
			this.views[c] = views;
		}
		const i = pfn & (MAX_ORDER_NR_PAGES - 1);
		let view = views[i];
		if (view === undefined) {
			view = this.frame(pfn);
			views[i] = view;
		}
		return view;
	}

	/**
	 * One view over `nr` frames from `pfn`, touching them all. They must lie in
	 * one 4 MiB chunk: any naturally aligned block of order <= MAX_PAGE_ORDER does.
	 */
	pages(pfn: number, nr: number): Uint8Array {
		this.checkPfn(pfn, nr);
		if (pfn >>> CHUNK_SHIFT !== (pfn + nr - 1) >>> CHUNK_SHIFT)
			throw new RangeError(`physmem: frames ${hex(pfn)}+${nr} cross a ${CHUNK_BYTES >> 20} MiB chunk`);
		for (let p = pfn; p < pfn + nr; p++) this.touch(p);
		const off = (pfn & (MAX_ORDER_NR_PAGES - 1)) * PAGE_SIZE;
		return this.chunks[pfn >>> CHUNK_SHIFT]!.subarray(off, off + nr * PAGE_SIZE);
	}

	/** A copy of `len` bytes at `phys`. Does not touch frames (untouched ones read as zero or poison). */
	read(phys: number, len: number): Uint8Array {
		this.checkPhys(phys, len);
		const out = new Uint8Array(len);
		let done = 0;
		while (done < len) {
			const addr = phys + done;
			const pfn = PHYS_PFN(addr);
			const off = offset_in_page(addr);
			const n = Math.min(PAGE_SIZE - off, len - done);
			if (this.frameGen[pfn] !== this.generation) out.fill(PAGE_POISON, done, done + n);
			else if (this.touched[pfn] === 1) out.set(this.frame(pfn).subarray(off, off + n), done);
			done += n;
		}
		return out;
	}

	/** Copies `bytes` to `phys`, touching the frames written. */
	write(phys: number, bytes: Uint8Array): void {
		this.checkPhys(phys, bytes.length);
		let done = 0;
		while (done < bytes.length) {
			const addr = phys + done;
			const pfn = PHYS_PFN(addr);
			const n = Math.min(PAGE_SIZE - offset_in_page(addr), bytes.length - done);
			this.page(pfn).set(bytes.subarray(done, done + n), offset_in_page(addr));
			done += n;
		}
	}

	/**
	 * clear_page over `nr` frames from `pfn` (what __GFP_ZERO does). A frame
	 * never written and not poisoned is already zero and stays untouched.
	 */
	clearPages(pfn: number, nr: number): void {
		this.checkPfn(pfn, nr);
		for (let p = pfn; p < pfn + nr; p++) {
			if (this.touched[p] === 0 && this.frameGen[p] === this.generation) continue;
			this.page(p).fill(0);
		}
	}

	/**
	 * Poisons every frame except the kept ones, lazily: a new generation
	 * begins, kept frames are stamped with it and keep their bytes, and every
	 * other frame reads as PAGE_POISON from now on (a kept frame that is
	 * already poisoned stays poisoned). With a predicate this
	 * costs one call per frame; with `[pfn, count]` ranges, one write per kept
	 * frame. Nothing is written into the frames themselves.
	 */
	poisonAllExcept(keep: KeepSpec): void {
		const gen = this.generation + 1;
		const old = this.generation;
		const fg = this.frameGen;
		if (typeof keep === "function") {
			for (let p = 0; p < this.nr_pages; p++) if (fg[p] === old && keep(p)) fg[p] = gen;
		} else {
			const ranges = [...keep];
			for (const [pfn, count] of ranges) this.checkPfn(pfn, count);
			for (const [pfn, count] of ranges) for (let p = pfn; p < pfn + count; p++) if (fg[p] === old) fg[p] = gen;
		}
		this.generation = gen;
	}

	/** The backing bytes of a frame whose chunk exists (no poison check). */
	private frame(pfn: number): Uint8Array {
		const off = (pfn & (MAX_ORDER_NR_PAGES - 1)) * PAGE_SIZE;
		return this.chunks[pfn >>> CHUNK_SHIFT]!.subarray(off, off + PAGE_SIZE);
	}

	/** Makes the frame's current contents real: allocate its chunk, fill poison if stale. */
	private touch(pfn: number): void {
		const c = pfn >>> CHUNK_SHIFT;
		let chunk = this.chunks[c];
		if (chunk === undefined) {
			const start = c * CHUNK_BYTES;
			chunk = new Uint8Array(Math.min(CHUNK_BYTES, this.sizeBytes - start));
			this.chunks[c] = chunk;
		}
		if (this.frameGen[pfn] !== this.generation) {
			const off = (pfn & (MAX_ORDER_NR_PAGES - 1)) * PAGE_SIZE;
			chunk.fill(PAGE_POISON, off, off + PAGE_SIZE);
			this.frameGen[pfn] = this.generation;
		}
		if (this.touched[pfn] === 0) {
			this.touched[pfn] = 1;
			this.nrTouched++;
		}
	}

	private checkPfn(pfn: number, nr: number): void {
		if (!Number.isInteger(pfn) || !Number.isInteger(nr) || pfn < 0 || nr < 1 || pfn + nr > this.nr_pages)
			throw new RangeError(
				`physmem: pfn ${Number.isInteger(pfn) ? hex(pfn) : pfn} (+${nr}) outside memory of ${this.nr_pages} frames`,
			);
	}

	private checkPhys(phys: number, len: number): void {
		if (!Number.isSafeInteger(phys) || !Number.isSafeInteger(len) || phys < 0 || len < 0 || phys + len > this.sizeBytes)
			throw new RangeError(
				`physmem: physical address ${Number.isSafeInteger(phys) ? hex(phys) : phys} (+${len}) beyond end of memory ${hex(this.sizeBytes)}`,
			);
	}
}
