// SPDX-License-Identifier: GPL-2.0
/*
 * init.ts: tools/testing/selftests/kho/init.c of mainline, KHO without
 * finalize (digest-selftests §6.1), the /init of vmtest's initrd on a
 * `mainline` kernel: mount debugfs and proc, load /kernel with
 * kexec_file_load(2) and the running command line, and kexec into it.
 * The older text (../init.ts) also wrote `1` to kho/out/finalize first;
 * that step went away with finalize. Any failure reboots the machine
 * instead (RB_AUTOBOOT).
 *
 * As in ../init.ts, luosim's libc has the kexec_file_load() wrapper that
 * init.c writes itself, and the command line goes in as a string.
 */
import {
	close, kexec_file_load, mount, open, read, reboot,
	KEXEC_FILE_NO_INITRAMFS, O_RDONLY, RB_AUTOBOOT, RB_KEXEC,
} from "luosim/libc";

/* from arch/x86/include/asm/setup.h */
const COMMAND_LINE_SIZE = 2048;

const KERNEL_IMAGE = "/kernel";

function mount_filesystems(): number {
	if (mount("debugfs", "/debugfs", "debugfs", 0, null) < 0)
		return -1;

	return mount("proc", "/proc", "proc", 0, null);
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

		if (kexec_load())
			break err_reboot;

		if (reboot(RB_KEXEC))
			break err_reboot;

		return 0;
	}

	reboot(RB_AUTOBOOT);
	return -1;
}
