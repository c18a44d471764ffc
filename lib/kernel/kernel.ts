/**
 * One boot of the simulated kernel (init/main.c start_kernel, as far as
 * luosim goes): the command line, config switches, printk, the virtual
 * clock, the scheduler, the process table with init, and the VFS. Everything
 * here dies with the kernel; only the Machine's memory outlives it.
 */
import { VirtualClock, BOOT_EPOCH_NS } from "./clock.ts";
import { Scheduler } from "./sched.ts";
import { UTS_RELEASE, UTS_VERSION } from "./utsname.ts";
import { Cmdline } from "./cmdline.ts";
import { LogBuffer, KERN_INFO, KERN_ERR, KERN_WARNING, KERN_EMERG } from "./printk.ts";
import { Process, initRlimits } from "./process.ts";
import { Cred } from "./cred.ts";
import { FdTable } from "./fdtable.ts";
import { AddressSpace } from "../uaccess/addressSpace.ts";
import { UserHeap } from "../uaccess/malloc.ts";
import { Vfs } from "../fs/vfs.ts";
import { BuddyAllocator } from "../mm/buddy.ts";
import { fsBoot } from "../fs/boot.ts";
import { khoInit } from "../kho/kho.ts";
import "../syscalls.ts";
import { installBootImage } from "../kexec/image.ts";
import { do_initcalls } from "./initcall.ts";
import { kernelPanic } from "../kexec/panic.ts";
import { KernelStoppedError, type RebootEvent, type WaitOutcome } from "../kexec/reboot_event.ts";
import type { StraceHook } from "./syscallTable.ts";
import type { Machine } from "./machine.ts";

/** The LUO uAPI generations luosim models (DESIGN "ABI generations"). */
export type AbiGeneration = "rfc-v2" | "v2" | "mainline";
/** Every generation, oldest first. */
export const ABI_GENERATIONS: readonly AbiGeneration[] = ["rfc-v2", "v2", "mainline"];

/** Kconfig switches a boot can turn on or off. */
export interface KernelConfig {
	DEBUG_FS: boolean;
	PROC_FS: boolean;
	KEXEC_HANDOVER: boolean;
	KEXEC_HANDOVER_DEBUGFS: boolean;
	/** KHO on unless `kho=off` (kernel/liveupdate/Kconfig; mainline only, older KHO needs `kho=on`). */
	KEXEC_HANDOVER_ENABLE_DEFAULT: boolean;
	LIVEUPDATE: boolean;
	/** The mainline memfd file handler, mm/memfd_luo.c (kernel/liveupdate/Kconfig: default LIVEUPDATE). */
	LIVEUPDATE_MEMFD: boolean;
	/** The LUO kernel selftest module (RFC v2 patch 13) / LIVEUPDATE_TEST upstream. */
	LIVEUPDATE_SELFTESTS: boolean;
}

/** The default command line of each generation: what its selftest config boots with. */
export const DEFAULT_CMDLINE: Readonly<Record<AbiGeneration, string>> = {
	"rfc-v2": "kho=on liveupdate=on",
	v2: "kho=on liveupdate=on",
	mainline: "liveupdate=on",
};

/** The default config of each generation (its selftest `config` fragment). */
export function defaultConfig(abi: AbiGeneration): KernelConfig {
	return {
		DEBUG_FS: true,
		PROC_FS: true,
		KEXEC_HANDOVER: true,
		KEXEC_HANDOVER_DEBUGFS: true,
		KEXEC_HANDOVER_ENABLE_DEFAULT: abi === "mainline",
		LIVEUPDATE: true,
		LIVEUPDATE_MEMFD: true,
		LIVEUPDATE_SELFTESTS: true,
	};
}

/** How to boot a kernel. `cmdline` is appended to the generation's default. */
export interface BootOptions {
	abi?: AbiGeneration;
	cmdline?: string;
	/**
	 * The whole command line, instead of the default plus `cmdline`: a
	 * kexec'd kernel boots with exactly what kexec_file_load was given.
	 */
	fullCmdline?: string;
	config?: Partial<KernelConfig>;
	/** The KHO handover address a kexec passes (setup_data); null or absent on a cold boot. */
	handoverPhys?: number | null;
}

/** A program: C's main as a TS function; its return value is the exit status. */
export type ProgramMain = (argc: number, argv: string[]) => number | void | Promise<number | void>;

/** Raised when no process can run and no timer is pending while a caller waits for one to finish. */
export class DeadlockError extends Error {
	constructor(readonly blocked: readonly number[]) {
		super(`luosim: every process is asleep with no timer pending (blocked pids: ${blocked.join(", ") || "none"})`);
	}
}

/** One booted kernel. */
export class Kernel {
	readonly machine: Machine;
	readonly abi: AbiGeneration;
	readonly cmdline: Cmdline;
	readonly config: KernelConfig;
	readonly clock: VirtualClock;
	readonly sched: Scheduler;
	readonly log: LogBuffer;
	readonly processes = new Map<number, Process>();
	readonly init: Process;
	readonly vfs: Vfs;
	/** The page allocator over the Machine's memory, rebuilt at each boot. */
	readonly buddy: BuddyAllocator;
	/** Set when strace is on for this kernel. */
	strace: StraceHook | null = null;
	private nextPid = 1;
	private readonly exitListeners: ((p: Process) => void)[] = [];
	private stopEvent: RebootEvent | null = null;

	constructor(machine: Machine, opts: BootOptions = {}) {
		this.machine = machine;
		this.abi = opts.abi ?? "rfc-v2";
		this.cmdline = opts.fullCmdline !== undefined ? new Cmdline(opts.fullCmdline) : new Cmdline(DEFAULT_CMDLINE[this.abi]).append(opts.cmdline ?? "");
		this.config = { ...defaultConfig(this.abi), ...opts.config };
		this.clock = new VirtualClock(BOOT_EPOCH_NS);
		this.sched = new Scheduler(this.clock);
		this.log = new LogBuffer(() => this.clock.nowNs());
		this.buddy = new BuddyAllocator(machine.physmem);
		this.printk(KERN_INFO, `Linux version ${UTS_RELEASE} (luosim) ${UTS_VERSION}`);
		this.printk(KERN_INFO, `Command line: ${this.cmdline.text}`);
		this.vfs = new Vfs(this);
		const root = fsBoot(this);
		// KHO reads the handover (and reserves what it keeps) before anything else allocates frames.
		khoInit(this, opts.handoverPhys ?? null);
		const mm = new AddressSpace();
		this.init = new Process({
			kernel: this,
			pid: this.allocPid(),
			parent: null,
			cred: new Cred(0, 0),
			files: new FdTable(),
			mm,
			heap: new UserHeap(mm),
			root,
			cwd: root,
			rlimits: initRlimits(),
			sid: 1,
			pgid: 1,
			comm: "init",
		});
		this.init.state = "blocked";
		this.processes.set(1, this.init);
		installBootImage(this);
		// Built-in modules (lib/kernel/initcall.ts): late initcalls, once everything above is up.
		do_initcalls(this);
	}

	/** printk(level, text). */
	printk(level: number, text: string): void {
		this.log.log(level, text);
	}

	/** pr_info / pr_warn / pr_err / pr_emerg. */
	pr_info(text: string): void {
		this.printk(KERN_INFO, text);
	}
	pr_warn(text: string): void {
		this.printk(KERN_WARNING, text);
	}
	pr_err(text: string): void {
		this.printk(KERN_ERR, text);
	}
	pr_emerg(text: string): void {
		this.printk(KERN_EMERG, text);
	}

	/** alloc_pid(): pids count up from 1 in each boot. */
	allocPid(): number {
		return this.nextPid++;
	}

	/** Registers a callback for every process exit (before it is reaped). */
	onExit(fn: (p: Process) => void): void {
		this.exitListeners.push(fn);
	}

	/** Called by do_exit. */
	onProcessExit(p: Process): void {
		for (const fn of this.exitListeners) fn(p);
	}

	/** How this kernel ended (kexec, restart, halt, power-off, panic); null while it runs. */
	get stopped(): RebootEvent | null {
		return this.stopEvent;
	}

	/** Called by the Machine when this kernel ends: its CPU stops and none of its processes runs again. */
	stop(event: RebootEvent): void {
		this.stopEvent ??= event;
		this.sched.stop();
	}

	/**
	 * panic(): prints `Kernel panic - not syncing: MSG` to the log and the
	 * console and stops the Machine, or cold-boots it with `panic=N`
	 * (lib/kexec/panic.ts). Never returns: the caller's stack unwinds.
	 */
	panic(msg: string): never {
		return kernelPanic(this, msg);
	}

	/**
	 * Runs the scheduler until `p` has exited ("exited", with its wait
	 * status) or this kernel has stopped ("stopped", with how: the machine
	 * kexec'd, rebooted, halted or panicked; `event.to` is the kernel it
	 * runs now). Throws DeadlockError if every process is asleep for good.
	 */
	async waitForOutcome(p: Process): Promise<WaitOutcome> {
		const r = await this.sched.run(() => p.exited);
		if (r === "idle") throw new DeadlockError([...this.processes.values()].filter((q) => q.state === "blocked" && q.pid !== 1).map((q) => q.pid));
		if (r === "stopped") return { kind: "stopped", event: this.stopEvent! };
		return { kind: "exited", status: p.exitStatus! };
	}

	/**
	 * Runs the scheduler until `p` has exited and returns its wait status.
	 * Throws DeadlockError if every process is asleep for good first, and
	 * KernelStoppedError if the kernel stops first (use `waitForOutcome`
	 * where a reboot is expected).
	 */
	async waitFor(p: Process): Promise<number> {
		const r = await this.waitForOutcome(p);
		if (r.kind === "stopped") throw new KernelStoppedError(r.event, p.pid);
		return r.status;
	}
}
