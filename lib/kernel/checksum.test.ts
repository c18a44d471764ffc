import t from "tap";
import { csum_partial } from "./checksum.ts";

/**
 * x86_64's csum_partial step by step: 64-bit little-endian words (the tail
 * zero-padded) added with end-around carry from `sum`, then
 * (t + ror64(t, 32)) >> 32. An independent model to check the fast one.
 */
function x86CsumPartial(buf: Uint8Array, sum: number): number {
	const M64 = (1n << 64n) - 1n;
	let t = BigInt(sum >>> 0);
	const padded = new Uint8Array((buf.length + 7) & ~7);
	padded.set(buf);
	const v = new DataView(padded.buffer);
	for (let i = 0; i < padded.length; i += 8) {
		t += v.getBigUint64(i, true);
		if (t > M64) t = (t & M64) + 1n;
	}
	const ror = ((t >> 32n) | (t << 32n)) & M64;
	return Number((((t + ror) & M64) >> 32n) & 0xffffffffn);
}

t.test("sums little-endian 32-bit words", async (t) => {
	t.equal(csum_partial(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), 0x0c0a0806);
	t.equal(csum_partial(new Uint8Array(0)), 0, "nothing: the starting sum");
	t.equal(csum_partial(new Uint8Array(0), 0, 0x1234), 0x1234);
	t.equal(csum_partial(new Uint8Array(16)), 0, "zeros sum to 0");
});

t.test("carries wrap around, and only all-zero input gives 0", async (t) => {
	t.equal(csum_partial(new Uint8Array([0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0])), 2, "0xffffffff + 2 = 0x1_00000001 -> 2");
	t.equal(csum_partial(new Uint8Array([0xff, 0xff, 0xff, 0xff])), 0xffffffff, "negative zero stays non-zero");
	t.equal(csum_partial(new Uint8Array([1, 0, 0, 0]), 4, 0xfffffffe), 0xffffffff);
	t.equal(csum_partial(new Uint8Array([2, 0, 0, 0]), 4, 0xfffffffe), 1);
});

t.test("a tail shorter than a word is zero-padded; len limits the bytes read", async (t) => {
	t.equal(csum_partial(new Uint8Array([1, 2, 3])), 0x030201);
	t.equal(csum_partial(new Uint8Array([1, 2, 3, 4, 5]), 5), 0x04030206);
	t.equal(csum_partial(new Uint8Array([1, 2, 3, 4, 5]), 4), 0x04030201);
	t.throws(() => csum_partial(new Uint8Array(4), 5), RangeError);
	t.throws(() => csum_partial(new Uint8Array(4), -1), RangeError);
});

t.test("chaining: csum of the whole = csum of the parts fed through `sum`", async (t) => {
	const buf = new Uint8Array(4096 * 3).map((_, i) => (i * 2654435761) >>> 24);
	const whole = csum_partial(buf);
	let chained = 0;
	for (let off = 0; off < buf.length; off += 4096) chained = csum_partial(buf.subarray(off, off + 4096), 4096, chained);
	t.equal(chained, whole);
});

t.test("agrees with the x86_64 64-bit model on pseudo-random buffers, large ones too", async (t) => {
	let seed = 0x9e3779b9;
	const rnd = (): number => {
		seed ^= seed << 13;
		seed ^= seed >>> 17;
		seed ^= seed << 5;
		return seed >>> 0;
	};
	for (const len of [1, 7, 8, 13, 40, 80, 4096, 4 * 1024 * 1024 + 3]) {
		const buf = new Uint8Array(len);
		for (let i = 0; i < len; i += 4) {
			const r = rnd();
			for (let j = 0; j < 4 && i + j < len; j++) buf[i + j] = (r >>> (8 * j)) & 0xff;
		}
		const sum = rnd();
		t.equal(csum_partial(buf, len, sum), x86CsumPartial(buf, sum), `${len} bytes`);
	}
	const ones = new Uint8Array(1024 * 1024 + 5).fill(0xff);
	t.equal(csum_partial(ones, ones.length, 7), x86CsumPartial(ones, 7), "all 0xff: a carry at every word");
});
