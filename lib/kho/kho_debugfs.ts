/**
 * KHO's debugfs tree (kernel/kexec_handover_debug.c, RFC v2 patch 01),
 * present with CONFIG_KEXEC_HANDOVER_DEBUGFS when KHO is enabled:
 *
 *     /sys/kernel/debug/kho/
 *       out/finalize       0600  "0\n"/"1\n"; write 1 = finalize, 0 = abort
 *       out/scratch_phys   0400  "0x%llx\n" per scratch area
 *       out/scratch_len    0400  "0x%llx\n" per scratch area
 *       out/fdt            0400  the root FDT, only while finalized
 *       out/sub_fdts/NAME  0400  each kho_add_subtree() FDT, until abort
 *       in/fdt             0400  the incoming root FDT (KHO boot only)
 *       in/sub_fdts/NAME   0400  each incoming sub-FDT
 *
 * FDT files are debugfs blobs of `fdt_totalsize()` bytes measured when the
 * file is made, over physical memory (phys_to_virt): reading one reads the
 * frames as they are now. Without the config option every function here
 * is the seed's no-op stub.
 */
import type { Kernel } from "../kernel/kernel.ts";
import { Errno, EINVAL, ENOENT, ENOMEM, errnoReturn } from "../kernel/errno.ts";
import { debugfsCreateDir, debugfsCreateFile, debugfsRemove, simpleOpen, simpleReadFromBuffer, type DebugfsDentry } from "../fs/debugfs.ts";
import type { File, FileOperations } from "../fs/file.ts";
import { fdt_first_subnode, fdt_get_name, fdt_getprop, fdt_next_subnode, fdt_totalsize, le64_ld } from "../fdt/libfdt.ts";
import { hex, khoDebugfsEnabled, khoErr, khoReadFdt, khoState, khoWarn, PROP_SUB_FDT, type KhoSerialization } from "./kho_state.ts";
import { PAGE_SIZE } from "../mm/physmem.ts";

/** The largest FDT header totalsize luosim exposes: what fits in memory from the blob's start. */
function blobSize(kernel: Kernel, phys: number): number {
	const pm = kernel.machine.physmem;
	if (phys < 0 || phys + 8 > pm.sizeBytes) return 0;
	return Math.min(fdt_totalsize(pm.read(phys, 8)), pm.sizeBytes - phys);
}

/** What a physical-memory blob file reads: `size` bytes at `phys` of `kernel`'s machine. */
export interface PhysBlob {
	kernel: Kernel;
	phys: number;
	size: number;
}

/**
 * debugfs fops_blob over physical memory (simple_read_from_buffer of the
 * frames at read time, so later changes show), clipped to the end of
 * memory; both KHO eras' fdt and sub_fdts files use it.
 */
export const physBlobFops: FileOperations = {
	open: simpleOpen,
	read(file: File, count: number, ppos: { pos: number }): Uint8Array {
		const b = file.private_data as PhysBlob;
		if (ppos.pos < 0) throw new Errno(EINVAL);
		const pm = b.kernel.machine.physmem;
		const size = Math.max(0, Math.min(b.size, pm.sizeBytes - b.phys));
		if (ppos.pos >= size || count === 0) return new Uint8Array(0);
		const n = Math.min(count, size - ppos.pos);
		const out = pm.read(b.phys + ppos.pos, n);
		ppos.pos += n;
		return out;
	},
};

/** __kho_debugfs_fdt_add(): a 0400 blob `name` in `dir` for the FDT at `phys`; 0 or -errno. */
function fdtAdd(kernel: Kernel, list: DebugfsDentry[], dir: DebugfsDentry | null, name: string, phys: number): number {
	return errnoReturn(() => void list.push(debugfsCreateFile(kernel, name, 0o400, dir, { kernel, phys, size: blobSize(kernel, phys) } satisfies PhysBlob, physBlobFops)));
}

/** kho_debugfs_fdt_add(): out/sub_fdts/<name> for a kho_add_subtree() FDT; 0 or -errno. */
export function kho_debugfs_fdt_add(kernel: Kernel, ser: KhoSerialization, name: string, phys: number): number {
	if (!khoDebugfsEnabled(kernel)) return 0;
	return fdtAdd(kernel, ser.fdtList, ser.subFdtDir, name, phys);
}

/**
 * kho_out_update_debugfs_fdt(): once finalized, adds out/fdt; otherwise
 * removes out/fdt and every out/sub_fdts/<name> (one list holds them all).
 */
export function kho_out_update_debugfs_fdt(kernel: Kernel): number {
	if (!khoDebugfsEnabled(kernel)) return 0;
	const out = khoState(kernel).out;
	if (out.finalized) return fdtAdd(kernel, out.ser.fdtList, out.dir, "fdt", out.ser.fdt!.pfn * PAGE_SIZE);
	for (const d of out.ser.fdtList) debugfsRemove(d);
	out.ser.fdtList = [];
	return 0;
}

/**
 * out/scratch_phys (`addr`) and out/scratch_len (`size`): DEFINE_SHOW_ATTRIBUTE
 * files printing one "0x%llx" line per scratch area; the file's private
 * data is the kernel. Mainline KHO's debugfs uses them too.
 */
export function scratchFops(field: "addr" | "size"): FileOperations {
	const show = (file: File): Uint8Array =>
		new TextEncoder().encode(khoState(file.private_data as Kernel).scratch.map((a) => `${hex(a[field])}\n`).join(""));
	return {
		open: simpleOpen,
		read: (file, count, ppos) => simpleReadFromBuffer(count, ppos, show(file)),
		// seq_lseek: SEEK_SET and SEEK_CUR only.
		llseek(file, offset, whence) {
			const pos = whence === 0 ? offset : whence === 1 ? file.f_pos + offset : -1;
			if (pos < 0) throw new Errno(EINVAL);
			file.f_pos = pos;
			return pos;
		},
	};
}

function tryCreate(create: () => DebugfsDentry): DebugfsDentry | null {
	try {
		return create();
	} catch (e) {
		if (e instanceof Errno) return null;
		throw e;
	}
}

/** kho_debugfs_init(): the `kho` directory; 0 or -ENOENT. */
export function kho_debugfs_init(kernel: Kernel): number {
	if (!khoDebugfsEnabled(kernel)) return 0;
	const root = tryCreate(() => debugfsCreateDir(kernel, "kho", null));
	if (!root) return -ENOENT;
	khoState(kernel).debugfsRoot = root;
	return 0;
}

/** kho_out_debugfs_init(): out/ with sub_fdts/, scratch_phys, scratch_len and finalize (`finalizeFops`); 0, -ENOMEM or -ENOENT. */
export function kho_out_debugfs_init(kernel: Kernel, finalizeFops: FileOperations): number {
	if (!khoDebugfsEnabled(kernel)) return 0;
	const st = khoState(kernel);
	const dir = tryCreate(() => debugfsCreateDir(kernel, "out", st.debugfsRoot));
	if (!dir) return -ENOMEM;
	const sub = tryCreate(() => debugfsCreateDir(kernel, "sub_fdts", dir));
	const ok =
		sub &&
		tryCreate(() => debugfsCreateFile(kernel, "scratch_phys", 0o400, dir, kernel, scratchFops("addr"))) &&
		tryCreate(() => debugfsCreateFile(kernel, "scratch_len", 0o400, dir, kernel, scratchFops("size"))) &&
		tryCreate(() => debugfsCreateFile(kernel, "finalize", 0o600, dir, null, finalizeFops));
	if (!ok) {
		debugfsRemove(dir);
		return -ENOENT;
	}
	st.out.dir = dir;
	st.out.ser.subFdtDir = sub;
	return 0;
}

/**
 * kho_in_debugfs_init(): in/fdt and in/sub_fdts/<name> for each root child
 * with an 8-byte `fdt` property (others are skipped, a wrong length with a
 * warning). A failure is only logged: it does not stop KHO revival.
 */
export function kho_in_debugfs_init(kernel: Kernel, fdtPhys: number): void {
	if (!khoDebugfsEnabled(kernel)) return;
	const st = khoState(kernel);
	const dir = tryCreate(() => debugfsCreateDir(kernel, "in", st.debugfsRoot));
	if (!dir) {
		khoErr(kernel, `failed exposing handover FDT in debugfs: ${-ENOENT}`);
		return;
	}
	st.in.dir = dir;
	const sub = tryCreate(() => debugfsCreateDir(kernel, "sub_fdts", dir));
	let err = sub ? fdtAdd(kernel, st.in.fdtList, dir, "fdt", fdtPhys) : -ENOENT;
	if (err) {
		debugfsRemove(dir);
		st.in.dir = null;
		khoErr(kernel, `failed exposing handover FDT in debugfs: ${err}`);
		return;
	}
	const fdt = khoReadFdt(kernel, fdtPhys);
	for (let child = fdt_first_subnode(fdt, 0); child >= 0; child = fdt_next_subnode(fdt, child)) {
		const name = fdt_get_name(fdt, child) ?? "";
		const len = [0];
		const prop = fdt_getprop(fdt, child, PROP_SUB_FDT, len);
		if (!prop) continue;
		if (len[0] !== 8) {
			khoWarn(kernel, `node \`${name}\`'s prop \`fdt\` has invalid length: ${len[0]}`);
			continue;
		}
		const phys = Number(le64_ld(prop));
		err = fdtAdd(kernel, st.in.fdtList, sub, name, phys);
		if (err) khoWarn(kernel, `failed to add fdt \`${name}\` to debugfs: ${err}`);
	}
}
