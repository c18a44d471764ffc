/**
 * What every file syscall needs from user memory (fs/namei.c getname,
 * include/linux/file.h fdget): path strings copied in with Linux's limits,
 * and the fd-to-file step.
 */
import { Errno, EINVAL, EMFILE, ENAMETOOLONG, ENOENT } from "../../kernel/errno.ts";
import { PATH_MAX } from "../namei.ts";
import type { File } from "../file.ts";
import type { Process } from "../../kernel/process.ts";

/**
 * getname(): the NUL-terminated path at `addr`. EFAULT for a bad pointer,
 * ENAMETOOLONG when no NUL comes within PATH_MAX bytes, ENOENT for "" unless
 * `emptyOk` (AT_EMPTY_PATH, which also accepts NULL).
 */
export function getname(p: Process, addr: number, emptyOk = false): string {
	if (emptyOk && addr === 0) return "";
	const r = p.mm.strncpyFromUser(addr, PATH_MAX);
	if (!r.terminated) throw new Errno(ENAMETOOLONG);
	if (r.str === "" && !emptyOk) throw new Errno(ENOENT);
	return r.str;
}

/** strndup_user(): a NUL-terminated string of at most `max` bytes (EINVAL if longer), or null for NULL. */
export function getString(p: Process, addr: number, max: number): string | null {
	if (addr === 0) return null;
	const r = p.mm.strncpyFromUser(addr, max);
	if (!r.terminated) throw new Errno(EINVAL);
	return r.str;
}

/** fdget(): the File at `fd`; EBADF for a closed fd or an O_PATH one. */
export function fdget(p: Process, fd: number): File {
	return p.kernel.vfs.fdget(p, fd);
}

/** fdget_raw(): the File at `fd`, O_PATH ones included; EBADF for a closed fd. */
export function fdgetRaw(p: Process, fd: number): File {
	return p.files.get(fd);
}

/** Installs `file` (the caller's reference) at the lowest free fd; puts it if none is free (EMFILE). */
export function installFd(p: Process, file: File, cloexec: boolean, minFd = 0): number {
	try {
		return p.files.install(file, p.nofile, cloexec, minFd);
	} catch (e) {
		file.put();
		throw e;
	}
}

/** get_unused_fd_flags() before the open: EMFILE when no fd below RLIMIT_NOFILE is free. */
export function reserveFd(p: Process): void {
	if (p.files.lowestFree() >= p.nofile) throw new Errno(EMFILE);
}
