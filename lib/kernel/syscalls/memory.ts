/**
 * Memory syscalls (mm/mmap.c: ksys_mmap_pgoff, do_mmap; mm/mprotect.c;
 * mm/mmap.c brk) over the process's AddressSpace (lib/uaccess/).
 *
 * mmap: anonymous mappings are the address space's own; a file mapping
 * asks the file's `f_op.mmap` for the pages behind it (memfd provides one;
 * ENODEV when the file has none). Before calling the driver the checks of
 * do_mmap on the file are made: EBADF, EINVAL for MAP_HUGETLB on a file or
 * an unknown mapping type, EOPNOTSUPP for an unknown flag with
 * MAP_SHARED_VALIDATE, EACCES for a writable shared mapping of a file not
 * open for writing or any mapping of a file not open for reading, EPERM for
 * PROT_EXEC on a noexec mount. The address checks (ENOMEM, EINVAL for an
 * unaligned MAP_FIXED, EPERM below mmap_min_addr, EEXIST) follow; Linux
 * makes those first, so a call wrong in both ways reports the file error
 * here. A shared mapping of a read-only file can never be made writable
 * (mprotect → EACCES).
 */
import { Errno, EACCES, EINVAL, ENODEV, ENOMEM, EOPNOTSUPP, EPERM } from "../errno.ts";
import { registerSyscall } from "../syscallTable.ts";
import {
	MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE,
	PAGE_SIZE, PROT_EXEC, PROT_WRITE, type VmaBacking,
} from "../../uaccess/addressSpace.ts";
import { FMODE_READ, FMODE_WRITE, type File } from "../../fs/file.ts";
import { MS_NOEXEC } from "../../fs/mount.ts";
import type { Process } from "../process.ts";

/**
 * MAP_HUGETLB. luosim is a kernel without CONFIG_HUGETLB_PAGE (nor
 * hugetlbfs): an anonymous MAP_HUGETLB finds no hstate and is EINVAL, as
 * a file one is; memfd_create(MFD_HUGETLB) is ENOSYS (lib/fs/memfd.ts).
 */
export const MAP_HUGETLB = 0x40000;
/**
 * LEGACY_MAP_MASK (include/linux/mman.h): the flags MAP_SHARED_VALIDATE
 * accepts on a file (MAP_SYNC would need DAX: EOPNOTSUPP too).
 */
const LEGACY_MAP_MASK = (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | 0x0800 | 0x1000 | 0x4000000 | 0x0100 |
	0x2000 | MAP_NORESERVE | MAP_POPULATE | 0x10000 | 0x20000 | MAP_HUGETLB | 0x40 | (21 << 26) | (30 << 26)) >>> 0;

/**
 * mm->brk of every process: the break of a small PIE under `setarch -R`.
 * luosim has no data segment (malloc maps arenas), so the break never moves.
 */
export const BRK_START = 0x555555559000;

/** A shared mapping of a file open read-only: VM_MAYWRITE cleared, so PROT_WRITE is refused now and by mprotect. */
function readOnly(b: VmaBacking): VmaBacking {
	return {
		get name(): string {
			return b.name;
		},
		mayWrite: false,
		getPage: (pgoff: number): Uint8Array => b.getPage(pgoff),
		open: (): void => b.open?.(),
		close: (): void => b.close?.(),
	};
}

/** do_mmap()'s checks on a file mapping (mm/mmap.c, the `if (file)` switch). */
function checkFileMapping(p: Process, fd: number, len: number, prot: number, flags: number): File {
	const file = p.kernel.vfs.fdget(p, fd);
	if (flags & MAP_HUGETLB) throw new Errno(EINVAL);
	if (len === 0) throw new Errno(EINVAL);
	switch (flags & MAP_TYPE) {
		case MAP_SHARED:
		case MAP_SHARED_VALIDATE:
			if ((flags & MAP_TYPE) === MAP_SHARED_VALIDATE && (flags & ~LEGACY_MAP_MASK) >>> 0 !== 0) throw new Errno(EOPNOTSUPP);
			if (prot & PROT_WRITE && !(file.f_mode & FMODE_WRITE)) throw new Errno(EACCES);
			if (!(file.f_mode & FMODE_READ)) throw new Errno(EACCES);
			break;
		case MAP_PRIVATE:
			if (!(file.f_mode & FMODE_READ)) throw new Errno(EACCES);
			break;
		default:
			throw new Errno(EINVAL);
	}
	const mnt = p.kernel.vfs.filePath(file)?.mnt;
	if (mnt && mnt.flags & MS_NOEXEC && prot & PROT_EXEC) throw new Errno(EPERM);
	if (!file.f_op.mmap) throw new Errno(ENODEV);
	return file;
}

/**
 * mmap(2): the address of the new mapping. EINVAL for an offset that is not
 * page-aligned, EBADF for a bad fd (without MAP_ANONYMOUS), EINVAL for
 * MAP_HUGETLB (no huge pages), then the file checks and the address
 * space's (see the module comment).
 */
function sysMmap(p: Process, args: number[]): number {
	const [addr = 0, length = 0, prot = 0, flags = 0, fd = -1, offset = 0] = args;
	if (offset % PAGE_SIZE !== 0) throw new Errno(EINVAL);
	// off_t arrives as a JS number; as an unsigned long it is offset mod 2^64.
	const pgoff = offset >= 0 ? offset / PAGE_SIZE : 2 ** 52 + offset / PAGE_SIZE;
	if (!(flags & MAP_ANONYMOUS)) {
		const file = checkFileMapping(p, fd | 0, length, prot, flags);
		if (length < 0 || length > Number.MAX_SAFE_INTEGER) throw new Errno(ENOMEM);
		const len = Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
		let backing = file.f_op.mmap!(file, { pgoff, length: len, prot, flags });
		const shared = (flags & MAP_TYPE) !== MAP_PRIVATE;
		if (shared && !(file.f_mode & FMODE_WRITE) && backing.mayWrite !== false) backing = readOnly(backing);
		try {
			return p.mm.mmap(addr, length, prot, flags, backing, pgoff);
		} catch (e) {
			backing.close?.();
			throw e;
		}
	}
	// hstate_sizelog() is NULL without CONFIG_HUGETLB_PAGE.
	if (flags & MAP_HUGETLB) throw new Errno(EINVAL);
	return p.mm.mmap(addr, length, prot, flags);
}

/** brk(2): luosim's break does not move; the current break is returned, which glibc's brk() reports as ENOMEM. */
function sysBrk(_p: Process, _args: number[]): number {
	return BRK_START;
}

registerSyscall({
	nr: 9, name: "mmap", args: ["ptr", "size", "prot", "mmap_flags", "fd", "hex"], ret: "hex", status: "supported",
	note: "Anonymous mappings, and files whose f_op has mmap (memfd); no huge pages (CONFIG_HUGETLB_PAGE=n: MAP_HUGETLB is EINVAL); MAP_LOCKED/MAP_POPULATE/MAP_NORESERVE are accepted and change nothing.",
	impl: sysMmap,
});
registerSyscall({ nr: 11, name: "munmap", args: ["ptr", "size"], status: "supported", note: "EINVAL for an unaligned address or a zero length; unmapping a hole is fine; partial unmaps split mappings.", impl: (p, a) => (p.mm.munmap(a[0] ?? 0, a[1] ?? 0), 0) });
registerSyscall({
	nr: 10, name: "mprotect", args: ["ptr", "size", "prot"], status: "supported",
	note: "No PROT_GROWSDOWN/PROT_GROWSUP (no stack VMA): EINVAL.",
	impl: (p, a) => (p.mm.mprotect(a[0] ?? 0, a[1] ?? 0, a[2] ?? 0), 0),
});
registerSyscall({
	nr: 12, name: "brk", args: ["ptr"], ret: "hex", status: "partial",
	note: "No data segment: the break stays at 0x555555559000 and brk() returns it (glibc's brk/sbrk then fail with ENOMEM).",
	impl: sysBrk,
});
