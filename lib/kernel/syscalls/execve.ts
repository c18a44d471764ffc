/**
 * execve(2) (fs/exec.c: do_execveat_common, alloc_bprm, do_open_execat,
 * bprm_stack_limits, copy_strings, begin_new_exec) for luosim program
 * files (lib/kernel/binfmt.ts).
 *
 * Checks, in Linux's order: the file name (EFAULT, ENOENT for "",
 * ENAMETOOLONG), the walk (ENOENT, ENOTDIR, ELOOP, EACCES), the file
 * (EACCES for a directory, a device or any non-regular file, a noexec
 * mount, or no execute permission; read permission is not needed), the
 * argument and environment arrays (EFAULT, E2BIG past the stack limit
 * or for one string over 32 pages), then the contents (ENOEXEC) and the
 * module (ENOENT, ENOEXEC). Until then nothing has changed.
 *
 * Past that point the process becomes the new program: close-on-exec fds
 * are closed, the address space and heap are new and empty, argv and comm
 * are the new ones, set-user-ID and set-group-ID bits of the file apply
 * (not on a nosuid mount), saved ids follow the effective ones, and the
 * capabilities are recomputed as for a file without file capabilities
 * (root gets the full set). The new `main` then runs in the same process
 * at once; the old program's JS stack is abandoned (its execve promise
 * never settles). The environment is checked and counted but dropped:
 * luosim programs have none. ETXTBSY (a file open for writing) is not
 * modelled.
 */
import { Errno, E2BIG, EACCES, ENAMETOOLONG, ENOENT, ENOEXEC } from "../errno.ts";
import { CAP_FULL_SET } from "../cred.ts";
import { RLIMIT_STACK, type Process } from "../process.ts";
import { runBody } from "../exec.ts";
import { getSyscall, registerSyscall } from "../syscallTable.ts";
import { BINPRM_BUF_SIZE, loadProgramModule, parseProgramFile } from "../binfmt.ts";
import { AddressSpace } from "../../uaccess/addressSpace.ts";
import { UserHeap } from "../../uaccess/malloc.ts";
import { O_RDONLY } from "../../fs/fcntl.ts";
import { MS_NOEXEC, MS_NOSUID, type Path } from "../../fs/mount.ts";
import { S_IFMT, S_IFREG, S_ISGID, S_ISUID } from "../../fs/inode.ts";
import { MAY_EXEC, inodePermission } from "../../fs/permission.ts";
import type { Kernel } from "../kernel.ts";

const PAGE_SIZE = 4096;
/** MAX_ARG_STRLEN: one argument or environment string, NUL included. */
export const MAX_ARG_STRLEN = 32 * PAGE_SIZE;
/** ARG_MAX: the least room for arguments, whatever RLIMIT_STACK says. */
export const ARG_MAX = 32 * PAGE_SIZE;
/** _STK_LIM: 8 MiB; arguments may take at most 3/4 of it. */
const STK_LIM = 8 * 1024 * 1024;
const PATH_MAX = 4096;
const S_IXGRP = 0o010;

/** Processes that have called execve: setpgid() on such a child is EACCES (PF_FORKNOEXEC cleared). */
export const didExec = new WeakSet<Process>();
const warnedNullArgv = new WeakSet<Kernel>();
const encoder = new TextEncoder();

/** getname(): the path at `addr` (EFAULT; ENAMETOOLONG without a NUL in PATH_MAX bytes; ENOENT for ""). */
function getname(p: Process, addr: number): string {
	const { str, terminated } = p.mm.strncpyFromUser(addr, PATH_MAX);
	if (!terminated) throw new Errno(ENAMETOOLONG);
	if (str === "") throw new Errno(ENOENT);
	return str;
}

/** do_open_execat()/may_open() with MAY_EXEC: a regular file, on an exec mount, that the caller may execute. */
function checkExecutable(p: Process, path: Path): void {
	if ((path.inode.mode & S_IFMT) !== S_IFREG) throw new Errno(EACCES);
	if (path.mnt.flags & MS_NOEXEC) throw new Errno(EACCES);
	inodePermission(p.cred, path.mnt, path.inode, MAY_EXEC);
}

/** count(): the number of pointers before the NULL of a `char *const []` (0 for a NULL array). */
function countStrings(p: Process, addr: number, maxPtrs: number): number {
	if (addr === 0) return 0;
	let n = 0;
	while (p.mm.getUser(addr + n * 8, 8) !== 0n) {
		// Past this many pointers bprm_stack_limits() refuses anyway.
		if (++n > maxPtrs) throw new Errno(E2BIG);
	}
	return n;
}

/** Reads the strings of an array counted by countStrings, charging their bytes against `budget`. */
function copyStrings(p: Process, addr: number, count: number, budget: { left: number }): string[] {
	const out: string[] = [];
	for (let i = 0; i < count; i++) {
		const ptr = Number(p.mm.getUser(addr + i * 8, 8));
		const { str, terminated } = p.mm.strncpyFromUser(ptr, MAX_ARG_STRLEN);
		if (!terminated) throw new Errno(E2BIG);
		budget.left -= encoder.encode(str).length + 1;
		if (budget.left < 0) throw new Errno(E2BIG);
		out.push(str);
	}
	return out;
}

/** bprm_stack_limits(): the room for strings, after the pointers (E2BIG when even those do not fit). */
function argLimit(p: Process, argc: number, envc: number): number {
	const stack = p.rlimits[RLIMIT_STACK]!.cur;
	let limit = Math.floor((STK_LIM / 4) * 3);
	const quarter = stack / 4n;
	if (quarter < BigInt(limit)) limit = Number(quarter);
	limit = Math.max(limit, ARG_MAX);
	const ptrSize = (Math.max(argc, 1) + envc) * 8;
	if (limit <= ptrSize) throw new Errno(E2BIG);
	return limit - ptrSize;
}

/** begin_new_exec() credential part: set-id bits, saved ids, capabilities. */
function execCreds(p: Process, path: Path): void {
	const n = p.cred.clone();
	const mode = path.inode.mode;
	if (!(path.mnt.flags & MS_NOSUID)) {
		if (mode & S_ISUID) n.euid = path.inode.uid;
		if ((mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP)) n.egid = path.inode.gid;
	}
	n.suid = n.fsuid = n.euid;
	n.sgid = n.fsgid = n.egid;
	if (n.uid === 0 || n.euid === 0) {
		n.capPermitted = CAP_FULL_SET;
		n.capEffective = n.euid === 0 ? CAP_FULL_SET : 0n;
	} else {
		n.capPermitted = 0n;
		n.capEffective = 0n;
	}
	p.cred = n;
}

function basename(path: string): string {
	const i = path.lastIndexOf("/");
	return i >= 0 ? path.slice(i + 1) : path;
}

async function sysExecve(p: Process, args: number[]): Promise<number> {
	const [fnameAddr = 0, argvAddr = 0, envpAddr = 0] = args;
	const k = p.kernel;
	const filename = getname(p, fnameAddr);
	const path = k.vfs.lookup(p, filename);
	checkExecutable(p, path);

	const maxPtrs = Math.floor((STK_LIM / 4) * 3 / 8);
	const argc = countStrings(p, argvAddr, maxPtrs);
	const envc = countStrings(p, envpAddr, maxPtrs);
	const budget = { left: argLimit(p, argc, envc) - (encoder.encode(filename).length + 1) };
	if (budget.left < 0) throw new Errno(E2BIG);
	copyStrings(p, envpAddr, envc, budget);
	let argv = copyStrings(p, argvAddr, argc, budget);
	if (argc === 0) {
		if (!warnedNullArgv.has(k)) {
			warnedNullArgv.add(k);
			k.pr_warn(`process '${p.comm}' launched '${filename}' with NULL argv: empty string added`);
		}
		argv = [""];
	}

	const file = k.vfs.openPath(null, path, O_RDONLY);
	let header: Uint8Array;
	try {
		header = k.vfs.kernelRead(file, BINPRM_BUF_SIZE, 0);
	} finally {
		file.put();
	}
	const url = parseProgramFile(header);
	if (url === null) throw new Errno(ENOEXEC);
	const main = await loadProgramModule(k, url);

	// The point of no return (begin_new_exec).
	didExec.add(p);
	for (const f of p.files.takeCloseOnExec()) f.put();
	const oldMm = p.mm;
	p.mm = new AddressSpace();
	p.heap = new UserHeap(p.mm);
	oldMm.unmapAll();
	execCreds(p, path);
	p.argv = argv;
	p.comm = basename(filename).slice(0, 15);
	p.errno = 0;
	k.strace?.exit(p, getSyscall("execve")!, args, 0);
	void runBody(p, () => main(argv.length, argv));
	return new Promise<number>(() => {});
}

registerSyscall({
	nr: 59, name: "execve", args: ["path", "argv", "envp"], status: "partial",
	note: "Runs luosim program files (lib/kernel/binfmt.ts: `#!luosim` + a module path); the environment is dropped; no ETXTBSY, no file capabilities.",
	implAsync: sysExecve,
});
