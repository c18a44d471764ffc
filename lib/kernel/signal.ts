/**
 * Signal numbers (x86_64), default actions and wait statuses
 * (include/uapi/asm-generic/signal.h, kernel/signal.c, glibc's W* macros).
 */

export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGQUIT = 3;
export const SIGILL = 4;
export const SIGTRAP = 5;
export const SIGABRT = 6;
export const SIGBUS = 7;
export const SIGFPE = 8;
export const SIGKILL = 9;
export const SIGUSR1 = 10;
export const SIGSEGV = 11;
export const SIGUSR2 = 12;
export const SIGPIPE = 13;
export const SIGALRM = 14;
export const SIGTERM = 15;
export const SIGSTKFLT = 16;
export const SIGCHLD = 17;
export const SIGCONT = 18;
export const SIGSTOP = 19;
export const SIGTSTP = 20;
export const SIGTTIN = 21;
export const SIGTTOU = 22;
export const SIGURG = 23;
export const SIGXCPU = 24;
export const SIGXFSZ = 25;
export const SIGVTALRM = 26;
export const SIGPROF = 27;
export const SIGWINCH = 28;
export const SIGIO = 29;
export const SIGPWR = 30;
export const SIGSYS = 31;
/** Highest valid signal number (SIGRTMAX). */
export const _NSIG = 64;

const NAMES = [
	"", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
	"SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
	"SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
];

/** glibc's strsignal() texts for the classic signals. */
const TEXTS = [
	"", "Hangup", "Interrupt", "Quit", "Illegal instruction", "Trace/breakpoint trap", "Aborted", "Bus error",
	"Floating point exception", "Killed", "User defined signal 1", "Segmentation fault", "User defined signal 2",
	"Broken pipe", "Alarm clock", "Terminated", "Stack fault", "Child exited", "Continued", "Stopped (signal)",
	"Stopped", "Stopped (tty input)", "Stopped (tty output)", "Urgent I/O condition", "CPU time limit exceeded",
	"File size limit exceeded", "Virtual timer expired", "Profiling timer expired", "Window changed",
	"I/O possible", "Power failure", "Bad system call",
];

/** "SIGKILL" for 9, as strace prints it. */
export function signalName(sig: number): string {
	return NAMES[sig] ?? (sig >= 34 && sig <= _NSIG ? `SIGRT_${sig - 34}` : `${sig}`);
}

/** strsignal(). */
export function strsignal(sig: number): string {
	return TEXTS[sig] ?? (sig >= 34 && sig <= _NSIG ? `Real-time signal ${sig - 34}` : `Unknown signal ${sig}`);
}

/** What a signal does with no handler installed (signal(7)). */
export type DefaultAction = "term" | "core" | "ign" | "stop" | "cont";

/** The default action of `sig`. */
export function defaultAction(sig: number): DefaultAction {
	switch (sig) {
		case SIGCHLD:
		case SIGURG:
		case SIGWINCH:
			return "ign";
		case SIGCONT:
			return "cont";
		case SIGSTOP:
		case SIGTSTP:
		case SIGTTIN:
		case SIGTTOU:
			return "stop";
		case SIGQUIT:
		case SIGILL:
		case SIGTRAP:
		case SIGABRT:
		case SIGBUS:
		case SIGFPE:
		case SIGSEGV:
		case SIGXCPU:
		case SIGXFSZ:
		case SIGSYS:
			return "core";
		default:
			return "term";
	}
}

/** The wait status of a normal exit: `(code & 0xff) << 8`. */
export function W_EXITCODE(code: number): number {
	return (code & 0xff) << 8;
}

/** The wait status of a death by signal (no core file: RLIMIT_CORE is 0 by default). */
export function W_SIGNALED(sig: number): number {
	return sig & 0x7f;
}
