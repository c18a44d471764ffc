import t from "tap";
import { fdt_to_dts } from "./dts.ts";
import {
	FDT_ERR_MAX,
	cpu_to_le64,
	fdt32_st,
	fdt_add_subnode,
	fdt_begin_node,
	fdt_check_header,
	fdt_create,
	fdt_del_node,
	fdt_delprop,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_add_reservemap_entry,
	fdt_first_property_offset,
	fdt_first_subnode,
	fdt_get_alias,
	fdt_get_mem_rsv,
	fdt_get_name,
	fdt_get_phandle,
	fdt_get_string,
	fdt_getprop,
	fdt_getprop_by_offset,
	fdt_getprop_le64,
	fdt_getprop_u32,
	fdt_next_node,
	fdt_next_property_offset,
	fdt_next_subnode,
	fdt_next_tag,
	fdt_node_check_compatible,
	fdt_node_depth,
	fdt_node_offset_by_compatible,
	fdt_node_offset_by_phandle,
	fdt_num_mem_rsv,
	fdt_open_into,
	fdt_pack,
	fdt_parent_offset,
	fdt_path_offset,
	fdt_property,
	fdt_property_string,
	fdt_property_u32,
	fdt_setprop,
	fdt_setprop_string,
	fdt_stringlist_count,
	fdt_stringlist_get,
	fdt_stringlist_search,
	fdt_subnode_offset,
	fdt_totalsize,
} from "./libfdt.ts";

/** mulberry32: a seeded PRNG so that a failure names the iteration that reproduces it. */
function rng(seed: number): () => number {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
		return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
	};
}

/** A KHO-like tree with nesting, string lists, a phandle, aliases and a reservation. */
function validBlob(): Uint8Array {
	const b = new Uint8Array(1024);
	const steps = [
		fdt_create(b, 1024),
		fdt_add_reservemap_entry(b, 0x1000n, 0x2000n),
		fdt_finish_reservemap(b),
		fdt_begin_node(b, ""),
		fdt_property_string(b, "compatible", "kho-v1"),
		fdt_property(b, "preserved-memory-map", cpu_to_le64(0x1234000n)),
		fdt_begin_node(b, "aliases"),
		fdt_property_string(b, "luo", "/LUO"),
		fdt_end_node(b),
		fdt_begin_node(b, "LUO"),
		fdt_property(b, "compatible", new TextEncoder().encode("luo-v1\0other\0")),
		fdt_property(b, "fdt", cpu_to_le64(0x5000n)),
		fdt_property_u32(b, "phandle", 7),
		fdt_begin_node(b, "subsystems@1"),
		fdt_property_string(b, "compatible", "subsystems-v1"),
		fdt_end_node(b),
		fdt_end_node(b),
		fdt_end_node(b),
		fdt_finish(b),
	];
	if (steps.some((e) => e !== 0)) throw new Error(`building the fuzz seed failed: ${steps}`);
	return b.slice(0, fdt_totalsize(b));
}

const INTERESTING = [0, 1, 2, 3, 4, 8, 16, 17, 0x28, 0x30, 0x38, 0x40, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff, 0xd00dfeed, 0x2ff20112];

function mutate(src: Uint8Array, rand: () => number): Uint8Array {
	const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
	let len = src.length;
	const r = rand();
	if (r < 0.15) len = Math.floor(rand() * src.length);
	else if (r < 0.3) len = src.length + Math.floor(rand() * 256);
	const b = new Uint8Array(len);
	b.set(src.subarray(0, Math.min(len, src.length)));
	for (let n = 1 + Math.floor(rand() * 6); n > 0; n--) {
		const k = rand();
		const at = Math.floor(rand() * Math.max(1, len));
		if (k < 0.35) b[at] = Math.floor(rand() * 256);
		else if (k < 0.55) b[at] = b[at]! ^ (1 << Math.floor(rand() * 8));
		else if (k < 0.85) fdt32_st(b, 4 * Math.floor(rand() * 10), pick(INTERESTING) + (rand() < 0.3 ? Math.floor(rand() * 64) - 32 : 0));
		else fdt32_st(b, at & ~3, pick(INTERESTING));
	}
	return b;
}

/** Every read entry point, over every offset the blob yields and some it does not. */
function readEverything(fdt: Uint8Array, rand: () => number): number[] {
	const rets: number[] = [];
	const len = [0];
	const note = (v: number): void => {
		rets.push(v);
	};
	note(fdt_check_header(fdt));
	const dts = fdt_to_dts(fdt);
	if (typeof dts === "number") note(dts);
	note(fdt_num_mem_rsv(fdt));
	for (const n of [0, 1, 2, -1, 1000]) note(fdt_get_mem_rsv(fdt, n, [0n], [0n]));
	for (const p of ["/", "/LUO", "/LUO/subsystems", "luo", "luo/subsystems", "/aliases", "", "nope", "//LUO//"]) note(fdt_path_offset(fdt, p));
	fdt_get_alias(fdt, "luo");
	note(fdt_node_offset_by_compatible(fdt, -1, "luo-v1"));
	note(fdt_node_offset_by_phandle(fdt, 7));
	const offsets = [0, 4, 8, -4, 3, Math.floor(rand() * 512) * 4, 0x7ffffffc];
	const depth = [0];
	for (let off = 0, steps = 0; off >= 0 && steps < 10000; steps++) {
		offsets.push(off);
		off = fdt_next_node(fdt, off, depth);
		note(off);
	}
	for (const off of offsets) {
		fdt_get_name(fdt, off, len);
		note(len[0]!);
		note(fdt_first_subnode(fdt, off));
		note(fdt_next_subnode(fdt, off));
		note(fdt_subnode_offset(fdt, off, "subsystems"));
		note(fdt_parent_offset(fdt, off));
		note(fdt_node_depth(fdt, off));
		note(fdt_node_check_compatible(fdt, off, "other"));
		note(fdt_stringlist_count(fdt, off, "compatible"));
		note(fdt_stringlist_search(fdt, off, "compatible", "other"));
		fdt_stringlist_get(fdt, off, "compatible", 1, len);
		note(len[0]!);
		note(fdt_getprop_u32(fdt, off, "phandle", [0]));
		note(fdt_getprop_le64(fdt, off, "fdt", [0n]));
		note(fdt_get_phandle(fdt, off));
		fdt_getprop(fdt, off, "compatible", len);
		note(len[0]!);
		note(fdt_next_tag(fdt, off, len));
		for (let p = fdt_first_property_offset(fdt, off), steps = 0; steps < 1000; steps++) {
			note(p);
			if (p < 0) break;
			const name: (string | null)[] = [null];
			fdt_getprop_by_offset(fdt, p, name, len);
			note(len[0]!);
			p = fdt_next_property_offset(fdt, p);
		}
	}
	for (const s of [0, 1, -1, -8, 100, Math.floor(rand() * 2 ** 31), -(2 ** 31)]) {
		fdt_get_string(fdt, s, len);
		note(len[0]!);
	}
	return rets;
}

/** Read-write entry points on a copy opened into a larger buffer. */
function editEverything(fdt: Uint8Array): number[] {
	const rets: number[] = [];
	const big = new Uint8Array(fdt.length + 512);
	rets.push(fdt_open_into(fdt, big, big.length));
	for (const target of [fdt, big]) {
		const luo = fdt_path_offset(target, "/LUO");
		rets.push(fdt_setprop_string(target, 0, "compatible", "kho-v2"));
		rets.push(fdt_setprop(target, luo, "new", new Uint8Array(9)));
		rets.push(fdt_add_subnode(target, luo, "child"));
		rets.push(fdt_delprop(target, 0, "preserved-memory-map"));
		rets.push(fdt_del_node(target, fdt_path_offset(target, "/aliases")));
		rets.push(fdt_pack(target));
	}
	// Open in place, into the same memory: the reorder path moves blocks around.
	const same = new Uint8Array(fdt.length * 2 + 128);
	same.set(fdt);
	rets.push(fdt_open_into(same.subarray(0, fdt.length), same, same.length));
	return rets;
}

function isLibfdtResult(v: number): boolean {
	return Number.isInteger(v) && v >= -FDT_ERR_MAX;
}

t.test("mutated and truncated blobs give libfdt errors, never an exception", async (t) => {
	const seed = validBlob();
	t.equal(fdt_check_header(seed), 0, "the seed blob is valid");
	const rand = rng(0x6b686f);
	const bad: string[] = [];
	const iterations = 2500;
	for (let i = 0; i < iterations; i++) {
		const blob = mutate(seed, rand);
		try {
			const rets = [...readEverything(blob, rand), ...editEverything(blob)];
			const odd = rets.find((v) => !isLibfdtResult(v));
			if (odd !== undefined) bad.push(`iteration ${i}: returned ${odd}`);
		} catch (e) {
			bad.push(`iteration ${i}: threw ${(e as Error).stack}`);
		}
		if (bad.length >= 5) break;
	}
	t.same(bad, [], `${iterations} mutations`);
});

t.test("sequential-write calls on a corrupted work-in-progress buffer return errors, never throw", async (t) => {
	const rand = rng(42);
	const bad: string[] = [];
	for (let i = 0; i < 1500; i++) {
		const b = new Uint8Array(256);
		fdt_create(b, 256);
		fdt_finish_reservemap(b);
		fdt_begin_node(b, "");
		fdt_property_string(b, "compatible", "x");
		const m = mutate(b, rand);
		try {
			const rets = [
				fdt_add_reservemap_entry(m, 1, 2),
				fdt_begin_node(m, "n"),
				fdt_property_u32(m, "reg", 1),
				fdt_property_string(m, "compatible", "y"),
				fdt_end_node(m),
				fdt_end_node(m),
				fdt_finish(m),
				...readEverything(m, rand),
			];
			const odd = rets.find((v) => !isLibfdtResult(v));
			if (odd !== undefined) bad.push(`iteration ${i}: returned ${odd}`);
		} catch (e) {
			bad.push(`iteration ${i}: threw ${(e as Error).stack}`);
		}
		if (bad.length >= 5) break;
	}
	t.same(bad, []);
});
