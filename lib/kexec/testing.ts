/**
 * Test support for kexec's tests (not part of the simulated kernel): run a
 * body as a root process that may reboot its kernel, and the load + kexec
 * steps as raw syscalls.
 */
import { spawnProgram } from "../kernel/exec.ts";
import { current } from "../kernel/current.ts";
import { User } from "../kernel/testing.ts";
import { TaskExit } from "../kernel/sched.ts";
import { O_RDONLY } from "../fs/fcntl.ts";
import { BOOT_IMAGE_PATH } from "./image.ts";
import { KEXEC_FILE_NO_INITRAMFS } from "./kexec_file.ts";
import { LINUX_REBOOT_CMD_KEXEC, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2 } from "./reboot.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { WaitOutcome } from "./reboot_event.ts";

/**
 * Runs `body` as a process of `kernel` (root unless `uid`) and waits for it
 * or for the kernel's end. An exception in the body other than an
 * unwinding is rethrown here.
 */
export async function runOutcome(kernel: Kernel, body: (u: User) => number | void | Promise<number | void>, uid?: number): Promise<WaitOutcome> {
	let failure: unknown = null;
	const p = spawnProgram(kernel, async () => {
		try {
			return await body(new User(current()));
		} catch (e) {
			if (e instanceof TaskExit) throw e;
			failure = e;
			return 99;
		}
	}, { uid });
	const out = await kernel.waitForOutcome(p);
	if (failure !== null) throw failure;
	return out;
}

/** kexec_file_load of /boot/vmlinuz with `cmdline` and no initramfs: 0 or -errno. */
export function loadBootImage(u: User, cmdline: string): number {
	const fd = u.sys("open", BOOT_IMAGE_PATH, O_RDONLY);
	if (fd < 0) return fd;
	const r = u.sys("kexec_file_load", fd, -1, new TextEncoder().encode(cmdline).length + 1, cmdline, KEXEC_FILE_NO_INITRAMFS);
	u.sys("close", fd);
	return r;
}

/** reboot(MAGIC1, MAGIC2, cmd, arg): -errno when it fails; it does not return when it succeeds. */
export function rebootCmd(u: User, cmd: number, arg = 0): number {
	return u.sys("reboot", LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, cmd, arg);
}

/** Load /boot/vmlinuz with `cmdline`, then reboot(LINUX_REBOOT_CMD_KEXEC): -errno when either fails. */
export function kexecNow(u: User, cmdline: string): number {
	const r = loadBootImage(u, cmdline);
	return r < 0 ? r : rebootCmd(u, LINUX_REBOOT_CMD_KEXEC);
}
