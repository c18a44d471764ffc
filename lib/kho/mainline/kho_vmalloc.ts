/**
 * Preserving vmalloc areas (kernel/liveupdate/kexec_handover.c:
 * kho_preserve_vmalloc, kho_unpreserve_vmalloc, kho_restore_vmalloc; the
 * chunk format of include/linux/kho/abi/kexec_handover.h).
 *
 * The area's pages are preserved in runs of 2^order (kho_preserve_pages)
 * and listed in chunk pages, each one page: `u64 next` (phys of the next
 * chunk, 0 at the end), then up to 511 `u64 phys`, zero-terminated. The
 * chunk pages are preserved too. `struct kho_vmalloc` (16 bytes, see
 * kho_abi.ts) names the first chunk, the page count, the flags and the
 * order; its owner stores it in its own preserved data.
 */
import type { Kernel } from "../../kernel/kernel.ts";
import { Errno, EINVAL, ENOMEM, EOPNOTSUPP } from "../../kernel/errno.ts";
import { PAGE_SIZE, PFN_PHYS, PHYS_PFN } from "../../mm/physmem.ts";
import { find_vm_area, vmap_pages, VM_ALLOC, VM_ALLOW_HUGE_VMAP, type VmallocArea } from "../../mm/vmalloc.ts";
import { KHO_VMALLOC_ALLOC, KHO_VMALLOC_HUGE_VMAP, KHO_VMALLOC_SIZE, ld64, st64, type KhoVmalloc } from "./kho_abi.ts";
import { kho_preserve_pages, kho_unpreserve_pages } from "./kho_out.ts";
import { kho_restore_pages } from "./kho_in.ts";

/** KHO_VMALLOC_SUPPORTED_FLAGS. */
const KHO_VMALLOC_SUPPORTED_FLAGS = VM_ALLOC | VM_ALLOW_HUGE_VMAP;

function vmalloc_flags_to_kho(vmFlags: number): number {
	return (vmFlags & VM_ALLOC ? KHO_VMALLOC_ALLOC : 0) | (vmFlags & VM_ALLOW_HUGE_VMAP ? KHO_VMALLOC_HUGE_VMAP : 0);
}

function kho_flags_to_vmalloc(khoFlags: number): number {
	return (khoFlags & KHO_VMALLOC_ALLOC ? VM_ALLOC : 0) | (khoFlags & KHO_VMALLOC_HUGE_VMAP ? VM_ALLOW_HUGE_VMAP : 0);
}

/**
 * new_vmalloc_chunk(): a zeroed, preserved chunk page linked after `cur`;
 * its PFN, or null (any failure, as in the kernel).
 */
function new_vmalloc_chunk(kernel: Kernel, cur: number | null): number | null {
	const pfn = kernel.buddy.alloc_pages(0);
	if (pfn === null) return null;
	kernel.machine.physmem.clearPages(pfn, 1);
	try {
		kho_preserve_pages(kernel, pfn, 1);
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		kernel.buddy.__free_pages(pfn, 0);
		return null;
	}
	if (cur !== null) st64(kernel.machine.physmem.page(cur), 0, PFN_PHYS(pfn));
	return pfn;
}

/** Unpreserves and frees the chunk list from `first` with its runs of 2^order pages. */
function unpreserveChunks(kernel: Kernel, first: number, order: number): void {
	const pm = kernel.machine.physmem;
	const seen = new Set<number>();
	for (let phys = first; phys && !seen.has(phys) && phys % PAGE_SIZE === 0 && phys < pm.sizeBytes; ) {
		seen.add(phys);
		const pfn = PHYS_PFN(phys);
		const chunk = pm.page(pfn);
		kho_unpreserve_pages(kernel, pfn, 1);
		for (let i = 0; i < KHO_VMALLOC_SIZE; i++) {
			const p = ld64(chunk, 8 + i * 8);
			if (!p) break;
			kho_unpreserve_pages(kernel, PHYS_PFN(p), 2 ** order);
		}
		phys = ld64(chunk, 0);
		kernel.buddy.__free_pages(pfn, 0);
	}
}

/**
 * kho_preserve_vmalloc(): preserves the area's pages and a chunk list of
 * their addresses; returns the descriptor. EOPNOTSUPP without
 * CONFIG_KEXEC_HANDOVER or for an area that is not VM_ALLOC /
 * VM_ALLOW_HUGE_VMAP (a vmap() area); EINVAL for an area that is not
 * mapped (freed); ENOMEM when a chunk page cannot be had; or
 * kho_preserve_pages()'s error. On failure everything this call preserved
 * is unpreserved again.
 */
export function kho_preserve_vmalloc(kernel: Kernel, area: VmallocArea): KhoVmalloc {
	if (!kernel.config.KEXEC_HANDOVER) throw new Errno(EOPNOTSUPP);
	if (!find_vm_area(kernel.buddy, area)) throw new Errno(EINVAL);
	if (area.flags & ~KHO_VMALLOC_SUPPORTED_FLAGS) throw new Errno(EOPNOTSUPP);
	const order = area.order;
	let chunk = new_vmalloc_chunk(kernel, null);
	if (chunk === null) throw new Errno(ENOMEM);
	const desc: KhoVmalloc = { first: PFN_PHYS(chunk), total_pages: 0, flags: vmalloc_flags_to_kho(area.flags), order };
	const run = 2 ** order;
	let idx = 0;
	try {
		for (let i = 0; i < area.nr_pages; i += run) {
			const pfn = area.pages[i]!;
			kho_preserve_pages(kernel, pfn, run);
			st64(kernel.machine.physmem.page(chunk), 8 + idx * 8, PFN_PHYS(pfn));
			if (++idx === KHO_VMALLOC_SIZE) {
				chunk = new_vmalloc_chunk(kernel, chunk);
				if (chunk === null) throw new Errno(ENOMEM);
				idx = 0;
			}
		}
	} catch (e) {
		unpreserveChunks(kernel, desc.first, order);
		throw e;
	}
	desc.total_pages = area.nr_pages;
	return desc;
}

/** kho_unpreserve_vmalloc(): unpreserves what kho_preserve_vmalloc() preserved and frees the chunk pages. */
export function kho_unpreserve_vmalloc(kernel: Kernel, desc: KhoVmalloc): void {
	if (!kernel.config.KEXEC_HANDOVER) return;
	unpreserveChunks(kernel, desc.first, desc.order);
}

/**
 * kho_restore_vmalloc(): in the next kernel, restores the pages and the
 * chunk pages named by `desc` (the chunks are freed) and maps the pages as
 * a new area with the preserved flags and order. Null when a page cannot
 * be restored or the count does not match `total_pages`; as in the kernel,
 * pages restored before the failure stay allocated.
 */
export function kho_restore_vmalloc(kernel: Kernel, desc: KhoVmalloc): VmallocArea | null {
	if (!kernel.config.KEXEC_HANDOVER) return null;
	const pm = kernel.machine.physmem;
	const vmFlags = kho_flags_to_vmalloc(desc.flags);
	const run = 2 ** desc.order;
	const pages: number[] = [];
	for (let phys = desc.first; phys; ) {
		if (phys % PAGE_SIZE !== 0 || phys + PAGE_SIZE > pm.sizeBytes) return null;
		const chunk = pm.read(phys, PAGE_SIZE);
		for (let i = 0; i < KHO_VMALLOC_SIZE; i++) {
			const p = ld64(chunk, 8 + i * 8);
			if (!p) break;
			if (pages.length + run > desc.total_pages) return null;
			const pfn = kho_restore_pages(kernel, p, run);
			if (pfn === null) return null;
			for (let j = 0; j < run; j++) pages.push(pfn + j);
		}
		const chunkPfn = kho_restore_pages(kernel, phys, 1);
		if (chunkPfn === null) return null;
		phys = ld64(chunk, 0);
		kernel.buddy.__free_pages(chunkPfn, 0);
	}
	if (pages.length !== desc.total_pages) return null;
	return vmap_pages(kernel.buddy, pages, desc.order, vmFlags);
}
