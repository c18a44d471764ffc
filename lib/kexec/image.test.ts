import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { Errno, ENOEXEC } from "../kernel/errno.ts";
import { UTS_RELEASE, UTS_VERSION } from "../kernel/utsname.ts";
import { defaultConfig, type AbiGeneration } from "../kernel/kernel.ts";
import { O_RDONLY } from "../fs/fcntl.ts";
import { S_IFMT, S_IFREG } from "../fs/inode.ts";
import {
	BOOT_IMAGE_PATH,
	KERNEL_IMAGE_HEADER_SIZE,
	KERNEL_IMAGE_MAGIC,
	KERNEL_IMAGE_SECTION_HEADER_SIZE,
	KERNEL_IMAGE_VERSION,
	LIVEUPDATE_HNDL_COMPAT_LENGTH,
	LIVEUPDATE_VER_HDR_MAGIC,
	SECTION_IKCONFIG,
	SECTION_LIVEUPDATE_VERSIONS,
	ImageFormatError,
	buildImage,
	describeImage,
	encodeImage,
	encodeLiveupdateVersions,
	liveupdateVersionsOf,
	parseLiveupdateVersions,
	formatIkconfig,
	parseIkconfig,
	parseImage,
} from "./image.ts";

/** The errno parseImage throws for `bytes`, or 0 when it parses. */
function parseErrno(bytes: Uint8Array): number {
	try {
		parseImage(bytes);
		return 0;
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		throw e;
	}
}

function image(abi: AbiGeneration = "rfc-v2", versions: string[] = []): Uint8Array {
	return encodeImage({ abi, config: defaultConfig(abi), liveupdateVersions: versions });
}

/** A copy of `img` with `fn` applied to a DataView of it. */
function patched(img: Uint8Array, fn: (v: DataView, b: Uint8Array) => void): Uint8Array {
	const b = img.slice();
	fn(new DataView(b.buffer), b);
	return b;
}

t.test("an image names its generation, release and version, and carries the config", async (t) => {
	for (const abi of ["rfc-v2", "v2", "mainline"] as const) {
		const k = bootKernel({ abi, config: { PROC_FS: false } });
		const img = parseImage(buildImage(k));
		t.equal(img.abi, abi);
		t.equal(img.release, UTS_RELEASE);
		t.equal(img.version, UTS_VERSION);
		t.equal(img.formatVersion, KERNEL_IMAGE_VERSION);
		t.same(img.config, k.config, `${abi}: the whole config`);
		t.equal(img.config.PROC_FS, false);
	}
});

t.test("the header layout is the documented one", async (t) => {
	const b = image("mainline");
	const v = new DataView(b.buffer);
	t.equal(new TextDecoder().decode(b.subarray(0, 8)), KERNEL_IMAGE_MAGIC);
	t.equal(v.getUint32(8, true), 1);
	t.equal(v.getUint32(12, true), b.length);
	t.equal(new TextDecoder().decode(b.subarray(16, 24)), "mainline");
	t.equal(new TextDecoder().decode(b.subarray(32, 32 + UTS_RELEASE.length)), UTS_RELEASE);
	t.equal(v.getUint32(160, true), 2, "two sections");
	t.equal(new TextDecoder().decode(b.subarray(168, 168 + SECTION_IKCONFIG.length)), SECTION_IKCONFIG);
	const lvHdr = KERNEL_IMAGE_HEADER_SIZE + KERNEL_IMAGE_SECTION_HEADER_SIZE;
	const off = v.getUint32(lvHdr + 24, true);
	t.equal(off % 8, 0, "section data is 8-byte aligned");
	t.equal(v.getUint32(off, true), LIVEUPDATE_VER_HDR_MAGIC, "the versions section starts with 'LVUP'");
	t.equal(v.getUint32(off + 4, true), 1);
	t.equal(v.getUint32(lvHdr + 28, true), 8, "no entries yet: just the header");
});

t.test(".liveupdate_versions holds 48-byte entries, and is absent without CONFIG_LIVEUPDATE", async (t) => {
	const img = parseImage(image("mainline", ["luo-v1", "memfd-v1"]));
	t.same(img.liveupdateVersions, ["luo-v1", "memfd-v1"]);
	t.equal(img.sections.get(SECTION_LIVEUPDATE_VERSIONS)!.length, 8 + 2 * LIVEUPDATE_HNDL_COMPAT_LENGTH);
	t.same(parseImage(image()).liveupdateVersions, []);
	const off = parseImage(encodeImage({ abi: "v2", config: { ...defaultConfig("v2"), LIVEUPDATE: false } }));
	t.equal(off.liveupdateVersions, null);
	t.notOk(off.sections.has(SECTION_LIVEUPDATE_VERSIONS));
	t.throws(() => image("mainline", ["x".repeat(48)]), RangeError, "an entry needs room for its NUL");
});

t.test("ikconfig is .config text", async (t) => {
	const text = formatIkconfig({ ...defaultConfig("rfc-v2"), LIVEUPDATE: false });
	t.match(text, /^CONFIG_DEBUG_FS=y$/m);
	t.match(text, /^# CONFIG_LIVEUPDATE is not set$/m);
	t.same(parseIkconfig("CONFIG_LIVEUPDATE=y\n# CONFIG_PROC_FS is not set\nCONFIG_UNKNOWN_THING=y\n"), { LIVEUPDATE: true, PROC_FS: false });
	t.equal(parseIkconfig("CONFIG_LIVEUPDATE=m\n"), null);
});

t.test("anything else is ENOEXEC", async (t) => {
	const good = image("mainline", ["luo-v1"]);
	const lvHdr = KERNEL_IMAGE_HEADER_SIZE + KERNEL_IMAGE_SECTION_HEADER_SIZE;
	t.equal(parseErrno(new Uint8Array(0)), ENOEXEC, "empty");
	t.equal(parseErrno(new TextEncoder().encode("#!/bin/sh\necho not a kernel\n")), ENOEXEC, "a script");
	t.equal(parseErrno(good.subarray(0, KERNEL_IMAGE_HEADER_SIZE - 1)), ENOEXEC, "short header");
	t.equal(parseErrno(good.subarray(0, good.length - 1)), ENOEXEC, "truncated");
	const longer = new Uint8Array(good.length + 8);
	longer.set(good);
	t.equal(parseErrno(longer), ENOEXEC, "trailing bytes");
	t.equal(parseErrno(patched(good, (_v, b) => (b[0] = 0x4d))), ENOEXEC, "bad magic");
	t.equal(parseErrno(patched(good, (v) => v.setUint32(8, 2, true))), ENOEXEC, "format version 2");
	t.equal(parseErrno(patched(good, (_v, b) => b.set(new TextEncoder().encode("v3\0\0\0\0\0\0"), 16))), ENOEXEC, "unknown generation");
	t.equal(parseErrno(patched(good, (_v, b) => b.fill(0, 32, 96))), ENOEXEC, "empty release");
	t.equal(parseErrno(patched(good, (_v, b) => (b[95] = 0x41))), ENOEXEC, "release without NUL padding");
	t.equal(parseErrno(patched(good, (v) => v.setUint32(160, 17, true))), ENOEXEC, "too many sections");
	t.equal(parseErrno(patched(good, (v) => v.setUint32(164, 1, true))), ENOEXEC, "reserved field set");
	t.equal(parseErrno(patched(good, (v) => v.setUint32(lvHdr + 28, 0x10000, true))), ENOEXEC, "section past the end");
	t.equal(parseErrno(patched(good, (v) => v.setUint32(lvHdr + 24, v.getUint32(lvHdr + 24, true) + 4, true))), ENOEXEC, "misaligned section");
	t.equal(parseErrno(patched(good, (v) => v.setUint32(lvHdr + 24, 8, true))), ENOEXEC, "section inside the header");
	t.equal(parseErrno(patched(good, (_v, b) => b.copyWithin(lvHdr, KERNEL_IMAGE_HEADER_SIZE, KERNEL_IMAGE_HEADER_SIZE + 24))), ENOEXEC, "duplicate section name");
	const lvOff = new DataView(good.buffer).getUint32(lvHdr + 24, true);
	t.equal(parseErrno(patched(good, (v) => v.setUint32(lvOff, 0x12345678, true))), ENOEXEC, "bad versions magic");
	t.equal(parseErrno(patched(good, (v) => v.setUint32(lvOff + 4, 2, true))), ENOEXEC, "versions header version 2");
	t.equal(parseErrno(patched(good, (v) => v.setUint32(lvHdr + 28, 8 + 47, true))), ENOEXEC, "versions not a whole number of slots");
	const ikOff = new DataView(good.buffer).getUint32(KERNEL_IMAGE_HEADER_SIZE + 24, true);
	t.equal(parseErrno(patched(good, (_v, b) => (b[ikOff] = 0x3f))), ENOEXEC, "a bad .ikconfig line");
	t.equal(parseImage(good).abi, "mainline", "the original still parses");
});

/** The message describeImage (or `parse`) gives for `bytes`; "" when it parses. */
function why(bytes: Uint8Array, parse: (b: Uint8Array) => unknown = describeImage): string {
	try {
		parse(bytes);
		return "";
	} catch (e) {
		if (e instanceof ImageFormatError) return e.message;
		throw e;
	}
}

t.test("a versions section shorter than its header is a truncation error", async (t) => {
	t.equal(why(new Uint8Array(7), parseLiveupdateVersions), ".liveupdate_versions: truncated: 7 bytes, the header needs 8");
});

t.test("a versions section with a bad magic names the magic it found", async (t) => {
	const sec = patched(encodeLiveupdateVersions(["memfd-v2"]), (v) => v.setUint32(0, 0x12345678, true));
	t.equal(why(sec, parseLiveupdateVersions), ".liveupdate_versions: bad magic 0x12345678, expected 0x4c565550 ('LVUP')");
});

t.test("a versions section of another version is refused", async (t) => {
	const sec = patched(encodeLiveupdateVersions([]), (v) => v.setUint32(4, 2, true));
	t.equal(why(sec, parseLiveupdateVersions), ".liveupdate_versions: unsupported version 2, expected 1");
});

t.test("a versions section cut inside an entry is a truncation error", async (t) => {
	const sec = encodeLiveupdateVersions(["luo-v5", "memfd-v2"]).subarray(0, 8 + 48 + 20);
	t.equal(why(sec, parseLiveupdateVersions), ".liveupdate_versions: truncated: 68 bytes after the header is not a whole number of 48-byte entries");
});

t.test("an entry with no NUL in its 48 bytes is an unterminated string", async (t) => {
	const sec = patched(encodeLiveupdateVersions(["luo-v5", "memfd-v2"]), (_v, b) => b.fill(0x41, 8 + 48, 8 + 96));
	t.equal(why(sec, parseLiveupdateVersions), ".liveupdate_versions: entry 1 is not NUL-terminated within 48 bytes");
});

t.test("an entry with bytes after its NUL is not a zero-padded string", async (t) => {
	const sec = patched(encodeLiveupdateVersions(["luo-v5"]), (_v, b) => (b[8 + 40] = 1));
	t.equal(why(sec, parseLiveupdateVersions), ".liveupdate_versions: entry 0 is not a zero-padded UTF-8 string");
});

t.test("describeImage says why an image is not one, and the loader's parse says ENOEXEC", async (t) => {
	const good = image("mainline", ["luo-v5"]);
	t.equal(why(new TextEncoder().encode("#!/bin/sh\n")), "not a luosim kernel image: 10 bytes, the header needs 168");
	t.equal(why(patched(good, (_v, b) => (b[0] = 0x4d))), 'not a luosim kernel image: no "LUOSIMKI" magic');
	t.match(why(good.subarray(0, good.length - 1)), /^truncated or padded image/);
	const lvHdr = KERNEL_IMAGE_HEADER_SIZE + KERNEL_IMAGE_SECTION_HEADER_SIZE;
	const lvOff = new DataView(good.buffer).getUint32(lvHdr + 24, true);
	const bad = patched(good, (v) => v.setUint32(lvOff, 0, true));
	t.equal(why(bad), ".liveupdate_versions: bad magic 0x00000000, expected 0x4c565550 ('LVUP')");
	t.equal(parseErrno(bad), ENOEXEC);
});

t.test("buildImage lists what the build links in: LUO's ABI and memfd-v2 for mainline", async (t) => {
	t.same(parseImage(buildImage(bootKernel({ abi: "mainline" }))).liveupdateVersions, ["luo-v5", "memfd-v2"]);
	t.same(liveupdateVersionsOf("v2", defaultConfig("v2")), []);
});

t.test("every boot installs its image at /boot/vmlinuz, 0644 root", async (t) => {
	const k = bootKernel({ abi: "v2" });
	const f = k.vfs.open(null, BOOT_IMAGE_PATH, O_RDONLY);
	t.equal(f.inode.mode, S_IFREG | 0o644);
	t.equal(f.inode.mode & S_IFMT, S_IFREG);
	t.equal(f.inode.uid, 0);
	t.equal(f.inode.gid, 0);
	const bytes = k.vfs.kernelRead(f, f.inode.size, 0);
	f.put();
	t.same(bytes, buildImage(k));
	t.equal(parseImage(bytes).abi, "v2");
});
