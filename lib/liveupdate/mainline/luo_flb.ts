/**
 * File-Lifecycle-Bound global data (seed 003 kernel/liveupdate/luo_flb.c,
 * include/linux/liveupdate.h): state that many preserved files share (the
 * IOMMU core for all VFIO fds). A file handler declares its FLBs with
 * liveupdate_register_flb(); LUO calls an FLB's `preserve()` with the first
 * preserved file of a dependent handler, `unpreserve()` with the last one
 * unpreserved, `retrieve()` on demand in the new kernel, and `finish()`
 * when the last incoming reference goes: each incoming file of a dependent
 * handler holds one, each get_incoming() another (mainline's refcount).
 *
 * Serialized where mainline's "luo-v5" keeps it, not in the seed's FDT
 * node: one KHO-preserved page at `luo_ser.flbs_pa` holding `struct
 * luo_flb_header_ser { u64 pgcnt = 1; u64 count; }` and `count` packed
 * `struct luo_flb_ser { char name[48]; u64 data; u64 count; }`, at most
 * LUO_FLB_MAX = (4096 - 16) / 64 = 63 (include/linux/kho/abi/luo.h).
 *
 * The seed's defect, fixed: it loads an FLB's incoming count from its entry
 * only inside retrieve, so when no one called get_incoming before the first
 * dependent file is finished the count goes 0 -> -1, never returns to 0,
 * and `finish()` never runs (mainline's refcount_t only turns this into an
 * underflow WARN). Here the count is loaded from the entry the first time
 * anything touches the incoming side, apart from retrieve, and a put (or an
 * unpreserve) at 0 is refused with a WARNING instead of going below.
 *
 * luosim differences (docs/liveupdate-mainline.md, "FLB for handler
 * authors"): no modules, so no EAGAIN/ENODEV and no ENOMEM at registration;
 * EBUSY while the handler has preserved files (the seed: while any session
 * exists; mainline: never); EINVAL for a compatible of 48 bytes or more;
 * the incoming page is read once and freed, and a malformed one is EINVAL.
 */
import { Errno, EBUSY, EEXIST, EINVAL, ENODATA, ENOENT, ENOSPC, EOPNOTSUPP } from "../../kernel/errno.ts";
import { PAGE_SIZE, PFN_PHYS } from "../../mm/physmem.ts";
import { char, struct, u64 } from "../../uaccess/struct.ts";
import { folio_pfn, type Folio } from "../../mm/folio.ts";
import { kho_alloc_preserve, kho_restore_free } from "../../kho/mainline/kho.ts";
import { liveupdate_enabled } from "../liveupdate.ts";
import type { LiveupdateFileHandler } from "./luo_file.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** LUO_FLB_PGCNT: pages of the FLB block, header included. */
export const LUO_FLB_PGCNT = 1;
/** LIVEUPDATE_FLB_COMPAT_LENGTH: an FLB compatible, NUL included. */
export const LIVEUPDATE_FLB_COMPAT_LENGTH = 48;
/** struct luo_flb_header_ser: @0 pgcnt, @8 count. 16 bytes, packed. */
export const luo_flb_header_ser = struct("luo_flb_header_ser", { pgcnt: u64, count: u64 }, { packed: true });
/** struct luo_flb_ser: @0 name[48], @48 data (preserve()'s handle), @56 count (dependent files). 64 bytes, packed. */
export const luo_flb_ser = struct("luo_flb_ser", { name: char(LIVEUPDATE_FLB_COMPAT_LENGTH), data: u64, count: u64 }, { packed: true });
/** LUO_FLB_MAX: FLBs one page holds, the most that may be registered (63). */
export const LUO_FLB_MAX = Math.floor((LUO_FLB_PGCNT * PAGE_SIZE - luo_flb_header_ser.size) / luo_flb_ser.size);

/** struct liveupdate_flb_op_args: what an FLB op gets and sets. */
export interface LiveupdateFlbOpArgs {
	readonly kernel: Kernel;
	readonly flb: LiveupdateFlb;
	/** The u64 handle: set by preserve(), given to unpreserve() and retrieve(). */
	data: bigint;
	/** The live object: set by preserve() and retrieve(), given to unpreserve() and finish(). */
	obj: unknown;
}

/** struct liveupdate_flb_ops: all four are required (registration checks); the fallible ones throw Errno. */
export interface LiveupdateFlbOps {
	preserve?(args: LiveupdateFlbOpArgs): void;
	unpreserve?(args: LiveupdateFlbOpArgs): void;
	retrieve?(args: LiveupdateFlbOpArgs): void;
	finish?(args: LiveupdateFlbOpArgs): void;
}

/** struct liveupdate_flb: the ops and the compatible naming the serialized data (at most 47 bytes). */
export interface LiveupdateFlb {
	readonly ops: LiveupdateFlbOps;
	readonly compatible: string;
}

/** One entry of the FLB page. */
export type LuoFlbSer = ReturnType<typeof luo_flb_ser.decode>;

interface FlbIncoming {
	/** The entry's count has been read (the seed read it only in retrieve). */
	loaded: boolean;
	count: number;
	data: bigint;
	obj: unknown;
	retrieved: boolean;
	finished: boolean;
}

/** struct luo_flb_private, per kernel. */
interface FlbPrivate {
	outgoing: { count: number; data: bigint; obj: unknown };
	incoming: FlbIncoming;
	/** File handlers linked to this FLB. */
	users: number;
}

/** struct luo_flb_global plus the handlers' flb_list, per kernel. */
interface FlbGlobal {
	/** Registered FLBs, in registration order. */
	readonly list: LiveupdateFlb[];
	readonly priv: Map<LiveupdateFlb, FlbPrivate>;
	readonly links: Map<LiveupdateFileHandler, LiveupdateFlb[]>;
	/** Files of each handler preserved in this kernel (what EBUSY protects). */
	readonly files: Map<LiveupdateFileHandler, number>;
	outgoing: Folio | null;
	/** The incoming entries; null: no incoming FLB data (not a live update, or none passed). */
	incoming: LuoFlbSer[] | null;
}

const globals = new WeakMap<Kernel, FlbGlobal>();

function luo_flb_global(kernel: Kernel): FlbGlobal {
	let g = globals.get(kernel);
	if (!g) {
		g = { list: [], priv: new Map(), links: new Map(), files: new Map(), outgoing: null, incoming: null };
		globals.set(kernel, g);
	}
	return g;
}

/** luo_flb_get_private(): the FLB's state in this kernel, made on first touch. */
function luo_flb_get_private(kernel: Kernel, flb: LiveupdateFlb): FlbPrivate {
	const g = luo_flb_global(kernel);
	let p = g.priv.get(flb);
	if (!p) {
		p = {
			outgoing: { count: 0, data: 0n, obj: null },
			incoming: { loaded: false, count: 0, data: 0n, obj: null, retrieved: false, finished: false },
			users: 0,
		};
		g.priv.set(flb, p);
	}
	return p;
}

function flbWARN(kernel: Kernel, fn: string, cond: string): void {
	kernel.pr_warn(`WARNING: kernel/liveupdate/luo_flb.c: ${fn}: ${cond}`);
}

const encoder = new TextEncoder();

function args(kernel: Kernel, flb: LiveupdateFlb, data: bigint, obj: unknown): LiveupdateFlbOpArgs {
	return { kernel, flb, data, obj };
}

function luo_flb_file_preserve_one(kernel: Kernel, flb: LiveupdateFlb): void {
	const out = luo_flb_get_private(kernel, flb).outgoing;
	if (out.count === 0) {
		const a = args(kernel, flb, 0n, null);
		flb.ops.preserve!(a);
		out.data = a.data;
		out.obj = a.obj;
	}
	out.count++;
}

function luo_flb_file_unpreserve_one(kernel: Kernel, flb: LiveupdateFlb): void {
	const out = luo_flb_get_private(kernel, flb).outgoing;
	if (out.count === 0) {
		flbWARN(kernel, "luo_flb_file_unpreserve_one", `${flb.compatible}: outgoing count already 0`);
		return;
	}
	if (--out.count > 0) return;
	flb.ops.unpreserve!(args(kernel, flb, out.data, out.obj));
	out.data = 0n;
	out.obj = null;
}

/** Loads the FLB's incoming data and count from its entry, once: ENODATA (no incoming data) or ENOENT (not in it). */
function luo_flb_incoming_load(kernel: Kernel, flb: LiveupdateFlb): FlbIncoming {
	const inc = luo_flb_get_private(kernel, flb).incoming;
	if (inc.loaded) return inc;
	const entries = luo_flb_global(kernel).incoming;
	if (entries === null) throw new Errno(ENODATA);
	const e = entries.find((s) => s.name === flb.compatible);
	if (!e) throw new Errno(ENOENT);
	inc.data = e.data;
	inc.count = Number(e.count);
	inc.loaded = true;
	return inc;
}

/** luo_flb_retrieve_one(): ENODATA once finished or without data, ENOENT, or retrieve()'s error; idempotent. */
function luo_flb_retrieve_one(kernel: Kernel, flb: LiveupdateFlb): FlbIncoming {
	const inc = luo_flb_get_private(kernel, flb).incoming;
	if (inc.finished) throw new Errno(ENODATA);
	if (inc.retrieved) return inc;
	luo_flb_incoming_load(kernel, flb);
	const a = args(kernel, flb, inc.data, null);
	flb.ops.retrieve!(a);
	inc.obj = a.obj;
	inc.retrieved = true;
	return inc;
}

function putIncoming(kernel: Kernel, flb: LiveupdateFlb, fromFile: boolean): void {
	let inc: FlbIncoming;
	try {
		inc = luo_flb_incoming_load(kernel, flb);
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		// A file of a handler the previous kernel had not linked to this FLB: nothing of it to drop.
		if (!fromFile) flbWARN(kernel, "liveupdate_flb_put_incoming", `${flb.compatible}: no incoming data`);
		return;
	}
	if (inc.finished || inc.count === 0) {
		flbWARN(kernel, "liveupdate_flb_put_incoming", `${flb.compatible}: incoming count already 0`);
		return;
	}
	if (--inc.count > 0) return;
	try {
		luo_flb_retrieve_one(kernel, flb);
	} catch (e) {
		if (!(e instanceof Errno)) throw e;
		flbWARN(kernel, "liveupdate_flb_put_incoming", `${flb.compatible}: retrieve failed (${-e.errno})`);
		return;
	}
	flb.ops.finish!(args(kernel, flb, 0n, inc.obj));
	inc.data = 0n;
	inc.obj = null;
	inc.finished = true;
}

function flbList(kernel: Kernel, fh: LiveupdateFileHandler): readonly LiveupdateFlb[] {
	return luo_flb_global(kernel).links.get(fh) ?? [];
}

/**
 * luo_flb_file_preserve(): a file of `fh` is being preserved (luo_file.ts,
 * before the handler's preserve). Each FLB of `fh`, in registration order,
 * counts it; the first file runs the FLB's preserve(). Atomic: on an error
 * the FLBs done in this call are unpreserved again, in reverse, and the
 * error is thrown.
 */
export function luo_flb_file_preserve(kernel: Kernel, fh: LiveupdateFileHandler): void {
	const list = flbList(kernel, fh);
	for (let i = 0; i < list.length; i++) {
		try {
			luo_flb_file_preserve_one(kernel, list[i]!);
		} catch (e) {
			for (let j = i - 1; j >= 0; j--) luo_flb_file_unpreserve_one(kernel, list[j]!);
			throw e;
		}
	}
	const files = luo_flb_global(kernel).files;
	files.set(fh, (files.get(fh) ?? 0) + 1);
}

/**
 * luo_flb_file_unpreserve(): a preserved file of `fh` is dropped before
 * the reboot (its session closed, or its preserve failed after
 * luo_flb_file_preserve). Each FLB, in reverse order, drops it; the last
 * file runs the FLB's unpreserve().
 */
export function luo_flb_file_unpreserve(kernel: Kernel, fh: LiveupdateFileHandler): void {
	const files = luo_flb_global(kernel).files;
	const n = files.get(fh) ?? 0;
	if (n === 0) {
		flbWARN(kernel, "luo_flb_file_unpreserve", `${fh.compatible}: no preserved file`);
		return;
	}
	files.set(fh, n - 1);
	const list = flbList(kernel, fh);
	for (let i = list.length - 1; i >= 0; i--) luo_flb_file_unpreserve_one(kernel, list[i]!);
}

/**
 * luo_flb_file_finish(): an incoming file of `fh` was finished (retrieved
 * or not). It puts its reference on each FLB, in reverse order; the last
 * reference retrieves the FLB if nobody had and runs its finish().
 */
export function luo_flb_file_finish(kernel: Kernel, fh: LiveupdateFileHandler): void {
	const list = flbList(kernel, fh);
	for (let i = list.length - 1; i >= 0; i--) putIncoming(kernel, list[i]!, true);
}

/**
 * liveupdate_register_flb(fh, flb): `fh`'s files depend on `flb` from now
 * on. Throws, in this order: EOPNOTSUPP (LUO off); EINVAL (an op missing,
 * a compatible that does not fit 47 bytes, or `fh` not registered);
 * EBUSY (`fh` has preserved files); EEXIST (already linked to `fh`); on
 * the FLB's first link ENOSPC (LUO_FLB_MAX registered) or EEXIST (another
 * FLB has its compatible). Nothing changes on error.
 */
export function liveupdate_register_flb(kernel: Kernel, fh: LiveupdateFileHandler, flb: LiveupdateFlb): void {
	if (!liveupdate_enabled(kernel)) throw new Errno(EOPNOTSUPP);
	const { preserve, unpreserve, retrieve, finish } = flb.ops;
	if (!preserve || !unpreserve || !retrieve || !finish) {
		flbWARN(kernel, "liveupdate_register_flb", `${flb.compatible}: missing ops`);
		throw new Errno(EINVAL);
	}
	if (encoder.encode(flb.compatible).length >= LIVEUPDATE_FLB_COMPAT_LENGTH) throw new Errno(EINVAL);
	if (!flbHandlers(kernel).has(fh)) {
		flbWARN(kernel, "liveupdate_register_flb", `${fh.compatible}: file handler not registered`);
		throw new Errno(EINVAL);
	}
	const g = luo_flb_global(kernel);
	if ((g.files.get(fh) ?? 0) > 0) throw new Errno(EBUSY);
	const list = g.links.get(fh) ?? [];
	if (list.includes(flb)) throw new Errno(EEXIST);
	const p = luo_flb_get_private(kernel, flb);
	if (p.users === 0) {
		if (g.list.length >= LUO_FLB_MAX) throw new Errno(ENOSPC);
		if (g.list.some((o) => o.compatible === flb.compatible)) throw new Errno(EEXIST);
		g.list.push(flb);
	}
	p.users++;
	list.push(flb);
	g.links.set(fh, list);
}

/**
 * liveupdate_unregister_flb(fh, flb): removes the link; the FLB leaves the
 * registry with its last handler. Throws EOPNOTSUPP (LUO off), EBUSY (`fh`
 * has preserved files) or ENOENT (not linked to `fh`), as seed 003 returns
 * them (mainline returns void and only warns).
 */
export function liveupdate_unregister_flb(kernel: Kernel, fh: LiveupdateFileHandler, flb: LiveupdateFlb): void {
	if (!liveupdate_enabled(kernel)) throw new Errno(EOPNOTSUPP);
	const g = luo_flb_global(kernel);
	if ((g.files.get(fh) ?? 0) > 0) throw new Errno(EBUSY);
	const list = g.links.get(fh) ?? [];
	if (!list.includes(flb)) throw new Errno(ENOENT);
	list.splice(list.indexOf(flb), 1);
	luo_flb_unuse(kernel, flb);
}

/** One link fewer: the FLB leaves the registry with its last handler. */
function luo_flb_unuse(kernel: Kernel, flb: LiveupdateFlb): void {
	const g = luo_flb_global(kernel);
	if (--luo_flb_get_private(kernel, flb).users === 0) g.list.splice(g.list.indexOf(flb), 1);
}

/**
 * luo_flb_unregister_all(fh): drops every FLB link of `fh`, as
 * liveupdate_unregister_file_handler() does (luo_file.ts calls it).
 */
export function luo_flb_unregister_all(kernel: Kernel, fh: LiveupdateFileHandler): void {
	const g = luo_flb_global(kernel);
	for (const flb of g.links.get(fh) ?? []) luo_flb_unuse(kernel, flb);
	g.links.delete(fh);
	flbHandlers(kernel).delete(fh);
}

/** The registered file handlers FLBs may link to (per kernel). */
const handlerSets = new WeakMap<Kernel, Set<LiveupdateFileHandler>>();

function flbHandlers(kernel: Kernel): Set<LiveupdateFileHandler> {
	let set = handlerSets.get(kernel);
	if (!set) handlerSets.set(kernel, (set = new Set()));
	return set;
}

/**
 * luo_flb_handler_init(): a file handler has been registered and may now
 * have FLBs (the kernel's INIT_LIST_HEAD of its flb_list, done by
 * liveupdate_register_file_handler(); luo_file.ts calls it).
 */
export function luo_flb_handler_init(kernel: Kernel, fh: LiveupdateFileHandler): void {
	flbHandlers(kernel).add(fh);
}

/**
 * liveupdate_flb_get_incoming(flb): the FLB's object in the new kernel,
 * retrieved on the first call, with a reference the caller drops with
 * liveupdate_flb_put_incoming(). Throws EOPNOTSUPP (LUO off), ENODATA (no
 * incoming FLB data, or already finished), ENOENT (the previous kernel
 * did not preserve this FLB) or retrieve()'s error (retried next time).
 */
export function liveupdate_flb_get_incoming(kernel: Kernel, flb: LiveupdateFlb): unknown {
	if (!liveupdate_enabled(kernel)) throw new Errno(EOPNOTSUPP);
	const inc = luo_flb_retrieve_one(kernel, flb);
	inc.count++;
	return inc.obj;
}

/**
 * liveupdate_flb_put_incoming(flb): drops a reference from
 * liveupdate_flb_get_incoming(); the last one (files included) runs
 * finish(). An unbalanced put leaves a WARNING and changes nothing.
 */
export function liveupdate_flb_put_incoming(kernel: Kernel, flb: LiveupdateFlb): void {
	putIncoming(kernel, flb, false);
}

/**
 * liveupdate_flb_get_outgoing(flb): the object preserve() made, or null
 * while no file of a dependent handler is preserved. EOPNOTSUPP with LUO off.
 */
export function liveupdate_flb_get_outgoing(kernel: Kernel, flb: LiveupdateFlb): unknown {
	if (!liveupdate_enabled(kernel)) throw new Errno(EOPNOTSUPP);
	return luo_flb_get_private(kernel, flb).outgoing.obj;
}

/**
 * luo_flb_setup_outgoing() (luo_state_setup at late_initcall): allocates
 * the zeroed, KHO-preserved FLB page, writes `pgcnt = 1`, and returns its
 * physical address for `luo_ser.flbs_pa`. kho_alloc_preserve()'s errors
 * are thrown (ENOMEM, EOPNOTSUPP, ...); EBUSY if it is already set up.
 */
export function luo_flb_setup_outgoing(kernel: Kernel): bigint {
	const g = luo_flb_global(kernel);
	if (g.outgoing) throw new Errno(EBUSY);
	const folio = kho_alloc_preserve(kernel, LUO_FLB_PGCNT * PAGE_SIZE);
	const phys = PFN_PHYS(folio_pfn(folio));
	kernel.buddy.pm.write(phys, luo_flb_header_ser.encode({ pgcnt: BigInt(LUO_FLB_PGCNT), count: 0n }));
	g.outgoing = folio;
	return BigInt(phys);
}

/**
 * Reads an FLB page: its entries, or null when the header is not one
 * (pgcnt other than 1, count above LUO_FLB_MAX, a name without its NUL).
 */
export function luo_flb_decode(page: Uint8Array): LuoFlbSer[] | null {
	const hdr = luo_flb_header_ser.decode(page);
	if (hdr.pgcnt !== BigInt(LUO_FLB_PGCNT) || hdr.count > BigInt(LUO_FLB_MAX)) return null;
	const out: LuoFlbSer[] = [];
	for (let i = 0, off = luo_flb_header_ser.size; i < Number(hdr.count); i++, off += luo_flb_ser.size) {
		if (page.subarray(off, off + LIVEUPDATE_FLB_COMPAT_LENGTH).indexOf(0) < 0) return null;
		out.push(luo_flb_ser.decode(page, off));
	}
	return out;
}

/**
 * luo_flb_setup_incoming(flbs_pa) (luo_early_startup): takes the previous
 * kernel's FLB page; 0 means none. EINVAL for a page that is not an FLB
 * header. The entries are kept and the page is freed (see the top).
 */
export function luo_flb_setup_incoming(kernel: Kernel, flbs_pa: bigint): void {
	if (flbs_pa === 0n) return;
	const phys = Number(flbs_pa);
	const entries = luo_flb_decode(kernel.buddy.pm.read(phys, LUO_FLB_PGCNT * PAGE_SIZE));
	if (entries === null) throw new Errno(EINVAL);
	luo_flb_global(kernel).incoming = entries;
	kho_restore_free(kernel, phys);
}

/**
 * luo_flb_serialize() (liveupdate_reboot, after the sessions): writes an
 * entry for each registered FLB with preserved files, in registration
 * order (name, data, the number of dependent files), then the count.
 */
export function luo_flb_serialize(kernel: Kernel): void {
	const g = luo_flb_global(kernel);
	if (!g.outgoing) return;
	const page = new Uint8Array(LUO_FLB_PGCNT * PAGE_SIZE);
	let n = 0;
	for (const flb of g.list) {
		const out = luo_flb_get_private(kernel, flb).outgoing;
		if (out.count === 0) continue;
		page.set(luo_flb_ser.encode({ name: flb.compatible, data: out.data, count: BigInt(out.count) }), luo_flb_header_ser.size + n++ * luo_flb_ser.size);
	}
	page.set(luo_flb_header_ser.encode({ pgcnt: BigInt(LUO_FLB_PGCNT), count: BigInt(n) }));
	kernel.buddy.pm.write(PFN_PHYS(folio_pfn(g.outgoing)), page);
}

/** The FLBs registered in this kernel, in registration order (for tests and debugging). */
export function luo_flb_registered(kernel: Kernel): readonly LiveupdateFlb[] {
	return luo_flb_global(kernel).list;
}
