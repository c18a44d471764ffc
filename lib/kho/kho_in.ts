/**
 * The incoming half of KHO (kernel/kexec_handover.c v6.16: kho_populate,
 * kho_memory_init, kho_mem_deserialize, kho_restore_folio,
 * kho_retrieve_subtree; arch/x86/kernel/setup.c: the setup_data walk and
 * add_kho). The next kernel gets one physical address and reads
 * everything else from physical memory: the setup_data node, the root FDT,
 * the scratch array, the chunk list and its bitmaps.
 *
 * A handover that does not validate (a FDT with a bad header or without
 * compatible "kho-v1", data outside memory) is logged and the kernel boots
 * without KHO data: kho_retrieve_subtree() is ENOENT, nothing is reserved,
 * so every old frame is poisoned. luosim also refuses a chunk list that a
 * real kernel would follow into a crash (see kho_mem_deserialize_walk):
 * the walk stops there with an error in dmesg.
 */
import type { Kernel } from "../kernel/kernel.ts";
import { Errno, EFAULT, EINVAL, ENOENT, EOPNOTSUPP } from "../kernel/errno.ts";
import { fdt_check_header, fdt_getprop, fdt_node_check_compatible, fdt_subnode_offset, le64_ld } from "../fdt/libfdt.ts";
import { folio_restore, type Folio } from "../mm/folio.ts";
import { MAX_PAGE_ORDER, PHYS_PFN } from "../mm/physmem.ts";
import type { BuddyAllocator } from "../mm/buddy.ts";
import { kho_mem_deserialize_walk } from "./kho_mem.ts";
import { kho_scratch_adopt, kho_scratch_decode, KHO_SCRATCH_SIZE } from "./kho_scratch.ts";
import { KHO_DATA_SIZE, kho_data_decode, SETUP_DATA_HDR_SIZE, SETUP_KEXEC_KHO, setup_data_decode } from "./kho_handover.ts";
import { hex, khoErr, khoInfo, khoReadFdt, khoState, khoWarn, KHO_FDT_COMPATIBLE, PROP_PRESERVED_MEMORY_MAP, PROP_SUB_FDT } from "./kho_state.ts";

/** How many setup_data nodes the walk follows before calling the list a loop. */
const MAX_SETUP_DATA = 64;

/** Whether `[phys, phys + len)` lies inside physical memory (what early_memremap needs). */
export function inMemory(kernel: Kernel, phys: number, len: number): boolean {
	return Number.isSafeInteger(phys) && Number.isSafeInteger(len) && phys >= 0 && len >= 0 && phys + len <= kernel.machine.physmem.sizeBytes;
}

/** memblock_reserve() of a byte range in this kernel's page allocator. */
export function reserveBytes(buddy: BuddyAllocator, phys: number, len: number): void {
	if (len <= 0) return;
	const first = PHYS_PFN(phys);
	const last = PHYS_PFN(phys + len - 1);
	for (let p = first; p <= last; p++) if (buddy.page_is_free(p)) buddy.reserve(p, 1);
}

/** kho_get_fdt(): the incoming root FDT as it is in memory now, or null without KHO data. */
function kho_get_fdt(kernel: Kernel): Uint8Array | null {
	const phys = khoState(kernel).in.fdtPhys;
	return phys ? khoReadFdt(kernel, phys) : null;
}

/**
 * kho_populate(): validates the incoming FDT and scratch array; on success
 * records them (kho_in), reserves the array, and takes the areas as this
 * kernel's scratch. On failure: "disabling KHO revival".
 */
function kho_populate(kernel: Kernel, fdtPhys: number, fdtLen: number, scratchPhys: number, scratchLen: number): void {
	const pm = kernel.machine.physmem;
	const st = khoState(kernel);
	let err = 0;
	if (!inMemory(kernel, fdtPhys, fdtLen) || fdtLen < 8) {
		khoWarn(kernel, `setup: failed to memremap FDT (${hex(fdtPhys)})`);
		err = -EFAULT;
	} else {
		const fdt = pm.read(fdtPhys, fdtLen);
		const hdr = fdt_check_header(fdt);
		const compat = hdr ? 0 : fdt_node_check_compatible(fdt, 0, KHO_FDT_COMPATIBLE);
		if (hdr) {
			khoWarn(kernel, `setup: handover FDT (${hex(fdtPhys)}) is invalid: ${hdr}`);
			err = -EINVAL;
		} else if (compat) {
			khoWarn(kernel, `setup: handover FDT (${hex(fdtPhys)}) is incompatible with '${KHO_FDT_COMPATIBLE}': ${compat}`);
			err = -EINVAL;
		} else if (!inMemory(kernel, scratchPhys, scratchLen)) {
			khoWarn(kernel, `setup: failed to memremap scratch (phys=${hex(scratchPhys)}, len=${scratchLen})`);
			err = -EFAULT;
		}
	}
	if (!err) {
		const areas = kho_scratch_decode(pm.read(scratchPhys, scratchLen - (scratchLen % KHO_SCRATCH_SIZE)));
		const bad = areas.find((a) => !inMemory(kernel, a.addr, a.size));
		if (bad) {
			khoWarn(kernel, `failed to mark the scratch region ${hex(bad.addr)}+${hex(bad.size)}: ${-EINVAL}`);
			err = -EINVAL;
		} else {
			reserveBytes(kernel.buddy, scratchPhys, scratchLen);
			st.in.fdtPhys = fdtPhys;
			st.in.scratchPhys = scratchPhys;
			st.scratch = areas;
			khoInfo(kernel, "found kexec handover data. Will skip init for some devices");
		}
	}
	if (err) khoWarn(kernel, `disabling KHO revival: ${err}`);
}

/** kho_populate(fdt_phys, fdt_len, scratch_phys, scratch_len): what add_kho() hands a kho_data to. */
export type KhoPopulateFn = (kernel: Kernel, fdtPhys: number, fdtLen: number, scratchPhys: number, scratchLen: number) => void;

/** add_kho(): the SETUP_KEXEC_KHO payload is a struct kho_data. */
function add_kho(kernel: Kernel, physAddr: number, dataLen: number, populate: KhoPopulateFn): void {
	if (!kernel.config.KEXEC_HANDOVER) {
		kernel.pr_warn("Passed KHO data, but CONFIG_KEXEC_HANDOVER not set. Ignoring.");
		return;
	}
	const addr = physAddr + SETUP_DATA_HDR_SIZE;
	const size = dataLen - SETUP_DATA_HDR_SIZE;
	if (size < KHO_DATA_SIZE || !inMemory(kernel, addr, size)) {
		kernel.pr_warn(`setup: failed to memremap kho data (${hex(addr)}, ${hex(size)})`);
		return;
	}
	const kho = kho_data_decode(kernel.machine.physmem.read(addr, KHO_DATA_SIZE));
	populate(kernel, kho.fdtAddr, kho.fdtSize, kho.scratchAddr, kho.scratchSize);
}

/**
 * memblock_x86_reserve_range_setup_data() + parse_setup_data(): walks the
 * setup_data list from `paData`, reserving each node and handing KHO nodes
 * to add_kho(); other types are ignored, as x86 ignores unknown ones.
 * `populate` is the KHO generation's kho_populate() (mainline KHO passes
 * its own).
 */
export function parse_setup_data(kernel: Kernel, paData: number, populate: KhoPopulateFn = kho_populate): void {
	for (let n = 0; paData && n < MAX_SETUP_DATA; n++) {
		if (!inMemory(kernel, paData, SETUP_DATA_HDR_SIZE)) {
			kernel.pr_warn("setup: failed to memremap setup_data entry");
			return;
		}
		const data = setup_data_decode(kernel.machine.physmem.read(paData, SETUP_DATA_HDR_SIZE));
		const dataLen = data.len + SETUP_DATA_HDR_SIZE;
		reserveBytes(kernel.buddy, paData, Math.min(dataLen, kernel.machine.physmem.sizeBytes - paData));
		if (data.type === SETUP_KEXEC_KHO) add_kho(kernel, paData, dataLen, populate);
		paData = data.next;
	}
}

/**
 * kho_mem_deserialize(): reserves every preserved block named by the
 * incoming `preserved-memory-map` and records its order (page->private).
 */
function kho_mem_deserialize(kernel: Kernel, fdt: Uint8Array): void {
	const st = khoState(kernel);
	const buddy = kernel.buddy;
	const len = [0];
	const mem = fdt_getprop(fdt, 0, PROP_PRESERVED_MEMORY_MAP, len);
	if (!mem || len[0] !== 8) {
		khoErr(kernel, "failed to get preserved memory bitmaps");
		return;
	}
	const first = le64_ld(mem);
	let fault: string | null;
	try {
		fault = kho_mem_deserialize_walk(kernel.machine.physmem, first > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(first), ({ phys, order }) => {
			const pfn = PHYS_PFN(phys);
			const n = 2 ** order;
			for (let p = pfn; p < pfn + n; p++)
				if (!buddy.page_is_free(p) && !buddy.PageReserved(p)) throw new DeserializeFault(`block ${hex(phys)} of order ${order} overlaps memory in use`);
			buddy.reserve(pfn, n);
			// Blocks come in ascending order, so a page preserved twice keeps the higher order, as page->private does.
			st.in.order.set(pfn, order);
		});
	} catch (e) {
		if (!(e instanceof DeserializeFault)) throw e;
		fault = e.message;
	}
	if (fault) khoErr(kernel, `luosim: corrupt preserved memory map: ${fault}`);
}

/** A block the walk must not reserve: carries the reason out of the callback. */
class DeserializeFault extends Error {}

/**
 * The next kernel's boot-time KHO (kho_populate at setup_arch, then the
 * incoming branch of kho_memory_init): reads the setup_data node at
 * `handoverPhys`, validates the root FDT, reserves the setup_data, the
 * scratch array, the scratch areas and every preserved block in
 * `kernel.buddy`, restores the root FDT page as a folio, and finally
 * poisons every frame this kernel neither reserved nor uses (DESIGN rule 5;
 * also when the handover was refused). Reads nothing but physical memory.
 */
export function khoPopulate(kernel: Kernel, handoverPhys: number): void {
	const st = khoState(kernel);
	parse_setup_data(kernel, handoverPhys);
	if (st.in.scratchPhys) {
		kho_scratch_adopt(kernel.buddy, st.scratch);
		kho_mem_deserialize(kernel, kho_get_fdt(kernel)!);
		if (!kho_restore_folio(kernel, st.in.fdtPhys)) khoWarn(kernel, "failed to restore folio for KHO fdt");
	}
	const pm = kernel.machine.physmem;
	pm.poisonAllExcept(kernel.buddy.usedRanges());
}

/**
 * kho_restore_folio(): turns the preserved block starting at `phys` into a
 * folio of its preserved order, bytes untouched; null without KHO, for an
 * address outside memory, or for an order above MAX_PAGE_ORDER (such
 * blocks stay reserved for good). luosim also returns null, with a
 * warning, for memory that was not preserved or was already restored: the
 * seed has no check and would corrupt the page allocator.
 */
export function kho_restore_folio(kernel: Kernel, phys: number): Folio | null {
	if (!kernel.config.KEXEC_HANDOVER) return null;
	const pfn = PHYS_PFN(phys);
	if (!Number.isSafeInteger(phys) || phys < 0 || pfn >= kernel.buddy.nr_pages) return null;
	const st = khoState(kernel);
	const order = st.in.order.get(pfn);
	if (order === undefined) {
		khoWarn(kernel, `luosim: kho_restore_folio(${hex(phys)}): not the start of a preserved block (or restored already)`);
		return null;
	}
	if (order > MAX_PAGE_ORDER) return null;
	st.in.order.delete(pfn);
	return folio_restore(kernel.buddy, pfn, order);
}

/**
 * kho_retrieve_subtree(): the physical address of the incoming sub-FDT
 * `name`. ENOENT on a boot without KHO data or when there is no such node;
 * EINVAL when its `fdt` property is missing or not 8 bytes (the seed's
 * EINVAL for a NULL `phys` has no counterpart: the address is returned).
 */
export function kho_retrieve_subtree(kernel: Kernel, name: string): number {
	if (!kernel.config.KEXEC_HANDOVER) throw new Errno(EOPNOTSUPP);
	const fdt = kho_get_fdt(kernel);
	if (!fdt) throw new Errno(ENOENT);
	const offset = fdt_subnode_offset(fdt, 0, name);
	if (offset < 0) throw new Errno(ENOENT);
	const len = [0];
	const val = fdt_getprop(fdt, offset, PROP_SUB_FDT, len);
	if (!val || len[0] !== 8) throw new Errno(EINVAL);
	const phys = le64_ld(val);
	if (phys > BigInt(Number.MAX_SAFE_INTEGER)) throw new Errno(EINVAL);
	return Number(phys);
}

/** The incoming root FDT's physical address, or 0 on a boot without KHO data. */
export function kho_in_fdt_phys(kernel: Kernel): number {
	return khoState(kernel).in.fdtPhys;
}
