/**
 * Ancestry queries from scripts/dtc/libfdt/fdt_ro.c (dtc v1.8.1): a node's
 * depth, its ancestor at a given depth, its parent. The structure block
 * links children to nothing, so each answer is a walk from the root up to
 * the node, as in C (a parent lookup costs a pass over the tree before it).
 */
import { FDT_ERR_BADOFFSET, FDT_ERR_BADSTRUCTURE, FDT_ERR_INTERNAL, FDT_ERR_NOTFOUND } from "./errors.ts";
import { fdt_next_node, fdt_ro_probe_ } from "./fdt.ts";
import type { IntPtr } from "./header.ts";

/**
 * fdt_supernode_atdepth_offset(fdt, nodeoffset, supernodedepth, nodedepth):
 * the ancestor of `nodeoffset` at depth `supernodedepth` (root = 0);
 * nodedepth[0] receives the node's own depth.
 */
export function fdt_supernode_atdepth_offset(fdt: Uint8Array, nodeoffset: number, supernodedepth: number, nodedepth?: IntPtr): number {
	const err = fdt_ro_probe_(fdt);
	if (err < 0) return err;
	if (supernodedepth < 0) return -FDT_ERR_NOTFOUND;

	let supernodeoffset = -FDT_ERR_INTERNAL;
	const depth = [0];
	let offset: number;
	for (offset = 0; offset >= 0 && offset <= nodeoffset; offset = fdt_next_node(fdt, offset, depth)) {
		if (depth[0] === supernodedepth) supernodeoffset = offset;
		if (offset === nodeoffset) {
			if (nodedepth) nodedepth[0] = depth[0]!;
			return supernodedepth > depth[0]! ? -FDT_ERR_NOTFOUND : supernodeoffset;
		}
	}
	if (offset === -FDT_ERR_NOTFOUND || offset >= 0) return -FDT_ERR_BADOFFSET;
	if (offset === -FDT_ERR_BADOFFSET) return -FDT_ERR_BADSTRUCTURE;
	return offset;
}

/** fdt_node_depth(fdt, nodeoffset): 0 for the root, 1 for its children, ... or an error. */
export function fdt_node_depth(fdt: Uint8Array, nodeoffset: number): number {
	const nodedepth = [0];
	const err = fdt_supernode_atdepth_offset(fdt, nodeoffset, 0, nodedepth);
	if (err !== 0) return err < 0 ? err : -FDT_ERR_INTERNAL;
	return nodedepth[0]!;
}

/** fdt_parent_offset(fdt, nodeoffset): the parent node (a walk from the root), or -FDT_ERR_NOTFOUND for the root. */
export function fdt_parent_offset(fdt: Uint8Array, nodeoffset: number): number {
	const nodedepth = fdt_node_depth(fdt, nodeoffset);
	if (nodedepth < 0) return nodedepth;
	return fdt_supernode_atdepth_offset(fdt, nodeoffset, nodedepth - 1);
}
