/**
 * How a kernel's life ends, as the host sees it: the record of a kexec,
 * restart, halt, power-off or panic (kernel/reboot.c, kernel/kexec_core.c,
 * kernel/panic.c are where Linux does them; luosim's Machine carries them
 * out). A kernel that has stopped runs nothing again: its scheduler is
 * stopped, its processes are abandoned where they were (their JS stacks
 * are never resumed), and `Kernel.waitFor` on them does not hang.
 */
import { TaskExit } from "../kernel/sched.ts";
import type { BootOptions, Kernel } from "../kernel/kernel.ts";
import type { KernelImage } from "./image.ts";

/** What ended a kernel. */
export type RebootKind = "kexec" | "restart" | "halt" | "power_off" | "panic";

/**
 * What kexec_file_load() leaves loaded and machine_kexec() jumps to: the
 * image, the command line and the KHO handover address, and how the next
 * kernel boots from them.
 */
export interface KexecJump {
	/** The image bytes, as read from the file. */
	readonly image: Uint8Array;
	readonly parsed: KernelImage;
	/** The command line without its NUL. */
	readonly cmdline: string;
	/** The KHO setup_data address (kho_fill_kimage), null when KHO hands nothing over. */
	readonly handoverPhys: number | null;
	/** The image's generation and configuration, with exactly `cmdline`. */
	readonly boot: BootOptions;
}

/** One end of a kernel. */
export interface RebootEvent {
	readonly kind: RebootKind;
	/** The kernel that stopped. */
	readonly from: Kernel;
	/**
	 * The kernel the Machine runs now: the one kexec booted, or the one a
	 * restart (or a panic with `panic=N`) cold-booted. Null when the machine
	 * is halted, powered off, stopped by a panic, or when the kexec was
	 * handed to the host (kexec through a file).
	 */
	to: Kernel | null;
	/** panic(): its message; LINUX_REBOOT_CMD_RESTART2: its command; null otherwise. */
	readonly message: string | null;
	/** kexec: where it jumped. */
	readonly jump: KexecJump | null;
}

/**
 * Unwinds the JS stack of the process that called reboot(2) or hit a
 * panic: the call never returns. It is a TaskExit, so the syscall layer
 * lets it through and the process body wrapper swallows it, without
 * do_exit (a kexec closes no files: the fds held at reboot are what LUO
 * serializes). `pid` is 0 when no process was running (a panic at boot).
 */
export class KernelStopped extends TaskExit {
	declare readonly event: RebootEvent;

	constructor(pid: number, event: RebootEvent) {
		super(pid);
		this.message = `the kernel stopped (${event.kind})`;
		hideEvent(this, event);
	}
}

/** The event is not enumerable, so that a deep comparison or dump of the error does not walk two kernels. */
function hideEvent(err: Error, event: RebootEvent): void {
	Object.defineProperty(err, "event", { value: event, enumerable: false });
}

/** Thrown by `Kernel.waitFor` when the kernel stopped before the awaited process exited. */
export class KernelStoppedError extends Error {
	declare readonly event: RebootEvent;

	constructor(event: RebootEvent, readonly pid: number) {
		super(`luosim: the kernel stopped (${event.kind}${event.message !== null ? `: ${event.message}` : ""}) before pid ${pid} exited`);
		hideEvent(this, event);
	}
}

/** What `Kernel.waitForOutcome` resolves to. */
export type WaitOutcome = { kind: "exited"; status: number } | { kind: "stopped"; event: RebootEvent };
