/**
 * `luosim run --kexec [--via-file]`: a program's two stages across a kexec
 * (DESIGN "Programs, processes, kexec"), done the way `do_kexec.sh` and
 * upstream's `init.c` do it.
 *
 * Stage 1 ends when the program's own process exits; its children live
 * on. If it failed, that is the result. Otherwise a root process under
 * init loads `/boot/vmlinuz` with kexec_file_load (the running command
 * line plus ` luo_stage=2`, no initramfs) and calls
 * reboot(LINUX_REBOOT_CMD_KEXEC) while those children still hold their
 * fds. In the kernel that boots, `PROGRAM ARGS -s 2` runs (any `-s N`
 * replaced) and its status is the result. A program that kexecs the
 * machine itself goes straight to stage 2.
 *
 * With `viaFile` the kexec writes the memory and the jump to a file
 * (lib/kexec/kexec_dump.ts) and stage 2 runs in a new Node process,
 * `luosim __boot-from-dump FILE ... PROGRAM ARGS -s 2`, which boots from
 * that file alone.
 *
 * A kernel panic anywhere (its line is on the console) makes the result 1;
 * a halt, power-off or restart before the program exits ends the run
 * with 0, as a machine that shut down.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Machine } from "../kernel/machine.ts";
import { spawnProgram } from "../kernel/exec.ts";
import { enableStrace } from "../kernel/strace.ts";
import { strerror } from "../kernel/errno.ts";
import { openConsole } from "../fs/console.ts";
import { BOOT_IMAGE_PATH } from "../kexec/image.ts";
import { writeKexecDump } from "../kexec/kexec_dump.ts";
import { close, errno, kexec_file_load, open, reboot, O_RDONLY, RB_KEXEC, KEXEC_FILE_NO_INITRAMFS } from "../libc/mod.ts";
import type { Kernel, ProgramMain } from "../kernel/kernel.ts";
import type { RebootEvent } from "../kexec/reboot_event.ts";
import { shellStatus, type RunOptions } from "./runProgram.ts";

/** The installed `luosim` command, which runs the TS sources through tsx. */
export const LUOSIM_BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "luosim.js");

/** What `luosim run --kexec` adds to a run. */
export interface KexecRunOptions extends RunOptions {
	/** Stage 2 in a new Node process, booted from a dump of the machine. */
	viaFile?: boolean;
	/** The program file (argv[0] by default): stage 2 of `viaFile` loads it again. */
	programPath?: string;
	/** Options `__boot-from-dump` passes on to stage 2 (--uid, --strace, --dmesg). */
	stage2Flags?: string[];
}

/** How a two-stage run ended. */
export interface KexecRunOutcome {
	/** As a shell reports it: stage 1's failure, stage 2's status, 1 after a panic. */
	exitCode: number;
	/** The last kernel that ran in this host process. */
	kernel: Kernel;
}

/** Stage 2's arguments: `args` without any `-s N` / `-sN`, then `-s 2`. */
export function stage2Args(args: readonly string[]): string[] {
	const out: string[] = [];
	for (let i = 0; i < args.length; i++) {
		const a = args[i]!;
		if (a === "-s") i++;
		else if (!(a.startsWith("-s") && a.length > 2)) out.push(a);
	}
	return [...out, "-s", "2"];
}

/** What running a program on a kernel came to. */
export interface KernelRun {
	/** The exit code, or 1 after a panic / 0 after another stop before the program exited. */
	exitCode: number;
	/** How the kernel ended, if it did before the program exited. */
	stopped: RebootEvent | null;
}

/** Runs `main` as a child of init on `kernel` with the console on fds 0-2, and waits for it or the kernel's end. */
export async function runOnKernel(kernel: Kernel, main: ProgramMain, opts: RunOptions): Promise<KernelRun> {
	if (opts.strace) enableStrace(kernel, opts.strace);
	const con = openConsole(kernel, { stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr });
	const p = spawnProgram(kernel, main, { argv: opts.argv, uid: opts.uid, stdio: con });
	for (const f of con) f.put();
	const out = await kernel.waitForOutcome(p);
	if (out.kind === "exited") return { exitCode: shellStatus(out.status), stopped: null };
	return { exitCode: out.event.kind === "panic" ? 1 : 0, stopped: out.event };
}

/**
 * init.c's stage-1 step, as a root process under init: kexec_file_load of
 * /boot/vmlinuz with `cmdline`, then reboot(RB_KEXEC). Resolves to the
 * kexec's RebootEvent, or to an error text when a call failed.
 */
export async function loadAndKexec(kernel: Kernel, cmdline: string): Promise<RebootEvent | string> {
	let failure = "the kexec helper exited";
	const helper = spawnProgram(kernel, () => {
		const fd = open(BOOT_IMAGE_PATH, O_RDONLY);
		if (fd < 0) {
			failure = `open ${BOOT_IMAGE_PATH}: ${strerror(errno)}`;
			return 1;
		}
		const len = new TextEncoder().encode(cmdline).length + 1;
		const r = kexec_file_load(fd, -1, len, cmdline, KEXEC_FILE_NO_INITRAMFS);
		if (r < 0) failure = `kexec_file_load ${BOOT_IMAGE_PATH}: ${strerror(errno)}`;
		close(fd);
		if (r < 0) return 1;
		reboot(RB_KEXEC);
		failure = `reboot(RB_KEXEC): ${strerror(errno)}`;
		return 1;
	}, { argv: ["kexec"] });
	const out = await kernel.waitForOutcome(helper);
	return out.kind === "stopped" ? out.event : failure;
}

/** Runs `luosim FILE-BOOT-ARGS` in a new Node process, its output to the sinks; resolves to its exit code. */
function runStage2Process(args: string[], opts: RunOptions): Promise<number> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [LUOSIM_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
		child.stdout.on("data", (d: Buffer) => opts.stdout?.(new Uint8Array(d)));
		child.stderr.on("data", (d: Buffer) => opts.stderr?.(new Uint8Array(d)));
		child.on("error", reject);
		child.on("close", (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
	});
}

/**
 * The two-stage run described above. With `viaFile` the machine's kexec
 * hand-off goes to the dump file from the start, so a program that calls
 * reboot(LINUX_REBOOT_CMD_KEXEC) itself in stage 1 kexecs through the file
 * too, as the CLI's own kexec after stage 1 does.
 */
export async function runProgramKexec(main: ProgramMain, opts: KexecRunOptions): Promise<KexecRunOutcome> {
	const argv = opts.argv ?? ["program"];
	const machine = new Machine();
	if (opts.stdout) machine.serialConsole = opts.stdout;
	let panicked = false;
	machine.onReboot((ev) => (panicked ||= ev.kind === "panic"));
	const k1 = machine.boot({ abi: opts.abi, cmdline: opts.cmdline, config: opts.config });
	const dir = opts.viaFile ? mkdtempSync(join(tmpdir(), "luosim-kexec-")) : null;
	const dump = dir === null ? null : join(dir, "machine.dump");
	try {
		if (dump !== null) machine.kexecHandoff = (jump): void => writeKexecDump(dump, machine.physmem, jump);
		const stage1 = await runOnKernel(k1, main, { ...opts, argv });
		if (!stage1.stopped && stage1.exitCode !== 0) return { exitCode: stage1.exitCode, kernel: k1 };
		let ev = stage1.stopped;
		if (!ev) {
			const r = await loadAndKexec(k1, `${k1.cmdline.text} luo_stage=2`);
			if (typeof r === "string") {
				opts.stderr?.(new TextEncoder().encode(`luosim: ${r}\n`));
				return { exitCode: 1, kernel: k1 };
			}
			ev = r;
		}
		if (panicked) return { exitCode: 1, kernel: ev.to ?? ev.from };
		if (ev.kind !== "kexec") return { exitCode: 0, kernel: ev.from };
		const args2 = [argv[0]!, ...stage2Args(argv.slice(1))];
		if (dump !== null) {
			const program = opts.programPath ?? argv[0]!;
			const code = await runStage2Process(["__boot-from-dump", dump, ...(opts.stage2Flags ?? []), program, ...args2.slice(1)], opts);
			return { exitCode: code, kernel: ev.from };
		}
		const k2 = ev.to!;
		const stage2 = await runOnKernel(k2, main, { ...opts, argv: args2, stdin: undefined });
		return { exitCode: panicked ? 1 : stage2.exitCode, kernel: stage2.stopped?.to ?? k2 };
	} finally {
		machine.kexecHandoff = null;
		if (dir !== null) rmSync(dir, { recursive: true, force: true });
	}
}
