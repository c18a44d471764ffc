import t from "tap";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PhysicalMemory, PAGE_SIZE, PAGE_POISON, PFN_PHYS } from "./physmem.ts";
import {
	dumpTo,
	loadFrom,
	PHYSMEM_DUMP_MAGIC,
	PHYSMEM_DUMP_VERSION,
	PHYSMEM_DUMP_POISONED,
	PHYSMEM_DUMP_HEADER_BYTES as HDR,
} from "./physmem_dump.ts";

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;
const REC = 8 + PAGE_SIZE;

function mulberry32(seed: number): () => number {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
		return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
	};
}

function randomMemory(seed: number, size: number): PhysicalMemory {
	const rnd = mulberry32(seed);
	const pm = new PhysicalMemory(size);
	for (let i = 0; i < 300; i++) {
		const phys = Math.floor(rnd() * (size - 10000));
		pm.write(phys, new Uint8Array(1 + Math.floor(rnd() * 9000)).map(() => Math.floor(rnd() * 256)));
	}
	return pm;
}

function dumpBytes(pm: PhysicalMemory): Buffer {
	const parts: Uint8Array[] = [];
	dumpTo(pm, (b) => parts.push(b.slice()));
	return Buffer.concat(parts);
}

/** A digest of every frame's contents (poisoned frames by name, so it stays cheap). */
function digest(pm: PhysicalMemory): string {
	const h = createHash("sha256");
	for (let p = 0; p < pm.nr_pages; p++) {
		if (pm.isPoisoned(p)) h.update(`P${p}`);
		else if (pm.isTouched(p)) h.update(`T${p}`).update(pm.read(PFN_PHYS(p), PAGE_SIZE));
	}
	return h.digest("hex");
}

t.test("a dump holds a header and one record per written frame, and loads back byte for byte", async (t) => {
	const pm = randomMemory(1, 4 * GiB);
	const file = join(t.testdir(), "mem.dump");
	dumpTo(pm, file);
	const bytes = readFileSync(file);
	t.equal(bytes.length, HDR + pm.touchedFrames * REC, "nothing for untouched frames");
	t.equal(bytes.subarray(0, 8).toString("latin1"), PHYSMEM_DUMP_MAGIC);
	t.equal(bytes.readUInt32LE(8), PHYSMEM_DUMP_VERSION);
	t.equal(bytes.readUInt32LE(12), 0, "not poisoned");
	t.equal(bytes.readBigUInt64LE(16), BigInt(4 * GiB));
	t.equal(bytes.readBigUInt64LE(24), BigInt(pm.touchedFrames));
	t.equal(bytes.readBigUInt64LE(32), 0n, "no zero ranges");
	const back = loadFrom(file);
	t.equal(back.sizeBytes, pm.sizeBytes);
	t.equal(back.touchedFrames, pm.touchedFrames);
	t.equal(back.poisonGeneration, 0);
	const d = digest(pm);
	t.equal(digest(back), d, "every frame equal");
	back.page(firstRecordPfn(bytes))[17]! ^= 1;
	t.not(digest(back), d, "the digest sees a one-bit change");
	t.equal(Buffer.compare(dumpBytes(pm), bytes), 0, "a sink gets the same bytes as the file");
});

function firstRecordPfn(dump: Buffer): number {
	return Number(dump.readBigUInt64LE(HDR));
}

t.test("a poisoned memory round-trips: kept bytes, kept zero frames as ranges, poison elsewhere", async (t) => {
	const pm = new PhysicalMemory(64 * MiB);
	pm.write(PFN_PHYS(1), new Uint8Array(PAGE_SIZE).fill(1));
	pm.write(PFN_PHYS(2), new Uint8Array(PAGE_SIZE).fill(2));
	pm.poisonAllExcept([
		[1, 1],
		[9, 3],
		[20, 1],
	]);
	const bytes = dumpBytes(pm);
	t.equal(bytes.readUInt32LE(12), PHYSMEM_DUMP_POISONED);
	t.equal(bytes.readBigUInt64LE(24), 1n, "one page record: frame 1");
	t.equal(bytes.readBigUInt64LE(32), 2n, "two zero ranges");
	t.same(
		[0, 1, 2, 3].map((i) => bytes.readBigUInt64LE(HDR + i * 8)),
		[9n, 3n, 20n, 1n],
	);
	t.equal(bytes.length, HDR + 2 * 16 + REC);
	const back = loadFrom(bytes);
	t.equal(back.touchedFrames, 1);
	t.same(back.read(PFN_PHYS(1), PAGE_SIZE), new Uint8Array(PAGE_SIZE).fill(1));
	t.same(back.read(PFN_PHYS(2), PAGE_SIZE), new Uint8Array(PAGE_SIZE).fill(PAGE_POISON));
	t.same(back.read(PFN_PHYS(9), 3 * PAGE_SIZE), new Uint8Array(3 * PAGE_SIZE));
	t.same(back.read(PFN_PHYS(12), 4), new Uint8Array(4).fill(PAGE_POISON));
	t.equal(digest(back), digest(pm));
});

t.test("loadFrom rejects malformed dumps with a clear error", async (t) => {
	const pm = new PhysicalMemory(16 * MiB);
	pm.write(PFN_PHYS(3), Uint8Array.of(3));
	pm.write(PFN_PHYS(5), Uint8Array.of(5));
	pm.poisonAllExcept([
		[3, 1],
		[5, 1],
		[7, 2],
	]);
	const good = dumpBytes(pm);
	const recs = HDR + 16;
	const edit = (f: (b: Buffer) => void): Buffer => {
		const b = Buffer.from(good);
		f(b);
		return b;
	};
	t.equal(loadFrom(good).touchedFrames, 2, "the unedited dump loads");
	t.throws(() => loadFrom(edit((b) => b.write("NOTADUMP", 0, "latin1"))), /bad magic "NOTADUMP"/);
	t.throws(() => loadFrom(edit((b) => b.writeUInt32LE(2, 8))), /unsupported version 2/);
	t.throws(() => loadFrom(edit((b) => b.writeUInt32LE(6, 12))), /unknown flags 0x6/);
	t.throws(() => loadFrom(edit((b) => b.writeUInt32LE(0, 12))), /zero ranges in a dump that is not poisoned/);
	t.throws(() => loadFrom(edit((b) => b.writeBigUInt64LE(4095n, 16))), /not a positive multiple/);
	t.throws(() => loadFrom(edit((b) => b.writeBigUInt64LE(5000n, 24))), /5000 page records for 4096 frames/);
	t.throws(() => loadFrom(edit((b) => b.writeBigUInt64LE(4095n, HDR))), /zero range 0 \(0xfff\+2\) out of order or beyond memory/);
	t.throws(() => loadFrom(edit((b) => b.writeBigUInt64LE(0n, HDR + 8))), /zero range 0/);
	t.throws(() => loadFrom(edit((b) => b.writeBigUInt64LE(3n, recs + REC))), /page record 1: pfn 0x3 out of order/);
	t.throws(() => loadFrom(edit((b) => b.writeBigUInt64LE(4096n, recs))), /page record 0: pfn 0x1000 beyond memory/);
	t.throws(() => loadFrom(good.subarray(0, 20)), /truncated in the header/);
	t.throws(() => loadFrom(good.subarray(0, HDR + 8)), /truncated in the zero range 0/);
	t.throws(() => loadFrom(good.subarray(0, good.length - 1)), /truncated in the page record 1/);
	t.throws(() => loadFrom(Buffer.concat([good, Buffer.of(0)])), /trailing bytes/);
	const dir = t.testdir();
	writeFileSync(join(dir, "short"), good.subarray(0, recs + 40));
	t.throws(() => loadFrom(join(dir, "short")), /truncated in the page record 0/);
	writeFileSync(join(dir, "long"), Buffer.concat([good, Buffer.of(0)]));
	t.throws(() => loadFrom(join(dir, "long")), /trailing bytes/);
});

t.test("a new Node process rebuilds the exact memory from the dump file", async (t) => {
	const pm = randomMemory(7, 256 * MiB);
	pm.poisonAllExcept((pfn) => pfn % 3 !== 0);
	const file = join(t.testdir(), "kexec.dump");
	dumpTo(pm, file);
	const here = (f: string): string => JSON.stringify(fileURLToPath(new URL(f, import.meta.url)));
	const script = `
		import { PFN_PHYS } from ${here("./physmem.ts")};
		import { loadFrom } from ${here("./physmem_dump.ts")};
		import { createHash } from "node:crypto";
		const pm = loadFrom(${JSON.stringify(file)});
		const h = createHash("sha256");
		for (let p = 0; p < pm.nr_pages; p++) {
			if (pm.isPoisoned(p)) h.update("P" + p);
			else if (pm.isTouched(p)) h.update("T" + p).update(pm.read(PFN_PHYS(p), 4096));
		}
		console.log(pm.touchedFrames, h.digest("hex"));
	`;
	const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
	let live = 0;
	for (let p = 0; p < pm.nr_pages; p++) if (pm.isTouched(p) && !pm.isPoisoned(p)) live++;
	t.ok(live < pm.touchedFrames, "some written frames were poisoned");
	t.equal(out.trim(), `${live} ${digest(pm)}`, "the same contents; poisoned frames cost nothing");
});
