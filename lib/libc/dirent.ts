/**
 * <dirent.h>: opendir, fdopendir, readdir, rewinddir, closedir, dirfd
 * (glibc sysdeps/unix/sysv/linux/opendir.c, readdir64.c): a DIR owns an
 * O_DIRECTORY fd and a buffer refilled with getdents64(2), 32 KiB at a time.
 */
import { ENOTDIR } from "../kernel/errno.ts";
import { call, rawSyscall, view } from "./sys.ts";
import { openat, AT_FDCWD, O_RDONLY, O_NONBLOCK, O_DIRECTORY, O_CLOEXEC, type PathArg } from "./fcntl.ts";
import { close } from "./unistd.ts";
import { fstat, Stat, S_ISDIR } from "./stat.ts";

export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;
export const DT_WHT = 14;

/** struct dirent (d_ino and d_off are 64-bit in C; numbers here). */
export interface Dirent {
	d_ino: number;
	d_off: number;
	d_reclen: number;
	d_type: number;
	d_name: string;
}

/** glibc's buffer size for getdents64. */
const DIR_BUF = 32768;

/** DIR: the stream a directory is read through. */
export class DIR {
	/** @internal bytes from the last getdents64 and where the next entry starts. */
	buf: Uint8Array = new Uint8Array(0);
	pos = 0;
	constructor(readonly fd: number) {}
}

/** opendir(3): `openat(AT_FDCWD, name, O_RDONLY|O_NONBLOCK|O_DIRECTORY|O_CLOEXEC)`; null with errno on failure. */
export function opendir(name: PathArg): DIR | null {
	const fd = openat(AT_FDCWD, name, O_RDONLY | O_NONBLOCK | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? null : new DIR(fd);
}

/** fdopendir(3): a DIR over an open directory fd (EBADF for a closed fd, ENOTDIR for another file). */
export function fdopendir(fd: number): DIR | null {
	const st = new Stat();
	if (fstat(fd, st) < 0) return null;
	if (!S_ISDIR(st.st_mode)) {
		call(() => -ENOTDIR);
		return null;
	}
	return new DIR(fd);
}

/** dirfd(3). */
export function dirfd(dirp: DIR): number {
	return dirp.fd;
}

const decoder = new TextDecoder();

/**
 * readdir(3): the next entry, or null at the end (errno unchanged) or on
 * an error (errno set: EBADF ...). "." and ".." are entries like others.
 */
export function readdir(dirp: DIR): Dirent | null {
	if (dirp.pos >= dirp.buf.length) {
		let got: Uint8Array = new Uint8Array(0);
		const n = call((s) => {
			const addr = s.alloc(DIR_BUF);
			const ret = rawSyscall(s.p, "getdents64", [dirp.fd, addr, DIR_BUF]);
			if (ret > 0) got = s.read(addr, ret);
			return ret;
		});
		if (n <= 0) return null;
		dirp.buf = got;
		dirp.pos = 0;
	}
	const v = view(dirp.buf);
	const at = dirp.pos;
	const reclen = v.getUint16(at + 16, true);
	const nameBytes = dirp.buf.subarray(at + 19, at + reclen);
	const nul = nameBytes.indexOf(0);
	dirp.pos += reclen;
	return {
		d_ino: Number(v.getBigUint64(at, true)),
		d_off: Number(v.getBigInt64(at + 8, true)),
		d_reclen: reclen,
		d_type: v.getUint8(at + 18),
		d_name: decoder.decode(nul >= 0 ? nameBytes.subarray(0, nul) : nameBytes),
	};
}

/** rewinddir(3): back to the first entry. */
export function rewinddir(dirp: DIR): void {
	call((s) => rawSyscall(s.p, "lseek", [dirp.fd, 0, 0]));
	dirp.buf = new Uint8Array(0);
	dirp.pos = 0;
}

/** closedir(3): closes the fd (EBADF if it was closed behind the DIR's back). */
export function closedir(dirp: DIR): number {
	dirp.buf = new Uint8Array(0);
	dirp.pos = 0;
	return close(dirp.fd);
}
