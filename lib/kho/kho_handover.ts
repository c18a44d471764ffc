/**
 * What one kernel hands the next across kexec, as x86_64 Linux does it
 * (arch/x86/include/uapi/asm/setup_data.h, arch/x86/kernel/kexec-bzimage64.c
 * setup_kho, kernel/kexec_handover.c kho_fill_kimage): a `setup_data` node
 * of type SETUP_KEXEC_KHO whose payload is `struct kho_data`, pointing at
 * the root KHO FDT page and at the `struct kho_scratch[]` array. luosim's
 * kexec passes the physical address of that node, the one number the next
 * kernel gets (boot_params.hdr.setup_data in Linux). Layout, little-endian:
 *
 *     0   u64 next          0: the only node
 *     8   u32 type          SETUP_KEXEC_KHO = 10
 *    12   u32 len           32 = sizeof(struct kho_data)
 *    16   u64 fdt_addr      root FDT page
 *    24   u64 fdt_size      PAGE_SIZE
 *    32   u64 scratch_addr  the array below
 *    40   u64 scratch_size  16 x areas
 *    48   struct kho_scratch[] { u64 addr; u64 size; }
 *
 * Linux loads the scratch array as a kexec segment of its own; luosim puts
 * it in the same frame, right after the node.
 */
import type { Kernel } from "../kernel/kernel.ts";
import { Errno, ENOMEM } from "../kernel/errno.ts";
import { PAGE_SIZE, PFN_PHYS } from "../mm/physmem.ts";
import { khoState } from "./kho_state.ts";
import { kho_scratch_encode } from "./kho_scratch.ts";

/** SETUP_KEXEC_KHO (arch/x86/include/uapi/asm/setup_data.h). */
export const SETUP_KEXEC_KHO = 10;
/** sizeof(struct setup_data) without its payload. */
export const SETUP_DATA_HDR_SIZE = 16;
/** sizeof(struct kho_data). */
export const KHO_DATA_SIZE = 32;

/** struct setup_data's header. */
export interface SetupDataHdr {
	next: number;
	type: number;
	len: number;
}

/** struct kho_data. */
export interface KhoData {
	fdtAddr: number;
	fdtSize: number;
	scratchAddr: number;
	scratchSize: number;
}

/** A u64 as a JS number; values past 2^53 (never a real address here) become Infinity. */
function u64(v: DataView, off: number): number {
	const x = v.getBigUint64(off, true);
	return x > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(x);
}

/** Parses a setup_data header (16 bytes). */
export function setup_data_decode(buf: Uint8Array): SetupDataHdr {
	const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	return { next: u64(v, 0), type: v.getUint32(8, true), len: v.getUint32(12, true) };
}

/** Parses a struct kho_data (32 bytes). */
export function kho_data_decode(buf: Uint8Array): KhoData {
	const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
	return { fdtAddr: u64(v, 0), fdtSize: u64(v, 8), scratchAddr: u64(v, 16), scratchSize: u64(v, 24) };
}

/**
 * kho_fill_kimage() + setup_kho(): writes this kernel's handover node into
 * a frame (allocated on the first call, rewritten on later ones) and
 * returns its physical address, for the kexec code to pass to the next
 * kernel. Null when KHO is not enabled (no node, as kho_fill_kimage adds
 * nothing). Like Linux it does not look at the finalize state: a kernel
 * kexec'd without finalizing gets a root FDT page that fails validation
 * (never finalized) or, after an abort, a stale tree over freed chunks.
 * ENOMEM when no frame is left.
 */
export function khoHandoverAddress(kernel: Kernel): number | null {
	const st = khoState(kernel);
	if (!kernel.config.KEXEC_HANDOVER || !st.enable || !st.out.ser.fdt) return null;
	if (st.handoverPfn === null) {
		const pfn = kernel.buddy.alloc_pages(0);
		if (pfn === null) throw new Errno(ENOMEM);
		st.handoverPfn = pfn;
	}
	const phys = PFN_PHYS(st.handoverPfn);
	const scratch = kho_scratch_encode(st.scratch);
	const buf = new Uint8Array(SETUP_DATA_HDR_SIZE + KHO_DATA_SIZE + scratch.length);
	const v = new DataView(buf.buffer);
	v.setBigUint64(0, 0n, true);
	v.setUint32(8, SETUP_KEXEC_KHO, true);
	v.setUint32(12, KHO_DATA_SIZE, true);
	v.setBigUint64(16, BigInt(PFN_PHYS(st.out.ser.fdt.pfn)), true);
	v.setBigUint64(24, BigInt(PAGE_SIZE), true);
	v.setBigUint64(32, BigInt(phys + SETUP_DATA_HDR_SIZE + KHO_DATA_SIZE), true);
	v.setBigUint64(40, BigInt(scratch.length), true);
	buf.set(scratch, SETUP_DATA_HDR_SIZE + KHO_DATA_SIZE);
	kernel.machine.physmem.write(phys, buf);
	return phys;
}
