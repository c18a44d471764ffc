// SPDX-License-Identifier: GPL-2.0
/*
 * init.ts: tools/testing/selftests/kho/init.c of the KHO-notifier era
 * (82ee5025, the one that finalizes KHO), the /init of vmtest's initrd:
 * mount debugfs and proc, finalize KHO through debugfs, load /kernel with
 * kexec_file_load(2) and the running command line, and kexec into it.
 * Any failure reboots the machine instead (RB_AUTOBOOT).
 *
 * glibc has no kexec_file_load(); init.c wraps syscall(__NR_kexec_file_load)
 * itself, luosim's libc has the wrapper. The command line is read into a
 * buffer as in C and passed as a string (luosim's kexec_file_load copies it
 * in with its NUL; `len` still counts that NUL, as the C's does).
 */
import {
	close, kexec_file_load, mount, open, read, reboot, write,
	KEXEC_FILE_NO_INITRAMFS, O_RDONLY, O_RDWR, RB_AUTOBOOT, RB_KEXEC,
} from "luosim/libc";

/* from arch/x86/include/asm/setup.h */
const COMMAND_LINE_SIZE = 2048;

const KHO_FINALIZE = "/debugfs/kho/out/finalize";
const KERNEL_IMAGE = "/kernel";

function mount_filesystems(): number {
	if (mount("debugfs", "/debugfs", "debugfs", 0, null) < 0)
		return -1;

	return mount("proc", "/proc", "proc", 0, null);
}

function kho_enable(): number {
	const enable = new TextEncoder().encode("1\0");
	let fd: number;

	fd = open(KHO_FINALIZE, O_RDWR);
	if (fd < 0)
		return -1;

	if (write(fd, enable, enable.length) !== enable.length)
		return 1;

	close(fd);
	return 0;
}

function kexec_load(): number {
	const cmdline = new Uint8Array(COMMAND_LINE_SIZE);
	let len: number;
	let fd: number, err: number;

	fd = open("/proc/cmdline", O_RDONLY);
	if (fd < 0)
		return -1;

	len = read(fd, cmdline, cmdline.length);
	close(fd);
	if (len < 0)
		return -1;

	/* replace \n with \0 */
	cmdline[len - 1] = 0;
	fd = open(KERNEL_IMAGE, O_RDONLY);
	if (fd < 0)
		return -1;

	err = kexec_file_load(fd, -1, len, new TextDecoder().decode(cmdline.subarray(0, len - 1)), KEXEC_FILE_NO_INITRAMFS);
	close(fd);

	return err ? err : 0;
}

export function main(_argc: number, _argv: string[]): number {
	err_reboot: {
		if (mount_filesystems())
			break err_reboot;

		if (kho_enable())
			break err_reboot;

		if (kexec_load())
			break err_reboot;

		if (reboot(RB_KEXEC))
			break err_reboot;

		return 0;
	}

	reboot(RB_AUTOBOOT);
	return -1;
}
