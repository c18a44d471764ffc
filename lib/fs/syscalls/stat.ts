/**
 * stat, fstat, lstat, newfstatat (fs/stat.c): the 144-byte x86_64 struct
 * stat (lib/fs/stat.ts) copied to user memory after the lookup, so a bad
 * buffer is EFAULT only once the path resolved.
 */
import { registerSyscall } from "../../kernel/syscallTable.ts";
import { Errno, EINVAL } from "../../kernel/errno.ts";
import { AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW } from "../fcntl.ts";
import { encodeStat, fillattr } from "../stat.ts";
import { fdgetRaw, getname } from "./util.ts";
import type { Inode } from "../inode.ts";
import type { Process } from "../../kernel/process.ts";

/** cp_new_stat() into user memory. */
function putStat(p: Process, inode: Inode, statbuf: number): number {
	p.mm.copyToUser(statbuf, encodeStat(fillattr(p.kernel, inode)));
	return 0;
}

/** newfstatat(2): AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH (the dirfd itself, or the cwd), AT_NO_AUTOMOUNT (nothing to automount). */
export function sysNewfstatat(p: Process, dfd: number, filename: number, statbuf: number, flag: number): number {
	if (flag & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) throw new Errno(EINVAL);
	const name = getname(p, filename, (flag & AT_EMPTY_PATH) !== 0);
	if (name === "") {
		if (dfd === AT_FDCWD) return putStat(p, p.cwd.inode, statbuf);
		return putStat(p, fdgetRaw(p, dfd).inode, statbuf);
	}
	const path = p.kernel.vfs.lookup(p, name, { dirfd: dfd, follow: !(flag & AT_SYMLINK_NOFOLLOW) });
	return putStat(p, path.inode, statbuf);
}

/** fstat(2): any open fd, O_PATH ones too. */
export function sysFstat(p: Process, fd: number, statbuf: number): number {
	return putStat(p, fdgetRaw(p, fd).inode, statbuf);
}

const fields = "st_dev, st_ino, st_mode, st_nlink, st_uid, st_gid, st_rdev, st_size, st_blksize 4096, st_blocks (pages of a regular file), times from the virtual clock on CLOCK_REALTIME";

registerSyscall({
	nr: 4, name: "stat", args: ["path", "stat_out"], status: "supported", note: `follows symlinks; ${fields}`,
	impl: (p, a) => sysNewfstatat(p, AT_FDCWD, a[0]!, a[1]!, 0),
});
registerSyscall({
	nr: 6, name: "lstat", args: ["path", "stat_out"], status: "supported", note: "a final symlink itself",
	impl: (p, a) => sysNewfstatat(p, AT_FDCWD, a[0]!, a[1]!, AT_SYMLINK_NOFOLLOW),
});
registerSyscall({
	nr: 5, name: "fstat", args: ["fd", "stat_out"], status: "supported", note: "pipes, devices and anonymous files too",
	impl: (p, a) => sysFstat(p, a[0]!, a[1]!),
});
registerSyscall({
	nr: 262, name: "newfstatat", args: ["dirfd", "path", "stat_out", "at_flags"], status: "supported",
	note: "AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH (NULL path allowed with it), AT_NO_AUTOMOUNT; EINVAL for other flags",
	impl: (p, a) => sysNewfstatat(p, a[0]!, a[1]!, a[2]!, a[3]!),
});

