/**
 * The luosim kernel image (DESIGN "Kernel image"): what `/boot/vmlinuz`
 * holds and what kexec_file_load(2) accepts, in the role of the x86
 * bzImage and its loader (arch/x86/kernel/kexec-bzimage64.c probe). It
 * names the ABI generation and the release, carries the build's
 * configuration (as CONFIG_IKCONFIG embeds it) and the
 * `.liveupdate_versions` section of seed 002 (include/asm-generic/
 * vmlinux.lds.h LIVEUPDATE_VERSIONS, include/linux/kho/abi/luo.h).
 *
 * Format version 1, little-endian:
 *
 *     off  size  field
 *       0     8  magic "LUOSIMKI"
 *       8     4  u32 format version (1)
 *      12     4  u32 size of the whole image in bytes
 *      16    16  generation ("rfc-v2", "v2", "mainline"), NUL-padded
 *      32    64  release (uname -r), NUL-padded, not empty
 *      96    64  version (uname -v), NUL-padded
 *     160     4  u32 number of sections N (at most 16)
 *     164     4  u32 reserved, 0
 *     168  N*32  section headers: char name[24] (NUL-padded, unique),
 *                u32 offset from the image start, u32 size
 *       …        section bytes, each at an 8-byte aligned offset, inside
 *                the image
 *
 * Sections of a version 1 image:
 *
 * - `.ikconfig`: the Kconfig switches, one per line, as `.config` has
 *   them (`CONFIG_X=y`, `# CONFIG_X is not set`); the kernel a kexec
 *   boots is built with these. Missing: the generation's defaults.
 * - `.liveupdate_versions`, present when CONFIG_LIVEUPDATE=y (the linker
 *   macro is empty otherwise): `struct liveupdate_ver_hdr { u32 magic
 *   (LIVEUPDATE_VER_HDR_MAGIC, 'LVUP'); u32 version (1); }` followed by
 *   N zero-padded 48-byte version strings (LIVEUPDATE_HNDL_COMPAT_LENGTH),
 *   what the build links in (liveupdateVersionsOf): a mainline kernel lists
 *   LUO's ABI ("luo-v5") and each built-in file handler ("memfd-v2" with
 *   CONFIG_LIVEUPDATE_MEMFD); the seed-era generations predate seed 002 and
 *   carry the header with no entries.
 *
 * Anything that does not parse as such an image is ENOEXEC: no loader
 * recognises it. Tools that want to say why (`luosim versions`) call
 * describeImage() and parseLiveupdateVersions(), which throw an
 * ImageFormatError naming the defect.
 */
import { Errno, ENOEXEC } from "../kernel/errno.ts";
import type { AbiGeneration, Kernel, KernelConfig } from "../kernel/kernel.ts";
import { UTS_RELEASE, UTS_VERSION } from "../kernel/utsname.ts";
import { O_CREAT, O_TRUNC, O_WRONLY } from "../fs/fcntl.ts";
import { LUO_ABI_COMPATIBLE } from "../liveupdate/mainline/luo_abi.ts";

/** First bytes of every image. */
export const KERNEL_IMAGE_MAGIC = "LUOSIMKI";
/** The format version written and read. */
export const KERNEL_IMAGE_VERSION = 1;
/** Bytes before the section headers. */
export const KERNEL_IMAGE_HEADER_SIZE = 168;
/** Bytes of one section header. */
export const KERNEL_IMAGE_SECTION_HEADER_SIZE = 32;
/** The most sections an image may have. */
export const KERNEL_IMAGE_MAX_SECTIONS = 16;
/** Where the running kernel's image is installed at boot. */
export const BOOT_IMAGE_PATH = "/boot/vmlinuz";

/** The embedded configuration. */
export const SECTION_IKCONFIG = ".ikconfig";
/** The section userspace reads to compare LUO versions between kernels (seed 002). */
export const SECTION_LIVEUPDATE_VERSIONS = ".liveupdate_versions";
/** LIVEUPDATE_VER_HDR_MAGIC: 'LVUP'. */
export const LIVEUPDATE_VER_HDR_MAGIC = 0x4c565550;
/** LIVEUPDATE_VER_HDR_VER. */
export const LIVEUPDATE_VER_HDR_VER = 1;
/** sizeof(struct liveupdate_ver_hdr). */
export const LIVEUPDATE_VER_HDR_SIZE = 8;
/** LIVEUPDATE_HNDL_COMPAT_LENGTH: one version string slot, NUL included. */
export const LIVEUPDATE_HNDL_COMPAT_LENGTH = 48;

const GEN_OFF = 16;
const GEN_LEN = 16;
const RELEASE_OFF = 32;
const RELEASE_LEN = 64;
const UTSVER_OFF = 96;
const UTSVER_LEN = 64;
const NSECT_OFF = 160;
const SECT_NAME_LEN = 24;

/** What a kernel image says about the kernel it holds. */
export interface KernelImage {
	formatVersion: number;
	abi: AbiGeneration;
	release: string;
	version: string;
	/** The Kconfig switches `.ikconfig` sets (the rest take the generation's defaults). */
	config: Partial<KernelConfig>;
	/** The `.liveupdate_versions` entries; null when the image has no such section. */
	liveupdateVersions: string[] | null;
	/** Every section's bytes, by name. */
	sections: Map<string, Uint8Array>;
}

/** What to build an image of. */
export interface ImageSpec {
	abi: AbiGeneration;
	release?: string;
	version?: string;
	config: KernelConfig;
	/** `.liveupdate_versions` entries (each under 48 bytes); the section exists when config.LIVEUPDATE. */
	liveupdateVersions?: readonly string[];
}

/** Why an image or its `.liveupdate_versions` section does not parse (the loader turns it into ENOEXEC). */
export class ImageFormatError extends Error {}

/**
 * What the linker collects into `.liveupdate_versions` (seed 002): luo_core.c's
 * LIVEUPDATE_SEC_VERSION(luo_ver, LUO_ABI_COMPATIBLE) and each
 * LIVEUPDATE_FILE_HANDLER() of a built-in handler, with the Kconfig switch
 * that builds it. The memfd string is MEMFD_LUO_FH_COMPATIBLE
 * (lib/mm/memfd_luo_ser.ts; a test checks they agree).
 */
const LINKED_LIVEUPDATE_VERSIONS: readonly { abi: AbiGeneration; version: string; kconfig: keyof KernelConfig }[] = [
	{ abi: "mainline", version: LUO_ABI_COMPATIBLE, kconfig: "LIVEUPDATE" },
	{ abi: "mainline", version: "memfd-v2", kconfig: "LIVEUPDATE_MEMFD" },
];

/** The `.liveupdate_versions` entries of a build of `abi` with `config`: none without CONFIG_LIVEUPDATE. */
export function liveupdateVersionsOf(abi: AbiGeneration, config: KernelConfig): string[] {
	if (!config.LIVEUPDATE) return [];
	return LINKED_LIVEUPDATE_VERSIONS.filter((e) => e.abi === abi && config[e.kconfig]).map((e) => e.version);
}

/** The generations an image may name (a Record, so the compiler checks it has them all). */
const GENERATIONS: Readonly<Record<AbiGeneration, true>> = { "rfc-v2": true, v2: true, mainline: true };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function putString(buf: Uint8Array, off: number, len: number, s: string, what: string): void {
	const b = encoder.encode(s);
	if (b.length >= len) throw new RangeError(`kernel image: ${what} '${s}' does not fit in ${len - 1} bytes`);
	buf.set(b, off);
}

/** A NUL-padded field: the text before the first NUL; null if the rest is not all NUL or the text is not UTF-8. */
function getString(buf: Uint8Array, off: number, len: number): string | null {
	const field = buf.subarray(off, off + len);
	const nul = field.indexOf(0);
	if (nul < 0 || field.subarray(nul).some((c) => c !== 0)) return null;
	try {
		return decoder.decode(field.subarray(0, nul));
	} catch {
		return null;
	}
}

/** The `.config` lines of `config`, in KernelConfig's key order. */
export function formatIkconfig(config: KernelConfig): string {
	return Object.entries(config).map(([k, v]) => (v ? `CONFIG_${k}=y\n` : `# CONFIG_${k} is not set\n`)).join("");
}

/** Reads `.ikconfig` text: the known switches it sets; null for a line that is neither form. */
export function parseIkconfig(text: string): Partial<KernelConfig> | null {
	const known = new Set(Object.keys(defaultKeys));
	const out: Record<string, boolean> = {};
	for (const line of text.split("\n")) {
		if (line === "") continue;
		const on = /^CONFIG_([A-Z0-9_]+)=y$/.exec(line);
		const off = /^# CONFIG_([A-Z0-9_]+) is not set$/.exec(line);
		const key = on?.[1] ?? off?.[1];
		if (key === undefined) return null;
		if (known.has(key)) out[key] = on !== null;
	}
	return out as Partial<KernelConfig>;
}

/** The switch names a KernelConfig has (values unused). */
const defaultKeys: Record<keyof KernelConfig, true> = {
	DEBUG_FS: true,
	PROC_FS: true,
	KEXEC_HANDOVER: true,
	KEXEC_HANDOVER_DEBUGFS: true,
	KEXEC_HANDOVER_ENABLE_DEFAULT: true,
	LIVEUPDATE: true,
	LIVEUPDATE_MEMFD: true,
	LIVEUPDATE_SELFTESTS: true,
};

/** The `.liveupdate_versions` bytes for `entries`. */
export function encodeLiveupdateVersions(entries: readonly string[]): Uint8Array {
	const out = new Uint8Array(LIVEUPDATE_VER_HDR_SIZE + entries.length * LIVEUPDATE_HNDL_COMPAT_LENGTH);
	const v = new DataView(out.buffer);
	v.setUint32(0, LIVEUPDATE_VER_HDR_MAGIC, true);
	v.setUint32(4, LIVEUPDATE_VER_HDR_VER, true);
	entries.forEach((s, i) => putString(out, LIVEUPDATE_VER_HDR_SIZE + i * LIVEUPDATE_HNDL_COMPAT_LENGTH, LIVEUPDATE_HNDL_COMPAT_LENGTH, s, "version string"));
	return out;
}

function hex32(n: number): string {
	return `0x${n.toString(16).padStart(8, "0")}`;
}

/**
 * Parses `.liveupdate_versions` as seed 002's parser does (magic, version,
 * then 48-byte NUL-terminated strings). ImageFormatError for a section
 * shorter than its header, a bad magic, a version other than 1, a size
 * that is not a whole number of slots, a slot with no NUL, bytes after a
 * NUL that are not zero, or text that is not UTF-8.
 */
export function parseLiveupdateVersions(sec: Uint8Array): string[] {
	const what = SECTION_LIVEUPDATE_VERSIONS;
	if (sec.length < LIVEUPDATE_VER_HDR_SIZE) throw new ImageFormatError(`${what}: truncated: ${sec.length} bytes, the header needs ${LIVEUPDATE_VER_HDR_SIZE}`);
	const v = new DataView(sec.buffer, sec.byteOffset, sec.byteLength);
	const magic = v.getUint32(0, true);
	if (magic !== LIVEUPDATE_VER_HDR_MAGIC) throw new ImageFormatError(`${what}: bad magic ${hex32(magic)}, expected ${hex32(LIVEUPDATE_VER_HDR_MAGIC)} ('LVUP')`);
	const version = v.getUint32(4, true);
	if (version !== LIVEUPDATE_VER_HDR_VER) throw new ImageFormatError(`${what}: unsupported version ${version}, expected ${LIVEUPDATE_VER_HDR_VER}`);
	const body = sec.length - LIVEUPDATE_VER_HDR_SIZE;
	if (body % LIVEUPDATE_HNDL_COMPAT_LENGTH !== 0)
		throw new ImageFormatError(`${what}: truncated: ${body} bytes after the header is not a whole number of ${LIVEUPDATE_HNDL_COMPAT_LENGTH}-byte entries`);
	const out: string[] = [];
	for (let i = 0; i < body / LIVEUPDATE_HNDL_COMPAT_LENGTH; i++) {
		const off = LIVEUPDATE_VER_HDR_SIZE + i * LIVEUPDATE_HNDL_COMPAT_LENGTH;
		const slot = sec.subarray(off, off + LIVEUPDATE_HNDL_COMPAT_LENGTH);
		if (slot.indexOf(0) < 0) throw new ImageFormatError(`${what}: entry ${i} is not NUL-terminated within ${LIVEUPDATE_HNDL_COMPAT_LENGTH} bytes`);
		const s = getString(sec, off, LIVEUPDATE_HNDL_COMPAT_LENGTH);
		if (s === null) throw new ImageFormatError(`${what}: entry ${i} is not a zero-padded UTF-8 string`);
		out.push(s);
	}
	return out;
}

/** Parses `.liveupdate_versions`; null when parseLiveupdateVersions() finds a defect. */
export function decodeLiveupdateVersions(sec: Uint8Array): string[] | null {
	try {
		return parseLiveupdateVersions(sec);
	} catch (e) {
		if (e instanceof ImageFormatError) return null;
		throw e;
	}
}

/** Lays out an image of `spec` in the format above. */
export function encodeImage(spec: ImageSpec): Uint8Array {
	const sections: [string, Uint8Array][] = [[SECTION_IKCONFIG, encoder.encode(formatIkconfig(spec.config))]];
	if (spec.config.LIVEUPDATE) sections.push([SECTION_LIVEUPDATE_VERSIONS, encodeLiveupdateVersions(spec.liveupdateVersions ?? [])]);
	let off = KERNEL_IMAGE_HEADER_SIZE + sections.length * KERNEL_IMAGE_SECTION_HEADER_SIZE;
	const placed = sections.map(([name, data]) => {
		off = (off + 7) & ~7;
		const at = off;
		off += data.length;
		return { name, data, at };
	});
	const out = new Uint8Array(off);
	const v = new DataView(out.buffer);
	out.set(encoder.encode(KERNEL_IMAGE_MAGIC), 0);
	v.setUint32(8, KERNEL_IMAGE_VERSION, true);
	v.setUint32(12, out.length, true);
	putString(out, GEN_OFF, GEN_LEN, spec.abi, "generation");
	putString(out, RELEASE_OFF, RELEASE_LEN, spec.release ?? UTS_RELEASE, "release");
	putString(out, UTSVER_OFF, UTSVER_LEN, spec.version ?? UTS_VERSION, "version");
	v.setUint32(NSECT_OFF, placed.length, true);
	placed.forEach(({ name, data, at }, i) => {
		const h = KERNEL_IMAGE_HEADER_SIZE + i * KERNEL_IMAGE_SECTION_HEADER_SIZE;
		putString(out, h, SECT_NAME_LEN, name, "section name");
		v.setUint32(h + SECT_NAME_LEN, at, true);
		v.setUint32(h + SECT_NAME_LEN + 4, data.length, true);
		out.set(data, at);
	});
	return out;
}

/** The image of the running kernel: its generation, release, configuration and linked-in LUO versions. */
export function buildImage(kernel: Kernel, liveupdateVersions: readonly string[] = liveupdateVersionsOf(kernel.abi, kernel.config)): Uint8Array {
	return encodeImage({ abi: kernel.abi, config: kernel.config, liveupdateVersions });
}

function bad(why: string): never {
	throw new ImageFormatError(why);
}

/**
 * Parses an image and says what is wrong with one that does not parse:
 * ImageFormatError naming the defect (not an image, truncated, a bad
 * header field, a bad section table, a malformed section).
 */
export function describeImage(bytes: Uint8Array): KernelImage {
	if (bytes.length < KERNEL_IMAGE_HEADER_SIZE) bad(`not a luosim kernel image: ${bytes.length} bytes, the header needs ${KERNEL_IMAGE_HEADER_SIZE}`);
	const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	for (let i = 0; i < KERNEL_IMAGE_MAGIC.length; i++) if (bytes[i] !== KERNEL_IMAGE_MAGIC.charCodeAt(i)) bad(`not a luosim kernel image: no "${KERNEL_IMAGE_MAGIC}" magic`);
	const formatVersion = v.getUint32(8, true);
	if (formatVersion !== KERNEL_IMAGE_VERSION) bad(`unsupported image format version ${formatVersion}, expected ${KERNEL_IMAGE_VERSION}`);
	if (v.getUint32(12, true) !== bytes.length) bad(`truncated or padded image: the header says ${v.getUint32(12, true)} bytes, the file has ${bytes.length}`);
	const gen = getString(bytes, GEN_OFF, GEN_LEN);
	if (gen === null || !Object.hasOwn(GENERATIONS, gen)) bad(`unknown generation ${JSON.stringify(gen)}`);
	const release = getString(bytes, RELEASE_OFF, RELEASE_LEN);
	const version = getString(bytes, UTSVER_OFF, UTSVER_LEN);
	if (!release || version === null) bad("malformed release or version string");
	const n = v.getUint32(NSECT_OFF, true);
	if (n > KERNEL_IMAGE_MAX_SECTIONS || v.getUint32(NSECT_OFF + 4, true) !== 0) bad(`bad section count ${n} (at most ${KERNEL_IMAGE_MAX_SECTIONS})`);
	const dataStart = KERNEL_IMAGE_HEADER_SIZE + n * KERNEL_IMAGE_SECTION_HEADER_SIZE;
	if (dataStart > bytes.length) bad("truncated section table");
	const sections = new Map<string, Uint8Array>();
	for (let i = 0; i < n; i++) {
		const h = KERNEL_IMAGE_HEADER_SIZE + i * KERNEL_IMAGE_SECTION_HEADER_SIZE;
		const name = getString(bytes, h, SECT_NAME_LEN);
		const off = v.getUint32(h + SECT_NAME_LEN, true);
		const size = v.getUint32(h + SECT_NAME_LEN + 4, true);
		if (!name || sections.has(name)) bad(`section ${i}: missing or duplicate name`);
		if (off % 8 !== 0 || off < dataStart || off + size > bytes.length) bad(`section ${name}: bytes ${off}..${off + size} are not inside the image`);
		sections.set(name, bytes.slice(off, off + size));
	}
	let config: Partial<KernelConfig> = {};
	const ik = sections.get(SECTION_IKCONFIG);
	if (ik) {
		let text = "";
		try {
			text = decoder.decode(ik);
		} catch {
			bad(`${SECTION_IKCONFIG}: not UTF-8 text`);
		}
		config = parseIkconfig(text) ?? bad(`${SECTION_IKCONFIG}: a line is not a .config line`);
	}
	const lv = sections.get(SECTION_LIVEUPDATE_VERSIONS);
	const liveupdateVersions = lv ? parseLiveupdateVersions(lv) : null;
	return { formatVersion, abi: gen as AbiGeneration, release, version, config, liveupdateVersions, sections };
}

/**
 * The loader's probe and parse (bzImage64_probe + load): the image's
 * description, or ENOEXEC for anything that is not a well-formed image of
 * a generation luosim has (describeImage() says why).
 */
export function parseImage(bytes: Uint8Array): KernelImage {
	try {
		return describeImage(bytes);
	} catch (e) {
		if (e instanceof ImageFormatError) throw new Errno(ENOEXEC);
		throw e;
	}
}

/**
 * Installs the running kernel's image at /boot/vmlinuz, mode 0644, owned
 * by root: what `make install` leaves for the next `kexec -s`. Boot calls
 * it once the filesystems are mounted.
 */
export function installBootImage(kernel: Kernel): void {
	const f = kernel.vfs.open(null, BOOT_IMAGE_PATH, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
	try {
		kernel.vfs.kernelWrite(f, buildImage(kernel), 0);
	} finally {
		f.put();
	}
}
