/**
 * Anonymous inode files (fs/anon_inodes.c: anon_inode_getfile): files with
 * no name in any filesystem (eventfd, LUO sessions …), all sharing one
 * inode of the kernel's anon_inodefs. Its mode is 0600 with no file type,
 * as in Linux, so fstat shows a "weird file"; /proc/PID/fd shows
 * `anon_inode:NAME` (callers pass the brackets: "[eventfd]").
 *
 * Such a file is not seekable (no FMODE_LSEEK/PREAD/PWRITE: lseek and
 * pread are ESPIPE) and its `open` operation is not called.
 */
import { File, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { Inode, makedev } from "./inode.ts";
import { O_ACCMODE, O_NONBLOCK } from "./fcntl.ts";
import { currentOrNull } from "../kernel/current.ts";
import type { FileOperations } from "./file.ts";
import type { SuperBlock } from "./inode.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** ANON_INODE_FS_MAGIC. */
export const ANON_INODE_FS_MAGIC = 0x09041934;
/** st_dev of anonymous inodes: 0:14, as on a typical x86_64 boot. */
export const ANON_INODE_DEV = makedev(0, 14);

const inodes = new WeakMap<Kernel, Inode>();

/** anon_inode_inode: the one inode every anonymous file of `kernel` shares. */
export function anonInode(kernel: Kernel): Inode {
	let inode = inodes.get(kernel);
	if (!inode) {
		const sb: SuperBlock = { fsType: "anon_inodefs", dev: ANON_INODE_DEV, magic: ANON_INODE_FS_MAGIC, root: null as unknown as Inode };
		inode = new Inode({ sb, ino: 1, mode: 0o600, fop: {}, timeNs: kernel.clock.nowNs() });
		(sb as { root: Inode }).root = inode;
		inodes.set(kernel, inode);
	}
	return inode;
}

/**
 * anon_inode_getfile(): a new File on the shared anonymous inode with
 * `fops` and `priv` as its private_data; `flags` gives the access mode
 * (O_RDONLY/O_WRONLY/O_RDWR) and O_NONBLOCK. The caller owns the one
 * reference (install it in an fd table, or put it).
 */
export function anonInodeGetFile(kernel: Kernel, name: string, fops: FileOperations, priv: unknown, flags: number): File {
	const inode = anonInode(kernel);
	const f = new File({
		f_op: fops,
		inode,
		path: { inode, name: `anon_inode:${name}` },
		f_flags: flags & (O_ACCMODE | O_NONBLOCK),
		f_mode: (flags + 1) & O_ACCMODE & (FMODE_READ | FMODE_WRITE),
		opener: currentOrNull(),
	});
	f.private_data = priv;
	return f;
}
