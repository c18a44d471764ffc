/**
 * Mainline KHO's debugfs tree (kernel/liveupdate/kexec_handover_debugfs.c,
 * the blob-size aware version), present with CONFIG_KEXEC_HANDOVER_DEBUGFS
 * when KHO is enabled. Every file is 0400 and nothing is writable; there is
 * no `finalize`:
 *
 *     /sys/kernel/debug/kho/
 *       out/scratch_phys     "0x%llx\n" per scratch area
 *       out/scratch_len      "0x%llx\n" per scratch area
 *       out/fdt              the root FDT (made only on a boot that is not a KHO boot)
 *       out/sub_fdts/NAME    each kho_add_subtree() blob, blob-size bytes
 *       in/fdt               after a KHO boot: the incoming root FDT
 *       in/sub_fdts/NAME     each incoming node with preserved-data and blob-size
 *
 * A blob file (debugfs_create_blob) has the size given when it was made
 * and reads physical memory at read time (phys_to_virt), as the kernel's
 * do. So out/fdt keeps the size the root FDT had at kho_init, even after
 * kho_add_subtree() grew it; this is the kernel's behaviour, kept.
 */
import type { Kernel } from "../../kernel/kernel.ts";
import { Errno, ENOENT, ENOMEM, errnoReturn } from "../../kernel/errno.ts";
import { debugfsCreateDir, debugfsCreateFile, debugfsRemove, type DebugfsDentry } from "../../fs/debugfs.ts";
import { fdt_first_subnode, fdt_get_name, fdt_getprop, fdt_next_subnode } from "../../fdt/libfdt.ts";
import { physBlobFops, scratchFops, type PhysBlob } from "../kho_debugfs.ts";
import { khoDebugfsEnabled, khoReadFdt } from "../kho_state.ts";
import { KHO_SUB_TREE_PROP_NAME, KHO_SUB_TREE_SIZE_PROP_NAME, ld64 } from "./kho_abi.ts";
import { khoMainline, khoShared, type KhoDebugfs, type KhoDebugfsBlob } from "./kho_state.ts";

function tryCreate(create: () => DebugfsDentry): DebugfsDentry | null {
	try {
		return create();
	} catch (e) {
		if (e instanceof Errno) return null;
		throw e;
	}
}

/** __kho_debugfs_blob_add(): a 0400 blob file in `dir`; 0 or -errno. */
function blobAdd(kernel: Kernel, list: KhoDebugfsBlob[], dir: DebugfsDentry | null, name: string, phys: number, size: number): number {
	return errnoReturn(() => {
		const dentry = debugfsCreateFile(kernel, name, 0o400, dir, { kernel, phys, size } satisfies PhysBlob, physBlobFops);
		list.unshift({ dentry, phys, size });
	});
}

/**
 * kho_debugfs_blob_add(): `name` in out/ (`root`) or out/sub_fdts/; 0 or
 * -errno (-EEXIST when the name is taken). A no-op without debugfs.
 */
export function kho_debugfs_blob_add(kernel: Kernel, dbg: KhoDebugfs, name: string, phys: number, size: number, root: boolean): number {
	if (!khoDebugfsEnabled(kernel)) return 0;
	return blobAdd(kernel, dbg.blobs, root ? dbg.dir : dbg.subFdtDir, name, phys, size);
}

/** kho_debugfs_blob_remove(): the first blob file showing `phys` goes. */
export function kho_debugfs_blob_remove(dbg: KhoDebugfs, phys: number): void {
	const i = dbg.blobs.findIndex((b) => b.phys === phys);
	if (i < 0) return;
	debugfsRemove(dbg.blobs[i]!.dentry);
	dbg.blobs.splice(i, 1);
}

/** kho_debugfs_init(): the `kho` directory; 0 or -ENOENT. */
export function kho_debugfs_init(kernel: Kernel): number {
	if (!khoDebugfsEnabled(kernel)) return 0;
	const root = tryCreate(() => debugfsCreateDir(kernel, "kho", null));
	if (!root) return -ENOENT;
	khoShared(kernel).debugfsRoot = root;
	return 0;
}

/** kho_out_debugfs_init(): out/ with sub_fdts/, scratch_phys and scratch_len; 0, -ENOMEM or -ENOENT. */
export function kho_out_debugfs_init(kernel: Kernel): number {
	if (!khoDebugfsEnabled(kernel)) return 0;
	const dbg = khoMainline(kernel).outDbg;
	const dir = tryCreate(() => debugfsCreateDir(kernel, "out", khoShared(kernel).debugfsRoot));
	if (!dir) return -ENOMEM;
	const sub = tryCreate(() => debugfsCreateDir(kernel, "sub_fdts", dir));
	const ok =
		sub &&
		tryCreate(() => debugfsCreateFile(kernel, "scratch_phys", 0o400, dir, kernel, scratchFops("addr"))) &&
		tryCreate(() => debugfsCreateFile(kernel, "scratch_len", 0o400, dir, kernel, scratchFops("size")));
	if (!ok) {
		debugfsRemove(dir);
		return -ENOENT;
	}
	dbg.dir = dir;
	dbg.subFdtDir = sub;
	return 0;
}

/**
 * kho_in_debugfs_init(): in/fdt (fdt_totalsize bytes) and in/sub_fdts/NAME
 * for each root child with an 8-byte preserved-data and an 8-byte
 * blob-size (others are skipped with the kernel's warnings). A failure is
 * only logged: KHO revival goes on.
 */
export function kho_in_debugfs_init(kernel: Kernel, fdtPhys: number): void {
	if (!khoDebugfsEnabled(kernel)) return;
	const dbg = khoMainline(kernel).inDbg;
	const fdt = khoReadFdt(kernel, fdtPhys);
	let err = 0;
	const dir = tryCreate(() => debugfsCreateDir(kernel, "in", khoShared(kernel).debugfsRoot));
	const sub = dir && tryCreate(() => debugfsCreateDir(kernel, "sub_fdts", dir));
	if (!dir || !sub) err = -ENOENT;
	else err = blobAdd(kernel, dbg.blobs, dir, "fdt", fdtPhys, fdt.length);
	if (err) {
		if (dir) debugfsRemove(dir);
		kernel.pr_err(`KHO: failed exposing handover FDT in debugfs: ${err}`);
		return;
	}
	for (let child = fdt_first_subnode(fdt, 0); child >= 0; child = fdt_next_subnode(fdt, child)) {
		const name = fdt_get_name(fdt, child) ?? "";
		const len = [0];
		const blobPhys = fdt_getprop(fdt, child, KHO_SUB_TREE_PROP_NAME, len);
		if (!blobPhys) continue;
		if (len[0] !== 8) {
			kernel.pr_warn(`KHO: node ${name} prop ${KHO_SUB_TREE_PROP_NAME} has invalid length: ${len[0]}`);
			continue;
		}
		const blobSize = fdt_getprop(fdt, child, KHO_SUB_TREE_SIZE_PROP_NAME, len);
		if (!blobSize || len[0] !== 8) {
			kernel.pr_warn(`KHO: node ${name} missing or invalid ${KHO_SUB_TREE_SIZE_PROP_NAME} property`);
			continue;
		}
		err = blobAdd(kernel, dbg.blobs, sub, name, ld64(blobPhys, 0), ld64(blobSize, 0));
		if (err) kernel.pr_warn(`KHO: failed to add blob ${name} to debugfs: ${err}`);
	}
	dbg.dir = dir;
	dbg.subFdtDir = sub;
}
