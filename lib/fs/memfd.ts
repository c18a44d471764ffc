/**
 * memfd_create(2) and file sealing (mm/memfd.c, Linux 6.15): an anonymous
 * shmem file named "memfd:NAME" (lib/mm/shmem.ts), and F_ADD_SEALS /
 * F_GET_SEALS through fcntl.
 *
 * The vm.memfd_noexec sysctl is 0 (its default): without MFD_EXEC or
 * MFD_NOEXEC_SEAL a memfd is executable (mode 0777). luosim is built
 * without huge pages (CONFIG_HUGETLBFS=n, CONFIG_HUGETLB_PAGE=n), so
 * MFD_HUGETLB passes the flag and name checks and a free fd (EMFILE) and
 * then fails with ENOSYS, as such a kernel's hugetlb_file_setup() stub
 * does; mmap(MAP_HUGETLB) is EINVAL on the same kernel (kernel/syscalls/
 * memory.ts) and /proc/meminfo has no HugePages lines.
 *
 * As in Linux, tmpfs regular files are shmem files too: F_GET_SEALS on
 * one reports F_SEAL_SEAL and F_ADD_SEALS is EPERM.
 */
import { registerSyscall } from "../kernel/syscallTable.ts";
import { Errno, EBUSY, EINVAL, ENOSYS, EPERM } from "../kernel/errno.ts";
import { FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE, FMODE_WRITE } from "./file.ts";
import { S_ISREG } from "./inode.ts";
import { F_ADD_SEALS, F_GET_SEALS, O_LARGEFILE } from "./fcntl.ts";
import { registerFcntl } from "./syscalls/fd.ts";
import { installFd, reserveFd } from "./syscalls/util.ts";
import {
	F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_WRITE, shmem_file_setup, shmemInfo,
} from "../mm/shmem.ts";
import type { File } from "./file.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { Process } from "../kernel/process.ts";

export { F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE, F_SEAL_FUTURE_WRITE, F_SEAL_EXEC } from "../mm/shmem.ts";

/** Close-on-exec for the new fd (include/uapi/linux/memfd.h). */
export const MFD_CLOEXEC = 0x0001;
/** Allow F_ADD_SEALS (otherwise the file starts with F_SEAL_SEAL). */
export const MFD_ALLOW_SEALING = 0x0002;
/** Back the file with huge pages (ENOSYS here: no CONFIG_HUGETLBFS). */
export const MFD_HUGETLB = 0x0004;
/** Not executable (mode 0666) and F_SEAL_EXEC; implies sealing allowed. */
export const MFD_NOEXEC_SEAL = 0x0008;
/** Executable (mode 0777), the default while vm.memfd_noexec is 0. */
export const MFD_EXEC = 0x0010;
/** The huge page size encoding that MFD_HUGETLB allows in bits 26..31. */
export const MFD_HUGE_SHIFT = 26;
export const MFD_HUGE_MASK = 0x3f;

const MFD_NAME_PREFIX = "memfd:";
/** NAME_MAX less the prefix: the longest name memfd_create takes, in bytes. */
export const MFD_NAME_MAX_LEN = 255 - MFD_NAME_PREFIX.length;
const MFD_ALL_FLAGS = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
/** F_ALL_SEALS. */
const F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

/**
 * memfd_alloc_file() (alloc_file in mm/memfd.c): a memfd File named `name`
 * (the caller adds any "memfd:" prefix), open O_RDWR|O_LARGEFILE and
 * seekable. MFD_NOEXEC_SEAL makes it 0666 with F_SEAL_EXEC; MFD_ALLOW_SEALING
 * clears F_SEAL_SEAL. MFD_HUGETLB is ENOSYS. The caller owns the reference.
 */
export function memfd_alloc_file(kernel: Kernel, name: string, flags: number): File {
	if (flags & MFD_HUGETLB) throw new Errno(ENOSYS);
	const file = shmem_file_setup(kernel, name, 0);
	file.f_mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
	file.f_flags |= O_LARGEFILE;
	const info = shmemInfo(file.inode)!;
	if (flags & MFD_NOEXEC_SEAL) {
		file.inode.mode &= ~0o111;
		info.seals = (info.seals & ~F_SEAL_SEAL) | F_SEAL_EXEC;
	} else if (flags & MFD_ALLOW_SEALING) {
		info.seals &= ~F_SEAL_SEAL;
	}
	return file;
}

/**
 * *memfd_file_seals_ptr(): the seals of a shmem file; F_SEAL_SEAL for a
 * tmpfs regular file (shmem in Linux, memfs here, never sealable); null
 * for any other file.
 */
function sealsOf(file: File): number | null {
	const info = shmemInfo(file.inode);
	if (info) return info.seals;
	return file.inode.sb.fsType === "tmpfs" && S_ISREG(file.inode.mode) ? F_SEAL_SEAL : null;
}

/**
 * memfd_add_seals(): EPERM unless open for writing, EINVAL for an unknown
 * seal or a file that cannot be sealed, EPERM once F_SEAL_SEAL is set,
 * EBUSY for F_SEAL_WRITE while a shared mapping may write. F_SEAL_EXEC
 * on an executable file also adds the write, shrink and grow seals.
 */
export function memfd_add_seals(file: File, seals: number): void {
	seals >>>= 0;
	if (!(file.f_mode & FMODE_WRITE)) throw new Errno(EPERM);
	if (seals & ~F_ALL_SEALS) throw new Errno(EINVAL);
	const cur = sealsOf(file);
	if (cur === null) throw new Errno(EINVAL);
	if (cur & F_SEAL_SEAL) throw new Errno(EPERM);
	// Only a shmem inode can be without F_SEAL_SEAL.
	const info = shmemInfo(file.inode)!;
	if (seals & F_SEAL_WRITE && !(cur & F_SEAL_WRITE) && info.mmapWritable > 0) throw new Errno(EBUSY);
	if (seals & F_SEAL_EXEC && file.inode.mode & 0o111) seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
	info.seals = cur | seals;
}

/** memfd_get_seals(): the seals, EINVAL for a file that has none. */
export function memfd_get_seals(file: File): number {
	const cur = sealsOf(file);
	if (cur === null) throw new Errno(EINVAL);
	return cur;
}

/**
 * memfd_create(2): EINVAL for an unknown flag (huge page size bits only
 * with MFD_HUGETLB) or MFD_EXEC with MFD_NOEXEC_SEAL; EFAULT for a bad
 * name pointer; EINVAL for a name over 249 bytes; EMFILE; ENOSYS for
 * MFD_HUGETLB. Returns the new fd.
 */
export function sysMemfdCreate(p: Process, uname: number, flags: number): number {
	flags >>>= 0;
	const allowed = flags & MFD_HUGETLB ? MFD_ALL_FLAGS | (MFD_HUGE_MASK << MFD_HUGE_SHIFT) : MFD_ALL_FLAGS;
	if ((flags & ~allowed) >>> 0 !== 0) throw new Errno(EINVAL);
	if (flags & MFD_EXEC && flags & MFD_NOEXEC_SEAL) throw new Errno(EINVAL);
	// check_sysctl_memfd_noexec() with vm.memfd_noexec = 0.
	if (!(flags & (MFD_EXEC | MFD_NOEXEC_SEAL))) flags |= MFD_EXEC;
	const name = p.mm.strncpyFromUser(uname, MFD_NAME_MAX_LEN + 1);
	if (!name.terminated) throw new Errno(EINVAL);
	reserveFd(p);
	const file = memfd_alloc_file(p.kernel, MFD_NAME_PREFIX + name.str, flags);
	return installFd(p, file, (flags & MFD_CLOEXEC) !== 0);
}

// memfd_fcntl(): the seal commands (the argument is an unsigned int).
registerFcntl(F_ADD_SEALS, (_p, file, arg) => (memfd_add_seals(file, arg), 0));
registerFcntl(F_GET_SEALS, (_p, file) => memfd_get_seals(file));

registerSyscall({
	nr: 319, name: "memfd_create", args: ["str", "memfd_flags"], status: "partial", ret: "fd",
	note: "shmem files in page frames, sparse; MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_NOEXEC_SEAL, MFD_EXEC (vm.memfd_noexec=0); MFD_HUGETLB is ENOSYS (no hugetlbfs); EINVAL for unknown flags or a name over 249 bytes, EFAULT",
	impl: (p, a) => sysMemfdCreate(p, a[0]!, a[1]!),
});
