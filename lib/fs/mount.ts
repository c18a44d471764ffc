/**
 * Mounts and paths (include/linux/mount.h: struct vfsmount, struct path).
 * A Mount puts a superblock's root over a directory of its parent mount.
 */
import type { Inode, SuperBlock } from "./inode.ts";

/** MS_* mount flags that luosim honours (include/uapi/linux/mount.h). */
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;

/** struct vfsmount + struct mount. */
export class Mount {
	readonly sb: SuperBlock;
	/** The mount this one sits on; null for the root mount. */
	readonly parent: Mount | null;
	/** The directory of `parent` this mount covers; null for the root mount. */
	readonly mountpoint: Inode | null;
	flags: number;
	/** Device name as /proc/mounts shows it ("tmpfs", "sysfs", "none"). */
	readonly source: string;

	constructor(init: { sb: SuperBlock; parent: Mount | null; mountpoint: Inode | null; flags: number; source: string }) {
		this.sb = init.sb;
		this.parent = init.parent;
		this.mountpoint = init.mountpoint;
		this.flags = init.flags;
		this.source = init.source;
	}

	/** The root inode of the mounted filesystem. */
	get root(): Inode {
		return this.sb.root;
	}
}

/** struct path: an inode as reached through a particular mount. */
export interface Path {
	readonly mnt: Mount;
	readonly inode: Inode;
}
