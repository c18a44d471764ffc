/**
 * Test support for test_kho's tests and the kho selftest's (not part of the
 * simulated kernel): boot with the module on, read the FDT it writes, find
 * what a kexec hands over from physical memory alone, and finalize + kexec
 * the way init.c does, optionally touching memory between the two boots.
 */
import { Machine, type MachineOptions } from "../kernel/machine.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { PhysicalMemory } from "../mm/physmem.ts";
import type { KexecJump } from "../kexec/reboot_event.ts";
import { fdt_getprop, fdt_path_offset, fdt_subnode_offset, le32_ld, le64_ld } from "../fdt/libfdt.ts";
import { kho_data_decode, KHO_DATA_SIZE, SETUP_DATA_HDR_SIZE } from "../kho/kho_handover.ts";
import { PROP_SUB_FDT } from "../kho/kho_state.ts";
import { writeText } from "../kho/testing.ts";
import { kexecNow, runOutcome } from "../kexec/testing.ts";
import { KHO_TEST_FDT } from "./test_kho.ts";

/**
 * The command line of the KHO selftest's kernel: the module on, and LUO off,
 * since tools/testing/selftests/kho/config has no CONFIG_LIVEUPDATE (a
 * seed-era LUO would keep KHO from finalizing again in an UPDATED kernel).
 */
export const TEST_KHO_ON = "liveupdate=off test_kho.enable=1";
/** The line a successful restore prints. */
export const RESTORE_SUCCEEDED = "test_kho: KHO restore succeeded";

/** A first boot on a fresh machine with test_kho on (plus `cmdline`). */
export function bootTestKho(cmdline = "", machine: MachineOptions = {}): Kernel {
	return new Machine(machine).boot({ cmdline: `${TEST_KHO_ON} ${cmdline}` });
}

/** The kernel's dmesg lines from test_kho. */
export function testKhoLines(k: Kernel): string[] {
	return k.log.all().map((r) => r.text).filter((s) => s.startsWith("test_kho:"));
}

/** One folio as folios_info records it. */
export interface KhoTestFolio {
	phys: number;
	order: number;
}

/** What a kho_test FDT says (null for a property that is missing). */
export interface KhoTestFdt {
	/** The raw `compatible` bytes. */
	compatible: Uint8Array | null;
	magic: Uint8Array | null;
	nr_folios: number | null;
	folios: KhoTestFolio[];
	csum: number | null;
}

/** Reads a kho_test FDT as test_kho wrote it (little-endian values). */
export function parseKhoTestFdt(fdt: Uint8Array): KhoTestFdt {
	const root = fdt_path_offset(fdt, "/");
	const data = fdt_path_offset(fdt, "/data");
	const nr = fdt_getprop(fdt, data, "nr_folios");
	const info = fdt_getprop(fdt, data, "folios_info");
	const csum = fdt_getprop(fdt, data, "csum");
	const folios: KhoTestFolio[] = [];
	for (let off = 0; info && off + 8 <= info.length; off += 8) {
		const v = le64_ld(info, off);
		folios.push({ phys: Number(v & ~0xfffn), order: Number(v & 0xfffn) });
	}
	return {
		compatible: fdt_getprop(fdt, root, "compatible")?.slice() ?? null,
		magic: fdt_getprop(fdt, root, "magic")?.slice() ?? null,
		nr_folios: nr ? le32_ld(nr) : null,
		folios,
		csum: csum ? le32_ld(csum) : null,
	};
}

/**
 * The kho_test sub-FDT a kexec hands over, found from the handover address
 * through physical memory only: setup_data -> kho_data -> root FDT ->
 * node `kho_test` -> its `fdt` address.
 */
export function handedOverKhoTest(pm: PhysicalMemory, handoverPhys: number): { fdtPhys: number; fdt: KhoTestFdt } {
	const kho = kho_data_decode(pm.read(handoverPhys + SETUP_DATA_HDR_SIZE, KHO_DATA_SIZE));
	const rootFdt = pm.read(kho.fdtAddr, kho.fdtSize);
	const node = fdt_subnode_offset(rootFdt, 0, KHO_TEST_FDT);
	const prop = fdt_getprop(rootFdt, node, PROP_SUB_FDT);
	if (!prop) throw new Error(`no ${KHO_TEST_FDT} subtree in the handover`);
	const fdtPhys = Number(le64_ld(prop));
	const size = new DataView(pm.read(fdtPhys + 4, 4).buffer).getUint32(0, false);
	return { fdtPhys, fdt: parseKhoTestFdt(pm.read(fdtPhys, size)) };
}

/**
 * init.c's finalize (`1` to /sys/kernel/debug/kho/out/finalize) unless
 * `finalize` is false, then kexec_file_load of /boot/vmlinuz with the same
 * command line and reboot(LINUX_REBOOT_CMD_KEXEC) from a root process. With
 * `between`, it runs on the memory after the old kernel stopped and before
 * the next one boots. Returns the kernel that runs next.
 */
export async function kexecTestKho(k: Kernel, opts: { finalize?: boolean; cmdline?: string; between?: (pm: PhysicalMemory, jump: KexecJump) => void } = {}): Promise<Kernel> {
	const m = k.machine;
	if (opts.finalize ?? true) writeText(k, "/sys/kernel/debug/kho/out/finalize", "1");
	const between = opts.between;
	if (between)
		m.kexecHandoff = (jump): void => {
			between(m.physmem, jump);
			m.bootJump(jump);
		};
	let ret = 0;
	const out = await runOutcome(k, (u) => {
		ret = kexecNow(u, opts.cmdline ?? k.cmdline.text);
	});
	m.kexecHandoff = null;
	if (out.kind !== "stopped" || !m.kernel) throw new Error(`kexec failed: ${ret}`);
	return m.kernel;
}
