// SPDX-License-Identifier: GPL-2.0
/*
 * init.ts: tools/testing/selftests/liveupdate/init.c (6ef2a1e1), the /init
 * of vmtest.sh's initrd, line for line. It mounts devtmpfs, debugfs and
 * proc, reads the stage from /proc/cmdline (`luo_stage=2` means 2), and in
 * stage 1 loads /kernel and /initrd.img with kexec_file_load(2) and the
 * running command line plus ` luo_stage=2`. Then it runs
 * `/test_binary -s <stage>` and waits for it, and reboots: RB_KEXEC after
 * stage 1, RB_AUTOBOOT after stage 2 or any failure. vmtest.sh greps the
 * serial console for `TEST PASSED`.
 *
 * luosim boots no initramfs: the kernel that the kexec starts has a fresh
 * root, so whoever runs stage 2 lays the initrd out again (/init,
 * /test_binary, /debugfs) before running /init there (init.test.ts does).
 * glibc has no kexec_file_load(); init.c wraps syscall(__NR_kexec_file_load)
 * itself, luosim's libc has the wrapper. The command line buffer is a JS
 * string once read.
 */
import {
	close, execve, fork, fprintf, kexec_file_load, mount, open, printf, read, reboot, snprintf, stderr, waitpid,
	_exit, O_RDONLY, RB_AUTOBOOT, RB_KEXEC, WEXITSTATUS, WIFEXITED,
} from "luosim/libc";

const COMMAND_LINE_SIZE = 2048;
const KERNEL_IMAGE = "/kernel";
const INITRD_IMAGE = "/initrd.img";
const TEST_BINARY = "/test_binary";

const decoder = new TextDecoder();

function mount_filesystems(): number {
	if (mount("devtmpfs", "/dev", "devtmpfs", 0, null) < 0) {
		fprintf(stderr, "INIT: Warning: Failed to mount devtmpfs\n");
		return -1;
	}

	if (mount("debugfs", "/debugfs", "debugfs", 0, null) < 0) {
		fprintf(stderr, "INIT: Failed to mount debugfs\n");
		return -1;
	}

	if (mount("proc", "/proc", "proc", 0, null) < 0) {
		fprintf(stderr, "INIT: Failed to mount proc\n");
		return -1;
	}

	return 0;
}

function kexec_load(): number {
	const buf = new Uint8Array(COMMAND_LINE_SIZE);
	let cmdline: string;
	let kernel_fd: number, initrd_fd: number, err: number;
	let len: number;
	let fd: number;

	fd = open("/proc/cmdline", O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "INIT: Failed to read /proc/cmdline\n");

		return -1;
	}

	len = read(fd, buf, buf.length - 1);
	close(fd);
	if (len < 0)
		return -1;

	cmdline = decoder.decode(buf.subarray(0, len));
	if (len > 0 && cmdline.endsWith("\n"))
		cmdline = cmdline.slice(0, -1);

	cmdline = (cmdline + " luo_stage=2").slice(0, COMMAND_LINE_SIZE - 1);

	kernel_fd = open(KERNEL_IMAGE, O_RDONLY);
	if (kernel_fd < 0) {
		fprintf(stderr, "INIT: Failed to open kernel image\n");
		return -1;
	}

	initrd_fd = open(INITRD_IMAGE, O_RDONLY);
	if (initrd_fd < 0) {
		fprintf(stderr, "INIT: Failed to open initrd image\n");
		close(kernel_fd);
		return -1;
	}

	err = kexec_file_load(kernel_fd, initrd_fd, new TextEncoder().encode(cmdline).length + 1,
			      cmdline, 0);

	close(initrd_fd);
	close(kernel_fd);

	return err;
}

async function run_test(stage: number): Promise<number> {
	const stage_arg = new Uint8Array(32);
	const status = new Int32Array(1);
	let pid: number;

	snprintf(stage_arg, stage_arg.length, "%d", stage);

	pid = fork(async () => {
		const argv = [TEST_BINARY, "-s", decoder.decode(stage_arg.subarray(0, stage_arg.indexOf(0)))];

		await execve(TEST_BINARY, argv, 0);
		fprintf(stderr, "INIT: execve failed\n");
		_exit(1);
	});
	if (pid < 0)
		return -1;

	await waitpid(pid, status, 0);

	return (WIFEXITED(status[0]!) && WEXITSTATUS(status[0]!) == 0) ? 0 : -1;
}

function get_current_stage(): number {
	const cmdline = new Uint8Array(COMMAND_LINE_SIZE);
	let len: number;
	let fd: number;

	fd = open("/proc/cmdline", O_RDONLY);
	if (fd < 0)
		return -1;

	len = read(fd, cmdline, cmdline.length - 1);
	close(fd);

	if (len < 0)
		return -1;

	cmdline[len] = 0;

	return decoder.decode(cmdline.subarray(0, len)).includes("luo_stage=2") ? 2 : 1;
}

/** init.c's main(): the stage the command line says, then the test binary, then the reboot. */
export async function main(_argc: number, _argv: string[]): Promise<number> {
	let current_stage = 0;

	err_reboot: {
		if (mount_filesystems())
			break err_reboot;

		current_stage = get_current_stage();
		if (current_stage < 0) {
			fprintf(stderr, "INIT: Failed to read cmdline");
			break err_reboot;
		}

		printf("INIT: Starting Stage %d\n", current_stage);

		if (current_stage == 1 && kexec_load()) {
			fprintf(stderr, "INIT: Failed to load kexec kernel\n");
			break err_reboot;
		}

		if (await run_test(current_stage)) {
			fprintf(stderr, "INIT: Test binary returned failure\n");
			break err_reboot;
		}

		printf("INIT: Stage %d completed successfully.\n", current_stage);
		reboot(current_stage == 1 ? RB_KEXEC : RB_AUTOBOOT);

		return 0;
	}

	reboot(RB_AUTOBOOT);

	return -1;
}
