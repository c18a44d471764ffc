import t from "tap";
import { fileURLToPath } from "node:url";
import { cliMain, type CliIo } from "./main.ts";
import { runSelftests } from "./selftests.ts";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, type KernelConfig } from "../kernel/kernel.ts";
import { UTS_RELEASE } from "../kernel/utsname.ts";
import { KERNEL_IMAGE_HEADER_SIZE, KERNEL_IMAGE_SECTION_HEADER_SIZE, encodeImage, liveupdateVersionsOf } from "../kexec/image.ts";

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const EXIT3 = here("./testdata/exit3.ts");
const ROOT = here("./testdata/selftests");

function capture(): CliIo & { out: () => string; err: () => string } {
	let out = "";
	let err = "";
	const text = (d: string | Uint8Array): string => (typeof d === "string" ? d : Buffer.from(d).toString());
	return {
		stdout: (d) => void (out += text(d)),
		stderr: (d) => void (err += text(d)),
		out: () => out,
		err: () => err,
	};
}

t.test("run: exits with the program's status and passes its arguments", async (t) => {
	const io = capture();
	t.equal(await cliMain(["run", EXIT3, "first"], io), 3);
	t.equal(io.out(), "argc=2 argv1=first uid=0\n");
});

t.test("run --uid runs the program as that user", async (t) => {
	const io = capture();
	await cliMain(["run", "--uid", "1000", EXIT3], io);
	t.equal(io.out(), "argc=1 argv1=(none) uid=1000\n");
});

t.test("run --strace prints the program's syscalls on stderr", async (t) => {
	const io = capture();
	await cliMain(["run", "--strace", EXIT3], io);
	t.match(io.err(), /getuid\(\) = 0\n/);
	t.match(io.err(), /write\(1, "argc=1 argv1=\(none\) uid=0\\n", 26\) = 26\n/);
	t.match(io.err(), /\+\+\+ exited with 3 \+\+\+/);
});

t.test("run --dmesg prints the kernel log with its command line", async (t) => {
	const io = capture();
	await cliMain(["run", "--dmesg", "--cmdline", "liveupdate=off quiet", EXIT3], io);
	t.match(io.out(), /^\[    0\.000000\] Command line: kho=on liveupdate=on liveupdate=off quiet$/m);
});

t.test("usage errors exit 2 with a message and the usage", async (t) => {
	for (const [argv, msg] of [
		[["run", "--abi", "v9", EXIT3], "unknown ABI generation 'v9'"],
		[["run", "--uid", "x", EXIT3], "option --uid needs a user id"],
		[["run", "--bogus", EXIT3], "unknown option '--bogus'"],
		[["run"], "run needs a PROGRAM"],
		[["frobnicate"], "unknown command 'frobnicate'"],
		[[], "missing command"],
		[["selftests", "--abi"], "option --abi needs a value"],
	] as const) {
		const io = capture();
		t.equal(await cliMain([...argv], io), 2, argv.join(" "));
		t.match(io.err(), `luosim: ${msg}`);
		t.match(io.err(), /^usage: luosim run/m);
		t.equal(io.out(), "");
	}
});

t.test("run of a missing program file is an error, not a crash", async (t) => {
	const io = capture();
	t.equal(await cliMain(["run", "/nonexistent/prog.ts"], io), 2);
	t.equal(io.err(), "luosim: /nonexistent/prog.ts: No such file or directory\n");
});

t.test("selftests prints runner.sh's KTAP: ok, SKIP, exit=N, missing, TIMEOUT", async (t) => {
	let out = "";
	const failed = await runSelftests({ root: ROOT, abi: "rfc-v2", out: (s) => (out += s) });
	t.equal(failed, 3);
	t.equal(
		out,
		[
			"TAP version 13",
			"1..4",
			"# selftests: alpha: pass",
			"# TAP version 13",
			"# 1..1",
			"# ok 1 works",
			"ok 1 selftests: alpha: pass",
			"# selftests: alpha: skip",
			"# 1..0 # SKIP nothing to do",
			"ok 2 selftests: alpha: skip # SKIP",
			"# selftests: alpha: fail",
			"# broken",
			"not ok 3 selftests: alpha: fail # exit=2",
			"# selftests: alpha: missing",
			"# Warning: file missing is missing!",
			"not ok 4 selftests: alpha: missing",
			"TAP version 13",
			"1..1",
			"# selftests: beta: sleepy",
			"# going to sleep",
			"#",
			"not ok 1 selftests: beta: sleepy # TIMEOUT 2 seconds",
			"",
		].join("\n"),
	);
});

t.test("selftests runs only the targets of the chosen generation and NAMEs", async (t) => {
	let out = "";
	t.equal(await runSelftests({ root: ROOT, abi: "v2", out: (s) => (out += s) }), 0);
	t.equal(out, "TAP version 13\n1..1\n# selftests: gamma: pass\n# TAP version 13\n# 1..1\n# ok 1 works\nok 1 selftests: gamma: pass\n");
	out = "";
	t.equal(await runSelftests({ root: ROOT, abi: "mainline", names: ["alpha:pass"], out: (s) => (out += s) }), 0);
	t.match(out, /^TAP version 13\n1\.\.1\n# selftests: alpha: pass\n/);
});

t.test("selftests NAME runs that directory and exits 0 when it passes", async (t) => {
	const io = capture();
	t.equal(await cliMain(["selftests", "--abi", "rfc-v2", "demo"], io), 0);
	t.match(io.out(), /^ok 1 selftests: demo: devices$/m);
});

/** Host files holding images for `luosim versions`: a mainline one, one without memfd-v2, and a corrupt one. */
function versionImages(): { good: string; old: string; corrupt: string } {
	const dir = mkdtempSync(join(tmpdir(), "luosim-versions-"));
	const write = (name: string, config: Partial<KernelConfig>): string => {
		const c = { ...defaultConfig("mainline"), ...config };
		const path = join(dir, name);
		writeFileSync(path, encodeImage({ abi: "mainline", config: c, liveupdateVersions: liveupdateVersionsOf("mainline", c) }));
		return path;
	};
	const good = write("vmlinuz", {});
	const old = write("vmlinuz-old", { LIVEUPDATE_MEMFD: false });
	const bytes = new Uint8Array(readFileSync(good));
	const secHdr = KERNEL_IMAGE_HEADER_SIZE + KERNEL_IMAGE_SECTION_HEADER_SIZE;
	const off = new DataView(bytes.buffer).getUint32(secHdr + 24, true);
	bytes[off] ^= 0xff;
	const corrupt = join(dir, "vmlinuz-corrupt");
	writeFileSync(corrupt, bytes);
	return { good, old, corrupt };
}

t.test("versions: an image listing every version of the running kernel is compatible, exit 0", async (t) => {
	const io = capture();
	const { good } = versionImages();
	t.equal(await cliMain(["versions", good], io), 0);
	t.equal(io.out(), `${good}: mainline ${UTS_RELEASE}\n  .liveupdate_versions: luo-v5 memfd-v2\n  running kernel (mainline): luo-v5 memfd-v2\n  compatible: lists all 2 versions of the running kernel\n`);
});

t.test("versions: an image lacking memfd-v2 is reported missing it, exit 1", async (t) => {
	const io = capture();
	const { good, old } = versionImages();
	t.equal(await cliMain(["versions", good, old], io), 1);
	t.match(io.out(), new RegExp(`${old}: mainline .*\\n  \\.liveupdate_versions: luo-v5\\n.*\\n  missing: memfd-v2\\n$`));
});

t.test("versions: a corrupted section is named on stderr, exit 3", async (t) => {
	const io = capture();
	const { corrupt } = versionImages();
	t.equal(await cliMain(["versions", corrupt], io), 3);
	t.equal(io.err(), `luosim versions: ${corrupt}: .liveupdate_versions: bad magic 0x4c5655af, expected 0x4c565550 ('LVUP')\n`);
	t.equal(io.out(), "");
});

t.test("versions: a missing file is an error, and no IMAGE is a usage error", async (t) => {
	const io = capture();
	t.equal(await cliMain(["versions", "/nonexistent/vmlinuz"], io), 3);
	t.equal(io.err(), "luosim versions: /nonexistent/vmlinuz: No such file or directory\n");
	const io2 = capture();
	t.equal(await cliMain(["versions"], io2), 2);
	t.match(io2.err(), /^luosim: versions needs an IMAGE\n/);
});
