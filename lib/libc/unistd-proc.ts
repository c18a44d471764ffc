/**
 * <unistd.h>, processes: ids, setuid/setgid/setsid, fork, execve, _exit,
 * sleep, usleep, sysconf, getpagesize (glibc posix/*.c,
 * sysdeps/unix/sysv/linux/*.c).
 */
import type { ProcessBody } from "../kernel/exec.ts";
import { sysFork } from "../kernel/syscalls/process.ts";
import { exitCurrent } from "../kernel/process.ts";
import { EINVAL } from "../kernel/errno.ts";
import { call, callAsync, rawSyscall, rawSyscallAsync, hasSyscall, self, sys, result, type Scratch } from "./sys.ts";
import { nanosleep, type Timespec } from "./time.ts";
import { getrlimit, RLIMIT_NOFILE, RLIM_INFINITY, type Rlimit } from "./resource.ts";
import type { PathArg } from "./fcntl.ts";

/** getpid(2). */
export function getpid(): number {
	return sys("getpid");
}

/** getppid(2): 0 for init. */
export function getppid(): number {
	return sys("getppid");
}

/** getuid(2). */
export function getuid(): number {
	return sys("getuid");
}

/** geteuid(2). */
export function geteuid(): number {
	return sys("geteuid");
}

/** getgid(2). */
export function getgid(): number {
	return sys("getgid");
}

/** getegid(2). */
export function getegid(): number {
	return sys("getegid");
}

/** setuid(2): EPERM without CAP_SETUID unless `uid` is the real or saved uid. */
export function setuid(uid: number): number {
	return sys("setuid", uid);
}

/** setgid(2). */
export function setgid(gid: number): number {
	return sys("setgid", gid);
}

/** setsid(2): the new session id; EPERM for a process group leader. */
export function setsid(): number {
	return sys("setsid");
}

/** getsid(2). */
export function getsid(pid: number): number {
	return sys("getsid", pid);
}

/** getpgrp(2). */
export function getpgrp(): number {
	return sys("getpgrp");
}

/** setpgid(2). */
export function setpgid(pid: number, pgid: number): number {
	return sys("setpgid", pid, pgid);
}

/**
 * fork(2). The child's code is `child` (C's `if (pid == 0) { ... }`
 * branch): it runs under the scheduler with the parent's fd table (shared
 * open file descriptions) and a copy of its address space, and its return
 * value is its exit status. Returns the child's pid in the parent. The
 * child starts with the parent's errno, as in C.
 */
export function fork(child: ProcessBody): number {
	return call((s) => {
		const pid = sysFork(s.p, child);
		const c = pid > 0 ? s.p.kernel.processes.get(pid) : undefined;
		if (c) c.errno = s.p.errno;
		return pid;
	});
}

/** A `char *const argv[]`: NULL-terminated array of string pointers in scratch memory. */
function strArray(s: Scratch, list: readonly string[] | number): number {
	if (typeof list === "number") return list;
	const b = new Uint8Array((list.length + 1) * 8);
	const v = new DataView(b.buffer);
	list.forEach((str, i) => v.setBigUint64(i * 8, BigInt(s.str(str)), true));
	return s.bytes(b);
}

/**
 * execve(2): replaces the program with the one in `path` (a luosim program
 * file naming a TS module), closing close-on-exec fds. The promise settles
 * only on failure (-1 with errno: ENOENT, EACCES, ENOEXEC ...); on success
 * the calling code never resumes.
 */
export function execve(path: PathArg, argv: readonly string[] | number, envp: readonly string[] | number = []): Promise<number> {
	return callAsync((s) => rawSyscallAsync(s.p, "execve", [s.str(path), strArray(s, argv), strArray(s, envp)]));
}

/**
 * _exit(2) (exit_group): ends the process with `status & 0xff` at once.
 * Never returns: it unwinds the process's JS stack (do not catch it).
 */
export function _exit(status: number): never {
	const p = self();
	if (hasSyscall("exit_group")) rawSyscall(p, "exit_group", [status]);
	return exitCurrent(p, status);
}

/**
 * sleep(3): sleeps `seconds` of virtual time; resolves to 0, or to the
 * seconds left (rounded) if interrupted.
 */
export async function sleep(seconds: number): Promise<number> {
	const rem: Timespec = { tv_sec: 0, tv_nsec: 0 };
	if ((await nanosleep({ tv_sec: seconds >>> 0, tv_nsec: 0 }, rem)) < 0) return rem.tv_sec + (rem.tv_nsec >= 500_000_000 ? 1 : 0);
	return 0;
}

/** usleep(3): sleeps `usec` microseconds of virtual time; 0 or -1 with errno. */
export function usleep(usec: number): Promise<number> {
	return nanosleep({ tv_sec: Math.floor(usec / 1_000_000), tv_nsec: (usec % 1_000_000) * 1000 }, null);
}

export const _SC_ARG_MAX = 0;
export const _SC_CHILD_MAX = 1;
export const _SC_CLK_TCK = 2;
export const _SC_NGROUPS_MAX = 3;
export const _SC_OPEN_MAX = 4;
export const _SC_PAGESIZE = 30;
export const _SC_PAGE_SIZE = 30;
export const _SC_NPROCESSORS_CONF = 83;
export const _SC_NPROCESSORS_ONLN = 84;

/** The page size of x86_64 (glibc's GLRO(dl_pagesize)). */
const PAGE_SIZE = 4096;
/** USER_HZ: what times() and /proc count in. */
const CLK_TCK = 100;

/**
 * sysconf(3). Supported: _SC_PAGESIZE/_SC_PAGE_SIZE (4096), _SC_OPEN_MAX
 * (the RLIMIT_NOFILE soft limit, read with prlimit64 as glibc does; -1
 * without errno if unlimited), _SC_CLK_TCK (100), _SC_NPROCESSORS_ONLN and
 * _SC_NPROCESSORS_CONF (1: luosim is a uniprocessor). Anything else is -1
 * with EINVAL.
 */
export function sysconf(name: number): number {
	switch (name) {
		case _SC_PAGESIZE:
			return PAGE_SIZE;
		case _SC_CLK_TCK:
			return CLK_TCK;
		case _SC_NPROCESSORS_ONLN:
		case _SC_NPROCESSORS_CONF:
			return 1;
		case _SC_OPEN_MAX: {
			const r: Rlimit = { rlim_cur: 0n, rlim_max: 0n };
			if (getrlimit(RLIMIT_NOFILE, r) < 0) return -1;
			return r.rlim_cur === RLIM_INFINITY ? -1 : Number(r.rlim_cur);
		}
		default:
			return result(self(), -EINVAL);
	}
}

/** getpagesize(2): 4096. */
export function getpagesize(): number {
	return PAGE_SIZE;
}
