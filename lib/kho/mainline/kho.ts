/**
 * Kexec HandOver as mainline has it (include/linux/kexec_handover.h,
 * kernel/liveupdate/kexec_handover.c): the public API of the `mainline`
 * ABI generation in one import. No finalize, no notifiers: preserving
 * memory edits the radix map in place, kho_add_subtree() edits the root
 * FDT in place, and kexec hands over whatever they say at that moment.
 *
 * Every function takes the kernel first; errors are thrown as `Errno`.
 * Without CONFIG_KEXEC_HANDOVER the int functions throw EOPNOTSUPP, the
 * restore functions return null and the void ones do nothing (the
 * header's stubs). docs/kho.md ("Mainline KHO") has the model.
 */
import type { Kernel } from "../../kernel/kernel.ts";
import { khoShared } from "./kho_state.ts";

export { kho_add_subtree, kho_remove_subtree } from "./kho_fdt.ts";
export { is_kho_boot, kho_restore_folio, kho_restore_free, kho_restore_pages, kho_retrieve_subtree } from "./kho_in.ts";
export { get_order } from "../../mm/physmem.ts";
export { kho_alloc_preserve, kho_preserve_folio, kho_preserve_pages, kho_unpreserve_folio, kho_unpreserve_free, kho_unpreserve_pages } from "./kho_out.ts";
export { kho_preserve_vmalloc, kho_restore_vmalloc, kho_unpreserve_vmalloc } from "./kho_vmalloc.ts";
export { kho_kexec_metadata } from "./kho_metadata.ts";
export {
	KHO_FDT_COMPATIBLE,
	KHO_FDT_MEMORY_MAP_PROP_NAME,
	KHO_KEXEC_METADATA_SIZE,
	KHO_METADATA_NODE_NAME,
	KHO_PAGE_MAGIC,
	KHO_SUB_TREE_PROP_NAME,
	KHO_SUB_TREE_SIZE_PROP_NAME,
	KHO_VMALLOC_ALLOC,
	KHO_VMALLOC_DESC_SIZE,
	KHO_VMALLOC_HUGE_VMAP,
	kho_vmalloc_decode,
	kho_vmalloc_encode,
	type KhoVmalloc,
} from "./kho_abi.ts";

/**
 * kho_is_enabled(): CONFIG_KEXEC_HANDOVER, `kho=` (default from
 * CONFIG_KEXEC_HANDOVER_ENABLE_DEFAULT) and a boot-time setup that worked.
 * The same answer as lib/kho/kho.ts gives for either era.
 */
export function kho_is_enabled(kernel: Kernel): boolean {
	return kernel.config.KEXEC_HANDOVER && khoShared(kernel).enable;
}
