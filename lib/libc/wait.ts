/**
 * <sys/wait.h>: wait, waitpid (glibc: both are wait4(2) calls) and the W*
 * status macros (glibc bits/waitstatus.h). The macros return ints, as in C.
 */
import { callAsync, rawSyscallAsync, view, type Scratch } from "./sys.ts";

export const WNOHANG = 1;
export const WUNTRACED = 2;
export const WSTOPPED = 2;
export const WEXITED = 4;
export const WCONTINUED = 8;
export const WNOWAIT = 0x01000000;
export const __WNOTHREAD = 0x20000000;
export const __WALL = 0x40000000;
export const __WCLONE = 0x80000000;

/** Where a wait status goes: `int *wstatus` as an Int32Array (element 0), a user address, or NULL. */
export type WaitStatusArg = Int32Array | number | null;

/** WEXITSTATUS(s): the exit code. */
export function WEXITSTATUS(status: number): number {
	return (status & 0xff00) >> 8;
}
/** WTERMSIG(s): the signal that killed the child. */
export function WTERMSIG(status: number): number {
	return status & 0x7f;
}
/** WSTOPSIG(s). */
export function WSTOPSIG(status: number): number {
	return WEXITSTATUS(status);
}
/** WIFEXITED(s): 1 for a normal exit. */
export function WIFEXITED(status: number): number {
	return WTERMSIG(status) === 0 ? 1 : 0;
}
/** WIFSIGNALED(s): 1 for a death by signal (`(signed char)((s & 0x7f) + 1) >> 1 > 0`). */
export function WIFSIGNALED(status: number): number {
	return ((((status & 0x7f) + 1) << 24) >> 25) > 0 ? 1 : 0;
}
/** WIFSTOPPED(s). */
export function WIFSTOPPED(status: number): number {
	return (status & 0xff) === 0x7f ? 1 : 0;
}
/** WIFCONTINUED(s). */
export function WIFCONTINUED(status: number): number {
	return status === 0xffff ? 1 : 0;
}
/** WCOREDUMP(s): nonzero if the child dumped core. */
export function WCOREDUMP(status: number): number {
	return status & 0x80;
}

async function wait4Call(s: Scratch, pid: number, wstatus: WaitStatusArg, options: number): Promise<number> {
	const addr = wstatus === null ? 0 : typeof wstatus === "number" ? wstatus : s.alloc(4);
	const ret = await rawSyscallAsync(s.p, "wait4", [pid, addr, options, 0]);
	if (ret > 0 && wstatus instanceof Int32Array) wstatus[0] = view(s.read(addr, 4)).getInt32(0, true);
	return ret;
}

/**
 * waitpid(2): waits for a child (`pid` > 0: that one; -1: any; 0 or < -1:
 * a process group) to change state; resolves to its pid (0 with WNOHANG
 * and nothing to report) or -1 with ECHILD / EINVAL.
 */
export function waitpid(pid: number, wstatus: WaitStatusArg, options: number): Promise<number> {
	return callAsync((s) => wait4Call(s, pid, wstatus, options));
}

/** wait(2): `waitpid(-1, wstatus, 0)`. */
export function wait(wstatus: WaitStatusArg): Promise<number> {
	return waitpid(-1, wstatus, 0);
}
