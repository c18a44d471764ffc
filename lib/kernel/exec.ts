/**
 * Starting process code: spawn (a program under init), fork (a child
 * running a JS function) and the body wrapper that turns a returned value,
 * exit() or an uncaught exception into do_exit (kernel/fork.c, kernel/exit.c).
 */
import { Process, copyProcess, doExit, initRlimits } from "./process.ts";
import { TaskExit } from "./sched.ts";
import { getSyscall, syscallDef } from "./syscallTable.ts";
import { Cred } from "./cred.ts";
import { FdTable } from "./fdtable.ts";
import { W_EXITCODE, W_SIGNALED, SIGABRT } from "./signal.ts";
import { AddressSpace } from "../uaccess/addressSpace.ts";
import { UserHeap } from "../uaccess/malloc.ts";
import type { Kernel, ProgramMain } from "./kernel.ts";
import type { File } from "../fs/file.ts";

/** What a body returns: an exit status (undefined = 0). */
export type ProcessBody = () => number | void | Promise<number | void>;

/**
 * Runs `body` as `p`'s code when the scheduler first picks `p`. Returning
 * N is exit(N); a TaskExit unwinds a process that already exited; any other
 * exception prints its stack on the process's stderr and kills it with
 * SIGABRT, like an abort() in C.
 */
export function startBody(p: Process, body: ProcessBody): void {
	p.kernel.sched.start(p, () => void runBody(p, body));
}

/**
 * Runs `body` as `p`'s code now, on the CPU `p` already holds (startBody
 * when the scheduler picks it; execve for the new program, whose old JS
 * stack is abandoned). The turn ends when the body blocks or finishes.
 */
export async function runBody(p: Process, body: ProcessBody): Promise<void> {
	try {
		const ret = await body();
		const status = typeof ret === "number" ? ret : 0;
		// Returning is exit(status), which ends in exit_group(2): strace shows it.
		const exitGroup = getSyscall("exit_group");
		if (exitGroup) syscallDef(p, exitGroup, [status]);
		doExit(p, W_EXITCODE(status));
	} catch (e) {
		if (!(e instanceof TaskExit)) {
			writeStderr(p, `${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
			doExit(p, W_SIGNALED(SIGABRT));
		}
	} finally {
		p.kernel.sched.taskDone(p);
	}
}

/** kernel_write() of text to the process's fd 2, if it has one. */
function writeStderr(p: Process, text: string): void {
	if (!p.files.has(2)) return;
	const f = p.files.get(2);
	f.f_op.write?.(f, new TextEncoder().encode(text), { pos: f.f_pos });
}

/** How to spawn a program under init. */
export interface SpawnOptions {
	argv?: string[];
	uid?: number;
	gid?: number;
	/** Files for fds 0, 1, 2 (each gets its own reference); missing ones stay closed. */
	stdio?: readonly (File | null)[];
	/** The parent; init by default. */
	parent?: Process;
}

/** Creates a process running `main(argc, argv)` as a child of init (or `opts.parent`). */
export function spawnProgram(k: Kernel, main: ProgramMain, opts: SpawnOptions = {}): Process {
	const parent = opts.parent ?? k.init;
	const argv = opts.argv ?? ["program"];
	const uid = opts.uid ?? 0;
	const gid = opts.gid ?? uid;
	const files = new FdTable();
	(opts.stdio ?? []).forEach((f, fd) => {
		if (f) files.replace(fd, f.get(), Number.MAX_SAFE_INTEGER, false);
	});
	const mm = new AddressSpace();
	const pid = k.allocPid();
	const p = new Process({
		kernel: k,
		pid,
		parent,
		cred: new Cred(uid, gid),
		files,
		mm,
		heap: new UserHeap(mm),
		root: parent.root,
		cwd: parent.cwd,
		rlimits: parent === k.init ? initRlimits() : parent.rlimits.map((r) => ({ ...r })),
		sid: parent.sid,
		// A shell puts each job in a process group of its own.
		pgid: parent === k.init ? pid : parent.pgid,
		comm: basename(argv[0] ?? "program"),
	});
	p.argv = argv;
	k.processes.set(p.pid, p);
	startBody(p, () => main(argv.length, argv));
	return p;
}

/** fork(): a child of `parent` that runs `child` and exits with its return value. Returns the child. */
export function forkProcess(parent: Process, child: ProcessBody): Process {
	const k = parent.kernel;
	const p = copyProcess(parent, k.allocPid());
	p.argv = parent.argv;
	k.processes.set(p.pid, p);
	startBody(p, child);
	return p;
}

function basename(path: string): string {
	const i = path.lastIndexOf("/");
	return i >= 0 ? path.slice(i + 1) : path;
}
