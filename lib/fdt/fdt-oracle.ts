/**
 * Test support, not part of the simulated kernel: runs the real device
 * tree tools from Debian 12 (`device-tree-compiler` 1.6.1: dtc;
 * `python3-libfdt` 1.6.1: the C libfdt behind Python bindings) so that
 * tests can compare luosim's libfdt port with them, and the same "op
 * scripts" through both libfdts for byte-for-byte comparisons.
 *
 * Oracle tests skip when a tool is missing, except under CI (`CI=true`),
 * where a missing tool must fail the run instead of silently skipping.
 * Python is Debian's `/usr/bin/python3`: a pyenv python in PATH has no libfdt.
 */
import { spawnSync } from "node:child_process";
import {
	fdt_add_reservemap_entry,
	fdt_add_subnode,
	fdt_begin_node,
	fdt_create_empty_tree,
	fdt_create_with_flags,
	fdt_del_node,
	fdt_delprop,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_first_property_offset,
	fdt_get_mem_rsv,
	fdt_get_name,
	fdt_getprop_by_offset,
	fdt_next_node,
	fdt_next_property_offset,
	fdt_num_mem_rsv,
	fdt_open_into,
	fdt_pack,
	fdt_path_offset,
	fdt_property,
	fdt_property_string,
	fdt_property_u32,
	fdt_property_u64,
	fdt_resize,
	fdt_setprop,
	fdt_setprop_string,
	fdt_setprop_u32,
	fdt_setprop_u64,
	fdt_strerror,
} from "./libfdt.ts";

const PYTHON = "/usr/bin/python3";

/** True when `dtc` runs on this machine. */
export function dtcAvailable(): boolean {
	return spawnSync("dtc", ["--version"]).status === 0;
}

/** True when Debian's python3 can `import libfdt`. */
export function pylibfdtAvailable(): boolean {
	return spawnSync(PYTHON, ["-c", "import libfdt"]).status === 0;
}

/** Why a dtc oracle test should be skipped, or false to run it (always false under CI). */
export function dtcSkipReason(): string | false {
	if (dtcAvailable() || process.env.CI === "true") return false;
	return "dtc not installed (apt-get install device-tree-compiler)";
}

/** Why a python3-libfdt oracle test should be skipped, or false to run it (always false under CI). */
export function pylibfdtSkipReason(): string | false {
	if (pylibfdtAvailable() || process.env.CI === "true") return false;
	return "python3-libfdt not installed for /usr/bin/python3 (apt-get install python3-libfdt)";
}

/** `dtc -I dtb -O dts` of a blob (`-f`: print even when dtc's checks fail): its stdout; throws with dtc's stderr when it fails. */
export function dtcDecompile(blob: Uint8Array, force = false): string {
	const r = spawnSync("dtc", ["-I", "dtb", "-O", "dts", ...(force ? ["-f"] : []), "-"], { input: blob });
	if (r.error !== undefined || r.status !== 0) throw new Error(`dtc -I dtb failed: ${r.error?.message ?? r.stderr.toString()}`);
	return r.stdout.toString("latin1");
}

/** `dtc -I dts -O dtb -V version` of a source: the blob, copied to an 8-aligned array of its own. */
export function dtcCompile(dts: string, version = 17): Uint8Array {
	const r = spawnSync("dtc", ["-I", "dts", "-O", "dtb", "-V", String(version), "-"], { input: Buffer.from(dts, "utf8") });
	if (r.error !== undefined || r.status !== 0) throw new Error(`dtc -I dts failed: ${r.error?.message ?? r.stderr.toString()}`);
	return new Uint8Array(r.stdout);
}

function python(script: string, input: Uint8Array | string, args: readonly string[] = []): string {
	const data = typeof input === "string" ? Buffer.from(input, "utf8") : input;
	const r = spawnSync(PYTHON, ["-c", script, ...args], { input: data, maxBuffer: 64 << 20 });
	if (r.error !== undefined || r.status !== 0) throw new Error(`python3 failed: ${r.error?.message ?? r.stderr.toString()}`);
	return r.stdout.toString("utf8");
}

const PY_WALK = `
import sys, libfdt
b = bytearray(sys.stdin.buffer.read())
f = libfdt.FdtRo(b)
out = []
for i in range(f.num_mem_rsv()):
    a, s = f.get_mem_rsv(i)
    out.append("rsv %#x %#x" % (a, s))
off, depth = 0, 0
while off >= 0 and depth >= 0:
    out.append("node %d %s" % (depth, f.get_name(off)))
    p = f.first_property_offset(off, (libfdt.NOTFOUND,))
    while p >= 0:
        pr = f.get_property_by_offset(p)
        out.append("  prop %s %s" % (pr.name, bytes(pr).hex()))
        p = f.next_property_offset(p, (libfdt.NOTFOUND,))
    off, depth = libfdt.fdt_next_node(b, off, depth)
out.append("end %s" % (libfdt.fdt_strerror(off) if off < 0 else "ok"))
print("\\n".join(out))
`;

/** Every reservation, node and property of a blob as python3-libfdt walks it (see walkFdt). */
export function pyWalk(blob: Uint8Array): string {
	return python(PY_WALK, blob);
}

const PY_GETPROP = `
import sys, libfdt
b = bytearray(sys.stdin.buffer.read())
v = libfdt.FdtRo(b).getprop(libfdt.fdt_path_offset(b, sys.argv[1]), sys.argv[2], (libfdt.NOTFOUND,))
print("None" if isinstance(v, int) else bytes(v).hex())
`;

/** python3-libfdt's fdt_getprop() of `name` at `path` as hex, or null when it is missing. */
export function pyGetprop(blob: Uint8Array, path: string, name: string): string | null {
	const out = python(PY_GETPROP, blob, [path, name]).trim();
	return out === "None" ? null : out;
}

function hex(b: Uint8Array): string {
	return Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
}

/** The same walk with luosim's libfdt, in the same text format as pyWalk. */
export function walkFdt(fdt: Uint8Array): string {
	const out: string[] = [];
	const n = fdt_num_mem_rsv(fdt);
	for (let i = 0; i < n; i++) {
		const a = [0n];
		const s = [0n];
		fdt_get_mem_rsv(fdt, i, a, s);
		out.push(`rsv 0x${a[0]!.toString(16)} 0x${s[0]!.toString(16)}`);
	}
	const depth = [0];
	let off = 0;
	while (off >= 0 && depth[0]! >= 0) {
		out.push(`node ${depth[0]} ${fdt_get_name(fdt, off)}`);
		for (let p = fdt_first_property_offset(fdt, off); p >= 0; p = fdt_next_property_offset(fdt, p)) {
			const name: (string | null)[] = [null];
			const val = fdt_getprop_by_offset(fdt, p, name);
			out.push(`  prop ${name[0]} ${val === null ? "null" : hex(val)}`);
		}
		off = fdt_next_node(fdt, off, depth);
	}
	out.push(`end ${off < 0 ? fdt_strerror(off) : "ok"}`);
	return `${out.join("\n")}\n`;
}

/**
 * One libfdt call in an op script. Node arguments are paths, looked up with
 * fdt_path_offset() on both sides; values are hex strings; u64s decimal
 * strings. "open_into" moves the tree into a new zeroed buffer, "open_in_place"
 * grows the buffer with zeros and opens the tree into itself, "load" starts
 * from the given bytes.
 */
export type FdtOp =
	| ["create", number, number]
	| ["resize", number]
	| ["add_reservemap_entry", string, string]
	| ["finish_reservemap"]
	| ["begin_node", string]
	| ["property", string, string]
	| ["property_string", string, string]
	| ["property_u32", string, number]
	| ["property_u64", string, string]
	| ["end_node"]
	| ["finish"]
	| ["create_empty_tree", number]
	| ["open_into", number]
	| ["load", string]
	| ["open_in_place", number]
	| ["pack"]
	| ["setprop", string, string, string]
	| ["setprop_string", string, string, string]
	| ["setprop_u32", string, string, number]
	| ["setprop_u64", string, string, string]
	| ["delprop", string, string]
	| ["add_subnode", string, string]
	| ["del_node", string];

/** The return value of each op and the final buffer, whole (free space included). */
export interface OpsResult {
	rets: number[];
	buf: string;
}

const PY_OPS = `
import sys, json, libfdt as L
def run(ops):
    buf = bytearray(0)
    rets = []
    P = lambda p: L.fdt_path_offset(buf, p)
    for op in ops:
        k, a = op[0], op[1:]
        if k == "create": buf = bytearray(a[0]); r = L.fdt_create_with_flags(buf, a[0], a[1])
        elif k == "resize":
            nb = bytearray(a[0]); r = L.fdt_resize(buf, nb, a[0])
            if r == 0: buf = nb
        elif k == "add_reservemap_entry": r = L.fdt_add_reservemap_entry(buf, int(a[0]), int(a[1]))
        elif k == "finish_reservemap": r = L.fdt_finish_reservemap(buf)
        elif k == "begin_node": r = L.fdt_begin_node(buf, a[0])
        elif k == "property": v = bytes.fromhex(a[1]); r = L.fdt_property_stub(buf, a[0], v, len(v))
        elif k == "property_string": r = L.fdt_property_string(buf, a[0], a[1])
        elif k == "property_u32": r = L.fdt_property_u32(buf, a[0], a[1])
        elif k == "property_u64": r = L.fdt_property_u64(buf, a[0], int(a[1]))
        elif k == "end_node": r = L.fdt_end_node(buf)
        elif k == "finish": r = L.fdt_finish(buf)
        elif k == "create_empty_tree": buf = bytearray(a[0]); r = L.fdt_create_empty_tree(buf, a[0])
        elif k == "open_into":
            nb = bytearray(a[0]); r = L.fdt_open_into(buf, nb, a[0])
            if r == 0: buf = nb
        elif k == "load": buf = bytearray.fromhex(a[0]); r = 0
        elif k == "open_in_place":
            buf.extend(bytes(a[0] - len(buf))); r = L.fdt_open_into(buf, buf, a[0])
        elif k == "pack": r = L.fdt_pack(buf)
        elif k == "setprop": v = bytes.fromhex(a[2]); r = L.fdt_setprop(buf, P(a[0]), a[1], v, len(v))
        elif k == "setprop_string": v = a[2].encode() + b"\\0"; r = L.fdt_setprop(buf, P(a[0]), a[1], v, len(v))
        elif k == "setprop_u32": r = L.fdt_setprop_u32(buf, P(a[0]), a[1], a[2])
        elif k == "setprop_u64": r = L.fdt_setprop_u64(buf, P(a[0]), a[1], int(a[2]))
        elif k == "delprop": r = L.fdt_delprop(buf, P(a[0]), a[1])
        elif k == "add_subnode": r = L.fdt_add_subnode(buf, P(a[0]), a[1])
        elif k == "del_node": r = L.fdt_del_node(buf, P(a[0]))
        else: raise Exception("unknown op " + k)
        rets.append(r)
    return {"rets": rets, "buf": buf.hex()}
print(json.dumps([run(ops) for ops in json.load(sys.stdin)]))
`;

/** Runs op scripts through the C libfdt (python3-libfdt's raw bindings), all in one python process. */
export function pyRunOps(scripts: readonly (readonly FdtOp[])[]): OpsResult[] {
	return JSON.parse(python(PY_OPS, JSON.stringify(scripts))) as OpsResult[];
}

function unhex(s: string): Uint8Array {
	return new Uint8Array(Buffer.from(s, "hex"));
}

/** Runs an op script through luosim's libfdt. */
export function runOps(ops: readonly FdtOp[]): OpsResult {
	let buf: Uint8Array = new Uint8Array(0);
	const rets: number[] = [];
	const P = (p: string): number => fdt_path_offset(buf, p);
	for (const op of ops) {
		let r: number;
		switch (op[0]) {
			case "create":
				buf = new Uint8Array(op[1]);
				r = fdt_create_with_flags(buf, op[1], op[2]);
				break;
			case "resize": {
				const nb = new Uint8Array(op[1]);
				r = fdt_resize(buf, nb, op[1]);
				if (r === 0) buf = nb;
				break;
			}
			case "add_reservemap_entry":
				r = fdt_add_reservemap_entry(buf, BigInt(op[1]), BigInt(op[2]));
				break;
			case "finish_reservemap":
				r = fdt_finish_reservemap(buf);
				break;
			case "begin_node":
				r = fdt_begin_node(buf, op[1]);
				break;
			case "property":
				r = fdt_property(buf, op[1], unhex(op[2]));
				break;
			case "property_string":
				r = fdt_property_string(buf, op[1], op[2]);
				break;
			case "property_u32":
				r = fdt_property_u32(buf, op[1], op[2]);
				break;
			case "property_u64":
				r = fdt_property_u64(buf, op[1], BigInt(op[2]));
				break;
			case "end_node":
				r = fdt_end_node(buf);
				break;
			case "finish":
				r = fdt_finish(buf);
				break;
			case "create_empty_tree":
				buf = new Uint8Array(op[1]);
				r = fdt_create_empty_tree(buf, op[1]);
				break;
			case "open_into": {
				const nb = new Uint8Array(op[1]);
				r = fdt_open_into(buf, nb, op[1]);
				if (r === 0) buf = nb;
				break;
			}
			case "load":
				buf = unhex(op[1]);
				r = 0;
				break;
			case "open_in_place": {
				const nb = new Uint8Array(op[1]);
				nb.set(buf);
				buf = nb;
				r = fdt_open_into(buf, buf, op[1]);
				break;
			}
			case "pack":
				r = fdt_pack(buf);
				break;
			case "setprop":
				r = fdt_setprop(buf, P(op[1]), op[2], unhex(op[3]));
				break;
			case "setprop_string":
				r = fdt_setprop_string(buf, P(op[1]), op[2], op[3]);
				break;
			case "setprop_u32":
				r = fdt_setprop_u32(buf, P(op[1]), op[2], op[3]);
				break;
			case "setprop_u64":
				r = fdt_setprop_u64(buf, P(op[1]), op[2], BigInt(op[3]));
				break;
			case "delprop":
				r = fdt_delprop(buf, P(op[1]), op[2]);
				break;
			case "add_subnode":
				r = fdt_add_subnode(buf, P(op[1]), op[2]);
				break;
			case "del_node":
				r = fdt_del_node(buf, P(op[1]));
				break;
		}
		rets.push(r);
	}
	return { rets, buf: hex(buf) };
}
