/**
 * Per-kernel KHO state (kernel/kexec_handover_internal.h in RFC v2:
 * `struct kho_out`, `struct kho_in`, `struct kho_serialization`, plus
 * kho_enable and the scratch array), kept in a WeakMap so that it dies with
 * its kernel. Nothing here crosses kexec: the next kernel rebuilds `in`
 * from physical memory alone.
 */
import type { Kernel } from "../kernel/kernel.ts";
import type { Folio } from "../mm/folio.ts";
import type { DebugfsDentry } from "../fs/debugfs.ts";
import { BlockingNotifierHead } from "./notifier.ts";
import { KhoMemTrack, type KhoSerializedMap } from "./kho_mem.ts";
import type { KhoScratch } from "./kho_scratch.ts";

/** KHO_FDT_COMPATIBLE: the root FDT's compatible string. */
export const KHO_FDT_COMPATIBLE = "kho-v1";
/** PROP_PRESERVED_MEMORY_MAP: root property, u64 phys of the first chunk. */
export const PROP_PRESERVED_MEMORY_MAP = "preserved-memory-map";
/** PROP_SUB_FDT: a sub-tree node's property, u64 phys of its FDT. */
export const PROP_SUB_FDT = "fdt";

/**
 * struct kho_serialization: the root FDT page, the tracker, the serialized
 * map, and the debugfs entries of the outgoing FDTs. FINALIZE notifiers
 * receive it and pass it to kho_add_subtree().
 */
export class KhoSerialization {
	/** The root FDT page (alloc_page at kho_init). */
	fdt: Folio | null = null;
	readonly track = new KhoMemTrack();
	/** First chunk of the serialized preserved memory map, once finalize has written it. */
	preservedMemMap: KhoSerializedMap | null = null;
	/** out/fdt and every out/sub_fdts/<name>: the one list kho_out_update_debugfs_fdt empties. */
	fdtList: DebugfsDentry[] = [];
	subFdtDir: DebugfsDentry | null = null;

	constructor(readonly kernel: Kernel) {}
}

/** The data a KHO notifier gets: the serialization for FINALIZE, null for ABORT. */
export type KhoNotifierData = KhoSerialization | null;

/** struct kho_out. */
export interface KhoOut {
	chain: BlockingNotifierHead<KhoNotifierData>;
	/** mutex kho_out.lock: held while finalizing or aborting. */
	lockHeld: boolean;
	ser: KhoSerialization;
	finalized: boolean;
	dir: DebugfsDentry | null;
}

/** struct kho_in, plus what deserialization leaves in struct pages. */
export interface KhoIn {
	/** The incoming root FDT's physical address; 0 on a boot without KHO data. */
	fdtPhys: number;
	/** The incoming scratch array's physical address; 0 without KHO data. */
	scratchPhys: number;
	fdtList: DebugfsDentry[];
	dir: DebugfsDentry | null;
	/** page->private = order, as kho_mem_deserialize leaves it on each preserved block's first page. */
	order: Map<number, number>;
}

/** Everything KHO knows in one kernel. */
export interface KhoState {
	/** khoInit has run. */
	booted: boolean;
	/** kho_enable: `kho=` on the command line, cleared when scratch or kho_init fails. */
	enable: boolean;
	out: KhoOut;
	in: KhoIn;
	/** kho_scratch / kho_scratch_cnt. */
	scratch: KhoScratch[];
	/** debugfs `kho/`. */
	debugfsRoot: DebugfsDentry | null;
	/** The frame holding this kernel's setup_data for the next one, once khoHandoverAddress made it. */
	handoverPfn: number | null;
}

const states = new WeakMap<Kernel, KhoState>();

/** The KHO state of `kernel`, created empty (KHO not enabled) on first use. */
export function khoState(kernel: Kernel): KhoState {
	let st = states.get(kernel);
	if (!st) {
		st = {
			booted: false,
			enable: false,
			out: { chain: new BlockingNotifierHead(), lockHeld: false, ser: new KhoSerialization(kernel), finalized: false, dir: null },
			in: { fdtPhys: 0, scratchPhys: 0, fdtList: [], dir: null, order: new Map() },
			scratch: [],
			debugfsRoot: null,
			handoverPfn: null,
		};
		states.set(kernel, st);
	}
	return st;
}

/** CONFIG_KEXEC_HANDOVER_DEBUGFS (which selects DEBUG_FS: luosim needs both switches on). */
export function khoDebugfsEnabled(kernel: Kernel): boolean {
	return kernel.config.KEXEC_HANDOVER && kernel.config.KEXEC_HANDOVER_DEBUGFS && kernel.config.DEBUG_FS;
}

/** pr_fmt "KHO: " for pr_info/pr_warn/pr_err. */
export function khoInfo(kernel: Kernel, msg: string): void {
	kernel.pr_info(`KHO: ${msg}`);
}
/** pr_warn with the KHO prefix. */
export function khoWarn(kernel: Kernel, msg: string): void {
	kernel.pr_warn(`KHO: ${msg}`);
}
/** pr_err with the KHO prefix. */
export function khoErr(kernel: Kernel, msg: string): void {
	kernel.pr_err(`KHO: ${msg}`);
}

/** The most of an FDT luosim reads at once: a header claiming more is treated as corrupt. */
export const KHO_MAX_FDT_READ = 4 * 1024 * 1024;

/**
 * phys_to_virt(fdt) for libfdt: the bytes of the FDT at `phys` as memory
 * holds them now, `fdt_totalsize()` long but cut at the end of memory and
 * at KHO_MAX_FDT_READ (libfdt then reports the tree as truncated instead of
 * reading gigabytes of poison).
 */
export function khoReadFdt(kernel: Kernel, phys: number): Uint8Array {
	const pm = kernel.machine.physmem;
	if (!Number.isSafeInteger(phys) || phys < 0 || phys + 8 > pm.sizeBytes) return new Uint8Array(0);
	const size = new DataView(pm.read(phys + 4, 4).buffer).getUint32(0, false);
	return pm.read(phys, Math.min(size, pm.sizeBytes - phys, KHO_MAX_FDT_READ));
}

/** "0x%llx". */
export function hex(n: number): string {
	return `0x${n.toString(16)}`;
}
