/**
 * LUO file descriptors of the seed era (drivers/misc/liveupdate/luo_files.c,
 * seed 000 patches 08 and 09, with the review's fixes): the registry of
 * `struct liveupdate_filesystem` handlers, the outgoing files (token →
 * file, tokens from one counter starting at 0 in each kernel, or the
 * caller's under v2), their prepare/freeze/cancel/finish calls, the
 * `/file-descriptors` node of the LUO FDT, and in the next kernel the
 * incoming files, rebuilt from that node on the first retrieve or FINISH.
 *
 * Review fixes: F2 is the dispatcher's (luo_ioctl.ts); F3 unpreserve drops
 * LUO's file reference; F4 a token repeated in the incoming node panics
 * like any other malformed entry; F5 a `data` that is not 8 bytes panics
 * too; F6 the node is always written, empty without files; F7 the incoming
 * files are freed after FINISH. F1 (two concurrent RESTOREs) cannot happen:
 * kernel paths run to completion.
 *
 * luosim's choices where the seed is silent or unsafe: LUO holds a reference
 * on a restored file until FINISH (the seed keeps a bare pointer that
 * finish() would use after userspace closed it), so FINISH is where it is
 * dropped; a retrieve whose handler fails leaves the file retrievable (the
 * seed marks it reclaimed first); unregistering a handler that is not
 * registered does nothing, as list_del_init() on it does.
 */
import { Errno, EBUSY, EEXIST, EINVAL, ENOENT, ENOSPC } from "../../kernel/errno.ts";
import { kstrtoull } from "../../kernel/kstrtox.ts";
import {
	cpu_to_le64, fdt_add_subnode, fdt_first_subnode, fdt_get_name, fdt_getprop, fdt_next_subnode, fdt_node_check_compatible,
	fdt_setprop, fdt_setprop_string, fdt_strerror, fdt_subnode_offset, le64_ld,
} from "../../fdt/libfdt.ts";
import { liveupdate_state_normal, liveupdate_state_updated, luo_state_read_enter, luo_state_read_exit } from "./luo_internal.ts";
import type { File } from "../../fs/file.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** struct liveupdate_filesystem: a handler for one kind of file (its `compatible`, e.g. "memfd-v1"). */
export interface LiveupdateFilesystem {
	readonly compatible: string;
	readonly arg?: unknown;
	can_preserve(kernel: Kernel, file: File, arg: unknown): boolean;
	/** The u64 data for the next kernel; throws Errno. */
	prepare?(kernel: Kernel, file: File, arg: unknown): bigint;
	/** New data; throws Errno. KHO is finalized by now: preserving memory here is EBUSY. */
	freeze?(kernel: Kernel, file: File, arg: unknown, data: bigint): bigint;
	cancel?(kernel: Kernel, file: File, arg: unknown, data: bigint): void;
	/** In the new kernel at FINISH: `file` is the restored file, or null when it was never retrieved. */
	finish?(kernel: Kernel, file: File | null, arg: unknown, data: bigint, reclaimed: boolean): void;
	/** In the new kernel: a new file (with its own reference) from the data; throws Errno. */
	retrieve(kernel: Kernel, arg: unknown, data: bigint): File;
}

const LUO_FILES_NODE_NAME = "file-descriptors";
const LUO_FILES_COMPATIBLE = "file-descriptors-v1";
const PR = "luo_files: ";

/** struct luo_file of an outgoing file: LUO holds one reference on `file`. */
interface LuoFileOut {
	readonly fs: LiveupdateFilesystem;
	readonly file: File;
	private_data: bigint;
}

/** struct luo_file of an incoming file. */
interface LuoFileIn {
	readonly fs: LiveupdateFilesystem;
	/** The restored file (LUO's reference), null until retrieved. */
	file: File | null;
	readonly private_data: bigint;
	reclaimed: boolean;
}

interface LuoFilesState {
	filesystems: LiveupdateFilesystem[];
	xaOut: Map<bigint, LuoFileOut>;
	xaIn: Map<bigint, LuoFileIn>;
	xaInRecreated: boolean;
	nextToken: bigint;
	fdtOut: Uint8Array | null;
	fdtIn: Uint8Array | null;
}

const states = new WeakMap<Kernel, LuoFilesState>();

function luoFiles(kernel: Kernel): LuoFilesState {
	let st = states.get(kernel);
	if (!st) {
		st = { filesystems: [], xaOut: new Map(), xaIn: new Map(), xaInRecreated: false, nextToken: 0n, fdtOut: null, fdtIn: null };
		states.set(kernel, st);
	}
	return st;
}

/** xa_for_each order: ascending token. */
function byToken<T>(xa: Map<bigint, T>): [bigint, T][] {
	return [...xa].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The node name of a token: snprintf("%#0llx"), so 0 is "0" and 1 is "0x1". */
function tokenStr(token: bigint): string {
	return token === 0n ? "0" : `0x${token.toString(16)}`;
}

/** The check every registration path makes: LUO NORMAL or UPDATED, under the read lock. */
function withNormalOrUpdated<T>(kernel: Kernel, warn: string | null, body: () => T): T {
	luo_state_read_enter(kernel);
	try {
		if (!liveupdate_state_normal(kernel) && !liveupdate_state_updated(kernel)) {
			if (warn !== null) kernel.pr_warn(PR + warn);
			throw new Errno(EBUSY);
		}
		return body();
	} finally {
		luo_state_read_exit(kernel);
	}
}

/** liveupdate_register_filesystem(): EBUSY outside NORMAL/UPDATED, EEXIST for a `compatible` already registered. */
export function liveupdate_register_filesystem(kernel: Kernel, fs: LiveupdateFilesystem): void {
	withNormalOrUpdated(kernel, null, () => {
		const st = luoFiles(kernel);
		if (st.filesystems.some((f) => f.compatible === fs.compatible)) {
			kernel.pr_err(`${PR}Filesystem handler registration failed: Compatible string '${fs.compatible}' already registered.`);
			throw new Errno(EEXIST);
		}
		st.filesystems.push(fs);
	});
}

/** liveupdate_unregister_filesystem(): EBUSY outside NORMAL/UPDATED; a handler not registered is ignored. */
export function liveupdate_unregister_filesystem(kernel: Kernel, fs: LiveupdateFilesystem): void {
	withNormalOrUpdated(kernel, null, () => {
		const st = luoFiles(kernel);
		st.filesystems = st.filesystems.filter((f) => f !== fs);
	});
}

/** The first handler whose can_preserve accepts `file`, else ENOENT. */
function findFilesystem(kernel: Kernel, st: LuoFilesState, file: File): LiveupdateFilesystem {
	const fs = st.filesystems.find((f) => f.can_preserve(kernel, file, f.arg));
	if (!fs) throw new Errno(ENOENT);
	return fs;
}

const REGISTER_WARN = "File can be registered only in normal or prepared state";

/**
 * luo_register_file() of RFC v2: preserves `file` under the next token of
 * the kernel's counter and returns it. On success LUO owns the caller's
 * reference on `file`. EBUSY outside NORMAL/UPDATED, ENOENT when no handler
 * can preserve it. A file already preserved gets a second token.
 */
export function luo_register_file(kernel: Kernel, file: File): bigint {
	return withNormalOrUpdated(kernel, REGISTER_WARN, () => {
		const st = luoFiles(kernel);
		const fs = findFilesystem(kernel, st, file);
		const token = st.nextToken++;
		st.xaOut.set(token, { fs, file, private_data: 0n });
		return token;
	});
}

/**
 * luo_register_file(token, fd) of v2 (seed 001): the caller's token.
 * EBUSY outside NORMAL/UPDATED, ENOENT when no handler can preserve it,
 * EEXIST when the token is taken. On success LUO owns the caller's reference.
 */
export function luo_register_file_token(kernel: Kernel, token: bigint, file: File): void {
	withNormalOrUpdated(kernel, REGISTER_WARN, () => {
		const st = luoFiles(kernel);
		const fs = findFilesystem(kernel, st, file);
		if (st.xaOut.has(token)) throw new Errno(EEXIST);
		st.xaOut.set(token, { fs, file, private_data: 0n });
	});
}

/**
 * luo_unregister_file(): forgets `token` and drops LUO's reference on its
 * file (review F3). EBUSY outside NORMAL/UPDATED, ENOENT for an unknown token.
 */
export function luo_unregister_file(kernel: Kernel, token: bigint): void {
	withNormalOrUpdated(kernel, "File can be unregistered only in normal or updates state", () => {
		const st = luoFiles(kernel);
		const h = st.xaOut.get(token);
		if (!h) {
			kernel.pr_warn(`${PR}Failed to unregister: token ${token} not found.`);
			throw new Errno(ENOENT);
		}
		st.xaOut.delete(token);
		h.file.put();
	});
}

/** luo_files_startup(): the incoming `/file-descriptors` node must exist with its compatible, else panic. */
export function luo_files_startup(kernel: Kernel, fdt: Uint8Array): void {
	const node = fdt_subnode_offset(fdt, 0, LUO_FILES_NODE_NAME);
	if (node < 0) kernel.panic("Failed to find /file-descriptors node");
	const ret = fdt_node_check_compatible(fdt, node, LUO_FILES_COMPATIBLE);
	if (ret) kernel.panic(`FDT '${LUO_FILES_NODE_NAME}' is incompatible with '${LUO_FILES_COMPATIBLE}' [${ret}]`);
	luoFiles(kernel).fdtIn = fdt;
}

/**
 * luo_files_recreate_luo_files_xa_in(): once, after the handlers have
 * registered, turns the incoming node into incoming files. Any malformed
 * entry panics, as the seed does: a name that is not a number, no
 * compatible, a `data` missing or not 8 bytes (F5), no handler for the
 * compatible, a token seen before (F4).
 */
function recreateXaIn(kernel: Kernel, st: LuoFilesState): void {
	const fdt = st.fdtIn;
	if (st.xaInRecreated || !fdt) return;
	const parent = fdt_subnode_offset(fdt, 0, LUO_FILES_NODE_NAME);
	for (let node = fdt_first_subnode(fdt, parent); node >= 0; node = fdt_next_subnode(fdt, node)) {
		const name = fdt_get_name(fdt, node);
		if (name === null) kernel.panic(`Skipping FDT subnode at offset ${node}: Cannot get name`);
		let token = 0n;
		try {
			token = kstrtoull(name, 0);
		} catch (e) {
			if (!(e instanceof Errno)) throw e;
			kernel.panic(`Skipping FDT node '${name}': Failed to parse token`);
		}
		const compat = fdt_getprop(fdt, node, "compatible");
		if (!compat) kernel.panic(`Skipping FDT node '${name}': Missing 'compatible' property`);
		const nul = compat.indexOf(0);
		const compatStr = new TextDecoder().decode(nul < 0 ? compat : compat.subarray(0, nul));
		const len = [0];
		const data = fdt_getprop(fdt, node, "data", len);
		if (!data || len[0] !== 8) kernel.panic(`Can't recover property 'data' for FDT node '${name}'`);
		const fs = st.filesystems.find((f) => f.compatible === compatStr);
		if (!fs) kernel.panic(`Skipping FDT node '${name}': No registered handler for compatible '${compatStr}'`);
		if (st.xaIn.has(token)) kernel.panic(`Failed to store luo_file for token ${token} in XArray: ${-EBUSY}`);
		st.xaIn.set(token, { fs, file: null, private_data: le64_ld(data), reclaimed: false });
	}
	st.xaInRecreated = true;
}

/**
 * luo_retrieve_file(): the incoming file of `token`, made by its handler;
 * the caller gets its own reference. EBUSY outside UPDATED, EINVAL when
 * it was retrieved already, ENOENT for an unknown token, or the handler's
 * error (the file then stays retrievable).
 */
export function luo_retrieve_file(kernel: Kernel, token: bigint): File {
	const st = luoFiles(kernel);
	recreateXaIn(kernel, st);
	luo_state_read_enter(kernel);
	try {
		if (!liveupdate_state_updated(kernel)) {
			kernel.pr_warn(`${PR}File can be retrieved only in updated state`);
			throw new Errno(EBUSY);
		}
		const h = st.xaIn.get(token);
		if (!h) throw new Errno(ENOENT);
		if (h.reclaimed) {
			kernel.pr_err(`${PR}The file descriptor for token ${BigInt.asIntN(64, token)} has already been retrieved`);
			throw new Errno(EINVAL);
		}
		const file = h.fs.retrieve(kernel, h.fs.arg, h.private_data);
		h.reclaimed = true;
		h.file = file.get();
		return file;
	} finally {
		luo_state_read_exit(kernel);
	}
}

/**
 * luo_files_fdt_setup(): the `/file-descriptors` node (always, even with
 * no file: F6) and one child per outgoing file named by its token, with
 * the handler's compatible and `data` 0 until the prepare calls fill it.
 * ENOSPC when the FDT is full.
 */
export function luo_files_fdt_setup(kernel: Kernel, fdt: Uint8Array): void {
	const st = luoFiles(kernel);
	let ret = fdt_add_subnode(fdt, 0, LUO_FILES_NODE_NAME);
	const parent = ret;
	if (ret >= 0) ret = fdt_setprop_string(fdt, parent, "compatible", LUO_FILES_COMPATIBLE);
	for (const [token, h] of byToken(st.xaOut)) {
		if (ret < 0) break;
		const node = (ret = fdt_add_subnode(fdt, parent, tokenStr(token)));
		if (ret >= 0) ret = fdt_setprop_string(fdt, node, "compatible", h.fs.compatible);
		if (ret >= 0) ret = fdt_setprop(fdt, node, "data", cpu_to_le64(0n));
	}
	if (ret < 0) {
		kernel.pr_err(`${PR}Failed to setup 'file-descriptors' node to FDT: ${fdt_strerror(ret)}`);
		throw new Errno(ENOSPC);
	}
	st.fdtOut = fdt;
}

/** luo_files_commit_data_to_fdt(): each file's data into its node; ENOSPC when the FDT is full. */
function commitDataToFdt(kernel: Kernel, st: LuoFilesState): void {
	const fdt = st.fdtOut!;
	const parent = fdt_subnode_offset(fdt, 0, LUO_FILES_NODE_NAME);
	for (const [token, h] of byToken(st.xaOut)) {
		const ret = fdt_setprop(fdt, fdt_subnode_offset(fdt, parent, tokenStr(token)), "data", cpu_to_le64(h.private_data));
		if (ret < 0) {
			kernel.pr_err(`${PR}Failed to set data property for token ${tokenStr(token)}: ${fdt_strerror(ret)}`);
			throw new Errno(ENOSPC);
		}
	}
}

/** __luo_do_files_cancel_calls(boundary): cancel for each file before `boundary` (all when null); data back to 0. */
function cancelCalls(kernel: Kernel, st: LuoFilesState, boundary: LuoFileOut | null): void {
	for (const [, h] of byToken(st.xaOut)) {
		if (h === boundary) break;
		if (h.fs.cancel) {
			h.fs.cancel(kernel, h.file, h.fs.arg, h.private_data);
			h.private_data = 0n;
		}
	}
}

/**
 * luo_do_files_prepare_calls(): prepare for each file in token order, then
 * the data into the FDT. A failing prepare cancels the files before it and
 * its error is thrown; a failed FDT write cancels them all (ENOSPC).
 */
export function luo_do_files_prepare_calls(kernel: Kernel): void {
	const st = luoFiles(kernel);
	for (const [token, h] of byToken(st.xaOut)) {
		if (!h.fs.prepare) continue;
		try {
			h.private_data = h.fs.prepare(kernel, h.file, h.fs.arg);
		} catch (e) {
			if (!(e instanceof Errno)) throw e;
			kernel.pr_err(`${PR}Prepare failed for file token ${tokenStr(token)} handler '${h.fs.compatible}' [${-e.errno}]`);
			cancelCalls(kernel, st, h);
			throw e;
		}
	}
	try {
		commitDataToFdt(kernel, st);
	} catch (e) {
		cancelCalls(kernel, st, null);
		throw e;
	}
}

/**
 * luo_do_files_freeze_calls(): freeze for each file, then the data into
 * the FDT; the first error is thrown. Unlike the seed it cancels nothing
 * itself: a failed freeze rolls back every participant in luo_core (C7).
 */
export function luo_do_files_freeze_calls(kernel: Kernel): void {
	const st = luoFiles(kernel);
	for (const [token, h] of byToken(st.xaOut)) {
		if (!h.fs.freeze) continue;
		try {
			h.private_data = h.fs.freeze(kernel, h.file, h.fs.arg, h.private_data);
		} catch (e) {
			if (e instanceof Errno) kernel.pr_err(`${PR}Freeze callback failed for file token ${tokenStr(token)} handler '${h.fs.compatible}' [${-e.errno}]`);
			throw e;
		}
	}
	commitDataToFdt(kernel, st);
}

/** luo_do_files_cancel_calls(): cancel for every outgoing file (tokens stay valid), data written back as 0. */
export function luo_do_files_cancel_calls(kernel: Kernel): void {
	const st = luoFiles(kernel);
	cancelCalls(kernel, st, null);
	commitDataToFdt(kernel, st);
}

/**
 * luo_do_files_finish_calls(): finish for each incoming file (with the
 * restored file or null, and whether it was reclaimed), then the incoming
 * files are freed and LUO's references on restored files dropped (F7).
 */
export function luo_do_files_finish_calls(kernel: Kernel): void {
	const st = luoFiles(kernel);
	recreateXaIn(kernel, st);
	for (const [, h] of byToken(st.xaIn)) h.fs.finish?.(kernel, h.file, h.fs.arg, h.private_data, h.reclaimed);
	const held = [...st.xaIn.values()];
	st.xaIn.clear();
	for (const h of held) h.file?.put();
}

/** luo_files_fdt_setup()'s FDT is gone (LUO's FDT was destroyed). */
export function luo_files_fdt_destroyed(kernel: Kernel): void {
	luoFiles(kernel).fdtOut = null;
}

/** The registered handlers (for introspection and the memfd handler's tests). */
export function luo_filesystems(kernel: Kernel): readonly LiveupdateFilesystem[] {
	return luoFiles(kernel).filesystems;
}

/** The outgoing tokens, ascending. */
export function luo_files_outgoing_tokens(kernel: Kernel): bigint[] {
	return byToken(luoFiles(kernel).xaOut).map(([t]) => t);
}

/** The incoming tokens LUO still tracks, ascending (empty before the first retrieve/FINISH and after FINISH). */
export function luo_files_incoming_tokens(kernel: Kernel): bigint[] {
	return byToken(luoFiles(kernel).xaIn).map(([t]) => t);
}
