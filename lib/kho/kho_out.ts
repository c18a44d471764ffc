/**
 * The outgoing half of KHO as of LUO RFC v2 (kernel/kexec_handover.c at
 * v6.16 plus seed patches 01-03): preserving and unpreserving memory, the
 * KEXEC_KHO_FINALIZE/ABORT notifier chain, kho_add_subtree(), and the
 * finalize/abort state machine shared by kho_finalize()/kho_abort() and
 * debugfs `out/finalize`.
 *
 * Errors are thrown as `Errno` (luosim's kernel convention) where the C
 * returns -errno. Two numbers are not errnos in the seed either, and pass
 * through as the Errno of the same value: a libfdt error from
 * kho_add_subtree() (-FDT_ERR_NOSPACE = 3 reads as ESRCH) and whatever a
 * notifier returned.
 *
 * State rules (digest-kho §6):
 * - preserve/unpreserve: EBUSY while finalized (checked first, unlocked);
 * - finalize: EOPNOTSUPP without kho_enable, EEXIST when finalized; a
 *   failure runs __kho_abort(), which **wipes all tracking**: every
 *   preservation made so far is gone, as in the seed (owners re-preserve
 *   from their FINALIZE notifier next time);
 * - abort: EOPNOTSUPP, ENOENT when not finalized; frees the tracking, then
 *   runs ABORT notifiers; if one fails KHO stays finalized (tracking gone);
 * - kho_add_subtree(): only meaningful inside a FINALIZE notifier; no lock,
 *   no finalized check, no duplicate-name check in the FDT.
 *
 * One review fix is in (digest-review C2, Pasha's answer): a failed
 * finalize also removes the out/sub_fdts entries it created, so the next
 * finalize does not fail with EEXIST on a stale `sub_fdts/LUO`.
 */
import type { Kernel } from "../kernel/kernel.ts";
import { Errno, EBUSY, EEXIST, EINVAL, ENOENT, ENOMEM, EOPNOTSUPP } from "../kernel/errno.ts";
import { folio_alloc, folio_order, folio_pfn, type Folio } from "../mm/folio.ts";
import { PAGE_SIZE, PFN_PHYS, PHYS_PFN } from "../mm/physmem.ts";
import { debugfsAttribute } from "../fs/debugfs.ts";
import type { FileOperations } from "../fs/file.ts";
import {
	cpu_to_le64,
	fdt_begin_node,
	fdt_create,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_property,
	fdt_property_placeholder,
	fdt_property_string,
} from "../fdt/libfdt.ts";
import { notifier_to_errno, type NotifierBlock } from "./notifier.ts";
import { kho_mem_ser_free, kho_mem_serialize, kho_range_blocks } from "./kho_mem.ts";
import { kho_debugfs_fdt_add, kho_out_update_debugfs_fdt } from "./kho_debugfs.ts";
import {
	hex,
	khoErr,
	khoState,
	khoWarn,
	KHO_FDT_COMPATIBLE,
	PROP_PRESERVED_MEMORY_MAP,
	PROP_SUB_FDT,
	type KhoNotifierData,
	type KhoSerialization,
	type KhoState,
} from "./kho_state.ts";

/** enum kho_event: KEXEC_KHO_FINALIZE (data: the serialization). */
export const KEXEC_KHO_FINALIZE = 0;
/** enum kho_event: KEXEC_KHO_ABORT (data: null). */
export const KEXEC_KHO_ABORT = 1;

/** A KHO notifier: `notifier_call(nb, KEXEC_KHO_*, ser | null)` returns NOTIFY_*. */
export type KhoNotifierBlock = NotifierBlock<KhoNotifierData>;

function configured(kernel: Kernel): KhoState {
	if (!kernel.config.KEXEC_HANDOVER) throw new Errno(EOPNOTSUPP);
	return khoState(kernel);
}

/** -errno → throw, for the int-returning internals. */
function check(err: number): void {
	if (err) throw new Errno(-err);
}

/** mutex_lock(&kho_out.lock): a second holder on one CPU is a deadlock, a kernel bug. */
function lock(st: KhoState): void {
	if (st.out.lockHeld) throw new Error("KHO: kho_out.lock taken while held (a KHO notifier called kho_finalize/kho_abort?): deadlock");
	st.out.lockHeld = true;
}

function unlock(st: KhoState): void {
	st.out.lockHeld = false;
}


/** kho_preserve_folio(): EBUSY once finalized; preserving twice is one preservation (a bit, no count). */
export function kho_preserve_folio(kernel: Kernel, folio: Folio): void {
	const st = configured(kernel);
	const pfn = folio_pfn(folio);
	const order = folio_order(folio);
	if (st.out.finalized) throw new Errno(EBUSY);
	st.out.ser.track.preserve(pfn, order);
}

/**
 * kho_preserve_phys(): EBUSY once finalized, then EINVAL unless `phys` and
 * `size` are page aligned (and, in luosim, inside memory). The range is
 * recorded as naturally aligned blocks; size 0 records nothing.
 */
export function kho_preserve_phys(kernel: Kernel, phys: number, size: number): void {
	const st = configured(kernel);
	if (st.out.finalized) throw new Errno(EBUSY);
	if (phys % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || phys < 0 || size < 0) throw new Errno(EINVAL);
	// The kernel would record frames that do not exist; luosim refuses them.
	if (PHYS_PFN(phys + size) > kernel.machine.physmem.nr_pages) throw new Errno(EINVAL);
	for (const [pfn, order] of kho_range_blocks(PHYS_PFN(phys), PHYS_PFN(phys + size))) st.out.ser.track.preserve(pfn, order);
}

/**
 * kho_unpreserve_folio(): EBUSY once finalized. Unpreserving a folio that
 * is not preserved at its own order changes nothing and leaves a warning
 * in dmesg (luosim's K1 rule; the seed is silent).
 */
export function kho_unpreserve_folio(kernel: Kernel, folio: Folio): void {
	const st = configured(kernel);
	const pfn = folio_pfn(folio);
	const order = folio_order(folio);
	if (st.out.finalized) throw new Errno(EBUSY);
	if (!st.out.ser.track.isPreserved(pfn, order)) {
		khoWarn(kernel, `kho_unpreserve_folio: folio at ${hex(PFN_PHYS(pfn))} (order ${order}) is not preserved; nothing unpreserved`);
		return;
	}
	st.out.ser.track.unpreserve(pfn, order);
}

/**
 * kho_unpreserve_phys(): EBUSY once finalized, then EINVAL when unaligned.
 * The review's K1 rule: the range must be exactly one that was preserved
 * (its blocks are all recorded); anything else, a sub-range for instance,
 * changes nothing and leaves a warning in dmesg instead of leaking
 * silently as the seed's loop does.
 */
export function kho_unpreserve_phys(kernel: Kernel, phys: number, size: number): void {
	const st = configured(kernel);
	if (st.out.finalized) throw new Errno(EBUSY);
	if (phys % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || phys < 0 || size < 0) throw new Errno(EINVAL);
	const blocks = kho_range_blocks(PHYS_PFN(phys), PHYS_PFN(phys + size));
	const track = st.out.ser.track;
	if (!blocks.every(([pfn, order]) => track.isPreserved(pfn, order))) {
		khoWarn(kernel, `kho_unpreserve_phys: [${hex(phys)}, ${hex(phys + size)}) does not match a preserved range; nothing unpreserved`);
		return;
	}
	for (const [pfn, order] of blocks) track.unpreserve(pfn, order);
}

/**
 * kho_add_subtree(ser, name, fdtPhys): appends node `name` with property
 * `fdt` = `fdtPhys` (u64, little-endian) to the root FDT being built, then
 * (with debugfs) adds out/sub_fdts/<name>. Throws the OR-ed libfdt error as
 * an Errno of that number, or EEXIST when the debugfs name is taken. The
 * caller preserves the sub-FDT's pages itself.
 */
export function kho_add_subtree(ser: KhoSerialization, name: string, fdtPhys: number): void {
	const kernel = ser.kernel;
	configured(kernel);
	if (!ser.fdt) throw new Error("kho_add_subtree: KHO has no root FDT page (kho_init did not run)");
	const root = kernel.machine.physmem.page(ser.fdt.pfn);
	let err = 0;
	err |= fdt_begin_node(root, name);
	err |= fdt_property(root, PROP_SUB_FDT, cpu_to_le64(fdtPhys));
	err |= fdt_end_node(root);
	check(err);
	check(kho_debugfs_fdt_add(kernel, ser, name, fdtPhys));
}

/** register_kho_notifier(): EEXIST (with the kernel's warning) for a block already registered. */
export function register_kho_notifier(kernel: Kernel, nb: KhoNotifierBlock): void {
	const st = configured(kernel);
	if (st.out.chain.has(nb)) kernel.pr_warn(`notifier callback ${nb.notifier_call.name || "(anonymous)"} already registered`);
	st.out.chain.register(nb);
}

/** unregister_kho_notifier(): ENOENT when `nb` is not registered. */
export function unregister_kho_notifier(kernel: Kernel, nb: KhoNotifierBlock): void {
	configured(kernel).out.chain.unregister(nb);
}

/**
 * __kho_abort(): frees every bitmap and the serialized chunks, then tells
 * the ABORT notifiers; returns their error (logged), or 0.
 */
export function __kho_abort(kernel: Kernel): number {
	const st = khoState(kernel);
	const ser = st.out.ser;
	ser.track.clear();
	if (ser.preservedMemMap) {
		kho_mem_ser_free(kernel.buddy, ser.preservedMemMap);
		ser.preservedMemMap = null;
	}
	const err = notifier_to_errno(st.out.chain.call(KEXEC_KHO_ABORT, null));
	if (err) khoErr(kernel, `Failed to abort KHO finalization: ${err}`);
	return err;
}

/**
 * __kho_finalize(): builds the root FDT in its page (compatible "kho-v1",
 * a placeholder `preserved-memory-map`), preserves that page, runs the
 * FINALIZE notifiers, serializes the tracker into frames, fills in the map
 * address and finishes the tree. On failure: logs, __kho_abort(), and
 * returns the original error.
 */
export function __kho_finalize(kernel: Kernel): number {
	const st = khoState(kernel);
	const ser = st.out.ser;
	const fdt = kernel.machine.physmem.page(ser.fdt!.pfn);
	const map: (Uint8Array | null)[] = [null];
	let err = 0;
	err |= fdt_create(fdt, PAGE_SIZE);
	err |= fdt_finish_reservemap(fdt);
	err |= fdt_begin_node(fdt, "");
	err |= fdt_property_string(fdt, "compatible", KHO_FDT_COMPATIBLE);
	// Reserved before any subnode, so every property precedes the subtrees.
	err |= fdt_property_placeholder(fdt, PROP_PRESERVED_MEMORY_MAP, 8, map);
	if (!err) {
		try {
			kho_preserve_folio(kernel, ser.fdt!);
		} catch (e) {
			if (!(e instanceof Errno)) throw e;
			err = -e.errno;
		}
	}
	if (!err) err = notifier_to_errno(st.out.chain.call(KEXEC_KHO_FINALIZE, ser));
	if (!err) {
		ser.preservedMemMap = kho_mem_serialize(kernel.buddy, ser.track);
		if (!ser.preservedMemMap) err = -ENOMEM;
	}
	if (!err) {
		map[0]!.set(cpu_to_le64(ser.preservedMemMap!.firstChunkPhys));
		err |= fdt_end_node(fdt);
		err |= fdt_finish(fdt);
	}
	if (err) {
		khoErr(kernel, `Failed to convert KHO state tree: ${err}`);
		__kho_abort(kernel);
	}
	return err;
}

/** The C2 fix: a failed finalize drops the debugfs FDT entries it made. */
function finalizeFailed(kernel: Kernel): void {
	kho_out_update_debugfs_fdt(kernel);
}

/**
 * kho_finalize() (RFC v2 patch 02): EOPNOTSUPP without KHO, EEXIST when
 * already finalized, else __kho_finalize()'s error. On success KHO is
 * finalized and out/fdt appears; if that debugfs step fails the error is
 * thrown but KHO stays finalized, as in the seed.
 */
export function kho_finalize(kernel: Kernel): void {
	const st = configured(kernel);
	if (!st.enable) throw new Errno(EOPNOTSUPP);
	lock(st);
	try {
		if (st.out.finalized) throw new Errno(EEXIST);
		const err = __kho_finalize(kernel);
		if (err) {
			finalizeFailed(kernel);
			check(err);
		}
		st.out.finalized = true;
		check(kho_out_update_debugfs_fdt(kernel));
	} finally {
		unlock(st);
	}
}

/**
 * kho_abort() (RFC v2 patch 02): EOPNOTSUPP without KHO, ENOENT when not
 * finalized, else __kho_abort()'s error (KHO then stays finalized, its
 * tracking already freed). On success out/fdt and out/sub_fdts/* go.
 */
export function kho_abort(kernel: Kernel): void {
	const st = configured(kernel);
	if (!st.enable) throw new Errno(EOPNOTSUPP);
	lock(st);
	try {
		if (!st.out.finalized) throw new Errno(ENOENT);
		check(__kho_abort(kernel));
		st.out.finalized = false;
		check(kho_out_update_debugfs_fdt(kernel));
	} finally {
		unlock(st);
	}
}

/**
 * fops_kho_out_finalize: DEFINE_DEBUGFS_ATTRIBUTE over kho_out.finalized.
 * A write (kstrtoull, any non-zero = 1) equal to the state is EEXIST (1)
 * or ENOENT (0); otherwise it finalizes or aborts under the lock.
 */
export function kho_finalize_fops(kernel: Kernel): FileOperations {
	return debugfsAttribute({
		get(): bigint {
			const st = khoState(kernel);
			lock(st);
			const v = st.out.finalized ? 1n : 0n;
			unlock(st);
			return v;
		},
		set(_data, raw): void {
			const st = khoState(kernel);
			const val = raw !== 0n;
			lock(st);
			try {
				if (val === st.out.finalized) throw new Errno(st.out.finalized ? EEXIST : ENOENT);
				const err = val ? __kho_finalize(kernel) : __kho_abort(kernel);
				if (err) {
					if (val) finalizeFailed(kernel);
					check(err);
				}
				st.out.finalized = val;
				check(kho_out_update_debugfs_fdt(kernel));
			} finally {
				unlock(st);
			}
		},
	});
}

/** kho_init's root FDT page: a folio (so finalize can preserve it), or null without memory. */
export function kho_out_alloc_fdt(kernel: Kernel): Folio | null {
	return folio_alloc(kernel.buddy, 0);
}
