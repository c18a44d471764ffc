/**
 * strace for a luosim kernel: every syscall of every process, printed as
 * `strace -f -q` prints it (strace src/strace.c, syscall.c), through a line
 * sink:
 *
 *     openat(AT_FDCWD, "/dev/null", O_RDONLY) = 3
 *     read(5, 0x7f0000000000, 16) = -1 EFAULT (Bad address)
 *     exit_group(0) = ?
 *     +++ exited with 0 +++
 *
 * Input arguments are read when the call is entered, output arguments
 * when it returns. While more than one process is traced, each line starts
 * with `[pid %5u] `. A call that sleeps while another process prints is
 * split as strace splits it (`wait4(6,  <unfinished ...>`, later
 * `<... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 6`);
 * a call that never returns ends with `= ?` when its process exits.
 *
 * Differences from strace: no column alignment of ` = ` (strace pads to
 * column 40); no `--- SIGCHLD {...} ---` signal lines and no
 * `strace: Process N attached` lines (as with -q). A fatal signal a
 * process sends itself (abort() is kill(getpid(), SIGABRT) here) ends it
 * inside the call, so that call prints `= ?` where Linux would return 0 and
 * then deliver the signal. libc's fork(child) prints `fork() = PID` (Linux
 * glibc makes a clone call). Lines that other
 * processes cause during a non-sleeping call (a kill's victim exiting) are
 * printed after that call's line, since such a call is atomic here.
 * Everything printed is a function of the run, so the output is the same
 * on every run.
 */
import { signalName } from "./signal.ts";
import { EXIT_KINDS, formatArg, formatReturn } from "./straceFormat.ts";
import type { Kernel } from "./kernel.ts";
import type { Process } from "./process.ts";
import type { StraceHook, SyscallDef } from "./syscallTable.ts";

export { registerIoctlName } from "./straceFormat.ts";

/** A call that has been entered and has not returned. */
interface OpenCall {
	readonly def: SyscallDef;
	/** `name(` and the input arguments (with a trailing `, ` when output arguments follow). */
	readonly head: string;
	readonly hasExitArgs: boolean;
	/** The head has been printed with ` <unfinished ...>`. */
	flushed: boolean;
}

/** The strace state of one kernel. */
class Tracer implements StraceHook {
	private readonly open = new Map<Process, OpenCall>();
	/** Exited processes whose `+++` line is not printed yet (strace still counts them). */
	private readonly exiting = new Set<Process>();
	/** The process inside a non-sleeping call: other processes' lines wait for its line. */
	private syncCaller: Process | null = null;
	private deferred: (() => void)[] = [];

	constructor(private readonly k: Kernel, public out: (line: string) => void) {
		k.onExit((p) => {
			if (k.strace === this) this.onExit(p);
		});
	}

	enter(p: Process, def: SyscallDef, args: number[]): void {
		// A non-sleeping call cannot be interrupted: one still marked as running
		// was abandoned by a JS exception its caller caught; forget it.
		if (this.syncCaller !== null) {
			this.open.delete(this.syncCaller);
			this.syncCaller = null;
			this.runDeferred();
		}
		const exitAt = firstExitArg(def);
		const parts = formatArgs(p, def, args, 0, exitAt, undefined);
		const hasExitArgs = exitAt < def.args.length;
		const head = `${def.name}(${parts.join(", ")}${hasExitArgs && parts.length > 0 ? ", " : ""}`;
		this.open.set(p, { def, head, hasExitArgs, flushed: false });
		if (!def.implAsync) this.syncCaller = p;
	}

	exit(p: Process, def: SyscallDef, args: number[], ret: number): void {
		const o = this.open.get(p);
		this.open.delete(p);
		if (this.syncCaller === p) this.syncCaller = null;
		const exitAt = firstExitArg(def);
		let start = o ? (o.flushed ? `<... ${def.name} resumed>` : o.head) : "";
		if (!o) {
			const parts = formatArgs(p, def, args, 0, exitAt, undefined);
			start = `${def.name}(${parts.join(", ")}${exitAt < def.args.length && parts.length > 0 ? ", " : ""}`;
		}
		const rest = formatArgs(p, def, args, exitAt, def.args.length, ret);
		this.emit(p, `${start}${rest.join(", ")}) = ${formatReturn(p, def, args, ret)}`);
		this.runDeferred();
	}

	/** do_exit seen by strace: the call it died in ends with `= ?`, then `+++ exited with N +++` / `+++ killed by SIG +++`. */
	private onExit(p: Process): void {
		this.exiting.add(p);
		const finish = (): void => {
			const o = this.open.get(p);
			if (o) {
				this.open.delete(p);
				if (this.syncCaller === p) this.syncCaller = null;
				this.emit(p, `${o.flushed ? `<... ${o.def.name} resumed>` : o.head}${o.hasExitArgs ? " <unfinished ...>" : ""}) = ?`);
			}
			this.emit(p, `+++ ${exitText(p.exitStatus ?? 0)} +++`);
			this.exiting.delete(p);
		};
		if (this.syncCaller !== null && this.syncCaller !== p) this.deferred.push(finish);
		else {
			finish();
			this.runDeferred();
		}
	}

	/** Prints a line of `p`, first ending the lines of other processes still in a call. */
	private emit(p: Process, text: string): void {
		if (this.syncCaller !== null && this.syncCaller !== p) {
			this.deferred.push(() => this.emit(p, text));
			return;
		}
		for (const [q, o] of this.open) {
			if (q === p || o.flushed) continue;
			this.out(`${this.prefix(q)}${o.head} <unfinished ...>`);
			o.flushed = true;
		}
		this.out(`${this.prefix(p)}${text}`);
	}

	private runDeferred(): void {
		while (this.syncCaller === null && this.deferred.length > 0) this.deferred.shift()!();
	}

	/** `[pid %5u] ` while more than one process is traced. */
	private prefix(p: Process): string {
		let n = this.exiting.size;
		for (const q of this.k.processes.values()) if (q.pid !== 1 && !q.exited) n++;
		return n > 1 ? `[pid ${String(p.pid).padStart(5, " ")}] ` : "";
	}
}

function firstExitArg(def: SyscallDef): number {
	const i = def.args.findIndex((k) => EXIT_KINDS.has(k));
	return i < 0 ? def.args.length : i;
}

function formatArgs(p: Process, def: SyscallDef, args: readonly number[], from: number, to: number, ret: number | undefined): string[] {
	const out: string[] = [];
	for (let i = from; i < to; i++) {
		const s = formatArg(def.args[i]!, { p, def, args, i, ret });
		if (s !== null) out.push(s);
	}
	return out;
}

/** The `+++ ... +++` text of a wait status. */
function exitText(status: number): string {
	const sig = status & 0x7f;
	if (sig === 0) return `exited with ${(status >> 8) & 0xff}`;
	return `killed by ${signalName(sig)}${status & 0x80 ? " (core dumped)" : ""}`;
}

const tracers = new WeakMap<Kernel, Tracer>();

/**
 * Turns strace on for `kernel`: each finished syscall of each process, and
 * each process exit, becomes one line passed to `out` (without a newline).
 * Calling it again only changes the sink.
 */
export function enableStrace(kernel: Kernel, out: (line: string) => void): void {
	let t = tracers.get(kernel);
	if (t) t.out = out;
	else {
		t = new Tracer(kernel, out);
		tracers.set(kernel, t);
	}
	kernel.strace = t;
}

/** Turns strace off for `kernel`. */
export function disableStrace(kernel: Kernel): void {
	kernel.strace = null;
	tracers.delete(kernel);
}
