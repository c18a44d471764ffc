/**
 * The filesystem part of boot (init/do_mounts.c, init/noinitramfs.c, and
 * what an init system mounts first): tmpfs as "/" with the usual
 * directories, devtmpfs on /dev, sysfs on /sys, debugfs on
 * /sys/kernel/debug (CONFIG_DEBUG_FS), proc on /proc (CONFIG_PROC_FS).
 * Importing this module also registers the file syscalls.
 */
import { MS_NODEV, MS_NOEXEC, MS_NOSUID } from "./mount.ts";
import { tmpfsMount } from "./tmpfs.ts";
import { devtmpfsMount } from "./devtmpfs.ts";
import { sysfsMount } from "./sysfs.ts";
import { debugfsMount } from "./debugfs.ts";
import { procMount } from "./procfs.ts";
import "./syscalls/index.ts";
import type { Path } from "./mount.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** The directories of "/" and their modes. */
const ROOT_DIRS: readonly [string, number][] = [
	["/boot", 0o755],
	["/dev", 0o755],
	["/proc", 0o555],
	["/run", 0o755],
	["/sys", 0o555],
	["/tmp", 0o1777],
];

/** Mount flags of the pseudo filesystems, as systemd mounts them. */
const PSEUDO = MS_NOSUID | MS_NODEV | MS_NOEXEC;

/** Mounts the boot filesystems of `kernel` and returns "/" (init's root and cwd). */
export function fsBoot(kernel: Kernel): Path {
	const vfs = kernel.vfs;
	vfs.mount(null, "/", tmpfsMount(kernel, { mode: 0o755 }), 0, "rootfs");
	for (const [dir, mode] of ROOT_DIRS) vfs.mkdirP(dir, mode);
	vfs.mount(null, "/dev", devtmpfsMount(kernel), MS_NOSUID, "devtmpfs");
	vfs.mount(null, "/sys", sysfsMount(kernel), PSEUDO, "sysfs");
	if (kernel.config.DEBUG_FS) vfs.mount(null, "/sys/kernel/debug", debugfsMount(kernel), PSEUDO, "debugfs");
	if (kernel.config.PROC_FS) vfs.mount(null, "/proc", procMount(kernel), PSEUDO, "proc");
	return vfs.rootPath();
}
