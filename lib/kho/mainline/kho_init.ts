/**
 * kho_init() of mainline KHO (kernel/liveupdate/kexec_handover.c, an
 * fs_initcall): the radix tree's root, the root FDT page (preserved with
 * kho_alloc_preserve, so it survives the kexec it describes), the debugfs
 * tree, the root node, the kexec-metadata subtree, then in/ on a KHO boot
 * or out/fdt otherwise. Any failure frees what was made, gives the scratch
 * areas back and disables KHO, as in the kernel.
 */
import type { Kernel } from "../../kernel/kernel.ts";
import { ENOMEM, errnoReturn } from "../../kernel/errno.ts";
import { fdt_totalsize } from "../../fdt/libfdt.ts";
import { folio_pfn } from "../../mm/folio.ts";
import { PAGE_SIZE, PFN_PHYS } from "../../mm/physmem.ts";
import { kho_scratch_release } from "../kho_scratch.ts";
import { kho_debugfs_blob_add, kho_debugfs_init, kho_in_debugfs_init, kho_out_debugfs_init } from "./kho_debugfs.ts";
import { kho_out_fdt, kho_out_fdt_setup } from "./kho_fdt.ts";
import { is_kho_boot } from "./kho_in.ts";
import { kho_kexec_metadata_init } from "./kho_metadata.ts";
import { kho_alloc_preserve, kho_unpreserve_free } from "./kho_out.ts";
import { kho_radix_free_nodes, type KhoRadixTree } from "./kho_radix.ts";
import { khoMainline, khoShared, khoWARN } from "./kho_state.ts";

/** The radix tree of `kernel` over a fresh zeroed root page (kzalloc), or null without memory. */
function newTree(kernel: Kernel): KhoRadixTree | null {
	const buddy = kernel.buddy;
	const alloc = (): number | null => {
		const pfn = buddy.alloc_pages(0);
		if (pfn !== null) buddy.pm.clearPages(pfn, 1);
		return pfn;
	};
	const root = alloc();
	if (root === null) return null;
	return { pm: kernel.machine.physmem, root, alloc, free: (pfn) => buddy.__free_pages(pfn, 0) };
}

/** The body of kho_init(); 0 or -errno (the caller unwinds). */
function kho_init_steps(kernel: Kernel): number {
	const st = khoMainline(kernel);
	st.tree = newTree(kernel);
	if (!st.tree) return -ENOMEM;
	let err = errnoReturn(() => void (st.fdt = kho_alloc_preserve(kernel, PAGE_SIZE)));
	if (err) return err;
	err = kho_debugfs_init(kernel);
	if (!err) err = kho_out_debugfs_init(kernel);
	if (!err) err = kho_out_fdt_setup(kernel);
	if (!err) err = kho_kexec_metadata_init(kernel, is_kho_boot(kernel));
	return err;
}

/**
 * kho_init() for a mainline kernel, called once at boot after the
 * incoming data (if any) was read. Does nothing unless kho_enable.
 */
export function kho_init_mainline(kernel: Kernel): void {
	const shared = khoShared(kernel);
	if (!shared.enable) return;
	const st = khoMainline(kernel);
	const err = kho_init_steps(kernel);
	if (err) {
		if (st.fdt) kho_unpreserve_free(kernel, st.fdt);
		if (st.tree) {
			kho_radix_free_nodes(st.tree);
			kernel.buddy.__free_pages(st.tree.root, 0);
		}
		st.fdt = null;
		st.tree = null;
		for (const a of shared.scratch) kho_scratch_release(kernel.buddy, a);
		shared.enable = false;
		return;
	}
	// kho_fill_kimage() hands over kho_out.fdt: the kexec code finds it where it finds the seed era's page.
	shared.out.ser.fdt = st.fdt;
	if (is_kho_boot(kernel)) {
		kho_in_debugfs_init(kernel, shared.in.fdtPhys);
		return;
	}
	const root = kho_out_fdt(kernel)!;
	if (kho_debugfs_blob_add(kernel, st.outDbg, "fdt", PFN_PHYS(folio_pfn(st.fdt!)), fdt_totalsize(root), true))
		khoWARN(kernel, "kho_init", "kho_debugfs_blob_add(\"fdt\")");
}
