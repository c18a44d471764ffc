/**
 * Physical memory to a file and back: kexec through a file, so the next
 * kernel can boot in a new Node process with nothing but the frames
 * (DESIGN rule 5). luosim's own format, the moral equivalent of a
 * /proc/vmcore that keeps only what is there.
 *
 * Format, version 1, little-endian:
 *
 *     header (40 bytes)  magic "LUOSIMPM", u32 version, u32 flags,
 *                        u64 memory size in bytes, u64 page records,
 *                        u64 zero ranges
 *     zero ranges        u64 pfn, u64 count: ascending, disjoint
 *     page records       u64 pfn, then the frame's 4096 bytes: ascending
 *
 * A frame with a record holds its bytes. Without PHYSMEM_DUMP_POISONED
 * every other frame is zero and there are no zero ranges. With it (the
 * memory was poisoned), frames in a zero range were kept but never written
 * and read as zero; every other frame reads as PAGE_POISON. Only written
 * frames cost 4 KiB.
 */
import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { PAGE_SIZE, PFN_PHYS, PhysicalMemory } from "./physmem.ts";

/** First bytes of a dump. */
export const PHYSMEM_DUMP_MAGIC = "LUOSIMPM";
/** The format version written and read. */
export const PHYSMEM_DUMP_VERSION = 1;
/** Header flag: frames without a record or zero range read as PAGE_POISON. */
export const PHYSMEM_DUMP_POISONED = 1;
/** Bytes of the header. */
export const PHYSMEM_DUMP_HEADER_BYTES = 40;
const RANGE_BYTES = 16;
const RECORD_BYTES = 8 + PAGE_SIZE;

/** Where a dump goes: a file path, or a function given the bytes in order. */
export type DumpSink = string | ((bytes: Uint8Array) => void);

function hex(n: number): string {
	return `0x${n.toString(16)}`;
}

/** Writes `pm` to `sink` in the format above. */
export function dumpTo(pm: PhysicalMemory, sink: DumpSink): void {
	const poisoned = pm.poisonGeneration > 0;
	const records: number[] = [];
	const zeroRanges: [number, number][] = [];
	for (let p = 0; p < pm.nr_pages; p++) {
		if (pm.isPoisoned(p)) continue;
		if (pm.isTouched(p)) records.push(p);
		else if (poisoned) {
			const last = zeroRanges[zeroRanges.length - 1];
			if (last !== undefined && last[0] + last[1] === p) last[1]++;
			else zeroRanges.push([p, 1]);
		}
	}
	const head = new Uint8Array(PHYSMEM_DUMP_HEADER_BYTES + zeroRanges.length * RANGE_BYTES);
	const hv = new DataView(head.buffer);
	head.set(new TextEncoder().encode(PHYSMEM_DUMP_MAGIC), 0);
	hv.setUint32(8, PHYSMEM_DUMP_VERSION, true);
	hv.setUint32(12, poisoned ? PHYSMEM_DUMP_POISONED : 0, true);
	hv.setBigUint64(16, BigInt(pm.sizeBytes), true);
	hv.setBigUint64(24, BigInt(records.length), true);
	hv.setBigUint64(32, BigInt(zeroRanges.length), true);
	zeroRanges.forEach(([pfn, count], i) => {
		hv.setBigUint64(PHYSMEM_DUMP_HEADER_BYTES + i * RANGE_BYTES, BigInt(pfn), true);
		hv.setBigUint64(PHYSMEM_DUMP_HEADER_BYTES + i * RANGE_BYTES + 8, BigInt(count), true);
	});

	const fd = typeof sink === "string" ? openSync(sink, "w") : -1;
	const emit = typeof sink === "string" ? (b: Uint8Array): void => writeAll(fd, b) : sink;
	try {
		emit(head);
		const batch = new Uint8Array(RECORD_BYTES * 64);
		const bv = new DataView(batch.buffer);
		let used = 0;
		for (const pfn of records) {
			bv.setBigUint64(used, BigInt(pfn), true);
			batch.set(pm.read(PFN_PHYS(pfn), PAGE_SIZE), used + 8);
			used += RECORD_BYTES;
			if (used === batch.length) {
				emit(batch.slice());
				used = 0;
			}
		}
		if (used > 0) emit(batch.slice(0, used));
	} finally {
		if (fd >= 0) closeSync(fd);
	}
}

/**
 * Rebuilds the memory `dumpTo` wrote, from a file path or its bytes: the
 * same contents frame for frame, the same frames written. A malformed dump
 * (bad magic, version or flags, truncated, trailing bytes, a PFN out of
 * memory, out of order or overlapping) throws an Error saying so.
 */
export function loadFrom(source: string | Uint8Array): PhysicalMemory {
	const reader = new DumpReader(source);
	try {
		const header = reader.take(PHYSMEM_DUMP_HEADER_BYTES, "header");
		const hv = new DataView(header.buffer, header.byteOffset, PHYSMEM_DUMP_HEADER_BYTES);
		const magic = new TextDecoder().decode(header.subarray(0, 8));
		if (magic !== PHYSMEM_DUMP_MAGIC) throw new Error(`physmem dump: bad magic ${JSON.stringify(magic)}`);
		const version = hv.getUint32(8, true);
		if (version !== PHYSMEM_DUMP_VERSION) throw new Error(`physmem dump: unsupported version ${version}`);
		const flags = hv.getUint32(12, true);
		if ((flags & ~PHYSMEM_DUMP_POISONED) !== 0) throw new Error(`physmem dump: unknown flags ${hex(flags)}`);
		const pm = new PhysicalMemory(Number(hv.getBigUint64(16, true)));
		const nrRecords = Number(hv.getBigUint64(24, true));
		const nrRanges = Number(hv.getBigUint64(32, true));
		if (nrRecords > pm.nr_pages) throw new Error(`physmem dump: ${nrRecords} page records for ${pm.nr_pages} frames`);
		if (nrRanges > pm.nr_pages) throw new Error(`physmem dump: ${nrRanges} zero ranges for ${pm.nr_pages} frames`);
		if (nrRanges > 0 && !(flags & PHYSMEM_DUMP_POISONED)) throw new Error("physmem dump: zero ranges in a dump that is not poisoned");

		const ranges: [number, number][] = [];
		let end = 0;
		for (let i = 0; i < nrRanges; i++) {
			const r = reader.take(RANGE_BYTES, `zero range ${i}`);
			const rv = new DataView(r.buffer, r.byteOffset, RANGE_BYTES);
			const pfn = Number(rv.getBigUint64(0, true));
			const count = Number(rv.getBigUint64(8, true));
			if (pfn < end || count < 1 || pfn + count > pm.nr_pages)
				throw new Error(`physmem dump: zero range ${i} (${hex(pfn)}+${count}) out of order or beyond memory`);
			ranges.push([pfn, count]);
			end = pfn + count;
		}
		// Kept zero frames stay current; everything else is poisoned until a
		// record below overwrites the whole frame.
		if (flags & PHYSMEM_DUMP_POISONED) pm.poisonAllExcept(ranges);

		let prev = -1;
		for (let i = 0; i < nrRecords; i++) {
			const rec = reader.take(RECORD_BYTES, `page record ${i}`);
			const pfn = Number(new DataView(rec.buffer, rec.byteOffset, 8).getBigUint64(0, true));
			if (pfn >= pm.nr_pages) throw new Error(`physmem dump: page record ${i}: pfn ${hex(pfn)} beyond memory`);
			if (pfn <= prev) throw new Error(`physmem dump: page record ${i}: pfn ${hex(pfn)} out of order`);
			prev = pfn;
			pm.page(pfn).set(rec.subarray(8));
		}
		if (!reader.atEnd()) throw new Error("physmem dump: trailing bytes after the last page record");
		return pm;
	} finally {
		reader.close();
	}
}

function writeAll(fd: number, bytes: Uint8Array): void {
	let off = 0;
	while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Sequential reads from a dump file or buffer. */
class DumpReader {
	private readonly fd: number;
	private pos = 0;

	constructor(private readonly source: string | Uint8Array) {
		this.fd = typeof source === "string" ? openSync(source, "r") : -1;
	}

	take(n: number, what: string): Uint8Array {
		let out: Uint8Array;
		if (typeof this.source !== "string") {
			out = this.source.subarray(this.pos, this.pos + n);
		} else {
			out = new Uint8Array(n);
			let got = 0;
			while (got < n) {
				const r = readSync(this.fd, out, got, n - got, null);
				if (r === 0) break;
				got += r;
			}
			out = out.subarray(0, got);
		}
		if (out.length < n) throw new Error(`physmem dump: truncated in the ${what}`);
		this.pos += n;
		return out;
	}

	atEnd(): boolean {
		if (typeof this.source !== "string") return this.pos === this.source.length;
		return readSync(this.fd, new Uint8Array(1), 0, 1, null) === 0;
	}

	close(): void {
		if (this.fd >= 0) closeSync(this.fd);
	}
}
