import t from "tap";
import { LevelBitset } from "./bitset.ts";

function mulberry32(seed: number): () => number {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
		return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
	};
}

function bruteNext(set: Set<number>, from: number): number {
	let best = -1;
	for (const v of set) if (v >= from && (best < 0 || v < best)) best = v;
	return best;
}

t.test("an empty bitset has no set bit", async (t) => {
	for (const size of [0, 1, 32, 33, 1 << 20]) {
		const b = new LevelBitset(size);
		t.equal(b.next(0), -1, `size ${size}`);
		t.equal(b.count, 0);
	}
});

t.test("set, clear and next agree with a Set over random operations", async (t) => {
	for (const size of [1, 31, 32, 33, 1000, 1025, 32 * 32 + 1, 40000]) {
		const rnd = mulberry32(size);
		const b = new LevelBitset(size);
		const ref = new Set<number>();
		let bad = 0;
		for (let i = 0; i < 3000; i++) {
			const v = Math.floor(rnd() * size);
			if (rnd() < 0.55) {
				b.set(v);
				ref.add(v);
			} else {
				b.clear(v);
				ref.delete(v);
			}
			const from = Math.floor(rnd() * (size + 2));
			if (b.next(from) !== bruteNext(ref, from) || b.next(0) !== bruteNext(ref, 0) || b.count !== ref.size) bad++;
			if (b.has(v) !== ref.has(v)) bad++;
		}
		t.equal(bad, 0, `size ${size}: no disagreement`);
	}
});

t.test("next finds a lone bit far away through the summary levels", async (t) => {
	const b = new LevelBitset(1 << 20);
	b.set((1 << 20) - 1);
	b.set(5);
	t.equal(b.next(0), 5);
	t.equal(b.next(6), (1 << 20) - 1);
	t.equal(b.next(1 << 20), -1);
	t.equal(b.next(-3), 5, "a negative start means 0");
	b.clear(5);
	t.equal(b.next(0), (1 << 20) - 1);
	b.set(5);
	b.set(5);
	t.equal(b.count, 2, "setting twice counts once");
	b.clear(7);
	t.equal(b.count, 2, "clearing a clear bit changes nothing");
});

t.test("bits outside the set and bad sizes throw RangeError", async (t) => {
	const b = new LevelBitset(100);
	t.throws(() => b.set(100), RangeError);
	t.throws(() => b.clear(-1), RangeError);
	t.throws(() => b.has(1.5), RangeError);
	t.throws(() => new LevelBitset(-1), RangeError);
	t.throws(() => new LevelBitset(2 ** 32), RangeError);
	t.equal(b.count, 0);
});
