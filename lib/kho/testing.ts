/**
 * Test support for KHO's tests (not part of the simulated kernel): boot a
 * kernel with KHO brought up, read and write its debugfs files as root,
 * build a small sub-FDT in a frame, kexec into the next kernel on the same
 * machine, and look at dmesg.
 */
import { Machine, type MachineOptions } from "../kernel/machine.ts";
import type { BootOptions, Kernel } from "../kernel/kernel.ts";
import { Errno, ENOMEM } from "../kernel/errno.ts";
import { O_RDONLY, O_WRONLY } from "../fs/fcntl.ts";
import {
	cpu_to_le64,
	fdt_begin_node,
	fdt_create,
	fdt_create_empty_tree,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_property,
	fdt_property_string,
	fdt_setprop_string,
} from "../fdt/libfdt.ts";
import { PAGE_SIZE, PFN_PHYS } from "../mm/physmem.ts";
import { khoHandoverAddress, khoScratchAreas, type KhoScratch } from "./kho.ts";
import { KhoMemTrack, kho_mem_serialize } from "./kho_mem.ts";
import { KHO_DATA_SIZE, SETUP_DATA_HDR_SIZE, SETUP_KEXEC_KHO } from "./kho_handover.ts";
import { kho_scratch_encode } from "./kho_scratch.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * KHO alone, as the KHO selftest's kernel config has it (no CONFIG_LIVEUPDATE):
 * LUO would add its own subtree and finalize notifier. A caller's
 * `liveupdate=` comes later on the command line and wins.
 */
const WITHOUT_LUO = "liveupdate=off";

function withoutLuo(boot: BootOptions): BootOptions {
	return { ...boot, cmdline: boot.cmdline ? `${WITHOUT_LUO} ${boot.cmdline}` : WITHOUT_LUO };
}

/** A fresh machine and a first-boot kernel (cold boot; Kernel boot runs khoInit), LUO off. */
export function bootKho(boot: BootOptions = {}, machine: MachineOptions = {}): Kernel {
	return new Machine(machine).boot(withoutLuo(boot));
}

/** kexec: hands `k`'s KHO data to a new kernel on the same machine (LUO off there too). */
export function kexec(k: Kernel, boot: BootOptions = {}): Kernel {
	return k.machine.kexecBoot(withoutLuo(boot), khoHandoverAddress(k));
}

export { errnoOf } from "../fs/syscalls/testing.ts";

/** The whole of a file as root, as bytes. */
export function readBytes(k: Kernel, path: string): Uint8Array {
	const f = k.vfs.open(null, path, O_RDONLY);
	try {
		const parts: Uint8Array[] = [];
		for (;;) {
			const b = k.vfs.kernelRead(f, 65536);
			if (b.length === 0) break;
			parts.push(b);
		}
		const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
		let off = 0;
		for (const p of parts) {
			out.set(p, off);
			off += p.length;
		}
		return out;
	} finally {
		f.put();
	}
}

/** The whole of a file as root, as text. */
export function readText(k: Kernel, path: string): string {
	return dec.decode(readBytes(k, path));
}

/** One write(2) of `text` to a file opened O_WRONLY as root: the count written. */
export function writeText(k: Kernel, path: string, text: string): number {
	const f = k.vfs.open(null, path, O_WRONLY);
	try {
		return k.vfs.kernelWrite(f, enc.encode(text));
	} finally {
		f.put();
	}
}

/** dmesg's texts. */
export function dmesg(k: Kernel): string[] {
	return k.log.all().map((r) => r.text);
}

/**
 * A one-page FDT with `compatible` in a fresh frame (what a KHO user hands
 * to kho_add_subtree): its physical address. The frame is not preserved.
 */
export function makeSubFdt(k: Kernel, compatible: string, size = PAGE_SIZE): number {
	const pages = Math.ceil(size / PAGE_SIZE);
	const order = Math.ceil(Math.log2(pages));
	const pfn = k.buddy.alloc_pages(order);
	if (pfn === null) throw new Errno(ENOMEM);
	const buf = k.machine.physmem.pages(pfn, 1 << order).subarray(0, size);
	if (fdt_create_empty_tree(buf, size) || fdt_setprop_string(buf, 0, "compatible", compatible)) throw new Error("makeSubFdt: libfdt failed");
	return PFN_PHYS(pfn);
}

/** What craftHandover writes. */
export interface CraftedHandover {
	/** The root node's compatible ("kho-v1" by default). */
	compatible?: string;
	/** Give the root a preserved-memory-map that preserves the FDT page and `preserve` (default true). */
	map?: boolean;
	/** More [pfn, order] blocks to record as preserved. */
	preserve?: [number, number][];
	/** Adds child nodes to the root (sequential-write libfdt calls). */
	nodes?: (fdt: Uint8Array) => void;
	/** Raw bytes for the FDT page instead of a built tree. */
	fdtBytes?: Uint8Array;
	/** The scratch array (`k`'s areas by default). */
	scratch?: KhoScratch[];
	/** setup_data type (SETUP_KEXEC_KHO by default) and payload length (32). */
	type?: number;
	len?: number;
}

/**
 * A handover written by hand into `k`'s memory, for what a correct kernel
 * never hands over: its setup_data address, for `machine.kexecBoot`.
 */
export function craftHandover(k: Kernel, c: CraftedHandover = {}): number {
	const pm = k.machine.physmem;
	const alloc = (): number => {
		const pfn = k.buddy.alloc_pages(0);
		if (pfn === null) throw new Errno(ENOMEM);
		return pfn;
	};
	const fdtPfn = alloc();
	let fdt = c.fdtBytes;
	if (!fdt) {
		fdt = new Uint8Array(PAGE_SIZE);
		let err = fdt_create(fdt, PAGE_SIZE) | fdt_finish_reservemap(fdt) | fdt_begin_node(fdt, "") | fdt_property_string(fdt, "compatible", c.compatible ?? "kho-v1");
		if (c.map ?? true) {
			const track = new KhoMemTrack();
			track.preserve(fdtPfn, 0);
			for (const [pfn, order] of c.preserve ?? []) track.preserve(pfn, order);
			err |= fdt_property(fdt, "preserved-memory-map", cpu_to_le64(kho_mem_serialize(k.buddy, track)!.firstChunkPhys));
		}
		c.nodes?.(fdt);
		err |= fdt_end_node(fdt) | fdt_finish(fdt);
		if (err) throw new Error(`craftHandover: libfdt error ${err}`);
	}
	pm.write(PFN_PHYS(fdtPfn), fdt);
	const scratch = kho_scratch_encode(c.scratch ?? [...khoScratchAreas(k)]);
	const phys = PFN_PHYS(alloc());
	const buf = new Uint8Array(SETUP_DATA_HDR_SIZE + KHO_DATA_SIZE + scratch.length);
	const v = new DataView(buf.buffer);
	v.setUint32(8, c.type ?? SETUP_KEXEC_KHO, true);
	v.setUint32(12, c.len ?? KHO_DATA_SIZE, true);
	v.setBigUint64(16, BigInt(PFN_PHYS(fdtPfn)), true);
	v.setBigUint64(24, BigInt(PAGE_SIZE), true);
	v.setBigUint64(32, BigInt(phys + SETUP_DATA_HDR_SIZE + KHO_DATA_SIZE), true);
	v.setBigUint64(40, BigInt(scratch.length), true);
	buf.set(scratch, SETUP_DATA_HDR_SIZE + KHO_DATA_SIZE);
	pm.write(phys, buf);
	return phys;
}
