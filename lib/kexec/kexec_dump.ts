/**
 * Kexec through a file (DESIGN rule 5): the jump a kexec makes, written
 * out with the Machine's frames, so that the next kernel boots in another
 * host process from the file alone. That process gets exactly what a real
 * next kernel gets: physical memory, the loaded image, its command line
 * and the KHO handover address; nothing of the old kernel's JS objects.
 *
 * File format, version 1, little-endian:
 *
 *     off  size  field
 *       0     8  magic "LUOSIMKX"
 *       8     4  u32 version (1)
 *      12     4  u32 flags: bit 0 = a KHO handover address is present
 *      16     8  u64 handover address (0 without bit 0)
 *      24     4  u32 image length I
 *      28     4  u32 command line length C (UTF-8, no NUL)
 *      32     I  the loaded kernel image, as kexec_file_load read it
 *    32+I     C  the command line
 *       …        zero padding to a multiple of 8
 *       …        the physical memory, in lib/mm/physmem_dump.ts's format
 */
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { dumpTo, loadFrom } from "../mm/physmem_dump.ts";
import { Machine } from "../kernel/machine.ts";
import { kernel_kexec, makeKexecJump } from "./kexec_core.ts";
import type { PhysicalMemory } from "../mm/physmem.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { KexecJump, RebootEvent } from "./reboot_event.ts";

/** First bytes of a kexec dump. */
export const KEXEC_DUMP_MAGIC = "LUOSIMKX";
/** The format version written and read. */
export const KEXEC_DUMP_VERSION = 1;
/** Flag: the handover address field is valid. */
export const KEXEC_DUMP_HANDOVER = 1;
const HEADER_BYTES = 32;

function writeAll(fd: number, bytes: Uint8Array): void {
	let off = 0;
	while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** Writes `jump` and the frames of `pm` to `path`. */
export function writeKexecDump(path: string, pm: PhysicalMemory, jump: KexecJump): void {
	const cmd = new TextEncoder().encode(jump.cmdline);
	const len = HEADER_BYTES + jump.image.length + cmd.length;
	const head = new Uint8Array((len + 7) & ~7);
	const v = new DataView(head.buffer);
	head.set(new TextEncoder().encode(KEXEC_DUMP_MAGIC), 0);
	v.setUint32(8, KEXEC_DUMP_VERSION, true);
	v.setUint32(12, jump.handoverPhys === null ? 0 : KEXEC_DUMP_HANDOVER, true);
	v.setBigUint64(16, BigInt(jump.handoverPhys ?? 0), true);
	v.setUint32(24, jump.image.length, true);
	v.setUint32(28, cmd.length, true);
	head.set(jump.image, HEADER_BYTES);
	head.set(cmd, HEADER_BYTES + jump.image.length);
	const fd = openSync(path, "w");
	try {
		writeAll(fd, head);
		dumpTo(pm, (b) => writeAll(fd, b));
	} finally {
		closeSync(fd);
	}
}

/**
 * Reads a kexec dump: the memory and the jump. A malformed file throws an
 * Error saying what is wrong (an image that no longer parses: ENOEXEC).
 */
export function readKexecDump(path: string): { physmem: PhysicalMemory; jump: KexecJump } {
	const bytes = new Uint8Array(readFileSync(path));
	if (bytes.length < HEADER_BYTES) throw new Error("kexec dump: truncated header");
	const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (new TextDecoder().decode(bytes.subarray(0, 8)) !== KEXEC_DUMP_MAGIC) throw new Error("kexec dump: bad magic");
	const version = v.getUint32(8, true);
	if (version !== KEXEC_DUMP_VERSION) throw new Error(`kexec dump: unsupported version ${version}`);
	const flags = v.getUint32(12, true);
	if (flags & ~KEXEC_DUMP_HANDOVER) throw new Error(`kexec dump: unknown flags 0x${flags.toString(16)}`);
	const imageLen = v.getUint32(24, true);
	const cmdLen = v.getUint32(28, true);
	const end = HEADER_BYTES + imageLen + cmdLen;
	const memStart = (end + 7) & ~7;
	if (memStart > bytes.length) throw new Error("kexec dump: truncated image or command line");
	const image = bytes.slice(HEADER_BYTES, HEADER_BYTES + imageLen);
	const cmdline = new TextDecoder().decode(bytes.subarray(HEADER_BYTES + imageLen, end));
	const handoverPhys = flags & KEXEC_DUMP_HANDOVER ? Number(v.getBigUint64(16, true)) : null;
	const physmem = loadFrom(bytes.subarray(memStart));
	return { physmem, jump: makeKexecJump(image, cmdline, handoverPhys) };
}

/**
 * reboot(LINUX_REBOOT_CMD_KEXEC) of `kernel` with the jump written to
 * `path` instead of booting here: the loaded image, the reboot notifiers
 * (and their veto), then the dump. Throws Errno as reboot(2) fails
 * (EINVAL with nothing loaded, a notifier's errno). Afterwards `kernel`
 * has stopped and its machine runs nothing; boot the next kernel with
 * `bootFromDump(path)`, in this host process or another.
 */
export function kexecViaFile(kernel: Kernel, path: string): RebootEvent {
	const m = kernel.machine;
	m.kexecHandoff = (jump) => writeKexecDump(path, m.physmem, jump);
	try {
		return kernel_kexec(kernel);
	} finally {
		m.kexecHandoff = null;
	}
}

/**
 * The other half: a new Machine over the dumped memory warm-boots the
 * dumped image with its command line and handover. Returns the kernel, or
 * null when it panicked while booting (then `machine.lastReboot` says so).
 * The firmware of the new machine boots that image's generation and
 * configuration on a restart; `serialConsole` receives a panic's lines.
 */
export function bootFromDump(path: string, opts: { serialConsole?: (data: Uint8Array) => void } = {}): { machine: Machine; kernel: Kernel | null } {
	const { physmem, jump } = readKexecDump(path);
	const machine = new Machine({ physmem });
	machine.serialConsole = opts.serialConsole ?? null;
	machine.firmwareBoot = { abi: jump.boot.abi, config: jump.boot.config };
	return { machine, kernel: machine.bootJump(jump) };
}
