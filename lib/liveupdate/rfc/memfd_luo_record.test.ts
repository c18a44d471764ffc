import t from "tap";
import { EBADMSG } from "../../kernel/errno.ts";
import { errnoOf } from "../../kho/testing.ts";
import {
	memfd_luo_record_order, memfd_luo_record_read, memfd_luo_record_set_pos, memfd_luo_record_write,
	MEMFD_LUO_V1_FOLIO_SIZE, MEMFD_LUO_V1_HDR_SIZE, MEMFD_LUO_V1_MAX_FOLIOS, type MemfdLuoRecord,
} from "./memfd_luo_record.ts";

const MEM = 1 << 30;
const rec: MemfdLuoRecord = {
	size: 3 * 4096 + 5, pos: 77, seals: 0x5, mode: 0o640, name: "memfd:guest",
	folios: [
		{ phys: 0x200000, index: 0, uptodate: true },
		{ phys: 0x7000, index: 2, uptodate: false },
		{ phys: 0x9000, index: 3, uptodate: true },
	],
};

function encoded(): Uint8Array {
	const buf = new Uint8Array(4096);
	memfd_luo_record_write(buf, rec);
	return buf;
}

/** `buf` with the u32 (or u64) at `off` replaced. */
function poke(buf: Uint8Array, off: number, v: number | bigint): Uint8Array {
	const dv = new DataView(buf.buffer);
	if (typeof v === "bigint") dv.setBigUint64(off, v, true);
	else dv.setUint32(off, v, true);
	return buf;
}

t.test("a record reads back as written; freeze rewrites only the position", async (t) => {
	const buf = encoded();
	t.same(memfd_luo_record_read(buf, MEM), rec);
	memfd_luo_record_set_pos(buf, 9);
	t.same(memfd_luo_record_read(buf, MEM), { ...rec, pos: 9 });
});

t.test("the header starts with the magic 'MLUO', version 1 and the compatible string", async (t) => {
	const buf = encoded();
	t.equal(new TextDecoder().decode(buf.subarray(0, 4)), "MLUO");
	t.equal(new DataView(buf.buffer).getUint32(4, true), 1);
	t.equal(new TextDecoder().decode(buf.subarray(8, 16)), "memfd-v1");
});

t.test("each corruption of the header is EBADMSG", async (t) => {
	const cases: [string, (b: Uint8Array) => Uint8Array][] = [
		["magic", (b) => poke(b, 0, 0x12345678)],
		["version", (b) => poke(b, 4, 2)],
		["compatible", (b) => (b.set(new TextEncoder().encode("memfd-v2"), 8), b)],
		["reserved", (b) => poke(b, 312, 1n)],
		["name_len", (b) => poke(b, 52, 256)],
		["nr_folios past the block", (b) => poke(b, 44, 1000)],
		["size past 2^53", (b) => poke(b, 24, 1n << 60n)],
	];
	for (const [what, corrupt] of cases) t.equal(errnoOf(() => memfd_luo_record_read(corrupt(encoded()), MEM)), EBADMSG, what);
	t.equal(errnoOf(() => memfd_luo_record_read(new Uint8Array(100), MEM)), EBADMSG, "shorter than a header");
});

t.test("each bad folio entry is EBADMSG", async (t) => {
	const e = (i: number): number => MEMFD_LUO_V1_HDR_SIZE + i * MEMFD_LUO_V1_FOLIO_SIZE;
	const cases: [string, (b: Uint8Array) => Uint8Array][] = [
		["an unknown flag", (b) => poke(b, e(0), 0x200002n)],
		["a frame outside memory", (b) => poke(b, e(1), BigInt(MEM))],
		["an index out of order", (b) => poke(b, e(1) + 8, 0n)],
		["an index past EOF", (b) => poke(b, e(2) + 8, 4n)],
	];
	for (const [what, corrupt] of cases) t.equal(errnoOf(() => memfd_luo_record_read(corrupt(encoded()), MEM)), EBADMSG, what);
});

t.test("record blocks: one page holds 236 entries, a 64 MiB file needs order 7, the limit MAX_PAGE_ORDER", async (t) => {
	t.equal(memfd_luo_record_order(0), 0);
	t.equal(memfd_luo_record_order(236), 0);
	t.equal(memfd_luo_record_order(237), 1);
	t.equal(memfd_luo_record_order(16384), 7);
	t.equal(memfd_luo_record_order(MEMFD_LUO_V1_MAX_FOLIOS), 10);
});
