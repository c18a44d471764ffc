/**
 * The incoming half of mainline KHO (kernel/liveupdate/kexec_handover.c:
 * kho_populate, kho_memory_init, kho_mem_retrieve,
 * kho_preserved_memory_reserve, kho_restore_page/folio/pages,
 * kho_restore_free, is_kho_boot, kho_retrieve_subtree). The next kernel
 * gets the setup_data address and reads everything else from physical
 * memory: the root FDT, the scratch array and the radix tree, which it
 * walks before anything allocates, reserving every preserved block and
 * stamping its head page ({order, KHO_PAGE_MAGIC} in page->private).
 * kho_restore_*() consume the stamp, so a second restore, or one of memory
 * that was not preserved, returns null.
 *
 * A handover that does not validate (a bad FDT header, a compatible other
 * than "kho-v4", no preserved-memory-map, data outside memory) prints
 * "disabling KHO revival" and the kernel boots without KHO data; so does
 * a radix tree luosim refuses to follow (see kho_radix_walk_tree): then
 * nothing it names stays reserved beyond what was reserved before the
 * fault, and every other old frame is poisoned.
 */
import type { Kernel } from "../../kernel/kernel.ts";
import { Errno, EINVAL, ENOENT, EOPNOTSUPP } from "../../kernel/errno.ts";
import { fdt_check_header, fdt_getprop, fdt_node_check_compatible, fdt_subnode_offset } from "../../fdt/libfdt.ts";
import { folio_put, folio_restore, type Folio } from "../../mm/folio.ts";
import { MAX_PAGE_ORDER, PFN_PHYS, PHYS_PFN } from "../../mm/physmem.ts";
import { kho_range_blocks } from "../kho_mem.ts";
import { inMemory, parse_setup_data, reserveBytes } from "../kho_in.ts";
import { kho_scratch_adopt, kho_scratch_decode, KHO_SCRATCH_SIZE } from "../kho_scratch.ts";
import { hex, khoReadFdt } from "../kho_state.ts";
import { KHO_FDT_COMPATIBLE, KHO_FDT_MEMORY_MAP_PROP_NAME, KHO_SUB_TREE_PROP_NAME, KHO_SUB_TREE_SIZE_PROP_NAME, ld64 } from "./kho_abi.ts";
import { KhoRadixCorrupt, kho_radix_walk_tree } from "./kho_radix.ts";
import { khoMainline, khoShared, khoWARN } from "./kho_state.ts";

/** kho_get_mem_map_phys(): the radix root's address from the FDT, or 0 (with the kernel's error). */
function kho_get_mem_map_phys(kernel: Kernel, fdt: Uint8Array): number {
	const len = [0];
	const mem = fdt_getprop(fdt, 0, KHO_FDT_MEMORY_MAP_PROP_NAME, len);
	if (!mem || len[0] !== 8) {
		kernel.pr_err("KHO: failed to get preserved memory map");
		return 0;
	}
	return ld64(mem, 0);
}

/**
 * kho_populate(): validates the incoming FDT and scratch array; on success
 * records them (kho_in), reserves the array and takes the areas as this
 * kernel's scratch; otherwise "disabling KHO revival".
 */
function kho_populate(kernel: Kernel, fdtPhys: number, fdtLen: number, scratchPhys: number, scratchLen: number): void {
	const pm = kernel.machine.physmem;
	const st = khoShared(kernel);
	const warn = (msg: string): void => kernel.pr_warn(`KHO: ${msg}`);
	let populated = false;
	if (!inMemory(kernel, fdtPhys, fdtLen) || fdtLen < 8) warn(`setup: failed to memremap FDT (${hex(fdtPhys)})`);
	else {
		const fdt = pm.read(fdtPhys, fdtLen);
		const hdr = fdt_check_header(fdt);
		const compat = hdr ? 0 : fdt_node_check_compatible(fdt, 0, KHO_FDT_COMPATIBLE);
		if (hdr) warn(`setup: handover FDT (${hex(fdtPhys)}) is invalid: ${hdr}`);
		else if (compat) warn(`setup: handover FDT (${hex(fdtPhys)}) is incompatible with '${KHO_FDT_COMPATIBLE}': ${compat}`);
		else if (!kho_get_mem_map_phys(kernel, fdt)) {
			// kho_get_mem_map_phys() said why.
		} else if (!inMemory(kernel, scratchPhys, scratchLen)) warn(`setup: failed to memremap scratch (phys=${hex(scratchPhys)}, len=${scratchLen})`);
		else {
			const areas = kho_scratch_decode(pm.read(scratchPhys, scratchLen - (scratchLen % KHO_SCRATCH_SIZE)));
			const bad = areas.find((a) => !inMemory(kernel, a.addr, a.size));
			if (bad) warn(`failed to mark the scratch region ${hex(bad.addr)}+${hex(bad.size)}: -EINVAL`);
			else {
				reserveBytes(kernel.buddy, scratchPhys, scratchLen);
				st.in.fdtPhys = fdtPhys;
				st.in.scratchPhys = scratchPhys;
				st.scratch = areas;
				populated = true;
				kernel.pr_info("KHO: found kexec handover data.");
			}
		}
	}
	if (!populated) warn("disabling KHO revival");
}

/**
 * kho_preserved_memory_reserve(): memblock_reserve of the block and the
 * stamp on its head page. luosim refuses a block over memory this kernel
 * already uses (a real kernel would hand it out twice).
 */
function kho_preserved_memory_reserve(kernel: Kernel, pfn: number, order: number): void {
	const buddy = kernel.buddy;
	const n = 2 ** order;
	for (let p = pfn; p < pfn + n; p++)
		if (!buddy.page_is_free(p) && !buddy.PageReserved(p)) throw new KhoRadixCorrupt(`block ${hex(PFN_PHYS(pfn))} of order ${order} overlaps memory in use`);
	buddy.reserve(pfn, n);
	khoMainline(kernel).stamps.set(pfn, order);
}

/** kho_mem_retrieve(): walks the incoming radix tree; 0 or -errno. */
function kho_mem_retrieve(kernel: Kernel, fdt: Uint8Array): number {
	const len = [0];
	const mem = fdt_getprop(fdt, 0, KHO_FDT_MEMORY_MAP_PROP_NAME, len);
	if (!mem || len[0] !== 8) {
		kernel.pr_err("KHO: failed to get preserved KHO memory tree");
		return -ENOENT;
	}
	const root = ld64(mem, 0);
	if (!root) return -EINVAL;
	try {
		if (root % 4096 !== 0 || !inMemory(kernel, root, 4096)) throw new KhoRadixCorrupt(`root node ${hex(root)} is not a page in memory`);
		kho_radix_walk_tree(kernel.machine.physmem, PHYS_PFN(root), (pfn, order) => kho_preserved_memory_reserve(kernel, pfn, order));
	} catch (e) {
		if (!(e instanceof KhoRadixCorrupt)) throw e;
		kernel.pr_err(`KHO: luosim: corrupt preserved memory map: ${e.message}`);
		return -EINVAL;
	}
	return 0;
}

/**
 * The next kernel's boot-time KHO for the mainline generation (the
 * setup_data walk and kho_populate at setup_arch, then the incoming branch
 * of kho_memory_init): reserves the handover, adopts the scratch areas,
 * walks the radix tree (a failure makes this a non-KHO boot), and finally
 * poisons every frame this kernel neither reserved nor uses (DESIGN rule
 * 5; also when the handover was refused).
 */
export function khoPopulateMainline(kernel: Kernel, handoverPhys: number): void {
	const st = khoShared(kernel);
	parse_setup_data(kernel, handoverPhys, kho_populate);
	if (st.in.scratchPhys) {
		kho_scratch_adopt(kernel.buddy, st.scratch);
		if (kho_mem_retrieve(kernel, khoReadFdt(kernel, st.in.fdtPhys))) st.in.fdtPhys = 0;
	}
	kernel.machine.physmem.poisonAllExcept(kernel.buddy.usedRanges());
}

/** is_kho_boot(): this kernel was kexec'd with KHO data that validated. */
export function is_kho_boot(kernel: Kernel): boolean {
	return khoShared(kernel).in.fdtPhys !== 0;
}

/**
 * kho_restore_page(): consumes the stamp of the block at `phys` and
 * returns its order; null (with a WARN) when there is none or its order is
 * above MAX_PAGE_ORDER. The block stays reserved: the caller makes it a
 * folio or order-0 pages.
 */
function kho_restore_page(kernel: Kernel, phys: number): number | null {
	if (!kernel.config.KEXEC_HANDOVER) return null;
	if (!Number.isSafeInteger(phys) || phys < 0 || PHYS_PFN(phys) >= kernel.buddy.nr_pages) return null;
	const pfn = PHYS_PFN(phys);
	const st = khoMainline(kernel);
	const order = st.stamps.get(pfn);
	if (order === undefined || order > MAX_PAGE_ORDER) {
		khoWARN(kernel, "kho_restore_page", "info.magic != KHO_PAGE_MAGIC || info.order > MAX_PAGE_ORDER");
		return null;
	}
	for (let p = pfn; p < pfn + 2 ** order; p++)
		if (!kernel.buddy.PageReserved(p)) {
			// An overlapping block was restored first; the kernel would corrupt its memmap.
			khoWARN(kernel, "kho_restore_page", `luosim: page ${hex(PFN_PHYS(p))} was already restored`);
			return null;
		}
	st.stamps.delete(pfn);
	return order;
}

/** kho_restore_folio(): the preserved folio at `phys`, its order and bytes as preserved; null as kho_restore_page. */
export function kho_restore_folio(kernel: Kernel, phys: number): Folio | null {
	const order = kho_restore_page(kernel, phys);
	return order === null ? null : folio_restore(kernel.buddy, PHYS_PFN(phys), order);
}

/**
 * kho_restore_pages(): `nr` order-0 pages from `phys`, preserved with
 * kho_preserve_pages(); the first PFN, or null. As in the kernel, blocks
 * restored before a failing one stay restored.
 */
export function kho_restore_pages(kernel: Kernel, phys: number, nr: number): number | null {
	if (!Number.isSafeInteger(phys) || phys < 0 || !Number.isSafeInteger(nr) || nr < 0) return null;
	const start = PHYS_PFN(phys);
	for (const [pfn] of kho_range_blocks(start, start + nr)) {
		const order = kho_restore_page(kernel, PFN_PHYS(pfn));
		if (order === null) return null;
		// kho_init_pages(): each page its own order-0 page with refcount 1.
		for (let p = pfn; p < pfn + 2 ** order; p++) kernel.buddy.claim_reserved(p, 0);
	}
	return start;
}

/** kho_restore_free(): restores the kho_alloc_preserve() folio at `phys` and frees it (WARN if it is not there). */
export function kho_restore_free(kernel: Kernel, phys: number): void {
	const folio = kho_restore_folio(kernel, phys);
	if (!folio) khoWARN(kernel, "kho_restore_free", "!folio");
	else folio_put(folio);
}

/** The incoming root FDT as it is in memory, or null on a boot without KHO data. */
export function kho_get_fdt(kernel: Kernel): Uint8Array | null {
	const phys = khoShared(kernel).in.fdtPhys;
	return phys ? khoReadFdt(kernel, phys) : null;
}

/**
 * kho_retrieve_subtree(name): the incoming blob `name` as {phys, size}.
 * ENOENT when this is not a KHO boot or there is no such node; EINVAL when
 * preserved-data or blob-size is missing or not 8 bytes (the latter with
 * the kernel's "broken KHO subnode" warning). EOPNOTSUPP without
 * CONFIG_KEXEC_HANDOVER.
 */
export function kho_retrieve_subtree(kernel: Kernel, name: string): { phys: number; size: number } {
	if (!kernel.config.KEXEC_HANDOVER) throw new Errno(EOPNOTSUPP);
	const fdt = kho_get_fdt(kernel);
	if (!fdt) throw new Errno(ENOENT);
	const offset = fdt_subnode_offset(fdt, 0, name);
	if (offset < 0) throw new Errno(ENOENT);
	const len = [0];
	const val = fdt_getprop(fdt, offset, KHO_SUB_TREE_PROP_NAME, len);
	if (!val || len[0] !== 8) throw new Errno(EINVAL);
	const phys = ld64(val, 0);
	const size = fdt_getprop(fdt, offset, KHO_SUB_TREE_SIZE_PROP_NAME, len);
	if (!size || len[0] !== 8) {
		kernel.pr_warn(`KHO: broken KHO subnode '${name}': missing or invalid blob-size property`);
		throw new Errno(EINVAL);
	}
	return { phys, size: ld64(size, 0) };
}
