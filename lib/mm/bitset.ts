/**
 * A bitmap with summary levels, so the lowest set bit is found in a few
 * word reads however large the map is. The buddy allocator keeps one per
 * order as its free list (mm/page_alloc.c keeps linked lists; a bitmap by
 * block index makes "lowest free PFN first" deterministic and cheap).
 */

function ctz32(w: number): number {
	return 31 - Math.clz32(w & -w);
}

/** A set of integers in `[0, size)` with O(log32 size) insert, delete and lowest-at-or-after. */
export class LevelBitset {
	/** Number of bits. */
	readonly size: number;
	/** levels[0] holds the bits; bit b of levels[k][w] says whether levels[k-1][32w+b] is non-zero. */
	private readonly levels: Uint32Array[] = [];
	private nrSet = 0;

	constructor(size: number) {
		if (!Number.isInteger(size) || size < 0 || size > 2 ** 31)
			throw new RangeError(`bitset: bad size ${size}`);
		this.size = size;
		let words = Math.max(1, Math.ceil(size / 32));
		for (;;) {
			this.levels.push(new Uint32Array(words));
			if (words === 1) break;
			words = Math.ceil(words / 32);
		}
	}

	/** Number of set bits. */
	get count(): number {
		return this.nrSet;
	}

	/** True when bit `i` is set. */
	has(i: number): boolean {
		this.check(i);
		return (this.levels[0]![i >>> 5]! & (1 << (i & 31))) !== 0;
	}

	/** Sets bit `i` (no-op when set). */
	set(i: number): void {
		if (this.has(i)) return;
		this.nrSet++;
		for (const level of this.levels) {
			const w = i >>> 5;
			const old = level[w]!;
			level[w] = old | (1 << (i & 31));
			if (old !== 0) return;
			i = w;
		}
	}

	/** Clears bit `i` (no-op when clear). */
	clear(i: number): void {
		if (!this.has(i)) return;
		this.nrSet--;
		for (const level of this.levels) {
			const w = i >>> 5;
			level[w] = level[w]! & ~(1 << (i & 31));
			if (level[w] !== 0) return;
			i = w;
		}
	}

	/** The lowest set bit >= `from`, or -1. */
	next(from = 0): number {
		if (from < 0) from = 0;
		let k = 0;
		let i = from;
		for (;;) {
			const level = this.levels[k]!;
			const w = i >>> 5;
			if (w >= level.length) return -1;
			const m = level[w]! & (~0 << (i & 31));
			if (m !== 0) {
				let pos = w * 32 + ctz32(m);
				for (let j = k - 1; j >= 0; j--) pos = pos * 32 + ctz32(this.levels[j]![pos]!);
				return pos;
			}
			if (k === this.levels.length - 1) return -1;
			k++;
			i = w + 1;
		}
	}

	private check(i: number): void {
		if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new RangeError(`bitset: bit ${i} outside [0, ${this.size})`);
	}
}
