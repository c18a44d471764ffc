/**
 * <signal.h>: signal numbers, kill, raise (glibc
 * sysdeps/unix/sysv/linux/raise.c). luosim has no user signal handlers:
 * every signal takes its default action (signal(7)).
 */
import { sys } from "./sys.ts";

export {
	SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2,
	SIGPIPE, SIGALRM, SIGTERM, SIGSTKFLT, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG,
	SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF, SIGWINCH, SIGIO, SIGPWR, SIGSYS,
} from "../kernel/signal.ts";
import { SIGABRT, SIGIO } from "../kernel/signal.ts";

export const SIGIOT = SIGABRT;
export const SIGPOLL = SIGIO;
/** The first and last real-time signals glibc gives programs. */
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;
/** One more than the highest signal number. */
export const NSIG = 65;

/**
 * kill(2): sends `sig` to `pid` (> 0), the caller's process group (0), every
 * process it may signal (-1) or the group -pid. 0 checks without sending.
 * EINVAL for a bad signal, ESRCH for no such process, EPERM without the
 * right to signal it. A fatal signal to the caller itself does not return.
 */
export function kill(pid: number, sig: number): number {
	return sys("kill", pid, sig);
}

/**
 * raise(3): sends `sig` to the caller. glibc does this with tgkill on its
 * own thread; a single-threaded process sees the same with kill(getpid()).
 */
export function raise(sig: number): number {
	const pid = sys("getpid");
	return sys("kill", pid, sig);
}
