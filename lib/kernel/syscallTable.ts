/**
 * The syscall table (arch/x86/entry/syscalls/syscall_64.tbl) with a support
 * status and a note per entry, as gVisor's tables carry. Subsystems register
 * their entries; libc calls them by name through `syscall()` /
 * `syscallAsync()`, which turn a thrown `Errno` into `-errno` and feed
 * strace.
 */
import { Errno, ENOSYS } from "./errno.ts";
import type { Process } from "./process.ts";
import { TaskExit } from "./sched.ts";
import { KernelStopped } from "../kexec/reboot_event.ts";

/** How strace should print one argument (see strace.ts). */
export type SyscallArgKind =
	| "int" | "uint" | "hex" | "fd" | "dirfd" | "ptr" | "path" | "str" | "size" | "off"
	| "buf_in" | "buf_out" | "open_flags" | "mode" | "whence" | "ioctl_cmd" | "ioctl_arg"
	| "pollfds" | "signal" | "wstatus" | "wait_options" | "prot" | "mmap_flags" | "fcntl_cmd" | "fcntl_arg"
	| "rlimit_res" | "rlimit_out" | "rlimit_in" | "clockid" | "timespec_in" | "timespec_out" | "stat_out"
	| "fd_pair" | "argv" | "mount_flags" | "at_flags" | "reboot_magic" | "reboot_cmd" | "memfd_flags"
	| "kexec_flags" | "sigset" | "dirents" | "msync_flags" | "seal_flags" | "falloc_mode"
	| "uid" | "timespec_rem" | "timer_flags" | "timeval_out" | "timezone_out" | "time_out" | "utsname_out" | "envp"
	| "rusage_out";

/** Whether luosim models a syscall fully, in part, or not at all (ENOSYS). */
export type SupportStatus = "supported" | "partial" | "unsupported";

/** The signature of a syscall's implementation: raw C-level arguments (addresses are numbers). */
export type SyscallImpl = (p: Process, args: number[]) => number;
/** A syscall that may sleep. */
export type SyscallImplAsync = (p: Process, args: number[]) => Promise<number>;

/** One row of the table. */
export interface SyscallDef {
	/** x86_64 syscall number. */
	nr: number;
	name: string;
	args: SyscallArgKind[];
	status: SupportStatus;
	/** What is modelled, what differs from Linux. */
	note: string;
	/** How strace prints the return value (default "int"). */
	ret?: "int" | "hex" | "fd" | "ptr";
	impl?: SyscallImpl;
	implAsync?: SyscallImplAsync;
}

const table = new Map<string, SyscallDef>();

/** Adds or replaces an entry (subsystems call this at module load). */
export function registerSyscall(def: SyscallDef): void {
	table.set(def.name, def);
}

/** The entry for `name`, if any. */
export function getSyscall(name: string): SyscallDef | undefined {
	return table.get(name);
}

/** Every entry, by syscall number (for docs/support-matrix and `luosim syscalls`). */
export function allSyscalls(): SyscallDef[] {
	return [...table.values()].sort((a, b) => a.nr - b.nr);
}

/**
 * strace's view of the syscall layer; set by strace.ts when tracing is on
 * for a kernel. `enter` runs before the implementation (input arguments are
 * read then), `exit` after it returns. A call that never returns (exit, a
 * fatal signal to the caller, a sleeper killed) gets no `exit`: strace ends
 * it when the process exits.
 */
export interface StraceHook {
	enter(p: Process, def: SyscallDef, args: number[]): void;
	exit(p: Process, def: SyscallDef, args: number[], ret: number): void;
}

function lookup(name: string): SyscallDef {
	const def = table.get(name);
	if (!def) throw new Error(`luosim: syscall ${name} is not in the table`);
	return def;
}

function toReturn(e: unknown): number {
	if (e instanceof Errno) return -e.errno;
	throw e;
}

/** A process of a kernel that has stopped (kexec, reboot, panic) makes no more calls: it unwinds. */
function checkAlive(p: Process): void {
	const gone = p.kernel.stopped;
	if (gone) throw new KernelStopped(p.pid, gone);
}

/** Calls a non-sleeping syscall: returns its result or `-errno`. */
export function syscall(p: Process, name: string, args: number[]): number {
	checkAlive(p);
	return callEntry(p, lookup(name), args);
}

/** `syscall()` of an entry the caller has looked up already (libc checks that the entry exists). */
export function syscallDef(p: Process, def: SyscallDef, args: number[]): number {
	checkAlive(p);
	return callEntry(p, def, args);
}

function callEntry(p: Process, def: SyscallDef, args: number[]): number {
	p.kernel.strace?.enter(p, def, args);
	let ret: number;
	try {
		if (def.impl) ret = def.impl(p, args);
		else if (def.implAsync) throw new Error(`luosim: syscall ${def.name} may sleep: use syscallAsync`);
		else ret = -ENOSYS;
	} catch (e) {
		if (e instanceof TaskExit) throw e;
		ret = toReturn(e);
	}
	p.kernel.strace?.exit(p, def, args, ret);
	return ret;
}

/** Calls any syscall, sleeping if it must: resolves to its result or `-errno`. */
export async function syscallAsync(p: Process, name: string, args: number[]): Promise<number> {
	checkAlive(p);
	const def = lookup(name);
	p.kernel.strace?.enter(p, def, args);
	let ret: number;
	try {
		if (def.implAsync) ret = await def.implAsync(p, args);
		else if (def.impl) ret = def.impl(p, args);
		else ret = -ENOSYS;
	} catch (e) {
		if (e instanceof TaskExit) throw e;
		ret = toReturn(e);
	}
	p.kernel.strace?.exit(p, def, args, ret);
	return ret;
}
