/**
 * csum_partial() (include/net/checksum.h; the x86_64 one is
 * arch/x86/lib/csum-partial_64.c): the 32-bit ones'-complement sum of a
 * buffer, as the kernel's `__wsum`. lib/test_kho.c checksums its folios
 * with it.
 *
 * x86_64 adds the buffer as little-endian 64-bit words with end-around
 * carry, starting from `sum`, zero-pads a tail shorter than 8 bytes, and
 * folds the 64-bit total to 32 bits with end-around carry. Ones'-complement
 * addition is associative, so that equals the sum of the little-endian
 * 32-bit words and `sum` modulo 2^32 - 1, represented in [1, 2^32 - 1]
 * unless every input is zero (then 0): an end-around carry never produces 0
 * from a non-zero operand. That is how it is computed here, with plain
 * numbers instead of 64-bit registers. (One corner differs: x86's
 * final `adc $0` can wrap an all-ones accumulator to 0 after an all-ones
 * word, the other zero of ones'-complement, where this keeps the non-zero
 * form. Random data does not meet it.)
 */

/** 2^32 - 1: ones'-complement arithmetic on 32 bits is arithmetic modulo this. */
const M32 = 0xffffffff;
/** Words added before reducing, so the running total stays an exact double (2^20 * 2^32 < 2^53). */
const WORDS_PER_REDUCE = 1 << 20;

/** The ones'-complement representative of `total` (an exact non-negative integer): 0 only for 0. */
function fold(total: number): number {
	return total === 0 ? 0 : ((total - 1) % M32) + 1;
}

/**
 * csum_partial(buff, len, sum): the 32-bit checksum of `buf` (all of it, or
 * its first `len` bytes) added to `sum` (an earlier result, unsigned 32-bit).
 */
export function csum_partial(buf: Uint8Array, len: number = buf.length, sum = 0): number {
	if (!Number.isInteger(len) || len < 0 || len > buf.length) throw new RangeError(`csum_partial: length ${len} outside a buffer of ${buf.length} bytes`);
	const v = new DataView(buf.buffer, buf.byteOffset, len);
	const words = len >>> 2;
	let total = sum >>> 0;
	let pending = 0;
	for (let i = 0; i < words; i++) {
		total += v.getUint32(i * 4, true);
		if (++pending === WORDS_PER_REDUCE) {
			total = fold(total);
			pending = 0;
		}
	}
	let tail = 0;
	for (let i = len & ~3; i < len; i++) tail |= buf[i]! << (8 * (i & 3));
	return fold(total + (tail >>> 0));
}
