/**
 * A device tree source printer: the text `dtc -I dtb -O dts` prints for a
 * blob (dtc v1.6.1's treesource.c, the version Debian 12 ships), for debugfs
 * and for humans reading a KHO handover. Property types are guessed as dtc
 * guesses them when a blob carries no type information: printable
 * NUL-terminated text is a string (a list shows as "a\0b"), a multiple of
 * 4 bytes is cells (<0x01 0x2a>), anything else bytes ([01 02 03]). KHO's
 * little-endian u64s therefore show as two byte-swapped cells, as fdt.rst
 * shows them.
 */
import { FDT_ERR_BADSTRUCTURE } from "./errors.ts";
import { fdt_check_header, fdt_next_tag } from "./fdt.ts";
import { fdt_get_mem_rsv, fdt_get_name, fdt_getprop_by_offset, fdt_num_mem_rsv } from "./fdt_ro.ts";
import { FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_PROP, fdt32_ld } from "./header.ts";

function isprint(c: number): boolean {
	return c >= 0x20 && c < 0x7f;
}

/** isstring() in treesource.c: printable, NUL, or one of \a\b\t\n\v\f\r. */
function isstring(c: number): boolean {
	return isprint(c) || c === 0 || (c >= 0x07 && c <= 0x0d);
}

const ESCAPES: Record<number, string> = {
	0x07: "\\a",
	0x08: "\\b",
	0x09: "\\t",
	0x0a: "\\n",
	0x0b: "\\v",
	0x0c: "\\f",
	0x0d: "\\r",
	0x5c: "\\\\",
	0x22: '\\"',
	0x00: "\\0",
};

function propval_string(p: Uint8Array): string {
	let out = '"';
	for (const c of p.subarray(0, p.length - 1)) {
		const esc = ESCAPES[c];
		if (esc !== undefined) out += esc;
		else if (isprint(c)) out += String.fromCharCode(c);
		else out += `\\x${c.toString(16).padStart(2, "0")}`;
	}
	return `${out}"`;
}

function hex2(v: number): string {
	return v.toString(16).padStart(2, "0");
}

/** write_propval() with guess_value_type(): " = <...>;", " = [...];", ' = "...";' or ";". */
export function dts_propval(p: Uint8Array): string {
	const len = p.length;
	if (len === 0) return ";";
	let nnotstring = 0;
	let nnul = 0;
	for (const c of p) {
		if (!isstring(c)) nnotstring++;
		if (c === 0) nnul++;
	}
	if (p[len - 1] === 0 && nnotstring === 0 && nnul <= len - nnul) return ` = ${propval_string(p)};`;
	if (len % 4 === 0) {
		const cells: string[] = [];
		for (let i = 0; i < len; i += 4) cells.push(`0x${hex2(fdt32_ld(p, i))}`);
		return ` = <${cells.join(" ")}>;`;
	}
	return ` = [${Array.from(p, hex2).join(" ")}];`;
}

function u64hex(v: bigint): string {
	return `0x${v.toString(16).padStart(16, "0")}`;
}

interface DtsNode {
	name: string;
	lines: string[];
	children: DtsNode[];
}

/**
 * dt_to_source() for a blob: the DTS text, or a negative libfdt error for a
 * blob that fails fdt_check_header() or whose structure is corrupt. Like
 * dtc's blob reader it shows every property of a node, also one written
 * after a subnode (which libfdt's property iterators never reach).
 */
export function fdt_to_dts(fdt: Uint8Array): string | number {
	const err = fdt_check_header(fdt);
	if (err) return err;

	let out = "/dts-v1/;\n\n";
	const nrsv = fdt_num_mem_rsv(fdt);
	if (nrsv < 0) return nrsv;
	for (let i = 0; i < nrsv; i++) {
		const address = [0n];
		const size = [0n];
		fdt_get_mem_rsv(fdt, i, address, size);
		out += `/memreserve/\t${u64hex(address[0]!)} ${u64hex(size[0]!)};\n`;
	}

	// Read the tokens into a tree first, then print it; both without recursion,
	// since a blob can nest deeper than the JS stack.
	const stack: DtsNode[] = [];
	let root: DtsNode | null = null;
	const lenp = [0];
	const next = [0];
	for (let offset = 0; root === null; offset = next[0]!) {
		const tag = fdt_next_tag(fdt, offset, next);
		if (tag === FDT_BEGIN_NODE) {
			const name = fdt_get_name(fdt, offset, lenp);
			if (name === null) return lenp[0]!;
			const node: DtsNode = { name, lines: [], children: [] };
			stack.at(-1)?.children.push(node);
			stack.push(node);
		} else if (tag === FDT_PROP) {
			const namep: (string | null)[] = [null];
			const val = fdt_getprop_by_offset(fdt, offset, namep, lenp);
			if (val === null) return lenp[0]!;
			const node = stack.at(-1);
			if (node === undefined) return -FDT_ERR_BADSTRUCTURE;
			node.lines.push(`${namep[0]}${dts_propval(val)}`);
		} else if (tag === FDT_END_NODE) {
			const node = stack.pop();
			if (node === undefined) return -FDT_ERR_BADSTRUCTURE;
			if (stack.length === 0) root = node;
		} else if (tag === FDT_END) {
			return next[0]! < 0 ? next[0]! : -FDT_ERR_BADSTRUCTURE;
		}
	}

	const todo: [DtsNode, number, boolean][] = [[root, 0, false]];
	for (let item = todo.pop(); item !== undefined; item = todo.pop()) {
		const [node, depth, closing] = item;
		const tabs = "\t".repeat(depth);
		if (closing) {
			out += `${tabs}};\n`;
			continue;
		}
		if (depth > 0) out += "\n";
		out += `${tabs}${node.name === "" ? "/" : node.name} {\n`;
		for (const line of node.lines) out += `${tabs}\t${line}\n`;
		todo.push([node, depth, true]);
		for (let i = node.children.length - 1; i >= 0; i--) todo.push([node.children[i]!, depth + 1, false]);
	}
	return out;
}
