/**
 * <sys/mount.h>: mount, umount, umount2 and their flags
 * (include/uapi/linux/mount.h; glibc's umount() is umount2(target, 0)).
 */
import { call, rawSyscall } from "./sys.ts";
import type { PathArg } from "./fcntl.ts";

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_SYNCHRONOUS = 16;
export const MS_REMOUNT = 32;
export const MS_MANDLOCK = 64;
export const MS_DIRSYNC = 128;
export const MS_NOSYMFOLLOW = 256;
export const MS_NOATIME = 1024;
export const MS_NODIRATIME = 2048;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_SILENT = 32768;
export const MS_UNBINDABLE = 1 << 17;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MS_RELATIME = 1 << 21;
export const MS_STRICTATIME = 1 << 24;
export const MS_LAZYTIME = 1 << 25;

export const MNT_FORCE = 1;
export const MNT_DETACH = 2;
export const MNT_EXPIRE = 4;
export const UMOUNT_NOFOLLOW = 8;

/**
 * mount(2): mounts a filesystem of type `fstype` (ENODEV if unknown) from
 * `source` on `target`; EPERM without CAP_SYS_ADMIN. `data` is the option
 * string or NULL.
 */
export function mount(source: PathArg | null, target: PathArg, fstype: PathArg | null, mountflags: number, data: PathArg | null = null): number {
	return call((s) => rawSyscall(s.p, "mount", [
		source === null ? 0 : s.str(source), s.str(target), fstype === null ? 0 : s.str(fstype), mountflags >>> 0, data === null ? 0 : s.str(data),
	]));
}

/** umount2(2): EBUSY while in use (unless MNT_DETACH), EINVAL if `target` is not a mount point. */
export function umount2(target: PathArg, flags: number): number {
	return call((s) => rawSyscall(s.p, "umount2", [s.str(target), flags]));
}

/** umount(2): `umount2(target, 0)`. */
export function umount(target: PathArg): number {
	return umount2(target, 0);
}
