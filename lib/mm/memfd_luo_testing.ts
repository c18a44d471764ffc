/**
 * Test support for the memfd handler's tests (not part of the simulated
 * kernel): mainline kernels, memfds made in the kernel, the handler's ops
 * called the way luo_file.c calls them, a kexec through kexec_file_load +
 * reboot(2), and the serialized records read back from physical memory.
 */
import { Machine, type MachineOptions } from "../kernel/machine.ts";
import { runOutcome, kexecNow } from "../kexec/testing.ts";
import { memfd_alloc_file } from "../fs/memfd.ts";
import { memfd_luo_handler } from "./memfd_luo.ts";
import { memfd_luo_ser, memfd_luo_folio_ser_read, MEMFD_LUO_FOLIO_SER_SIZE, type MemfdLuoFolioSer } from "./memfd_luo_ser.ts";
import { vmalloc_read, type VmallocArea } from "./vmalloc.ts";
import { PHYS_PFN, offset_in_page } from "./physmem.ts";
import type { BootOptions, Kernel } from "../kernel/kernel.ts";
import type { File } from "../fs/file.ts";
import type { LiveupdateFileOpArgs } from "../liveupdate/mainline/luo_file.ts";
import type { StructValues } from "../uaccess/struct.ts";

export { errnoOf } from "../fs/syscalls/testing.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A cold-booted mainline kernel (its default config: KHO on, liveupdate=on, the memfd handler). */
export function bootMainline(boot: BootOptions = {}, machine: MachineOptions = {}): Kernel {
	return new Machine(machine).boot({ abi: "mainline", ...boot });
}

/** A memfd made in the kernel as memfd_create("name", flags) makes it, holding `data` at 0. */
export function makeMemfd(k: Kernel, name: string, data = "", flags = 0): File {
	const f = memfd_alloc_file(k, `memfd:${name}`, flags);
	if (data) k.vfs.kernelWrite(f, enc.encode(data), 0);
	return f;
}

/** dmesg as one text, a line per record. */
export function dmesg(k: Kernel): string {
	return k.log.all().map((r) => r.text).join("\n");
}

/** `len` bytes of `f` at `pos`, as text. */
export function readText(k: Kernel, f: File, len: number, pos = 0): string {
	return dec.decode(k.vfs.kernelRead(f, len, pos));
}

/** Writes `text` into `f` at `pos`. */
export function writeText(k: Kernel, f: File, text: string, pos: number): number {
	return k.vfs.kernelWrite(f, enc.encode(text), pos);
}

/** struct liveupdate_file_op_args as luo_file.c fills it for one call. */
export function opArgs(k: Kernel, file: File | null, serialized_data = 0n, retrieve_status = 0): LiveupdateFileOpArgs {
	return { kernel: k, handler: memfd_luo_handler, retrieve_status, file, serialized_data, private_data: null };
}

/** preserve() of `f`: its args (serialized_data and private_data set). */
export function preserve(k: Kernel, f: File): LiveupdateFileOpArgs {
	const args = opArgs(k, f);
	memfd_luo_handler.ops.preserve(args);
	return args;
}

/** retrieve() in the next kernel of what preserve() returned as `data`: the new file. */
export function retrieve(k: Kernel, data: bigint): File {
	const args = opArgs(k, null, data);
	memfd_luo_handler.ops.retrieve(args);
	return args.file!;
}

/** The `struct memfd_luo_ser` at `phys`. */
export function readSer(k: Kernel, phys: bigint): StructValues<typeof memfd_luo_ser.fields> {
	const p = Number(phys);
	return memfd_luo_ser.decode(k.buddy.pm.page(PHYS_PFN(p)), offset_in_page(p));
}

/** Changes one field of the `struct memfd_luo_ser` at `phys` in place (a corrupt or future record). */
export function patchSer(k: Kernel, phys: bigint, field: "seals" | "pos" | "flags" | "nr_folios", value: number): void {
	const p = Number(phys);
	memfd_luo_ser.view(k.buddy.pm.page(PHYS_PFN(p)), offset_in_page(p)).set(field, value);
}

/** The folio array preserve() left in `private_data`, decoded. */
export function folioEntries(args: LiveupdateFileOpArgs, nr: number): MemfdLuoFolioSer[] {
	const area = (args.private_data as { folios: VmallocArea | null }).folios;
	if (!area) return [];
	const table = vmalloc_read(area, 0, nr * MEMFD_LUO_FOLIO_SER_SIZE);
	return Array.from({ length: nr }, (_, i) => memfd_luo_folio_ser_read(table, i));
}

/**
 * kexec_file_load of /boot/vmlinuz with the running command line, then
 * reboot(LINUX_REBOOT_CMD_KEXEC), from a root process: the kernel that
 * boots. Throws when the kexec does not happen.
 */
export async function kexec(k: Kernel): Promise<Kernel> {
	let ret = 0;
	const out = await runOutcome(k, (u) => {
		ret = kexecNow(u, k.cmdline.text);
	});
	if (out.kind !== "stopped" || !k.machine.kernel || k.machine.kernel === k) throw new Error(`kexec did not happen (${ret})`);
	return k.machine.kernel;
}
