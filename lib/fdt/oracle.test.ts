import t from "tap";
import {
	dtcCompile,
	dtcDecompile,
	dtcSkipReason,
	pyGetprop,
	pyRunOps,
	pyWalk,
	pylibfdtSkipReason,
	runOps,
	walkFdt,
	type FdtOp,
} from "./fdt-oracle.ts";
import { fdt_to_dts } from "./dts.ts";
import {
	FDT_ERR_BADVERSION,
	fdt_check_header,
	fdt_getprop,
	fdt_getprop_le64,
	fdt_node_check_compatible,
	fdt_open_into,
	fdt_path_offset,
	fdt_totalsize,
	fdt_version,
} from "./libfdt.ts";

const le64 = (v: bigint): string => Buffer.from(new BigUint64Array([v]).buffer).toString("hex");

/** Nested nodes; string, string-list, u32, u64, empty and binary values; names repeated across nodes and one that is the tail of another. */
const NESTED: FdtOp[] = [
	["create", 4096, 0],
	["finish_reservemap"],
	["begin_node", ""],
	["property", "compatible", Buffer.from("vendor,board\0generic\0").toString("hex")],
	["property_string", "model", "luosim test board"],
	["property_u32", "#address-cells", 2],
	["property_u32", "#size-cells", 1],
	["begin_node", "cpus"],
	["property_u32", "#address-cells", 1],
	["begin_node", "cpu@0"],
	["property_string", "compatible", "arm,cortex-a53"],
	["property_u32", "reg", 0],
	["property", "enable-method", ""],
	["end_node"],
	["begin_node", "cpu@1"],
	["property_string", "compatible", "arm,cortex-a53"],
	["property_u32", "reg", 1],
	["property_string", "status", "disabled"],
	["end_node"],
	["end_node"],
	["begin_node", "memory@80000000"],
	["property_u64", "reg", "2147483648"],
	["property", "mac", "00112233aa"],
	["property", "size-cells", "00000004"],
	["property_string", "status", "okay"],
	["begin_node", "deep"],
	["begin_node", "deeper"],
	["property_u64", "big", "18446744073709551615"],
	["end_node"],
	["end_node"],
	["end_node"],
	["end_node"],
	["finish"],
];

const NESTED_DTS = `/dts-v1/;

/ {
	compatible = "vendor,board\\0generic";
	model = "luosim test board";
	#address-cells = <0x02>;
	#size-cells = <0x01>;

	cpus {
		#address-cells = <0x01>;

		cpu@0 {
			compatible = "arm,cortex-a53";
			reg = <0x00>;
			enable-method;
		};

		cpu@1 {
			compatible = "arm,cortex-a53";
			reg = <0x01>;
			status = "disabled";
		};
	};

	memory@80000000 {
		reg = <0x00 0x80000000>;
		mac = [00 11 22 33 aa];
		size-cells = <0x04>;
		status = "okay";

		deep {

			deeper {
				big = <0xffffffff 0xffffffff>;
			};
		};
	};
};
`;

/** KHO's root FDT as digest-kho.md §3 lays it out: one page, empty reservation map, native-endian u64s. */
const KHO_ROOT: FdtOp[] = [
	["create", 4096, 0],
	["finish_reservemap"],
	["begin_node", ""],
	["property_string", "compatible", "kho-v1"],
	["property", "preserved-memory-map", le64(0x116be4000n)],
	["begin_node", "LUO"],
	["property", "fdt", le64(0x117150000n)],
	["end_node"],
	["begin_node", "memblock"],
	["property", "fdt", le64(0x10000002000n)],
	["end_node"],
	["end_node"],
	["finish"],
];

const KHO_ROOT_DTS = `/dts-v1/;

/ {
	compatible = "kho-v1";
	preserved-memory-map = <0x40be16 0x1000000>;

	LUO {
		fdt = <0x1517 0x1000000>;
	};

	memblock {
		fdt = <0x200000 0x10000>;
	};
};
`;

/** memblock's sub-FDT: one child per reserve_mem region. */
const KHO_MEMBLOCK: FdtOp[] = [
	["create", 4096, 0],
	["finish_reservemap"],
	["begin_node", ""],
	["property_string", "compatible", "memblock-v1"],
	["begin_node", "trace"],
	["property_string", "compatible", "reserve-mem-v1"],
	["property", "start", le64(0x7f000000n)],
	["property", "size", le64(0x100000n)],
	["end_node"],
	["begin_node", "oops"],
	["property_string", "compatible", "reserve-mem-v1"],
	["property", "start", le64(0x7f100000n)],
	["property", "size", le64(0x4000n)],
	["end_node"],
	["end_node"],
	["finish"],
];

/** LUO's sub-FDT, edited in place after fdt_create_empty_tree() as LUO does. */
const LUO_RW: FdtOp[] = [
	["create_empty_tree", 8192],
	["setprop_string", "/", "compatible", "luo-v1"],
	["add_subnode", "/", "subsystems"],
	["setprop_string", "/subsystems", "compatible", "subsystems-v1"],
	["add_subnode", "/", "file-descriptors"],
	["setprop_string", "/file-descriptors", "compatible", "file-descriptors-v1"],
	["setprop_u64", "/file-descriptors", "count", "3"],
	["setprop", "/", "liveupdate-number", le64(7n)],
];

const RESERVED: FdtOp[] = [
	["create", 1024, 0],
	["add_reservemap_entry", "4096", "8192"],
	["add_reservemap_entry", "18446744073709547520", "4096"],
	["finish_reservemap"],
	["begin_node", ""],
	["property", "strings", Buffer.from("tab\there\0quote\"back\\slash\0").toString("hex")],
	["property", "zeros", "00000000"],
	["property", "text-cells", Buffer.from("abc\0").toString("hex")],
	["property", "odd", Buffer.from("abc").toString("hex")],
	["property", "bell", Buffer.from("\x07\x08\x0b\x0c\r\n\0").toString("hex")],
	["end_node"],
	["finish"],
];

const NO_DEDUP: FdtOp[] = [
	["create", 1024, 1],
	["finish_reservemap"],
	["begin_node", ""],
	["property_u32", "reg", 1],
	["begin_node", "a"],
	["property_u32", "reg", 2],
	["end_node"],
	["end_node"],
	["finish"],
];

const TREES: [string, FdtOp[]][] = [
	["nested", NESTED],
	["kho root", KHO_ROOT],
	["kho memblock", KHO_MEMBLOCK],
	["luo read-write", LUO_RW],
	["reservations and string escapes", RESERVED],
	["no name de-duplication", NO_DEDUP],
];

function blobOf(ops: FdtOp[]): Uint8Array {
	const r = runOps(ops);
	if (r.rets.some((x) => x < 0)) throw new Error(`building the tree failed: ${JSON.stringify(r.rets)}`);
	return new Uint8Array(Buffer.from(r.buf, "hex"));
}

t.test("dtc -I dtb -O dts prints our blobs as expected, and as fdt_to_dts does", { skip: dtcSkipReason() }, async (t) => {
	for (const [name, ops] of TREES) {
		const blob = blobOf(ops);
		t.equal(fdt_check_header(blob), 0, `${name}: header valid`);
		t.equal(fdt_to_dts(blob), dtcDecompile(blob), `${name}: fdt_to_dts matches dtc`);
	}
	t.equal(dtcDecompile(blobOf(NESTED)), NESTED_DTS, "nested tree text");
	t.equal(dtcDecompile(blobOf(KHO_ROOT)), KHO_ROOT_DTS, "KHO root text: little-endian u64s show as fdt.rst shows them");
	t.match(dtcDecompile(blobOf(RESERVED)), /\/memreserve\/\t0x0000000000001000 0x0000000000002000;\n\/memreserve\/\t0xfffffffffffff000 0x0000000000001000;\n/);
});

t.test("python3-libfdt walks our blobs exactly as our reader does", { skip: pylibfdtSkipReason() }, async (t) => {
	for (const [name, ops] of TREES) {
		const blob = blobOf(ops);
		const theirs = pyWalk(blob);
		t.equal(walkFdt(blob), theirs, name);
		t.match(theirs, /end ok\n$/, `${name}: walk reached the end of the root`);
	}
});

t.test("our writer and C libfdt's produce identical bytes and return codes for the same calls", { skip: pylibfdtSkipReason() }, async (t) => {
	const scripts = TREES.map(([, ops]) => ops);
	const theirs = pyRunOps(scripts);
	scripts.forEach((ops, i) => t.same(runOps(ops), theirs[i], TREES[i]![0]));
});

t.test("at every buffer size, NOSPACE and the bytes left behind match C libfdt", { skip: pylibfdtSkipReason() }, async (t) => {
	const sized = (ops: FdtOp[], size: number): FdtOp[] => ops.map((op) => (op[0] === "create" ? ["create", size, op[2]] : op));
	const scripts: FdtOp[][] = [];
	for (let size = 40; size <= 760; size += 4) scripts.push(sized(NESTED, size));
	for (let size = 40; size <= 300; size += 1) scripts.push(sized(RESERVED, size));
	for (let size = 40; size <= 400; size += 4) scripts.push(LUO_RW.map((op) => (op[0] === "create_empty_tree" ? ["create_empty_tree", size] : op)));
	const theirs = pyRunOps(scripts);
	let nospace = 0;
	scripts.forEach((ops, i) => {
		const ours = runOps(ops);
		if (ours.rets.includes(-3)) nospace++;
		t.same(ours, theirs[i], `script ${i}`);
	});
	t.ok(nospace > 100, "most sizes ran out of space somewhere");
});

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
		return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
	};
}

function randomScript(rand: () => number): FdtOp[] {
	const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
	const names = ["a", "b", "reg", "compatible", "patible", "status", "x@1", "x", "linux,phandle", "phandle"];
	const hex = (): string => Array.from({ length: Math.floor(rand() * 12) }, () => pick(["00", "41", "ff", "7f", "0a"])).join("");
	// Tight buffers exercise NOSPACE; only a finished blob is then edited: C's
	// fdt_open_into() of an unfinished one reads past the buffer (garbage in python).
	const tight = rand() < 0.5;
	const ops: FdtOp[] = [["create", tight ? 64 + Math.floor(rand() * 400) : 4096, rand() < 0.2 ? 1 : 0]];
	for (let i = Math.floor(rand() * 3); i > 0; i--) ops.push(["add_reservemap_entry", String(Math.floor(rand() * 1e9)), String(1 + Math.floor(rand() * 1e6))]);
	ops.push(["finish_reservemap"], ["begin_node", ""]);
	let depth = 1;
	const paths: string[] = ["/"];
	for (let i = 0; i < 30; i++) {
		const r = rand();
		if (r < 0.15 && depth < 5) {
			ops.push(["begin_node", pick(names)]);
			depth++;
		} else if (r < 0.3 && depth > 1) {
			ops.push(["end_node"]);
			depth--;
		} else if (r < 0.5) ops.push(["property", pick(names), hex()]);
		else if (r < 0.7) ops.push(["property_string", pick(names), pick(["", "v", "kho-v1", "okay"])]);
		else if (r < 0.85) ops.push(["property_u32", pick(names), Math.floor(rand() * 2 ** 32)]);
		else ops.push(["property_u64", pick(names), String(BigInt.asUintN(64, BigInt(Math.floor(rand() * 2 ** 53)) * 4099n))]);
	}
	while (depth-- > 0) ops.push(["end_node"]);
	ops.push(["finish"]);
	if (tight) return ops;
	ops.push(["open_into", 200 + Math.floor(rand() * 1500)]);
	for (let i = 0; i < 20; i++) {
		const r = rand();
		const node = pick(paths);
		if (r < 0.25) {
			const n = pick(names);
			ops.push(["add_subnode", node, n]);
			paths.push(`${node === "/" ? "" : node}/${n}`);
		} else if (r < 0.45) ops.push(["setprop", node, pick(names), hex()]);
		else if (r < 0.55) ops.push(["setprop_string", node, pick(names), pick(["luo-v1", "", "subsystems-v1"])]);
		else if (r < 0.65) ops.push(["setprop_u32", node, pick(names), Math.floor(rand() * 1000)]);
		else if (r < 0.72) ops.push(["setprop_u64", node, pick(names), String(Math.floor(rand() * 1e15))]);
		else if (r < 0.85) ops.push(["delprop", node, pick(names)]);
		else if (r < 0.92) ops.push(["del_node", paths.length > 1 && rand() < 0.9 ? pick(paths.slice(1)) : node]);
		else ops.push(["pack"]);
	}
	return ops;
}

t.test("random call sequences give the same bytes and return codes as C libfdt", { skip: pylibfdtSkipReason() }, async (t) => {
	const rand = rng(20250801);
	const scripts = Array.from({ length: 300 }, () => randomScript(rand));
	const theirs = pyRunOps(scripts);
	let mismatches = 0;
	const tally = new Map<string, { ok: number; err: number }>();
	scripts.forEach((ops, i) => {
		const ours = runOps(ops);
		ours.rets.forEach((r, j) => {
			const e = tally.get(ops[j]![0]) ?? { ok: 0, err: 0 };
			if (r < 0) e.err++;
			else e.ok++;
			tally.set(ops[j]![0], e);
		});
		if (JSON.stringify(ours) !== JSON.stringify(theirs[i])) {
			mismatches++;
			if (mismatches <= 3) t.same(ours, theirs[i], `script ${i}: ${JSON.stringify(ops)}`);
		}
	});
	t.equal(mismatches, 0, "no script differs");
	if (dtcSkipReason() === false) {
		let printed = 0;
		let same = 0;
		scripts.forEach((ops, i) => {
			const blob = new Uint8Array(Buffer.from(theirs[i]!.buf, "hex"));
			if (printed >= 60 || fdt_check_header(blob) !== 0) return;
			printed++;
			let text: string | null = null;
			try {
				text = dtcDecompile(blob, true);
			} catch {
				// dtc refuses it (a deleted root): so must we.
			}
			const ours = fdt_to_dts(blob);
			if (text === null) t.type(ours, "number", `script ${i}: dtc refused the blob, fdt_to_dts too`);
			else if (t.equal(ours, text, `dts of script ${i}`)) same++;
		});
		t.equal(printed, 60, "60 random blobs compared");
		t.ok(same >= 40, `${same} of them printed, as dtc prints them`);
	}
	for (const op of ["begin_node", "property", "finish", "add_subnode", "setprop", "delprop", "del_node"]) {
		const e = tally.get(op)!;
		t.ok(e.ok >= 10 && e.err >= 3, `${op} both succeeded (${e.ok}) and failed (${e.err})`);
	}
	t.ok(tally.get("pack")!.ok >= 10, "pack ran");
});

const SOURCE = `/dts-v1/;
/memreserve/ 0x10000000 0x4000;
/ {
	compatible = "kho-v1";
	preserved-memory-map = /bits/ 64 <0x40be16>;
	model = "x";
	LUO {
		compatible = "luo-v1";
		fdt = /bits/ 64 <0x1517>;
		subsystems { compatible = "subsystems-v1"; };
	};
	memblock@0 {
		compatible = "memblock-v1", "other";
		bytes = [de ad be ef 01];
		empty;
		big = <0x12345678 0x9abcdef0 0x0>;
	};
};
`;

t.test("blobs dtc compiles (versions 2, 3, 16, 17) read the same with our reader as with C libfdt", { skip: dtcSkipReason() || pylibfdtSkipReason() }, async (t) => {
	const blob = dtcCompile(SOURCE);
	t.equal(fdt_check_header(blob), 0);
	t.equal(fdt_to_dts(blob), dtcDecompile(blob), "printer agrees with dtc on dtc's own blob");
	t.equal(walkFdt(blob), pyWalk(blob), "walk agrees with python3-libfdt");

	const luo = fdt_path_offset(blob, "/LUO");
	t.equal(fdt_node_check_compatible(blob, luo, "luo-v1"), 0);
	t.equal(fdt_node_check_compatible(blob, fdt_path_offset(blob, "/memblock"), "other"), 0, "memblock@0 found by its name without the address");
	const v = [0n];
	t.equal(fdt_getprop_le64(blob, 0, "preserved-memory-map", v), 0);
	t.equal(v[0], 0x16be400000000000n, "dtc's /bits/ 64 is big-endian, so little-endian reads swap it");
	const len = [0];
	t.same(fdt_getprop(blob, fdt_path_offset(blob, "/memblock@0"), "bytes", len), new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1]));
	t.equal(len[0], 5);

	for (const version of [2, 3, 16, 17]) {
		const old = dtcCompile(SOURCE, version);
		t.equal(fdt_version(old), version);
		t.equal(fdt_check_header(old), 0, `v${version} header`);
		// Before v16 every node also carried its path as a `name` property.
		const withoutNames = walkFdt(old).replace(/^ {2}prop name [0-9a-f]*\n/gm, "");
		t.equal(withoutNames, walkFdt(blob), `v${version}: the same tree as v17 (pre-v16 values realigned to 8 bytes)`);
		if (version >= 16) t.equal(walkFdt(old), pyWalk(old), `v${version} walk agrees with python3-libfdt`);
		for (const [path, name] of [["/", "preserved-memory-map"], ["/LUO", "fdt"], ["/memblock@0", "big"], ["/memblock@0", "bytes"]] as const) {
			const ours = fdt_getprop(old, fdt_path_offset(old, path), name);
			t.equal(ours === null ? null : Buffer.from(ours).toString("hex"), pyGetprop(old, path, name), `v${version} ${path} ${name}`);
		}
		const opened = new Uint8Array(4096);
		const err = fdt_open_into(old, opened, 4096);
		if (version >= 16) {
			t.equal(err, 0, `v${version} opens into a v17 buffer`);
			t.equal(fdt_version(opened), 17);
			t.equal(fdt_totalsize(opened), 4096);
			t.equal(walkFdt(opened), walkFdt(old), `v${version} reopened: same tree`);
		} else {
			t.equal(err, -FDT_ERR_BADVERSION, `v${version} cannot be opened for writing`);
		}
	}
});

t.test("fdt_open_into reorders a misordered blob exactly as C does, into a new buffer and in place", { skip: pylibfdtSkipReason() }, async (t) => {
	// Strings block moved in front of the structure block, as some writers lay a blob out.
	const packed = blobOf([...LUO_RW, ["pack"]]);
	const h = (off: number): number => Buffer.from(packed).readUInt32BE(off);
	const [structOff, stringsOff, structSize, stringsSize] = [h(8), h(12), h(36), h(32)];
	const out = Buffer.alloc(packed.length + 4);
	Buffer.from(packed.subarray(0, structOff)).copy(out);
	Buffer.from(packed.subarray(stringsOff, stringsOff + stringsSize)).copy(out, structOff);
	const newStruct = structOff + ((stringsSize + 3) & ~3);
	Buffer.from(packed.subarray(structOff, structOff + structSize)).copy(out, newStruct);
	out.writeUInt32BE(newStruct + structSize, 4);
	out.writeUInt32BE(newStruct, 8);
	out.writeUInt32BE(structOff, 12);
	const mis = out.subarray(0, newStruct + structSize).toString("hex");
	const scripts: FdtOp[][] = [
		[["load", mis], ["open_into", 4096], ["setprop_string", "/", "compatible", "luo-v2"]],
		[["load", mis], ["open_in_place", 4096], ["add_subnode", "/", "x"]],
		[["load", mis], ["open_in_place", mis.length / 2 + 8]],
		[["load", mis], ["setprop_u32", "/", "x", 1]],
	];
	const theirs = pyRunOps(scripts);
	scripts.forEach((ops, i) => t.same(runOps(ops), theirs[i], `script ${i}`));
	t.same(
		theirs.map((r) => r.rets.map((x) => (x > 0 ? "offset" : x))),
		[[0, 0, 0], [0, 0, "offset"], [0, -3], [0, -12]],
		"open, open in place, no room for the copy, BADLAYOUT",
	);
});
