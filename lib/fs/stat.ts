/**
 * struct kstat and its x86_64 user layout (fs/stat.c: generic_fillattr,
 * cp_new_stat; arch/x86/include/uapi/asm/stat.h): 144 bytes, as glibc's
 * struct stat on x86_64.
 *
 * Inode times are virtual-clock nanoseconds since boot; stat reports them
 * on CLOCK_REALTIME, adding the clock's boot epoch (realtimeBaseNs).
 */
import { S_IFMT, S_IFREG } from "./inode.ts";
import type { Inode } from "./inode.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** sizeof(struct stat) on x86_64. */
export const SIZEOF_STAT = 144;
/** st_blksize: the page size, as tmpfs and the pseudo filesystems report. */
export const STAT_BLKSIZE = 4096;

/** Offsets of struct stat's fields on x86_64. */
export const STAT_OFFSETS = {
	st_dev: 0,
	st_ino: 8,
	st_nlink: 16,
	st_mode: 24,
	st_uid: 28,
	st_gid: 32,
	st_rdev: 40,
	st_size: 48,
	st_blksize: 56,
	st_blocks: 64,
	st_atime: 72,
	st_atime_nsec: 80,
	st_mtime: 88,
	st_mtime_nsec: 96,
	st_ctime: 104,
	st_ctime_nsec: 112,
} as const;

/** struct kstat: what stat reports about an inode. */
export interface Kstat {
	dev: number;
	ino: number;
	nlink: number;
	mode: number;
	uid: number;
	gid: number;
	rdev: number;
	size: number;
	blksize: number;
	/** 512-byte blocks allocated. */
	blocks: number;
	/** CLOCK_REALTIME ns (bigint: the epoch is past 2^53 ns). */
	atimeNs: bigint;
	mtimeNs: bigint;
	ctimeNs: bigint;
}

/**
 * generic_fillattr(): the inode's fields; times on CLOCK_REALTIME. Regular
 * files count whole pages of their size as allocated (shmem), other
 * inodes none.
 */
export function fillattr(kernel: Kernel, inode: Inode): Kstat {
	const base = BigInt(kernel.clock.realtimeBaseNs);
	const pages = (inode.mode & S_IFMT) === S_IFREG ? Math.ceil(inode.size / STAT_BLKSIZE) : 0;
	return {
		dev: inode.sb.dev,
		ino: inode.ino,
		nlink: inode.nlink,
		mode: inode.mode,
		uid: inode.uid,
		gid: inode.gid,
		rdev: inode.rdev,
		size: inode.size,
		blksize: STAT_BLKSIZE,
		blocks: pages * (STAT_BLKSIZE / 512),
		atimeNs: BigInt(Math.trunc(inode.atimeNs)) + base,
		mtimeNs: BigInt(Math.trunc(inode.mtimeNs)) + base,
		ctimeNs: BigInt(Math.trunc(inode.ctimeNs)) + base,
	};
}

const NS = 1_000_000_000n;

function putTime(v: DataView, off: number, ns: bigint): void {
	let sec = ns / NS;
	let nsec = ns % NS;
	if (nsec < 0n) {
		sec -= 1n;
		nsec += NS;
	}
	v.setBigInt64(off, sec, true);
	v.setBigInt64(off + 8, nsec, true);
}

/** cp_new_stat(): the 144 bytes of struct stat for `st`. */
export function encodeStat(st: Kstat): Uint8Array {
	const buf = new Uint8Array(SIZEOF_STAT);
	const v = new DataView(buf.buffer);
	const o = STAT_OFFSETS;
	v.setBigUint64(o.st_dev, BigInt(st.dev), true);
	v.setBigUint64(o.st_ino, BigInt(st.ino), true);
	v.setBigUint64(o.st_nlink, BigInt(st.nlink), true);
	v.setUint32(o.st_mode, st.mode >>> 0, true);
	v.setUint32(o.st_uid, st.uid >>> 0, true);
	v.setUint32(o.st_gid, st.gid >>> 0, true);
	v.setBigUint64(o.st_rdev, BigInt(st.rdev), true);
	v.setBigInt64(o.st_size, BigInt(st.size), true);
	v.setBigInt64(o.st_blksize, BigInt(st.blksize), true);
	v.setBigInt64(o.st_blocks, BigInt(st.blocks), true);
	putTime(v, o.st_atime, st.atimeNs);
	putTime(v, o.st_mtime, st.mtimeNs);
	putTime(v, o.st_ctime, st.ctimeNs);
	return buf;
}
