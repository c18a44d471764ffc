/**
 * The kernel side of kexec and reboot (kernel/kexec_core.c kernel_kexec,
 * kernel/reboot.c kernel_restart/kernel_halt/kernel_power_off and the
 * reboot notifier chain): the per-kernel state (the loaded image, C_A_D,
 * the chain) and the transitions the reboot(2) commands make. Each
 * transition ends with the Machine stopping this kernel; the returned
 * RebootEvent says what runs now.
 *
 * The reboot notifier chain is Linux's reboot_notifier_list: called by
 * kernel_restart_prepare() (restart and kexec, action SYS_RESTART, data
 * the command: "kexec reboot" for kexec) and kernel_shutdown_prepare()
 * (SYS_HALT, SYS_POWER_OFF, data null), highest priority first. luosim
 * adds one thing for LUO: on a kexec, a notifier that returns an error
 * (notifier_from_errno, NOTIFY_BAD) vetoes it and reboot(2) fails with
 * that errno, before anything has stopped, as liveupdate_reboot() aborts
 * the kexec in the seed. Restart, halt and power-off cannot be vetoed;
 * their notifiers' results are ignored, as Linux ignores them.
 *
 * liveupdate_reboot() (lib/liveupdate/liveupdate.ts: LUO's freeze when it
 * is PREPARED) runs in kernel_kexec() after the image check and before the
 * notifiers, where mainline's kernel_kexec() calls it; its error aborts the
 * kexec and reboot(2) returns it. (Seed 000 patch 12 calls it from the
 * reboot syscall just before kernel_kexec(), i.e. before the image check:
 * there a kexec with nothing loaded froze LUO and then failed with EINVAL;
 * here it fails with EINVAL and LUO stays PREPARED.)
 *
 * luosim has one CPU and runs kernel code to completion, so kexec_mutex
 * is never contended: no EBUSY.
 */
import { Errno, EINVAL } from "../kernel/errno.ts";
import { KERN_EMERG, KERN_NOTICE } from "../kernel/printk.ts";
import { BlockingNotifierHead, notifier_to_errno, type NotifierBlock } from "../kho/notifier.ts";
import { parseImage, type KernelImage } from "./image.ts";
import { liveupdate_reboot } from "../liveupdate/liveupdate.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { KexecJump, RebootEvent } from "./reboot_event.ts";

/** SYS_DOWN / SYS_RESTART: the reboot notifier action for restart and kexec (include/linux/notifier.h). */
export const SYS_DOWN = 0x0001;
export const SYS_RESTART = SYS_DOWN;
/** SYS_HALT: the action for halt. */
export const SYS_HALT = 0x0002;
/** SYS_POWER_OFF: the action for power-off. */
export const SYS_POWER_OFF = 0x0003;

/** A reboot notifier: `data` is the restart command ("kexec reboot" for kexec) or null. */
export type RebootNotifierBlock = NotifierBlock<string | null>;

/** One kernel's kexec and reboot state. */
export interface KexecState {
	/** kexec_image: what kexec_file_load loaded, null when nothing is. */
	image: KexecJump | null;
	/** C_A_D: Ctrl-Alt-Del reboots at once (LINUX_REBOOT_CMD_CAD_ON), or signals init (CAD_OFF). */
	cad: boolean;
	/** reboot_notifier_list. */
	readonly rebootChain: BlockingNotifierHead<string | null>;
}

const states = new WeakMap<Kernel, KexecState>();

/** The kexec state of `kernel` (C_A_D starts on, as in Linux). */
export function kexecState(kernel: Kernel): KexecState {
	let st = states.get(kernel);
	if (!st) {
		st = { image: null, cad: true, rebootChain: new BlockingNotifierHead() };
		states.set(kernel, st);
	}
	return st;
}

/** The image kexec_file_load loaded, or null. */
export function kexec_image(kernel: Kernel): KexecJump | null {
	return kexecState(kernel).image;
}

/**
 * What machine_kexec() needs to boot `image` with `cmdline`: the parsed
 * image (ENOEXEC if it is none) and the next kernel's boot options (its
 * generation and configuration, exactly this command line).
 */
export function makeKexecJump(image: Uint8Array, cmdline: string, handoverPhys: number | null, parsed: KernelImage = parseImage(image)): KexecJump {
	return { image, parsed, cmdline, handoverPhys, boot: { abi: parsed.abi, config: parsed.config, fullCmdline: cmdline } };
}

/** register_reboot_notifier(). EEXIST if `nb` is already registered. */
export function register_reboot_notifier(kernel: Kernel, nb: RebootNotifierBlock): void {
	kexecState(kernel).rebootChain.register(nb);
}

/** unregister_reboot_notifier(). ENOENT if `nb` is not registered. */
export function unregister_reboot_notifier(kernel: Kernel, nb: RebootNotifierBlock): void {
	kexecState(kernel).rebootChain.unregister(nb);
}

/**
 * kernel_kexec(): EINVAL with nothing loaded; liveupdate_reboot()'s error
 * (a failed LUO freeze); a vetoing reboot notifier's errno; otherwise
 * "Starting new kernel" and the Machine jumps: this kernel stops and the
 * loaded one boots on the same memory.
 */
export function kernel_kexec(kernel: Kernel): RebootEvent {
	const st = kexecState(kernel);
	const jump = st.image;
	if (!jump) throw new Errno(EINVAL);
	const luoErr = liveupdate_reboot(kernel);
	if (luoErr) throw new Errno(-luoErr);
	const err = notifier_to_errno(st.rebootChain.call(SYS_RESTART, "kexec reboot"));
	if (err) throw new Errno(-err);
	kernel.printk(KERN_NOTICE, "kexec_core: Starting new kernel");
	return kernel.machine.kexec(kernel, jump);
}

/** kernel_restart(cmd): the notifiers, "Restarting system", then a cold boot. */
export function kernel_restart(kernel: Kernel, cmd: string | null): RebootEvent {
	kexecState(kernel).rebootChain.call(SYS_RESTART, cmd);
	kernel.printk(KERN_EMERG, cmd === null ? "reboot: Restarting system" : `reboot: Restarting system with command '${cmd}'`);
	return kernel.machine.restart(kernel, cmd);
}

/** kernel_halt(): the notifiers, "System halted", and nothing runs. */
export function kernel_halt(kernel: Kernel): RebootEvent {
	kexecState(kernel).rebootChain.call(SYS_HALT, null);
	kernel.printk(KERN_EMERG, "reboot: System halted");
	return kernel.machine.halt(kernel, "halt");
}

/** kernel_power_off(): the notifiers, "Power down", and nothing runs. */
export function kernel_power_off(kernel: Kernel): RebootEvent {
	kexecState(kernel).rebootChain.call(SYS_POWER_OFF, null);
	kernel.printk(KERN_EMERG, "reboot: Power down");
	return kernel.machine.halt(kernel, "power_off");
}
