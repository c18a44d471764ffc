/**
 * reboot(2) (kernel/reboot.c SYSCALL_DEFINE4(reboot)): EPERM without
 * CAP_SYS_BOOT, then EINVAL unless magic1 is LINUX_REBOOT_MAGIC1 and
 * magic2 one of the four LINUX_REBOOT_MAGIC2*, then the command:
 *
 * - LINUX_REBOOT_CMD_RESTART / RESTART2 (EFAULT for a bad command
 *   pointer): a cold boot of the firmware's kernel, memory not kept;
 * - LINUX_REBOOT_CMD_HALT, LINUX_REBOOT_CMD_POWER_OFF: the machine stops
 *   and no kernel runs (power-off is always possible here);
 * - LINUX_REBOOT_CMD_KEXEC: kernel_kexec() (lib/kexec/kexec_core.ts):
 *   EINVAL with nothing loaded, a reboot notifier's veto, else the loaded
 *   kernel boots on the same Machine with the KHO handover;
 * - LINUX_REBOOT_CMD_CAD_ON / CAD_OFF: set C_A_D, return 0;
 * - anything else, LINUX_REBOOT_CMD_SW_SUSPEND included (no
 *   CONFIG_HIBERNATION): EINVAL.
 *
 * A successful restart, halt, power-off or kexec does not return: the
 * caller's JS stack unwinds (KernelStopped) and no process of this kernel
 * runs again; none of them exits or closes a file. The host learns what
 * happened from `machine.onReboot` or `kernel.waitForOutcome`.
 */
import { Errno, EINVAL, EPERM } from "../kernel/errno.ts";
import { CAP_SYS_BOOT } from "../kernel/cred.ts";
import { registerSyscall } from "../kernel/syscallTable.ts";
import { kernel_halt, kernel_kexec, kernel_power_off, kernel_restart, kexecState } from "./kexec_core.ts";
import { KernelStopped, type RebootEvent } from "./reboot_event.ts";
import type { Process } from "../kernel/process.ts";

/** LINUX_REBOOT_MAGIC1 (include/uapi/linux/reboot.h). */
export const LINUX_REBOOT_MAGIC1 = 0xfee1dead;
/** LINUX_REBOOT_MAGIC2: Linus's birthday. */
export const LINUX_REBOOT_MAGIC2 = 672274793;
/** LINUX_REBOOT_MAGIC2A, 2B, 2C: his daughters' birthdays, also accepted. */
export const LINUX_REBOOT_MAGIC2A = 85072278;
/** See LINUX_REBOOT_MAGIC2A. */
export const LINUX_REBOOT_MAGIC2B = 369367448;
/** See LINUX_REBOOT_MAGIC2A. */
export const LINUX_REBOOT_MAGIC2C = 537993216;

/** Restart (glibc RB_AUTOBOOT). */
export const LINUX_REBOOT_CMD_RESTART = 0x01234567;
/** Halt (RB_HALT_SYSTEM). */
export const LINUX_REBOOT_CMD_HALT = 0xcdef0123;
/** Ctrl-Alt-Del reboots at once (RB_ENABLE_CAD). */
export const LINUX_REBOOT_CMD_CAD_ON = 0x89abcdef;
/** Ctrl-Alt-Del signals init (RB_DISABLE_CAD). */
export const LINUX_REBOOT_CMD_CAD_OFF = 0x00000000;
/** Power off (RB_POWER_OFF). */
export const LINUX_REBOOT_CMD_POWER_OFF = 0x4321fedc;
/** Restart with a command string. */
export const LINUX_REBOOT_CMD_RESTART2 = 0xa1b2c3d4;
/** Hibernate (RB_SW_SUSPEND); luosim has no CONFIG_HIBERNATION. */
export const LINUX_REBOOT_CMD_SW_SUSPEND = 0xd000fce2;
/** Boot the kernel kexec_file_load loaded (RB_KEXEC). */
export const LINUX_REBOOT_CMD_KEXEC = 0x45584543;

const MAGIC2 = new Set([LINUX_REBOOT_MAGIC2, LINUX_REBOOT_MAGIC2A, LINUX_REBOOT_MAGIC2B, LINUX_REBOOT_MAGIC2C]);

/** reboot(magic1, magic2, cmd, arg). */
export function sysReboot(p: Process, args: number[]): number {
	const k = p.kernel;
	if (!p.cred.capable(CAP_SYS_BOOT)) throw new Errno(EPERM);
	if (args[0]! >>> 0 !== LINUX_REBOOT_MAGIC1 || !MAGIC2.has(args[1]! >>> 0)) throw new Errno(EINVAL);
	let ev: RebootEvent;
	switch (args[2]! >>> 0) {
		case LINUX_REBOOT_CMD_RESTART:
			ev = kernel_restart(k, null);
			break;
		case LINUX_REBOOT_CMD_CAD_ON:
			kexecState(k).cad = true;
			return 0;
		case LINUX_REBOOT_CMD_CAD_OFF:
			kexecState(k).cad = false;
			return 0;
		case LINUX_REBOOT_CMD_HALT:
			ev = kernel_halt(k);
			break;
		case LINUX_REBOOT_CMD_POWER_OFF:
			ev = kernel_power_off(k);
			break;
		case LINUX_REBOOT_CMD_RESTART2:
			// strncpy_from_user into a 256-byte buffer: EFAULT for a bad pointer.
			ev = kernel_restart(k, p.mm.strncpyFromUser(args[3]!, 255).str);
			break;
		case LINUX_REBOOT_CMD_KEXEC:
			ev = kernel_kexec(k);
			break;
		default:
			throw new Errno(EINVAL);
	}
	throw new KernelStopped(p.pid, ev);
}

registerSyscall({
	nr: 169, name: "reboot", args: ["reboot_magic", "reboot_magic", "reboot_cmd", "ptr"], status: "partial",
	note: "EPERM without CAP_SYS_BOOT, EINVAL for bad magic; RESTART/RESTART2 cold-boot the firmware's kernel (memory not kept), HALT/POWER_OFF stop the machine, KEXEC boots the loaded image on the same memory after the reboot notifiers (EINVAL with nothing loaded; a notifier's errno vetoes it), CAD_ON/CAD_OFF set C_A_D; no hibernation (SW_SUSPEND: EINVAL). Success never returns: every process of the old kernel is gone.",
	impl: sysReboot,
});
