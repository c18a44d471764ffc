/**
 * Processes (include/linux/sched.h task_struct; kernel/fork.c, kernel/exit.c,
 * kernel/signal.c as far as tests need them). A process's code is a JS
 * function run under the Scheduler; its state lives here.
 */
import { Cred } from "./cred.ts";
import { FdTable } from "./fdtable.ts";
import { WaitQueue } from "./waitqueue.ts";
import { TaskExit } from "./sched.ts";
import { defaultAction, W_EXITCODE, W_SIGNALED, SIGCHLD } from "./signal.ts";
import { AddressSpace } from "../uaccess/addressSpace.ts";
import { UserHeap } from "../uaccess/malloc.ts";
import type { Kernel } from "./kernel.ts";
import type { Path } from "../fs/mount.ts";

/** Resource numbers (include/uapi/asm-generic/resource.h). */
export const RLIMIT_CPU = 0;
export const RLIMIT_FSIZE = 1;
export const RLIMIT_DATA = 2;
export const RLIMIT_STACK = 3;
export const RLIMIT_CORE = 4;
export const RLIMIT_RSS = 5;
export const RLIMIT_NPROC = 6;
export const RLIMIT_NOFILE = 7;
export const RLIMIT_MEMLOCK = 8;
export const RLIMIT_AS = 9;
export const RLIMIT_LOCKS = 10;
export const RLIMIT_SIGPENDING = 11;
export const RLIMIT_MSGQUEUE = 12;
export const RLIMIT_NICE = 13;
export const RLIMIT_RTPRIO = 14;
export const RLIMIT_RTTIME = 15;
export const RLIM_NLIMITS = 16;
/** RLIM_INFINITY as an unsigned 64-bit value. */
export const RLIM_INFINITY = 0xffffffffffffffffn;
/** fs.nr_open: the ceiling for RLIMIT_NOFILE (fs/file.c sysctl_nr_open default). */
export const NR_OPEN = 1048576;
const NR_OPEN_BIG = BigInt(NR_OPEN);

/** One resource limit, soft and hard. */
export interface Rlimit {
	cur: bigint;
	max: bigint;
}

/** init's limits (include/asm-generic/resource.h INIT_RLIMITS; NOFILE 1024/4096). */
export function initRlimits(): Rlimit[] {
	const inf = { cur: RLIM_INFINITY, max: RLIM_INFINITY };
	const r: Rlimit[] = Array.from({ length: RLIM_NLIMITS }, () => ({ ...inf }));
	r[RLIMIT_STACK] = { cur: 8n * 1024n * 1024n, max: RLIM_INFINITY };
	r[RLIMIT_CORE] = { cur: 0n, max: RLIM_INFINITY };
	r[RLIMIT_NPROC] = { cur: 63422n, max: 63422n };
	r[RLIMIT_NOFILE] = { cur: 1024n, max: 4096n };
	r[RLIMIT_MEMLOCK] = { cur: 8n * 1024n * 1024n, max: 8n * 1024n * 1024n };
	r[RLIMIT_SIGPENDING] = { cur: 63422n, max: 63422n };
	r[RLIMIT_MSGQUEUE] = { cur: 819200n, max: 819200n };
	r[RLIMIT_NICE] = { cur: 0n, max: 0n };
	r[RLIMIT_RTPRIO] = { cur: 0n, max: 0n };
	return r;
}

/** Where a process is in its life. */
export type ProcessState = "new" | "runnable" | "running" | "blocked" | "zombie" | "reaped";

/** task_struct, with its mm, files, fs and signal parts folded in. */
export class Process {
	readonly kernel: Kernel;
	readonly pid: number;
	parent: Process | null;
	readonly children = new Set<Process>();
	cred: Cred;
	files: FdTable;
	mm: AddressSpace;
	heap: UserHeap;
	/** fs_struct: root and current directory. */
	root: Path;
	cwd: Path;
	umask = 0o022;
	rlimits: Rlimit[];
	/** Session and process group ids (setsid). */
	sid: number;
	pgid: number;
	/** comm: the program name, as /proc/PID/comm shows it (15 characters). */
	comm: string;
	argv: string[] = [];
	/** The libc errno of this process, saved across context switches. */
	errno = 0;
	state: ProcessState = "new";
	/** The wait status once it has exited (W_EXITCODE / W_SIGNALED form). */
	exitStatus: number | null = null;
	/** Children's exits wake this (wait_chldexit in signal_struct). */
	readonly childExit = new WaitQueue();
	/** Scheduler: continues this process's JS code. */
	resumeFn: (() => void) | null = null;
	/** Scheduler: undoes a pending waitEvent registration if the process dies asleep. */
	blockCleanup: (() => void) | null = null;
	/** Hooks run at exit after the files are closed (exit_mm-like teardown of later subsystems). */
	readonly exitHooks: ((p: Process) => void)[] = [];

	constructor(init: { kernel: Kernel; pid: number; parent: Process | null; cred: Cred; files: FdTable; mm: AddressSpace; heap: UserHeap; root: Path; cwd: Path; rlimits: Rlimit[]; sid: number; pgid: number; comm: string }) {
		this.kernel = init.kernel;
		this.pid = init.pid;
		this.parent = init.parent;
		this.cred = init.cred;
		this.files = init.files;
		this.mm = init.mm;
		this.heap = init.heap;
		this.root = init.root;
		this.cwd = init.cwd;
		this.rlimits = init.rlimits;
		this.sid = init.sid;
		this.pgid = init.pgid;
		this.comm = init.comm.slice(0, 15);
		parentAdd(init.parent, this);
	}

	/** getppid(): 0 for init. */
	get ppid(): number {
		return this.parent?.pid ?? 0;
	}

	/** RLIMIT_NOFILE's soft limit when `nofile` last converted it, and the result (every open asks). */
	private nofileOf = -1n;
	private nofileNum = 0;

	/** The fd limit in force (RLIMIT_NOFILE soft). */
	get nofile(): number {
		const cur = this.rlimits[RLIMIT_NOFILE]!.cur;
		if (cur !== this.nofileOf) {
			this.nofileNum = cur > NR_OPEN_BIG ? NR_OPEN : Number(cur);
			this.nofileOf = cur;
		}
		return this.nofileNum;
	}

	/** True once the process has exited (zombie or reaped). */
	get exited(): boolean {
		return this.state === "zombie" || this.state === "reaped";
	}
}

function parentAdd(parent: Process | null, child: Process): void {
	parent?.children.add(child);
}

/**
 * copy_process() for fork: a child sharing the open files, with a copy of
 * the address space (MAP_SHARED stays shared) and of the credentials.
 */
export function copyProcess(parent: Process, pid: number): Process {
	const mm = parent.mm.fork();
	return new Process({
		kernel: parent.kernel,
		pid,
		parent,
		cred: parent.cred.clone(),
		files: parent.files.fork(),
		mm,
		heap: parent.heap.fork(mm),
		root: parent.root,
		cwd: parent.cwd,
		rlimits: parent.rlimits.map((r) => ({ ...r })),
		sid: parent.sid,
		pgid: parent.pgid,
		comm: parent.comm,
	});
}

/**
 * do_exit(): closes the files, drops the memory, hands the children to
 * init, becomes a zombie and tells the parent (SIGCHLD, wait queue). A
 * zombie whose parent is init is reaped at once, as init's wait loop would.
 */
export function doExit(p: Process, waitStatus: number): void {
	if (p.exited) return;
	const k = p.kernel;
	p.blockCleanup?.();
	p.blockCleanup = null;
	k.sched.dequeue(p);
	p.state = "zombie";
	p.exitStatus = waitStatus;
	p.resumeFn = null;
	for (const f of p.files.takeAll()) f.put();
	for (const hook of p.exitHooks) hook(p);
	p.mm.unmapAll();
	const init = k.init;
	for (const c of p.children) {
		c.parent = init;
		init.children.add(c);
		if (c.state === "zombie") reap(c);
	}
	p.children.clear();
	k.onProcessExit(p);
	if (p.parent === init || p.parent === null) reap(p);
	else {
		sendSignal(p.parent, SIGCHLD);
		p.parent.childExit.wakeUp();
	}
}

/** release_task(): the zombie's pid is freed. */
export function reap(p: Process): void {
	p.state = "reaped";
	p.parent?.children.delete(p);
	p.kernel.processes.delete(p.pid);
}

/**
 * Delivers `sig` with its default action (luosim has no user signal
 * handlers). A fatal signal kills the target at once: if it is asleep its
 * sleep is abandoned; if it is the caller, its JS stack unwinds.
 */
export function sendSignal(p: Process, sig: number): void {
	if (sig === 0 || p.exited || p.pid === 1) return;
	const action = defaultAction(sig);
	if (action === "ign" || action === "cont" || action === "stop") return;
	const self = p.kernel.sched.current === p;
	doExit(p, W_SIGNALED(sig));
	if (self) throw new TaskExit(p.pid);
}

/** exit(): ends the calling process with `code` and unwinds it. */
export function exitCurrent(p: Process, code: number): never {
	doExit(p, W_EXITCODE(code));
	throw new TaskExit(p.pid);
}
