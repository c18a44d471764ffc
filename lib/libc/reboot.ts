/**
 * <sys/reboot.h> and <linux/reboot.h>: reboot() and its magic numbers and
 * commands; kexec_file_load(), which glibc has no wrapper for (C programs
 * call `syscall(SYS_kexec_file_load, ...)`), with <linux/kexec.h>'s flags.
 */
import { call, rawSyscall } from "./sys.ts";

export const LINUX_REBOOT_MAGIC1 = 0xfee1dead;
export const LINUX_REBOOT_MAGIC2 = 672274793;
export const LINUX_REBOOT_MAGIC2A = 85072278;
export const LINUX_REBOOT_MAGIC2B = 369367448;
export const LINUX_REBOOT_MAGIC2C = 537993216;

export const LINUX_REBOOT_CMD_RESTART = 0x01234567;
export const LINUX_REBOOT_CMD_HALT = 0xcdef0123;
export const LINUX_REBOOT_CMD_CAD_ON = 0x89abcdef;
export const LINUX_REBOOT_CMD_CAD_OFF = 0x00000000;
export const LINUX_REBOOT_CMD_POWER_OFF = 0x4321fedc;
export const LINUX_REBOOT_CMD_RESTART2 = 0xa1b2c3d4;
export const LINUX_REBOOT_CMD_SW_SUSPEND = 0xd000fce2;
export const LINUX_REBOOT_CMD_KEXEC = 0x45584543;

/** glibc's names for the commands (<sys/reboot.h>). */
export const RB_AUTOBOOT = LINUX_REBOOT_CMD_RESTART;
export const RB_HALT_SYSTEM = LINUX_REBOOT_CMD_HALT;
export const RB_ENABLE_CAD = LINUX_REBOOT_CMD_CAD_ON;
export const RB_DISABLE_CAD = LINUX_REBOOT_CMD_CAD_OFF;
export const RB_POWER_OFF = LINUX_REBOOT_CMD_POWER_OFF;
export const RB_SW_SUSPEND = LINUX_REBOOT_CMD_SW_SUSPEND;
export const RB_KEXEC = LINUX_REBOOT_CMD_KEXEC;

export const KEXEC_FILE_UNLOAD = 0x00000001;
export const KEXEC_FILE_ON_CRASH = 0x00000002;
export const KEXEC_FILE_NO_INITRAMFS = 0x00000004;
export const KEXEC_FILE_DEBUG = 0x00000008;

/** The x86_64 numbers C programs pass to syscall() for these. */
export const SYS_reboot = 169;
export const SYS_kexec_file_load = 320;

/**
 * reboot(2) as glibc's reboot(howto): `reboot(LINUX_REBOOT_MAGIC1,
 * LINUX_REBOOT_MAGIC2, howto, NULL)`. EPERM without CAP_SYS_BOOT; EINVAL
 * for an unknown command, or RB_KEXEC with no kernel loaded. On success
 * (halt, restart, kexec) it does not return.
 */
export function reboot(howto: number): number {
	return call((s) => rawSyscall(s.p, "reboot", [LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, howto >>> 0, 0]));
}

/**
 * kexec_file_load(2): loads the kernel image in `kernel_fd` to boot with
 * `cmdline` (`cmdline_len` counts its NUL) at the next RB_KEXEC.
 */
export function kexec_file_load(kernel_fd: number, initrd_fd: number, cmdline_len: number, cmdline: string | number, flags: number): number {
	return call((s) => rawSyscall(s.p, "kexec_file_load", [kernel_fd, initrd_fd, cmdline_len, s.str(cmdline), flags >>> 0]));
}
