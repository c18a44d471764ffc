/**
 * Per-kernel state of mainline KHO (kernel/liveupdate/kexec_handover.c:
 * `struct kho_out`, `struct kho_in`, the KHO part of struct page), kept in
 * a WeakMap so it dies with its kernel. What both eras share (kho_enable,
 * the scratch array, the incoming FDT and scratch addresses, the debugfs
 * root, the handover frame) stays in lib/kho/kho_state.ts, so the kexec
 * code and kho_is_enabled() work the same for both.
 */
import type { Kernel } from "../../kernel/kernel.ts";
import type { Folio } from "../../mm/folio.ts";
import type { DebugfsDentry } from "../../fs/debugfs.ts";
import { khoState, type KhoState } from "../kho_state.ts";
import type { KhoRadixTree } from "./kho_radix.ts";

/** One debugfs blob over physical memory (struct fdt_debugfs): its file and what it shows. */
export interface KhoDebugfsBlob {
	dentry: DebugfsDentry;
	phys: number;
	size: number;
}

/** struct kho_debugfs: a directory, its sub_fdts/, and every blob file made in them. */
export interface KhoDebugfs {
	dir: DebugfsDentry | null;
	subFdtDir: DebugfsDentry | null;
	blobs: KhoDebugfsBlob[];
}

/** Mainline-only KHO state of one kernel. */
export interface KhoMainlineState {
	/** kho_out.radix_tree: null until kho_init made its root (and when KHO is off). */
	tree: KhoRadixTree | null;
	/** kho_out.fdt: the root FDT folio (kho_alloc_preserve(PAGE_SIZE)). */
	fdt: Folio | null;
	/** kho_out.dbg. */
	outDbg: KhoDebugfs;
	/** kho_in.dbg. */
	inDbg: KhoDebugfs;
	/**
	 * page->private of each preserved block's head as kho_preserved_memory_reserve
	 * stamps it ({order, KHO_PAGE_MAGIC}): PFN → order. Restoring clears it.
	 */
	stamps: Map<number, number>;
	/** kho_in.previous_release / kexec_count from the incoming kexec-metadata (0 on a cold boot). */
	previousRelease: string;
	kexecCount: number;
}

const states = new WeakMap<Kernel, KhoMainlineState>();

function emptyDbg(): KhoDebugfs {
	return { dir: null, subFdtDir: null, blobs: [] };
}

/** The mainline KHO state of `kernel`, created empty on first use. */
export function khoMainline(kernel: Kernel): KhoMainlineState {
	let st = states.get(kernel);
	if (!st) {
		st = { tree: null, fdt: null, outDbg: emptyDbg(), inDbg: emptyDbg(), stamps: new Map(), previousRelease: "", kexecCount: 0 };
		states.set(kernel, st);
	}
	return st;
}

/** The state both eras share (kho_enable, scratch, kho_in addresses). */
export function khoShared(kernel: Kernel): KhoState {
	return khoState(kernel);
}

/**
 * WARN_ON() in kernel/liveupdate/kexec_handover.c: a "WARNING:" line
 * naming the function and the condition, at KERN_WARNING.
 */
export function khoWARN(kernel: Kernel, fn: string, cond: string): void {
	kernel.pr_warn(`WARNING: kernel/liveupdate/kexec_handover.c: ${fn}: ${cond}`);
}
