/**
 * mount and umount2 (fs/namespace.c: path_mount, do_new_mount,
 * do_remount, do_change_type, do_loopback, ksys_umount). One mount
 * namespace, no propagation: MS_SHARED/PRIVATE/SLAVE/UNBINDABLE are
 * accepted on a mount root and change nothing.
 */
import { registerSyscall } from "../../kernel/syscallTable.ts";
import { Errno, EINVAL, ENODEV, EPERM } from "../../kernel/errno.ts";
import { CAP_SYS_ADMIN } from "../../kernel/cred.ts";
import { PAGE_SIZE } from "../../uaccess/addressSpace.ts";
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from "../mount.ts";
import { getFilesystem } from "../fsTypes.ts";
import { MNT_DETACH, MNT_EXPIRE, MNT_FORCE, UMOUNT_NOFOLLOW } from "../vfs.ts";
import { PATH_MAX } from "../namei.ts";
import { getname, getString } from "./util.ts";
import type { Process } from "../../kernel/process.ts";

export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_UNBINDABLE = 1 << 17;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
/** The magic that old programs put in the top half of the flags. */
const MS_MGC_MSK = 0xffff0000;
const MS_MGC_VAL = 0xc0ed0000;
/** The per-mount flags luosim keeps (MNT_READONLY, NOSUID, NODEV, NOEXEC). */
const MNT_FLAGS = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
const PROPAGATION = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;

/** mount(2). */
export function sysMount(p: Process, devName: number, dirName: number, type: number, flags: number, data: number): number {
	const fstype = getString(p, type, PATH_MAX);
	const source = getString(p, devName, PATH_MAX);
	// copy_mount_options(): up to a page, not necessarily terminated.
	const options = data === 0 ? null : p.mm.strncpyFromUser(data, PAGE_SIZE).str;
	const vfs = p.kernel.vfs;
	const path = vfs.lookup(p, getname(p, dirName));
	if (!p.cred.capable(CAP_SYS_ADMIN)) throw new Errno(EPERM);
	flags >>>= 0;
	if ((flags & MS_MGC_MSK) >>> 0 === MS_MGC_VAL) flags &= ~MS_MGC_MSK;
	const isRoot = path.inode === path.mnt.root;
	if (flags & MS_REMOUNT) {
		if (!isRoot) throw new Errno(EINVAL);
		path.mnt.flags = (path.mnt.flags & ~MNT_FLAGS) | (flags & MNT_FLAGS);
		return 0;
	}
	if (flags & PROPAGATION) {
		const type1 = flags & PROPAGATION;
		if (!isRoot || (type1 & (type1 - 1)) !== 0) throw new Errno(EINVAL);
		return 0;
	}
	if (flags & MS_BIND) {
		// Only whole filesystems: luosim's mounts always show their superblock's root.
		const from = vfs.lookup(p, source ?? "");
		if (from.inode !== from.mnt.root) throw new Errno(EINVAL);
		vfs.mount(p, path, from.mnt.sb, flags & MNT_FLAGS, from.mnt.source);
		return 0;
	}
	if (flags & MS_MOVE) throw new Errno(EINVAL);
	if (fstype === null) throw new Errno(EINVAL);
	const fs = getFilesystem(fstype);
	if (!fs) throw new Errno(ENODEV);
	const sb = fs.mount(p.kernel, source ?? "none", flags, options);
	vfs.mount(p, path, sb, flags & MNT_FLAGS, source ?? "none");
	return 0;
}

/** umount2(2): flag checks and privilege before the lookup, as ksys_umount. */
export function sysUmount2(p: Process, name: number, flags: number): number {
	if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) throw new Errno(EINVAL);
	if (!p.cred.capable(CAP_SYS_ADMIN)) throw new Errno(EPERM);
	p.kernel.vfs.umount(p, getname(p, name), flags);
	return 0;
}

registerSyscall({
	nr: 165, name: "mount", args: ["str", "path", "str", "mount_flags", "str"], status: "partial",
	note: "new mounts of registered types (ENODEV otherwise); MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC kept per mount; MS_REMOUNT changes those; MS_BIND of a whole mounted filesystem only; propagation flags accepted as no-ops; MS_MOVE is EINVAL; EPERM without CAP_SYS_ADMIN",
	impl: (p, a) => sysMount(p, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!),
});
registerSyscall({
	nr: 166, name: "umount2", args: ["path", "int"], status: "supported",
	note: "EINVAL for unknown flags or a path that is not a mount root, EPERM without CAP_SYS_ADMIN, EBUSY while in use (files, cwd, submounts) unless MNT_DETACH",
	impl: (p, a) => sysUmount2(p, a[0]!, a[1]!),
});
