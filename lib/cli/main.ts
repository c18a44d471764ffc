/**
 * The `luosim` command line: `run`, `selftests`, `sh`, `versions` and `syscalls`.
 * Usage errors print a message and the usage to stderr and exit 2.
 */
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { ABI_GENERATIONS, defaultConfig, type AbiGeneration, type KernelConfig } from "../kernel/kernel.ts";
import { formatDmesgLine } from "../kernel/printk.ts";
import { loadProgram, runProgram } from "./runProgram.ts";
import { runOnKernel, runProgramKexec } from "./kexecRun.ts";
import { bootFromDump } from "../kexec/kexec_dump.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { runSelftests } from "./selftests.ts";
import { supportMatrix } from "./supportMatrix.ts";
import { runShell } from "./sh.ts";
import { bootKernel } from "../kernel/machine.ts";
import { BOOT_IMAGE_PATH, ImageFormatError, buildImage, describeImage, parseImage, type KernelImage } from "../kexec/image.ts";
import { O_RDONLY } from "../fs/fcntl.ts";
import { luo_versions_compare } from "../liveupdate/mainline/luo_versions.ts";

/** Where the mirrored selftests live in this package. */
export const SELFTESTS_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "selftests");

export const USAGE = `usage: luosim run [--abi G] [--cmdline S] [--uid N] [--strace] [--dmesg] [--kexec [--via-file]] PROGRAM.ts [ARGS...]
       luosim selftests [--abi G] [NAME...]
       luosim sh [--abi G] [--cmdline S] [--uid N]
       luosim versions [--abi G] IMAGE...
       luosim image [--abi G] [--config NAME=y|n]... OUT
       luosim syscalls
  G is one of: ${ABI_GENERATIONS.join(", ")}
`;

/** A usage error: printed with the usage, exit status 2. */
export class UsageError extends Error {}

/** Host streams the CLI writes to (injectable for tests). */
export interface CliIo {
	stdout: (text: string | Uint8Array) => void;
	stderr: (text: string | Uint8Array) => void;
	stdin?: Uint8Array;
	/** `luosim sh`'s input, one command line per item, and whether it is a terminal (prompts). */
	lines?: AsyncIterable<string>;
	interactive?: boolean;
}

function parseAbi(v: string | undefined): AbiGeneration {
	if (v === undefined) throw new UsageError("option --abi needs a value");
	if (!(ABI_GENERATIONS as readonly string[]).includes(v)) throw new UsageError(`unknown ABI generation '${v}' (one of ${ABI_GENERATIONS.join(", ")})`);
	return v as AbiGeneration;
}

/** `--cmdline S`, which may be given again: each S is appended. */
function appendCmdline(cmdline: string, v: string | undefined): string {
	if (v === undefined) throw new UsageError("option --cmdline needs a value");
	return cmdline ? `${cmdline} ${v}` : v;
}

function parseUid(v: string | undefined): number {
	if (v === undefined || !/^\d+$/.test(v) || Number(v) > 0xfffffffe) throw new UsageError(`option --uid needs a user id from 0 to 4294967294, got '${v ?? ""}'`);
	return Number(v);
}

async function cmdRun(args: string[], io: CliIo): Promise<number> {
	let abi: AbiGeneration | undefined;
	let cmdline = "";
	let uid: number | undefined;
	let strace = process.env.LUOSIM_STRACE === "1";
	let dmesg = false;
	let kexec = false;
	let viaFile = false;
	let i = 0;
	for (; i < args.length; i++) {
		const a = args[i]!;
		if (!a.startsWith("--")) break;
		if (a === "--abi") abi = parseAbi(args[++i]);
		else if (a === "--cmdline") cmdline = appendCmdline(cmdline, args[++i]);
		else if (a === "--uid") uid = parseUid(args[++i]);
		else if (a === "--strace") strace = true;
		else if (a === "--dmesg") dmesg = true;
		else if (a === "--kexec") kexec = true;
		else if (a === "--via-file") viaFile = true;
		else throw new UsageError(`unknown option '${a}'`);
	}
	if (viaFile && !kexec) throw new UsageError("option --via-file needs --kexec");
	const program = args[i];
	if (program === undefined) throw new UsageError("run needs a PROGRAM");
	if (!existsSync(program)) {
		io.stderr(`luosim: ${program}: No such file or directory\n`);
		return 2;
	}
	const main = await loadProgram(program);
	if (kexec) {
		const stage2Flags = [...(uid !== undefined ? ["--uid", String(uid)] : []), ...(strace ? ["--strace"] : []), ...(dmesg ? ["--dmesg"] : [])];
		const r = await runProgramKexec(main, {
			abi,
			cmdline,
			uid,
			argv: [program, ...args.slice(i + 1)],
			stdin: io.stdin,
			stdout: (d) => io.stdout(d),
			stderr: (d) => io.stderr(d),
			strace: strace ? (line): void => io.stderr(`${line}\n`) : undefined,
			viaFile,
			stage2Flags,
		});
		if (dmesg && !viaFile) printDmesg(r.kernel, io);
		return r.exitCode;
	}
	const r = await runProgram(main, {
		abi,
		cmdline,
		uid,
		argv: [program, ...args.slice(i + 1)],
		stdin: io.stdin,
		stdout: (d) => io.stdout(d),
		stderr: (d) => io.stderr(d),
		strace: strace ? (line): void => io.stderr(`${line}\n`) : undefined,
	});
	if (dmesg) printDmesg(r.kernel, io);
	return r.exitCode;
}

function printDmesg(kernel: Kernel, io: CliIo): void {
	for (const rec of kernel.log.all()) io.stdout(`${formatDmesgLine(rec)}\n`);
}

/**
 * `luosim __boot-from-dump FILE [--uid N] [--strace] [--dmesg] PROGRAM
 * [ARGS...]` (internal: stage 2 of `run --kexec --via-file`): boots the
 * kernel a kexec dump holds, in this process, and runs PROGRAM there.
 */
async function cmdBootFromDump(args: string[], io: CliIo): Promise<number> {
	const file = args[0];
	if (file === undefined) throw new UsageError("__boot-from-dump needs a FILE");
	let uid: number | undefined;
	let strace = false;
	let dmesg = false;
	let i = 1;
	for (; i < args.length && args[i]!.startsWith("--"); i++) {
		const a = args[i]!;
		if (a === "--uid") uid = parseUid(args[++i]);
		else if (a === "--strace") strace = true;
		else if (a === "--dmesg") dmesg = true;
		else throw new UsageError(`unknown option '${a}'`);
	}
	const program = args[i];
	if (program === undefined) throw new UsageError("__boot-from-dump needs a PROGRAM");
	const main = await loadProgram(program);
	const { kernel } = bootFromDump(file, { serialConsole: (d) => io.stdout(d) });
	if (!kernel) return 1;
	const r = await runOnKernel(kernel, main, {
		uid,
		argv: [program, ...args.slice(i + 1)],
		stdout: (d) => io.stdout(d),
		stderr: (d) => io.stderr(d),
		strace: strace ? (line): void => io.stderr(`${line}\n`) : undefined,
	});
	if (dmesg) printDmesg(r.stopped?.to ?? kernel, io);
	return r.exitCode;
}

async function cmdSh(args: string[], io: CliIo): Promise<number> {
	let abi: AbiGeneration | undefined;
	let cmdline = "";
	let uid: number | undefined;
	for (let i = 0; i < args.length; i++) {
		const a = args[i]!;
		if (a === "--abi") abi = parseAbi(args[++i]);
		else if (a === "--cmdline") cmdline = appendCmdline(cmdline, args[++i]);
		else if (a === "--uid") uid = parseUid(args[++i]);
		else throw new UsageError(`unknown option '${a}'`);
	}
	return runShell({
		abi,
		cmdline,
		uid,
		lines: io.lines ?? linesOf(io.stdin),
		stdout: (t) => io.stdout(t),
		stderr: (t) => io.stderr(t),
		prompt: io.interactive ?? false,
	});
}

async function* linesOf(data: Uint8Array | undefined): AsyncIterable<string> {
	if (!data) return;
	const text = new TextDecoder().decode(data);
	yield* text.split("\n").filter((l, i, all) => i < all.length - 1 || l !== "");
}

/** The running kernel's image (/boot/vmlinuz of a fresh boot): its `.liveupdate_versions`. */
function runningVersions(abi: AbiGeneration): string[] {
	const k = bootKernel({ abi });
	const f = k.vfs.open(null, BOOT_IMAGE_PATH, O_RDONLY);
	try {
		return parseImage(k.vfs.kernelRead(f, f.inode.size, 0)).liveupdateVersions ?? [];
	} finally {
		f.put();
	}
}

/**
 * `luosim versions [--abi G] IMAGE...` (seed 002's userspace check): for
 * each image file, its `.liveupdate_versions` and what it lacks of the
 * running kernel's (a fresh boot of G, default mainline, the generation
 * that has the section). Exit 0 when every image lists them all, 1 when
 * one lacks some, 3 when one cannot be read or parsed (said on stderr).
 */
async function cmdVersions(args: string[], io: CliIo): Promise<number> {
	let abi: AbiGeneration = "mainline";
	const images: string[] = [];
	for (let i = 0; i < args.length; i++) {
		const a = args[i]!;
		if (a === "--abi") abi = parseAbi(args[++i]);
		else if (a.startsWith("--")) throw new UsageError(`unknown option '${a}'`);
		else images.push(a);
	}
	if (images.length === 0) throw new UsageError("versions needs an IMAGE");
	const running = runningVersions(abi);
	let status = 0;
	for (const path of images) {
		let img: KernelImage;
		try {
			img = describeImage(new Uint8Array(readFileSync(path)));
		} catch (e) {
			const msg = e instanceof ImageFormatError ? e.message : (e as NodeJS.ErrnoException).code === "ENOENT" ? "No such file or directory" : String(e);
			io.stderr(`luosim versions: ${path}: ${msg}\n`);
			status = 3;
			continue;
		}
		const cmp = luo_versions_compare(running, img.liveupdateVersions);
		io.stdout(`${path}: ${img.abi} ${img.release}\n`);
		io.stdout(`  .liveupdate_versions: ${img.liveupdateVersions === null ? "(none: built without CONFIG_LIVEUPDATE)" : img.liveupdateVersions.join(" ") || "(empty)"}\n`);
		io.stdout(`  running kernel (${abi}): ${running.join(" ") || "(empty)"}\n`);
		if (cmp.missing.length === 0) io.stdout(`  compatible: lists all ${running.length} versions of the running kernel\n`);
		else {
			io.stdout(`  missing: ${cmp.missing.join(" ")}\n`);
			if (status === 0) status = 1;
		}
	}
	return status;
}

/**
 * `luosim image [--abi G] [--config NAME=y|n]... OUT`: writes to the host
 * file OUT the kernel image that a kernel of generation G built with that
 * configuration installs as /boot/vmlinuz (for `luosim versions`, or to
 * copy into a program's VFS and kexec_file_load).
 */
async function cmdImage(args: string[], io: CliIo): Promise<number> {
	let abi: AbiGeneration = "mainline";
	const config: Partial<Record<keyof KernelConfig, boolean>> = {};
	let out: string | undefined;
	for (let i = 0; i < args.length; i++) {
		const a = args[i]!;
		if (a === "--abi") abi = parseAbi(args[++i]);
		else if (a === "--config") {
			const v = args[++i] ?? "";
			const m = /^(?:CONFIG_)?([A-Z0-9_]+)=([yn])$/.exec(v);
			if (!m || !(m[1]! in defaultConfig(abi))) throw new UsageError(`option --config needs NAME=y or NAME=n with NAME one of ${Object.keys(defaultConfig(abi)).join(", ")}, got '${v}'`);
			config[m[1] as keyof KernelConfig] = m[2] === "y";
		} else if (a.startsWith("--")) throw new UsageError(`unknown option '${a}'`);
		else if (out === undefined) out = a;
		else throw new UsageError(`image takes one OUT file, got '${a}' too`);
	}
	if (out === undefined) throw new UsageError("image needs an OUT file");
	const image = buildImage(bootKernel({ abi, config }));
	try {
		writeFileSync(out, image);
	} catch (e) {
		io.stderr(`luosim image: ${out}: ${(e as Error).message}\n`);
		return 1;
	}
	return 0;
}

async function cmdSelftests(args: string[], io: CliIo): Promise<number> {
	let abis: readonly AbiGeneration[] = ABI_GENERATIONS;
	const names: string[] = [];
	for (let i = 0; i < args.length; i++) {
		const a = args[i]!;
		if (a === "--abi") abis = [parseAbi(args[++i])];
		else if (a.startsWith("--")) throw new UsageError(`unknown option '${a}'`);
		else names.push(a);
	}
	let failed = 0;
	for (const abi of abis) {
		if (abis.length > 1) io.stdout(`# luosim: --abi ${abi}\n`);
		failed += await runSelftests({ root: SELFTESTS_ROOT, abi, names, out: (t) => io.stdout(t) });
	}
	return failed > 0 ? 1 : 0;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit status. */
export async function cliMain(argv: string[], io: CliIo): Promise<number> {
	try {
		const [cmd, ...rest] = argv;
		if (cmd === "run") return await cmdRun(rest, io);
		if (cmd === "selftests") return await cmdSelftests(rest, io);
		if (cmd === "sh") return await cmdSh(rest, io);
		if (cmd === "image") return await cmdImage(rest, io);
		if (cmd === "versions") return await cmdVersions(rest, io);
		if (cmd === "__boot-from-dump") return await cmdBootFromDump(rest, io);
		if (cmd === "syscalls") {
			io.stdout(supportMatrix());
			return 0;
		}
		if (cmd === "--help" || cmd === "-h" || cmd === "help") {
			io.stdout(USAGE);
			return 0;
		}
		throw new UsageError(cmd === undefined ? "missing command" : `unknown command '${cmd}'`);
	} catch (e) {
		if (e instanceof UsageError) {
			io.stderr(`luosim: ${e.message}\n${USAGE}`);
			return 2;
		}
		throw e;
	}
}
