/**
 * A two-stage program for the selftestsKexec tests. Stage 1 (no `-s`)
 * prints its argv and does what `kx.mode=` on the command line says:
 * `kexec` (kexec_file_load of /boot/vmlinuz with the running command line
 * plus `kx.kexeced`, then reboot(RB_KEXEC)), `exit3`, `restart`, `halt`,
 * `panic` or `hang` (sleeps for good). Stage 2 (`-s 2`) prints its argv
 * and whether it runs in a kexec'd kernel, then exits 5, or hangs with
 * `kx.hang2`.
 */
import { close, kexec_file_load, open, printf, read, reboot, sleep, KEXEC_FILE_NO_INITRAMFS, O_RDONLY, RB_AUTOBOOT, RB_HALT_SYSTEM, RB_KEXEC } from "../../../../libc/mod.ts";
import { current } from "../../../../kernel/current.ts";

function cmdline(): string {
	const fd = open("/proc/cmdline", O_RDONLY);
	const buf = new Uint8Array(1024);
	const n = read(fd, buf, buf.length);
	close(fd);
	return new TextDecoder().decode(buf.subarray(0, n)).trim();
}

export async function main(_argc: number, argv: string[]): Promise<number> {
	const line = cmdline();
	const params = line.split(" ");
	printf("argv: %s\n", argv.join(" "));
	if (argv.includes("-s")) {
		printf("stage 2 in a %s kernel\n", params.includes("kx.kexeced") ? "kexec'd" : "cold-booted");
		if (params.includes("kx.hang2")) for (;;) await sleep(60);
		return 5;
	}
	const mode = params.find((p) => p.startsWith("kx.mode="))?.slice(8);
	if (mode === "kexec") {
		const fd = open("/boot/vmlinuz", O_RDONLY);
		const next = `${line} kx.kexeced`;
		kexec_file_load(fd, -1, next.length + 1, next, KEXEC_FILE_NO_INITRAMFS);
		close(fd);
		reboot(RB_KEXEC);
	}
	if (mode === "restart") reboot(RB_AUTOBOOT);
	if (mode === "halt") reboot(RB_HALT_SYSTEM);
	if (mode === "panic") current().kernel.panic("kx asked for it");
	if (mode === "hang") for (;;) await sleep(60);
	return 3;
}
