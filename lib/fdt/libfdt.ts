/**
 * `#include <libfdt.h>`: the whole FDT API in one import for kernel code
 * (KHO, LUO). A TypeScript port of scripts/dtc/libfdt (dtc v1.8.1) that
 * works, like the C, on a caller-supplied byte buffer: a `Uint8Array`
 * stands for `void *fdt`, offsets are structure-block offsets, errors are
 * libfdt's negative FDT_ERR_* numbers, and `int *lenp`-style out-parameters
 * are one-element arrays.
 */
export * from "./errors.ts";
export * from "./header.ts";
export {
	fdt_check_header,
	fdt_first_subnode,
	fdt_move,
	fdt_next_node,
	fdt_next_subnode,
	fdt_next_tag,
	fdt_offset_ptr,
} from "./fdt.ts";
export {
	fdt_first_property_offset,
	fdt_get_alias,
	fdt_get_mem_rsv,
	fdt_get_name,
	fdt_get_phandle,
	fdt_get_string,
	fdt_getprop,
	fdt_getprop_by_offset,
	fdt_getprop_namelen,
	fdt_next_property_offset,
	fdt_node_offset_by_phandle,
	fdt_node_offset_by_prop_value,
	fdt_num_mem_rsv,
	fdt_path_offset,
	fdt_path_offset_namelen,
	fdt_string,
	fdt_subnode_offset,
	fdt_subnode_offset_namelen,
} from "./fdt_ro.ts";
export * from "./fdt_parent.ts";
export * from "./fdt_stringlist.ts";
export * from "./fdt_sw.ts";
export * from "./fdt_rw.ts";
