/**
 * Test support for mainline KHO's tests (not part of the simulated
 * kernel): boot a `mainline` kernel, kexec into the next one on the same
 * machine with this era's handover, and reach the outgoing root FDT.
 */
import { Machine, type MachineOptions } from "../../kernel/machine.ts";
import type { BootOptions, Kernel } from "../../kernel/kernel.ts";
import { fdt_totalsize } from "../../fdt/libfdt.ts";
import { khoHandoverAddress } from "../kho_handover.ts";
import { kho_out_fdt } from "./kho_fdt.ts";
import { khoMainline } from "./kho_state.ts";
import type { KhoRadixTree } from "./kho_radix.ts";

export { dmesg, errnoOf, readBytes, readText, writeText } from "../testing.ts";

/** Small machines boot faster; 256 MiB leaves room for the default scratch areas. */
export const SMALL: MachineOptions = { memBytes: 256 * 1024 * 1024 };

/**
 * A fresh machine cold-booting a mainline kernel (KHO on by default), with
 * `liveupdate=off` before `boot.cmdline` so that KHO's tests see only
 * their own subtrees (LUO adds "LUO" at boot).
 */
export function bootMainline(boot: BootOptions = {}, machine: MachineOptions = SMALL): Kernel {
	return new Machine(machine).boot({ abi: "mainline", ...boot, cmdline: `liveupdate=off ${boot.cmdline ?? ""}` });
}

/**
 * kexec: `k`'s KHO handover to a new mainline kernel on the same machine,
 * booted with `k`'s command line plus `boot.cmdline` (as kexec_file_load
 * of /proc/cmdline would).
 */
export function kexecMainline(k: Kernel, boot: BootOptions = {}): Kernel {
	return k.machine.kexecBoot({ abi: "mainline", ...boot, fullCmdline: `${k.cmdline.text} ${boot.cmdline ?? ""}`.trim() }, khoHandoverAddress(k));
}

/** The outgoing root FDT as it stands (a copy of fdt_totalsize bytes). */
export function outFdt(k: Kernel): Uint8Array {
	const page = kho_out_fdt(k);
	if (!page) throw new Error("outFdt: KHO is not enabled");
	return page.slice(0, fdt_totalsize(page));
}

/** The live radix tree of `k` (kho_out.radix_tree). */
export function outTree(k: Kernel): KhoRadixTree {
	const tree = khoMainline(k).tree;
	if (!tree) throw new Error("outTree: KHO is not enabled");
	return tree;
}

/** Byte-for-byte equality (tap's deep compare is slow on megabytes). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
	return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}
