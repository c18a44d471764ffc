/**
 * <sys/mman.h>: mmap, munmap, mprotect, msync, madvise, memfd_create and
 * their flags (x86_64 values: include/uapi/asm-generic/mman-common.h,
 * linux/mman.h, linux/memfd.h).
 */
import { call, rawSyscall } from "./sys.ts";
import type { PathArg } from "./fcntl.ts";

export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_ANON = MAP_ANONYMOUS;
export const MAP_32BIT = 0x40;
export const MAP_GROWSDOWN = 0x0100;
export const MAP_DENYWRITE = 0x0800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MAP_HUGE_SHIFT = 26;
/** What mmap returns on failure: `(void *) -1`. */
export const MAP_FAILED = -1;

export const MS_ASYNC = 1;
export const MS_INVALIDATE = 2;
export const MS_SYNC = 4;

export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;

export const MFD_CLOEXEC = 0x0001;
export const MFD_ALLOW_SEALING = 0x0002;
export const MFD_HUGETLB = 0x0004;
export const MFD_NOEXEC_SEAL = 0x0008;
export const MFD_EXEC = 0x0010;

/**
 * mmap(2): maps `length` bytes and returns the address, or MAP_FAILED (-1)
 * with errno (EINVAL for a zero length, bad flags or an unaligned offset;
 * EBADF; EACCES for a mode the fd does not allow; ENODEV when the file
 * cannot be mapped; ENOMEM).
 */
export function mmap(addr: number, length: number, prot: number, flags: number, fd: number, offset: number): number {
	return call((s) => rawSyscall(s.p, "mmap", [addr, length, prot, flags, fd, offset]));
}

/** munmap(2). */
export function munmap(addr: number, length: number): number {
	return call((s) => rawSyscall(s.p, "munmap", [addr, length]));
}

/** mprotect(2). */
export function mprotect(addr: number, length: number, prot: number): number {
	return call((s) => rawSyscall(s.p, "mprotect", [addr, length, prot]));
}

/** msync(2). */
export function msync(addr: number, length: number, flags: number): number {
	return call((s) => rawSyscall(s.p, "msync", [addr, length, flags]));
}

/** madvise(2). */
export function madvise(addr: number, length: number, advice: number): number {
	return call((s) => rawSyscall(s.p, "madvise", [addr, length, advice]));
}

/** memfd_create(2): an anonymous shmem file named `memfd:NAME`; EINVAL for a name over 249 bytes or unknown flags. */
export function memfd_create(name: PathArg, flags: number): number {
	return call((s) => rawSyscall(s.p, "memfd_create", [s.str(name), flags]));
}
