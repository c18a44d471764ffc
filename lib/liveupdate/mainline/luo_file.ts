/**
 * Preserved files of mainline LUO (kernel/liveupdate/luo_file.c,
 * include/linux/liveupdate.h): the file handler registry and, per session,
 * the set of preserved files with its lifecycle.
 *
 * - preserve (PRESERVE_FD): EEXIST for a token already in the session, the
 *   file block set grown by one entry (ENOMEM/ENOSPC), EBADF, ENOENT when
 *   no handler's can_preserve() takes the file, EBUSY when the same object
 *   (handler get_id(), default the File) is preserved or retrieved anywhere
 *   (`luo_preserved_files`), then the FLB hook and the handler's
 *   preserve(); LUO keeps its own reference to the file.
 * - unpreserve (an outgoing session closed): every file, last first.
 * - freeze/unfreeze (reboot): in preservation order, each file's freeze()
 *   then its `luo_file_ser`; a failure unfreezes those before it.
 * - deserialize (first open of /dev/liveupdate in the next kernel),
 *   retrieve (a failed retrieve is sticky; a second one gives the same
 *   file), finish (can_finish() on all, then finish() on every file in
 *   reverse order).
 *
 * luosim differences: no modules, so the handler's `owner` is never pinned
 * (a pin cannot fail); a compatible of 48 bytes or more is EINVAL at
 * registration (C's `char compatible[48]` cannot hold one).
 */
import { Errno, EBUSY, EEXIST, EINVAL, ENOENT, ENOSPC, EOPNOTSUPP, errnoName } from "../../kernel/errno.ts";
import { current } from "../../kernel/current.ts";
import { liveupdate_enabled } from "../liveupdate.ts";
import { luo_flb_file_finish, luo_flb_file_preserve, luo_flb_file_unpreserve, luo_flb_handler_init, luo_flb_unregister_all } from "./luo_flb.ts";
import { liveupdate_test_register } from "./test_liveupdate.ts";
import { LIVEUPDATE_HNDL_COMPAT_LENGTH, luo_file_ser } from "./luo_abi.ts";
import {
	KhoBlockSetIt, kho_block_set_clear, kho_block_set_destroy, kho_block_set_grow, kho_block_set_head_pa, kho_block_set_init,
	kho_block_set_restore, kho_block_set_shrink, type KhoBlockSet,
} from "./kho_block.ts";
import type { File } from "../../fs/file.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** struct liveupdate_file_op_args: what a handler op gets, and what preserve/freeze/retrieve set. */
export interface LiveupdateFileOpArgs {
	readonly kernel: Kernel;
	readonly handler: LiveupdateFileHandler;
	/** For can_finish/finish: 0 never retrieved, >0 retrieved, <0 the retrieve's -errno. */
	retrieve_status: number;
	/** retrieve: [out] the new file; other ops: [in] the file. */
	file: File | null;
	serialized_data: bigint;
	private_data: unknown;
}

/** struct liveupdate_file_ops; fallible ops throw Errno. */
export interface LiveupdateFileOps {
	can_preserve(kernel: Kernel, handler: LiveupdateFileHandler, file: File): boolean;
	preserve(args: LiveupdateFileOpArgs): void;
	unpreserve(args: LiveupdateFileOpArgs): void;
	freeze?(args: LiveupdateFileOpArgs): void;
	unfreeze?(args: LiveupdateFileOpArgs): void;
	retrieve(args: LiveupdateFileOpArgs): void;
	can_finish?(args: LiveupdateFileOpArgs): boolean;
	finish(args: LiveupdateFileOpArgs): void;
	/** The key for double-preservation (EBUSY); default: the File itself. */
	get_id?(file: File): unknown;
}

/** struct liveupdate_file_handler. */
export interface LiveupdateFileHandler {
	readonly ops: LiveupdateFileOps;
	readonly compatible: string;
}

/** struct luo_file: one preserved (outgoing) or deserialized (incoming) file. */
interface LuoFile {
	readonly fh: LiveupdateFileHandler;
	/** Null in the new kernel until retrieved. */
	file: File | null;
	serialized_data: bigint;
	private_data: unknown;
	retrieve_status: number;
	readonly token: bigint;
}

/** struct luo_file_set: a session's files in preservation order and their serialization blocks. */
export interface LuoFileSet {
	readonly kernel: Kernel;
	readonly files: LuoFile[];
	readonly block_set: KhoBlockSet;
}

/** The registry and luo_preserved_files, per kernel. */
interface LuoFileGlobal {
	readonly handlers: LiveupdateFileHandler[];
	readonly preserved: Map<unknown, File>;
	/** Files preserved in outgoing sessions, per handler (luo_outgoing_compatibles). */
	readonly outgoing: Map<LiveupdateFileHandler, number>;
}

const globals = new WeakMap<Kernel, LuoFileGlobal>();

function luoFileGlobal(kernel: Kernel): LuoFileGlobal {
	let g = globals.get(kernel);
	if (!g) {
		g = { handlers: [], preserved: new Map(), outgoing: new Map() };
		globals.set(kernel, g);
	}
	return g;
}

function luo_get_id(lf: { fh: LiveupdateFileHandler }, file: File): unknown {
	return lf.fh.ops.get_id ? lf.fh.ops.get_id(file) : file;
}

function opArgs(kernel: Kernel, lf: LuoFile): LiveupdateFileOpArgs {
	return { kernel, handler: lf.fh, retrieve_status: lf.retrieve_status, file: lf.file, serialized_data: lf.serialized_data, private_data: lf.private_data };
}

function countOutgoing(kernel: Kernel, fh: LiveupdateFileHandler, delta: number): void {
	const m = luoFileGlobal(kernel).outgoing;
	const n = (m.get(fh) ?? 0) + delta;
	if (n > 0) m.set(fh, n);
	else m.delete(fh);
}

/** luo_file_set_init(): an empty set. */
export function luo_file_set_init(kernel: Kernel): LuoFileSet {
	return { kernel, files: [], block_set: kho_block_set_init(kernel, luo_file_ser.size) };
}

/**
 * luo_preserve_file(): preserves the caller's `fd` under `token`. Errors
 * in mainline's order: EEXIST, ENOMEM/ENOSPC, EBADF, ENOENT, EBUSY, the
 * FLB's and the handler's preserve() errors; nothing changes on failure.
 */
export function luo_preserve_file(fs: LuoFileSet, token: bigint, fd: number): void {
	const kernel = fs.kernel;
	const g = luoFileGlobal(kernel);
	if (fs.files.some((f) => f.token === token)) throw new Errno(EEXIST);
	kho_block_set_grow(fs.block_set, fs.files.length + 1);
	let file: File | null = null;
	let id: unknown;
	let inserted = false;
	let flb = false;
	let fh: LiveupdateFileHandler | undefined;
	try {
		file = current().files.get(fd).get();
		const f = file;
		fh = g.handlers.find((h) => h.ops.can_preserve(kernel, h, f));
		if (!fh) throw new Errno(ENOENT);
		id = luo_get_id({ fh }, file);
		if (g.preserved.has(id)) throw new Errno(EBUSY);
		g.preserved.set(id, file);
		inserted = true;
		luo_flb_file_preserve(kernel, fh);
		flb = true;
		const args: LiveupdateFileOpArgs = { kernel, handler: fh, retrieve_status: 0, file, serialized_data: 0n, private_data: null };
		fh.ops.preserve(args);
		fs.files.push({ fh, file, serialized_data: args.serialized_data, private_data: args.private_data, retrieve_status: 0, token });
		countOutgoing(kernel, fh, 1);
	} catch (e) {
		if (flb) luo_flb_file_unpreserve(kernel, fh!);
		if (inserted) g.preserved.delete(id);
		file?.put();
		kho_block_set_shrink(fs.block_set, fs.files.length);
		throw e;
	}
}

/**
 * luo_file_unpreserve_files(): an outgoing session is closed; every file,
 * last first, goes through unpreserve(), the FLB hook and LUO's fput.
 */
export function luo_file_unpreserve_files(fs: LuoFileSet): void {
	const kernel = fs.kernel;
	const g = luoFileGlobal(kernel);
	for (let lf = fs.files.at(-1); lf; lf = fs.files.at(-1)) {
		lf.fh.ops.unpreserve(opArgs(kernel, lf));
		luo_flb_file_unpreserve(kernel, lf.fh);
		g.preserved.delete(luo_get_id(lf, lf.file!));
		fs.files.pop();
		countOutgoing(kernel, lf.fh, -1);
		kho_block_set_shrink(fs.block_set, fs.files.length);
		lf.file!.put();
	}
	kho_block_set_destroy(fs.block_set);
}

function unfreezeUpTo(fs: LuoFileSet, failed: LuoFile | null): void {
	for (const lf of fs.files) {
		if (lf === failed) break;
		if (lf.fh.ops.unfreeze) lf.fh.ops.unfreeze(opArgs(fs.kernel, lf));
	}
	kho_block_set_clear(fs.block_set);
}

/**
 * luo_file_freeze(): each file's freeze() (which may update its data) and
 * its `struct luo_file_ser`, in preservation order; returns the
 * `luo_file_set_ser` fields. A failure unfreezes the files before it and
 * clears the blocks.
 */
export function luo_file_freeze(fs: LuoFileSet): { files: number; count: number } {
	if (fs.files.length === 0) return { files: 0, count: 0 };
	const it = new KhoBlockSetIt(fs.block_set);
	for (const lf of fs.files) {
		const ser = it.reserve_entry();
		try {
			if (!ser) throw new Errno(ENOSPC);
			if (lf.fh.ops.freeze) {
				const args = opArgs(fs.kernel, lf);
				lf.fh.ops.freeze(args);
				lf.serialized_data = args.serialized_data;
			}
		} catch (e) {
			if (ser && e instanceof Errno) {
				fs.kernel.pr_warn(`luo: Freeze failed for token[${lf.token === 0n ? "0" : `0x${lf.token.toString(16)}`}] handler[${lf.fh.compatible}] err[-${errnoName(e.errno)}]`);
			}
			unfreezeUpTo(fs, lf);
			throw e;
		}
		ser.set(luo_file_ser.encode({ compatible: lf.fh.compatible, data: lf.serialized_data, token: lf.token }));
	}
	return { files: kho_block_set_head_pa(fs.block_set), count: fs.files.length };
}

/** luo_file_unfreeze(): rolls back a frozen set (a later session failed to freeze). */
export function luo_file_unfreeze(fs: LuoFileSet): void {
	if (fs.files.length === 0) return;
	unfreezeUpTo(fs, null);
}

/**
 * luo_retrieve_file(): the file preserved under `token`, with a reference
 * for the caller. ENOENT when there is none; the first call runs the
 * handler's retrieve() (its error is kept and returned by every later
 * call); later calls return the same File.
 */
export function luo_retrieve_file(fs: LuoFileSet, token: bigint): File {
	const lf = fs.files.find((f) => f.token === token);
	if (!lf) throw new Errno(ENOENT);
	if (lf.retrieve_status < 0) throw new Errno(-lf.retrieve_status);
	if (lf.retrieve_status > 0) return lf.file!.get();
	const args = opArgs(fs.kernel, lf);
	try {
		lf.fh.ops.retrieve(args);
		if (!args.file) throw new Error(`luosim: file handler ${lf.fh.compatible} retrieve() set no file`);
	} catch (e) {
		if (e instanceof Errno) lf.retrieve_status = -e.errno;
		throw e;
	}
	const file = args.file;
	lf.file = file;
	lf.private_data = args.private_data;
	// LUO's own reference, held until finish.
	file.get();
	const preserved = luoFileGlobal(fs.kernel).preserved;
	const id = luo_get_id(lf, file);
	if (preserved.has(id)) fs.kernel.pr_warn(`luo: WARNING: retrieved file of ${lf.fh.compatible} is already preserved`);
	else preserved.set(id, file);
	lf.retrieve_status = 1;
	return file;
}

/**
 * luo_file_finish(): EBUSY when a file's can_finish() says no (nothing is
 * finished then); otherwise finish() on every file, last first, the FLB
 * hook, LUO's fput, and the blocks freed. 0 files: nothing to do.
 */
export function luo_file_finish(fs: LuoFileSet): void {
	const kernel = fs.kernel;
	if (fs.files.length === 0) return;
	for (const lf of fs.files) {
		if (lf.fh.ops.can_finish && !lf.fh.ops.can_finish(opArgs(kernel, lf))) throw new Errno(EBUSY);
	}
	const preserved = luoFileGlobal(kernel).preserved;
	for (let lf = fs.files.at(-1); lf; lf = fs.files.at(-1)) {
		lf.fh.ops.finish(opArgs(kernel, lf));
		luo_flb_file_finish(kernel, lf.fh);
		if (lf.file) {
			preserved.delete(luo_get_id(lf, lf.file));
			lf.file.put();
		}
		fs.files.pop();
		kho_block_set_shrink(fs.block_set, fs.files.length);
	}
	kho_block_set_destroy(fs.block_set);
}

/**
 * luo_file_deserialize(): rebuilds an incoming set from the previous
 * kernel's `luo_file_set_ser`. ENOENT (with a warning) for a compatible no
 * registered handler has, EINVAL for a count that does not match or a
 * corrupted block chain; on failure the set is empty and its blocks freed.
 */
export function luo_file_deserialize(fs: LuoFileSet, files_pa: number, count: bigint): void {
	const kernel = fs.kernel;
	if (!files_pa) {
		if (count !== 0n) kernel.pr_warn("luo: WARNING: file set with no blocks has a count");
		return;
	}
	kho_block_set_restore(fs.block_set, files_pa);
	try {
		const it = new KhoBlockSetIt(fs.block_set);
		for (let e = it.read_entry(); e; e = it.read_entry()) {
			const ser = luo_file_ser.decode(e);
			const fh = luoFileGlobal(kernel).handlers.find((h) => h.compatible === ser.compatible);
			if (!fh) {
				kernel.pr_warn(`luo: No registered handler for compatible '${ser.compatible}'`);
				throw new Errno(ENOENT);
			}
			fs.files.push({ fh, file: null, serialized_data: ser.data, private_data: null, retrieve_status: 0, token: ser.token });
		}
		if (BigInt(fs.files.length) !== count) {
			kernel.pr_warn(`luo: File count mismatch: expected ${count}, found ${fs.files.length}`);
			throw new Errno(EINVAL);
		}
	} catch (e) {
		fs.files.length = 0;
		kho_block_set_destroy(fs.block_set);
		throw e;
	}
}

/**
 * liveupdate_register_file_handler(): EOPNOTSUPP when LUO is off, EINVAL
 * for a missing required op or a compatible that does not fit 47 bytes,
 * EEXIST for a compatible already registered. Links the test FLBs under
 * LIVEUPDATE_SELFTESTS (CONFIG_LIVEUPDATE_TEST).
 */
export function liveupdate_register_file_handler(kernel: Kernel, fh: LiveupdateFileHandler): void {
	if (!liveupdate_enabled(kernel)) throw new Errno(EOPNOTSUPP);
	const o = fh.ops as Partial<LiveupdateFileOps>;
	if (!o.preserve || !o.unpreserve || !o.retrieve || !o.finish || !o.can_preserve) throw new Errno(EINVAL);
	const len = new TextEncoder().encode(fh.compatible).length;
	if (len === 0 || len >= LIVEUPDATE_HNDL_COMPAT_LENGTH) throw new Errno(EINVAL);
	const g = luoFileGlobal(kernel);
	if (g.handlers.some((h) => h.compatible === fh.compatible)) {
		kernel.pr_err(`luo: File handler registration failed: Compatible string '${fh.compatible}' already registered.`);
		throw new Errno(EEXIST);
	}
	g.handlers.push(fh);
	luo_flb_handler_init(kernel, fh);
	liveupdate_test_register(kernel, fh);
}

/** liveupdate_unregister_file_handler(): drops the handler and its FLB links (nothing when LUO is off or it is not registered). */
export function liveupdate_unregister_file_handler(kernel: Kernel, fh: LiveupdateFileHandler): void {
	if (!liveupdate_enabled(kernel)) return;
	const g = luoFileGlobal(kernel);
	const i = g.handlers.indexOf(fh);
	if (i < 0) return;
	luo_flb_unregister_all(kernel, fh);
	g.handlers.splice(i, 1);
}

/** The registered file handlers, in registration order (luo_file_handler_list). */
export function luo_file_handlers(kernel: Kernel): readonly LiveupdateFileHandler[] {
	return luoFileGlobal(kernel).handlers;
}

/** The compatibles of handlers that have files preserved in outgoing sessions (what a kexec hands over). */
export function luo_outgoing_compatibles(kernel: Kernel): ReadonlySet<string> {
	return new Set([...luoFileGlobal(kernel).outgoing.keys()].map((fh) => fh.compatible));
}
