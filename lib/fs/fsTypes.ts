/**
 * Filesystem types (fs/filesystems.c: register_filesystem,
 * get_fs_type). Each filesystem module registers itself at load; mount(2)
 * finds the type by name and asks it for a superblock.
 */
import type { SuperBlock } from "./inode.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** struct file_system_type: a name and how to get a superblock for a mount. */
export interface FileSystemType {
	readonly name: string;
	/**
	 * fs_context get_tree: the superblock to mount (a new one, or the
	 * kernel's single instance for sysfs/proc/devtmpfs). `data` is the
	 * option string of mount(2), or null. Throws Errno (EINVAL for a bad
	 * option, ENODEV when the kernel is built without it).
	 */
	mount(kernel: Kernel, source: string, flags: number, data: string | null): SuperBlock;
}

const types = new Map<string, FileSystemType>();

/** register_filesystem(): adds `fs` (a second registration of a name replaces the first, as a module reload would). */
export function registerFilesystem(fs: FileSystemType): void {
	types.set(fs.name, fs);
}

/** get_fs_type(): the type called `name`, or undefined (mount(2) then fails with ENODEV). */
export function getFilesystem(name: string): FileSystemType | undefined {
	return types.get(name);
}

