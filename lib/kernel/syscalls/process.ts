/**
 * Process syscalls (kernel/sys.c, kernel/exit.c, kernel/fork.c,
 * kernel/signal.c, kernel/sched/core.c): ids and credentials, sessions and
 * process groups, kill, exit, wait4, fork, sched_yield, uname, and (through
 * rlimit.ts and execve.ts, imported here) resource limits and execve.
 */
import { Errno, EACCES, EAGAIN, ECHILD, EINVAL, ENOSYS, EPERM, ESRCH } from "../errno.ts";
import { CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN, CAP_SYS_RESOURCE, type Cred } from "../cred.ts";
import { RLIMIT_NPROC, exitCurrent, reap, sendSignal, type Process } from "../process.ts";
import { SIGCONT, _NSIG } from "../signal.ts";
import { forkProcess, type ProcessBody } from "../exec.ts";
import { registerSyscall, syscall } from "../syscallTable.ts";
import { UTS_RELEASE, UTS_VERSION } from "../utsname.ts";
import { didExec } from "./execve.ts";
import "./rlimit.ts";
import type { Kernel } from "../kernel.ts";

/** wait4 options (include/uapi/linux/wait.h). */
export const WNOHANG = 1;
export const WUNTRACED = 2;
export const WCONTINUED = 8;
export const __WNOTHREAD = 0x20000000;
export const __WALL = 0x40000000;
export const __WCLONE = 0x80000000;
/** sizeof(struct rusage) on x86_64. */
export const SIZEOF_RUSAGE = 144;
/** struct utsname: six fields of __NEW_UTS_LEN + 1 bytes. */
export const UTS_FIELD_LEN = 65;
export const SIZEOF_UTSNAME = 6 * UTS_FIELD_LEN;
/** (uid_t)-1 and (gid_t)-1: INVALID_UID / INVALID_GID. */
const INVALID_ID = 0xffffffff;
const INT_MIN = -2147483648;

/** The live (or zombie) process with this pid, if any (find_task_by_vpid). */
export function findProcess(k: Kernel, pid: number): Process | undefined {
	return Number.isInteger(pid) && pid > 0 ? k.processes.get(pid) : undefined;
}

/** pid argument 0 means the caller. */
function targetOf(p: Process, pid: number): Process {
	if (pid === 0) return p;
	const t = findProcess(p.kernel, pid | 0);
	if (!t) throw new Errno(ESRCH);
	return t;
}

/**
 * cap_emulate_setxuid() (security/commoncap.c) with SECURE_NO_SETUID_FIXUP
 * off: leaving uid 0 for good drops every capability; an euid change away
 * from 0 clears the effective set, back to 0 restores it from permitted.
 */
function capEmulateSetxuid(n: Cred, old: Cred): void {
	const wasRoot = old.uid === 0 || old.euid === 0 || old.suid === 0;
	if (wasRoot && n.uid !== 0 && n.euid !== 0 && n.suid !== 0) {
		n.capPermitted = 0n;
		n.capEffective = 0n;
	}
	if (old.euid === 0 && n.euid !== 0) n.capEffective = 0n;
	if (old.euid !== 0 && n.euid === 0) n.capEffective = n.capPermitted;
}

/** setuid(2) (__sys_setuid): EINVAL for (uid_t)-1; without CAP_SETUID only to the real or saved uid (EPERM). */
function sysSetuid(p: Process, args: number[]): number {
	const uid = (args[0] ?? 0) >>> 0;
	if (uid === INVALID_ID) throw new Errno(EINVAL);
	const old = p.cred;
	const n = old.clone();
	if (old.capable(CAP_SETUID)) {
		n.uid = uid;
		n.suid = uid;
	} else if (uid !== old.uid && uid !== old.suid) throw new Errno(EPERM);
	n.euid = uid;
	n.fsuid = uid;
	capEmulateSetxuid(n, old);
	p.cred = n;
	return 0;
}

/** setgid(2) (__sys_setgid): with CAP_SETGID all four gids, else only the effective one to the real or saved gid. */
function sysSetgid(p: Process, args: number[]): number {
	const gid = (args[0] ?? 0) >>> 0;
	if (gid === INVALID_ID) throw new Errno(EINVAL);
	const old = p.cred;
	const n = old.clone();
	if (old.capable(CAP_SETGID)) {
		n.gid = n.egid = n.sgid = n.fsgid = gid;
	} else if (gid === old.gid || gid === old.sgid) {
		n.egid = n.fsgid = gid;
	} else throw new Errno(EPERM);
	p.cred = n;
	return 0;
}

/** setsid(2) (ksys_setsid): EPERM for a session leader or when a process group with the caller's pid exists. */
function sysSetsid(p: Process): number {
	if (p.sid === p.pid) throw new Errno(EPERM);
	for (const q of p.kernel.processes.values()) if (q.pgid === p.pid) throw new Errno(EPERM);
	p.sid = p.pid;
	p.pgid = p.pid;
	return p.pid;
}

/**
 * setpgid(2): 0 means the caller / its pid. EINVAL for a negative pgid;
 * ESRCH unless the target is the caller or its child; EPERM for a child in
 * another session, a session leader, or a group of another session;
 * EACCES for a child that has called execve.
 */
function sysSetpgid(p: Process, args: number[]): number {
	const k = p.kernel;
	const pid = (args[0] ?? 0) | 0 || p.pid;
	const pgid = (args[1] ?? 0) | 0 || pid;
	if (pgid < 0) throw new Errno(EINVAL);
	const t = findProcess(k, pid);
	if (!t) throw new Errno(ESRCH);
	if (t.parent === p) {
		if (t.sid !== p.sid) throw new Errno(EPERM);
		if (didExec.has(t)) throw new Errno(EACCES);
	} else if (t !== p) throw new Errno(ESRCH);
	if (t.sid === t.pid) throw new Errno(EPERM);
	if (pgid !== pid) {
		let found = false;
		for (const q of k.processes.values()) if (q.pgid === pgid && q.sid === p.sid) found = true;
		if (!found) throw new Errno(EPERM);
	}
	t.pgid = pgid;
	return 0;
}

/** kill_ok_by_cred() and the SIGCONT-in-session exception of check_kill_permission(). */
function mayKill(p: Process, t: Process, sig: number): boolean {
	if (t === p) return true;
	const c = p.cred;
	const tc = t.cred;
	if (c.euid === tc.suid || c.euid === tc.uid || c.uid === tc.suid || c.uid === tc.uid) return true;
	if (c.capable(CAP_KILL)) return true;
	return sig === SIGCONT && t.sid === p.sid;
}

/** group_send_sig_info(): the permission check, then delivery (signal 0 only checks). */
function sendChecked(p: Process, t: Process, sig: number): void {
	if (sig < 0 || sig > _NSIG) throw new Errno(EINVAL);
	if (!mayKill(p, t, sig)) throw new Errno(EPERM);
	sendSignal(t, sig);
}

/** group_send_sig_info() as a result: 0 or the errno. */
function trySend(p: Process, t: Process, sig: number): number {
	try {
		sendChecked(p, t, sig);
		return 0;
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		throw e;
	}
}

/**
 * kill(2) (kill_something_info): pid > 0 that process; 0 the caller's
 * group; -1 every process but init and the caller; < -1 the group -pid.
 * Signal 0 checks only. EINVAL for a bad signal, ESRCH for no target,
 * EPERM without the right to signal (same real or effective uid as the
 * target's real or saved uid, or CAP_KILL). For a group, 0 if any
 * delivery worked, else the last error; for -1, the last error other than
 * EPERM (so 0 when every target refused), as Linux does. The caller's own
 * delivery comes last: a fatal signal to itself unwinds it. Signals take
 * their default action: luosim has no handlers.
 */
function sysKill(p: Process, args: number[]): number {
	const k = p.kernel;
	const pid = (args[0] ?? 0) | 0;
	const sig = (args[1] ?? 0) | 0;
	if (pid > 0) {
		const t = findProcess(k, pid);
		if (!t) throw new Errno(ESRCH);
		sendChecked(p, t, sig);
		return 0;
	}
	if (pid === INT_MIN) throw new Errno(ESRCH);
	const all = [...k.processes.values()];
	if (pid === -1) {
		const targets = all.filter((q) => q.pid > 1 && q !== p);
		if (targets.length === 0) throw new Errno(ESRCH);
		let retval = 0;
		for (const t of targets) {
			const err = trySend(p, t, sig);
			if (err !== EPERM) retval = err;
		}
		if (retval !== 0) throw new Errno(retval);
		return 0;
	}
	const pgrp = pid === 0 ? p.pgid : -pid;
	const group = all.filter((q) => q.pgid === pgrp);
	let success = false;
	let retval = ESRCH;
	for (const t of group) {
		if (t === p) continue;
		retval = trySend(p, t, sig);
		if (retval === 0) success = true;
	}
	if (group.includes(p)) {
		sendChecked(p, p, sig);
		return 0;
	}
	if (success) return 0;
	throw new Errno(retval);
}

/** tkill(2): a thread is its process here; EINVAL for tid <= 0. */
function sysTkill(p: Process, args: number[]): number {
	const tid = (args[0] ?? 0) | 0;
	if (tid <= 0) throw new Errno(EINVAL);
	const t = findProcess(p.kernel, tid);
	if (!t) throw new Errno(ESRCH);
	sendChecked(p, t, (args[1] ?? 0) | 0);
	return 0;
}

/** tgkill(2): as tkill, and ESRCH unless tid belongs to tgid (each process has one thread). */
function sysTgkill(p: Process, args: number[]): number {
	const tgid = (args[0] ?? 0) | 0;
	const tid = (args[1] ?? 0) | 0;
	if (tgid <= 0 || tid <= 0) throw new Errno(EINVAL);
	const t = findProcess(p.kernel, tid);
	if (!t || tgid !== tid) throw new Errno(ESRCH);
	sendChecked(p, t, (args[2] ?? 0) | 0);
	return 0;
}

/**
 * wait4(2) (kernel_wait4, do_wait): pid -1 any child, > 0 that child, 0
 * the caller's group, < -1 group -pid. ECHILD when no child matches,
 * EINVAL for an unknown option, 0 with WNOHANG while none has exited;
 * otherwise sleeps until one exits, reaps it, stores its status as an int
 * at `wstatus` and zeroes `*rusage` (luosim processes use no CPU time).
 * As in Linux, a bad pointer is EFAULT after the child has been reaped.
 * Stopped and continued children are not modelled (no job control), so
 * WUNTRACED and WCONTINUED never report anything.
 */
async function sysWait4(p: Process, args: number[]): Promise<number> {
	const upid = (args[0] ?? 0) | 0;
	const stat = args[1] ?? 0;
	const options = (args[2] ?? 0) >>> 0;
	const ru = args[3] ?? 0;
	if ((options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) >>> 0 !== 0) throw new Errno(EINVAL);
	if (upid === INT_MIN) throw new Errno(ESRCH);
	const eligible = (c: Process): boolean => {
		if (upid === -1) return true;
		if (upid < -1) return c.pgid === -upid;
		if (upid === 0) return c.pgid === p.pgid;
		return c.pid === upid;
	};
	const scan = (): { any: boolean; zombie: Process | undefined } => {
		let any = false;
		for (const c of p.children) {
			if (!eligible(c)) continue;
			any = true;
			if (c.state === "zombie") return { any, zombie: c };
		}
		return { any, zombie: undefined };
	};
	for (;;) {
		const { any, zombie } = scan();
		if (!any) throw new Errno(ECHILD);
		if (zombie) {
			const status = zombie.exitStatus ?? 0;
			reap(zombie);
			if (stat !== 0) p.mm.putUser(stat, 4, status);
			if (ru !== 0) p.mm.copyToUser(ru, new Uint8Array(SIZEOF_RUSAGE));
			return zombie.pid;
		}
		if (options & WNOHANG) return 0;
		await p.kernel.sched.waitEvent(p, [p.childExit], () => {
			const s = scan();
			return !s.any || s.zombie !== undefined;
		}, null);
	}
}

let forkBody: ProcessBody | null = null;

/**
 * fork(2) from libc: the table's fork entry with the child's code, so the
 * call shows in strace as `fork() = PID`. Returns the child's pid or
 * -errno (EAGAIN over RLIMIT_NPROC).
 */
export function sysFork(parent: Process, child: ProcessBody, name: "fork" | "vfork" = "fork"): number {
	forkBody = child;
	try {
		return syscall(parent, name, []);
	} finally {
		forkBody = null;
	}
}

/**
 * copy_process(): EAGAIN when the caller's real uid already has
 * RLIMIT_NPROC processes (root, CAP_SYS_RESOURCE and CAP_SYS_ADMIN are
 * exempt); then forkProcess.
 */
function doFork(p: Process): number {
	const body = forkBody;
	forkBody = null;
	if (!body) throw new Errno(ENOSYS);
	const c = p.cred;
	if (c.uid !== 0 && !c.capable(CAP_SYS_RESOURCE) && !c.capable(CAP_SYS_ADMIN)) {
		let n = 0;
		for (const q of p.kernel.processes.values()) if (q.cred.uid === c.uid) n++;
		if (BigInt(n) >= p.rlimits[RLIMIT_NPROC]!.cur) throw new Errno(EAGAIN);
	}
	return forkProcess(p, body).pid;
}

/** The uname nodename: the `hostname=` boot parameter (init/version.c early_hostname), else "luosim". */
export function utsNodename(k: Kernel): string {
	const h = k.cmdline.get("hostname");
	return h ? h.slice(0, UTS_FIELD_LEN - 1) : "luosim";
}

/** uname(2): struct utsname (six NUL-padded 65-byte fields). */
function sysUname(p: Process, args: number[]): number {
	const buf = new Uint8Array(SIZEOF_UTSNAME);
	const enc = new TextEncoder();
	const fields = ["Linux", utsNodename(p.kernel), UTS_RELEASE, UTS_VERSION, "x86_64", "(none)"];
	fields.forEach((f, i) => buf.set(enc.encode(f).subarray(0, UTS_FIELD_LEN - 1), i * UTS_FIELD_LEN));
	p.mm.copyToUser(args[0] ?? 0, buf);
	return 0;
}

const id = (get: (p: Process) => number) => (p: Process): number => get(p);

registerSyscall({ nr: 39, name: "getpid", args: [], status: "supported", note: "Pids count up from 1 (init) in each boot.", impl: id((p) => p.pid) });
registerSyscall({ nr: 110, name: "getppid", args: [], status: "supported", note: "0 for init; orphans see 1.", impl: id((p) => p.ppid) });
registerSyscall({ nr: 102, name: "getuid", args: [], status: "supported", note: "The real uid of the caller's credentials.", impl: id((p) => p.cred.uid) });
registerSyscall({ nr: 107, name: "geteuid", args: [], status: "supported", note: "The effective uid.", impl: id((p) => p.cred.euid) });
registerSyscall({ nr: 104, name: "getgid", args: [], status: "supported", note: "The real gid.", impl: id((p) => p.cred.gid) });
registerSyscall({ nr: 108, name: "getegid", args: [], status: "supported", note: "The effective gid.", impl: id((p) => p.cred.egid) });
registerSyscall({
	nr: 105, name: "setuid", args: ["uid"], status: "supported",
	note: "kernel/sys.c rules; leaving uid 0 drops all capabilities (no SECURE_* bits, no user namespaces); RLIMIT_NPROC is not checked.",
	impl: sysSetuid,
});
registerSyscall({ nr: 106, name: "setgid", args: ["uid"], status: "supported", note: "No supplementary groups.", impl: sysSetgid });
registerSyscall({ nr: 112, name: "setsid", args: [], status: "supported", note: "No controlling terminals.", impl: sysSetsid });
registerSyscall({ nr: 121, name: "getpgid", args: ["int"], status: "supported", note: "0 means the caller; ESRCH for an unknown pid.", impl: (p, a) => targetOf(p, (a[0] ?? 0) | 0).pgid });
registerSyscall({ nr: 111, name: "getpgrp", args: [], status: "supported", note: "The caller's process group; a program run by the CLI leads its own group.", impl: id((p) => p.pgid) });
registerSyscall({ nr: 124, name: "getsid", args: ["int"], status: "supported", note: "0 means the caller; ESRCH for an unknown pid.", impl: (p, a) => targetOf(p, (a[0] ?? 0) | 0).sid });
registerSyscall({ nr: 109, name: "setpgid", args: ["int", "int"], status: "supported", note: "kernel/sys.c rules: EINVAL for a negative pgid, ESRCH/EPERM for processes outside the caller's session or children.", impl: sysSetpgid });
registerSyscall({
	nr: 62, name: "kill", args: ["int", "signal"], status: "partial",
	note: "Default actions only (no handlers, masks or queues); stop signals and SIGCONT do nothing; init ignores signals; a fatal signal to the caller ends it inside the call (strace shows `= ?`).",
	impl: sysKill,
});
registerSyscall({ nr: 200, name: "tkill", args: ["int", "signal"], status: "partial", note: "One thread per process: tid = pid. As kill.", impl: sysTkill });
registerSyscall({ nr: 234, name: "tgkill", args: ["int", "int", "signal"], status: "partial", note: "One thread per process: tgid = tid = pid. As kill.", impl: sysTgkill });
registerSyscall({ nr: 60, name: "exit", args: ["int"], status: "supported", note: "One thread per process: the same as exit_group.", impl: (p, a) => exitCurrent(p, (a[0] ?? 0) & 0xff) });
registerSyscall({ nr: 231, name: "exit_group", args: ["int"], status: "supported", note: "Ends the caller (luosim processes have one thread); never returns.", impl: (p, a) => exitCurrent(p, (a[0] ?? 0) & 0xff) });
registerSyscall({
	nr: 61, name: "wait4", args: ["int", "wstatus", "wait_options", "rusage_out"], status: "partial",
	note: "Exited and killed children; no stopped/continued reports (no job control); *rusage is zeroed (no CPU accounting).",
	implAsync: sysWait4,
});
registerSyscall({
	nr: 57, name: "fork", args: [], status: "partial",
	note: "libc's fork(child) runs `child` in the new process (sysFork); a raw fork without a child function is ENOSYS. EAGAIN over RLIMIT_NPROC.",
	impl: doFork,
});
registerSyscall({
	nr: 58, name: "vfork", args: [], status: "partial",
	note: "As fork: the parent is not suspended until the child execs or exits.",
	impl: doFork,
});
registerSyscall({ nr: 56, name: "clone", args: ["hex", "ptr", "ptr", "ptr", "hex"], status: "unsupported", note: "No threads; use fork." });
registerSyscall({
	nr: 24, name: "sched_yield", args: [], status: "supported",
	note: "The caller goes to the back of the run queue.",
	implAsync: async (p) => {
		await p.kernel.sched.yield(p);
		return 0;
	},
});
registerSyscall({
	nr: 63, name: "uname", args: ["utsname_out"], status: "supported",
	note: "sysname Linux, nodename from the `hostname=` boot parameter (default luosim), machine x86_64, domainname (none).",
	impl: sysUname,
});
