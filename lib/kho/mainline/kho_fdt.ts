/**
 * The outgoing root FDT of mainline KHO (kernel/liveupdate/kexec_handover.c:
 * kho_out_fdt_setup, kho_add_subtree, kho_remove_subtree). One page,
 * written once at kho_init and edited in place by every add and remove
 * (fdt_open_into to PAGE_SIZE, edit, fdt_pack), so it is always a finished
 * tree that the kexec code can hand over as it is:
 *
 *     / {
 *         compatible = "kho-v4";
 *         preserved-memory-map = <u64 phys of the radix root>;
 *         NAME { preserved-data = <u64 phys>; blob-size = <u64>; };
 *     };
 *
 * u64 values are CPU-native (little-endian), as the kernel writes them.
 */
import type { Kernel } from "../../kernel/kernel.ts";
import { Errno, EEXIST, EINVAL, ENOMEM, EOPNOTSUPP } from "../../kernel/errno.ts";
import { PAGE_SIZE, PFN_PHYS } from "../../mm/physmem.ts";
import {
	cpu_to_le64,
	FDT_ERR_EXISTS,
	fdt_add_subnode,
	fdt_begin_node,
	fdt_create,
	fdt_del_node,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_first_subnode,
	fdt_getprop,
	fdt_next_subnode,
	fdt_open_into,
	fdt_pack,
	fdt_property,
	fdt_property_string,
	fdt_setprop,
	le64_ld,
} from "../../fdt/libfdt.ts";
import { KHO_FDT_COMPATIBLE, KHO_FDT_MEMORY_MAP_PROP_NAME, KHO_SUB_TREE_PROP_NAME, KHO_SUB_TREE_SIZE_PROP_NAME } from "./kho_abi.ts";
import { kho_debugfs_blob_add, kho_debugfs_blob_remove } from "./kho_debugfs.ts";
import { khoMainline, khoWARN } from "./kho_state.ts";

/** The root FDT page as libfdt's buffer (phys_to_virt(kho_out.fdt)), or null when KHO is off. */
export function kho_out_fdt(kernel: Kernel): Uint8Array | null {
	const fdt = khoMainline(kernel).fdt;
	return fdt ? kernel.machine.physmem.page(fdt.pfn) : null;
}

/**
 * kho_out_fdt_setup(): writes the root node (compatible and the radix
 * root's address) into the root FDT page; 0 or the OR-ed libfdt error.
 */
export function kho_out_fdt_setup(kernel: Kernel): number {
	const st = khoMainline(kernel);
	const root = kho_out_fdt(kernel)!;
	let err = fdt_create(root, PAGE_SIZE);
	err |= fdt_finish_reservemap(root);
	err |= fdt_begin_node(root, "");
	err |= fdt_property_string(root, "compatible", KHO_FDT_COMPATIBLE);
	err |= fdt_property(root, KHO_FDT_MEMORY_MAP_PROP_NAME, cpu_to_le64(PFN_PHYS(st.tree!.root)));
	err |= fdt_end_node(root);
	err |= fdt_finish(root);
	return err;
}

function rootOrFail(kernel: Kernel, fn: string): Uint8Array {
	if (!kernel.config.KEXEC_HANDOVER) throw new Errno(EOPNOTSUPP);
	const root = kho_out_fdt(kernel);
	if (!root) {
		// The kernel dereferences a NULL kho_out.fdt here; luosim refuses instead.
		khoWARN(kernel, fn, "!kho_out.fdt (KHO is not enabled)");
		throw new Errno(EINVAL);
	}
	return root;
}

/**
 * kho_add_subtree(name, blob, size): adds node `name` with
 * `preserved-data` = `phys` and `blob-size` = `size`, and (with debugfs)
 * out/sub_fdts/<name>. The blob may be in any format; its pages must be
 * preserved separately. EEXIST when the name is taken; ENOMEM when the
 * root cannot be opened or the node not added; a failing property write
 * is thrown as the libfdt error's number (-FDT_ERR_NOSPACE: 3, ESRCH) and,
 * as in the kernel, leaves the half-made node in the tree.
 */
export function kho_add_subtree(kernel: Kernel, name: string, phys: number, size: number): void {
	const root = rootOrFail(kernel, "kho_add_subtree");
	if (fdt_open_into(root, root, PAGE_SIZE) < 0) throw new Errno(ENOMEM);
	let err = -ENOMEM;
	const off = fdt_add_subnode(root, 0, name);
	if (off < 0) {
		if (off === -FDT_ERR_EXISTS) err = -EEXIST;
	} else {
		err = fdt_setprop(root, off, KHO_SUB_TREE_PROP_NAME, cpu_to_le64(phys));
		if (err >= 0) err = fdt_setprop(root, off, KHO_SUB_TREE_SIZE_PROP_NAME, cpu_to_le64(size));
		if (err >= 0) {
			const dbg = kho_debugfs_blob_add(kernel, khoMainline(kernel).outDbg, name, phys, size, false);
			if (dbg) khoWARN(kernel, "kho_add_subtree", `kho_debugfs_blob_add() = ${dbg}`);
		}
	}
	fdt_pack(root);
	if (err < 0) throw new Errno(-err);
}

/**
 * kho_remove_subtree(blob): deletes the first node whose `preserved-data`
 * is `phys`, and its debugfs file. Nothing happens when none matches.
 */
export function kho_remove_subtree(kernel: Kernel, phys: number): void {
	if (!kernel.config.KEXEC_HANDOVER) return;
	const root = kho_out_fdt(kernel);
	if (!root || fdt_open_into(root, root, PAGE_SIZE) < 0) return;
	for (let off = fdt_first_subnode(root, 0); off >= 0; off = fdt_next_subnode(root, off)) {
		const len = [0];
		const val = fdt_getprop(root, off, KHO_SUB_TREE_PROP_NAME, len);
		if (!val || len[0] !== 8) continue;
		if (le64_ld(val) === BigInt(phys)) {
			fdt_del_node(root, off);
			kho_debugfs_blob_remove(khoMainline(kernel).outDbg, phys);
			break;
		}
	}
	fdt_pack(root);
}
