/**
 * The "kexec-metadata" subtree (kernel/liveupdate/kexec_handover.c:
 * kho_in_kexec_metadata, kho_out_kexec_metadata, kho_kexec_metadata_init;
 * include/linux/kho/abi/kexec_metadata.h): a packed 73-byte struct that
 * tells the next kernel which release kexec'd it and how many kexecs
 * happened since the last cold boot (1 for the first).
 */
import type { Kernel } from "../../kernel/kernel.ts";
import { Errno, errnoReturn } from "../../kernel/errno.ts";
import { UTS_RELEASE } from "../../kernel/utsname.ts";
import { folio_address, folio_pfn } from "../../mm/folio.ts";
import { PFN_PHYS } from "../../mm/physmem.ts";
import { inMemory } from "../kho_in.ts";
import {
	KHO_KEXEC_METADATA_SIZE,
	KHO_KEXEC_METADATA_VERSION,
	KHO_METADATA_NODE_NAME,
	kho_kexec_metadata_decode,
	kho_kexec_metadata_encode,
} from "./kho_abi.ts";
import { kho_add_subtree } from "./kho_fdt.ts";
import { kho_retrieve_subtree } from "./kho_in.ts";
import { kho_alloc_preserve, kho_unpreserve_free } from "./kho_out.ts";
import { khoMainline } from "./kho_state.ts";

/** kho_in_kexec_metadata(): reads the incoming metadata into kho_in, with the kernel's warnings. */
function kho_in_kexec_metadata(kernel: Kernel): void {
	let blob: { phys: number; size: number };
	try {
		blob = kho_retrieve_subtree(kernel, KHO_METADATA_NODE_NAME);
	} catch (e) {
		if (e instanceof Errno) return; // the previous kernel did not export metadata
		throw e;
	}
	if (blob.size < 4) {
		kernel.pr_warn(`KHO: kexec-metadata blob too small (${blob.size} bytes)`);
		return;
	}
	// luosim reads memory, not a pointer: a blob outside memory is ignored instead of faulting.
	if (!inMemory(kernel, blob.phys, KHO_KEXEC_METADATA_SIZE)) return;
	const m = kho_kexec_metadata_decode(kernel.machine.physmem.read(blob.phys, KHO_KEXEC_METADATA_SIZE));
	if (m.version !== KHO_KEXEC_METADATA_VERSION) {
		kernel.pr_warn(`KHO: kexec-metadata version ${m.version} not supported (expected ${KHO_KEXEC_METADATA_VERSION})`);
		return;
	}
	if (blob.size < KHO_KEXEC_METADATA_SIZE) {
		kernel.pr_warn(`KHO: kexec-metadata blob too small for v${m.version} (${blob.size} < ${KHO_KEXEC_METADATA_SIZE})`);
		return;
	}
	const st = khoMainline(kernel);
	st.kexecCount = m.kexec_count;
	st.previousRelease = m.previous_release;
	kernel.pr_info(`KHO: exec from: ${st.previousRelease} (count ${st.kexecCount})`);
}

/** kho_out_kexec_metadata(): the outgoing metadata in a preserved page, added as a subtree; 0 or -errno. */
function kho_out_kexec_metadata(kernel: Kernel): number {
	const st = khoMainline(kernel);
	return errnoReturn(() => {
		const folio = kho_alloc_preserve(kernel, KHO_KEXEC_METADATA_SIZE);
		folio_address(folio).set(
			kho_kexec_metadata_encode({ version: KHO_KEXEC_METADATA_VERSION, previous_release: UTS_RELEASE, kexec_count: st.kexecCount + 1 }),
		);
		try {
			kho_add_subtree(kernel, KHO_METADATA_NODE_NAME, PFN_PHYS(folio_pfn(folio)), KHO_KEXEC_METADATA_SIZE);
		} catch (e) {
			kho_unpreserve_free(kernel, folio);
			throw e;
		}
	});
}

/** kho_kexec_metadata_init(): incoming (on a KHO boot) then outgoing; 0 or -errno (with a warning). */
export function kho_kexec_metadata_init(kernel: Kernel, khoBoot: boolean): number {
	if (khoBoot) kho_in_kexec_metadata(kernel);
	const err = kho_out_kexec_metadata(kernel);
	if (err) kernel.pr_warn(`KHO: failed to initialize kexec-metadata subtree: ${err}`);
	return err;
}

/** What this kernel learnt from kexec-metadata: the release that kexec'd it ("" on a cold boot) and the kexec count (0 on a cold boot). */
export function kho_kexec_metadata(kernel: Kernel): { previous_release: string; kexec_count: number } {
	const st = khoMainline(kernel);
	return { previous_release: st.previousRelease, kexec_count: st.kexecCount };
}
