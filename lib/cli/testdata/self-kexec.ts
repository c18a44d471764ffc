/**
 * A program for the `luosim run --kexec` tests that kexecs the machine
 * itself in stage 1, as upstream's two-stage tests do from `init.c`:
 * kexec_file_load of /boot/vmlinuz with its own command line plus
 * ` selfkexec=1`, then reboot(RB_KEXEC). Stage 2 (`-s 2`) prints
 * /proc/cmdline and the host process's pid and exits 0.
 */
import { close, errno, kexec_file_load, open, printf, read, reboot, strerror, KEXEC_FILE_NO_INITRAMFS, O_RDONLY, RB_KEXEC } from "../../libc/mod.ts";

function cmdline(): string {
	const fd = open("/proc/cmdline", O_RDONLY);
	const buf = new Uint8Array(512);
	const n = read(fd, buf, buf.length);
	close(fd);
	return new TextDecoder().decode(buf.subarray(0, n)).trimEnd();
}

export function main(_argc: number, argv: string[]): number {
	const s = argv.indexOf("-s");
	if (s >= 0 && argv[s + 1] === "2") {
		printf("stage 2 cmdline: %s\n", cmdline());
		printf("stage 2 host pid: %d\n", process.pid);
		return 0;
	}
	const next = `${cmdline()} selfkexec=1`;
	const fd = open("/boot/vmlinuz", O_RDONLY);
	if (kexec_file_load(fd, -1, new TextEncoder().encode(next).length + 1, next, KEXEC_FILE_NO_INITRAMFS) < 0) {
		printf("kexec_file_load: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	reboot(RB_KEXEC);
	printf("reboot: %s\n", strerror(errno));
	return 1;
}
