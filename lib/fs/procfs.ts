/**
 * procfs (fs/proc/): files generated from kernel state on every read.
 *
 * /proc/cmdline, /proc/version, /proc/uptime, /proc/devices, /proc/misc,
 * /proc/meminfo (proc_create_single files, 0444), /proc/self (symlink to
 * the reader's pid), /proc/mounts (symlink to self/mounts) and, for every
 * process that has not been reaped, /proc/PID/ with cmdline, comm, status,
 * mounts, maps, pagemap (0400; proc_task_mmu.ts) and fd/. Reading past the end returns 0 bytes; lseek takes SEEK_SET and
 * SEEK_CUR (seq_lseek), anything else is EINVAL.
 *
 * Writes: the files are 0444 (comm 0644), so a non-root write-open fails
 * on the mode bits (EACCES). Root passes the mode bits, and then a write is
 * EIO on a top-level file (pde_write without proc_write) and EINVAL on a
 * per-process file without a write method (vfs_write without
 * FMODE_CAN_WRITE). /proc/PID/comm takes a write from the process itself
 * (EINVAL from any other), as comm_write does.
 *
 * /proc/PID/fd/N links read as the file's path (" (deleted)" appended once
 * a regular file is unlinked), `pipe:[ino]`, `socket:[ino]`, or the
 * `anon_inode:[name]` path an anonymous file carries. Reading them (and
 * following them) needs ptrace read access: the same process, matching
 * uid and gid, or CAP_SYS_PTRACE (EACCES otherwise), as reading maps and
 * opening pagemap do. Following a link is a magic link: it reopens the
 * open file itself (a memfd, an unlinked file), not a path made of its text.
 *
 * Each mount of proc is an instance of its own (Linux >= 5.8): the first,
 * which boot puts on /proc, has st_dev 0:23; the entries show the same
 * kernel state in every instance.
 */
import { Errno, EACCES, EINVAL, EIO, ENOENT, ESRCH } from "../kernel/errno.ts";
import { currentOrNull } from "../kernel/current.ts";
import { UTS_RELEASE, UTS_VERSION } from "../kernel/utsname.ts";
import { Inode, makedev, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISREG } from "./inode.ts";
import { FMODE_READ, FMODE_WRITE } from "./file.ts";
import { chrdevRegions } from "./chrdev.ts";
import { miscDevices } from "./miscdev.ts";
import { registerFilesystem } from "./fsTypes.ts";
import { dPath } from "./namei.ts";
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from "./mount.ts";
import { setMagicLink } from "./namei.ts";
import { meminfoText } from "./proc_meminfo.ts";
import { mapsText, pagemapFops } from "./proc_task_mmu.ts";
import type { DirEntry, InodeOperations, SuperBlock } from "./inode.ts";
import type { File, FileOperations } from "./file.ts";
import type { Process } from "../kernel/process.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** st_dev of /proc (an anonymous device, fixed so stat output repeats). */
export const PROC_DEV = makedev(0, 23);
/** PROC_SUPER_MAGIC. */
export const PROC_SUPER_MAGIC = 0x9fa0;
const CAP_SYS_PTRACE = 19;
/** The whences seq_lseek takes (include/uapi/linux/fs.h). */
const SEEK_SET = 0;
const SEEK_CUR = 1;
/** TASK_COMM_LEN. */
const TASK_COMM_LEN = 16;

type Content = string | Uint8Array;

/** i_private of a proc inode: which entry it is and, under /proc/PID, whose. */
interface ProcPriv {
	readonly pid?: number;
	readonly fd?: number;
}

interface ProcState {
	readonly sb: SuperBlock;
	/** One inode per entry, so st_ino is stable while the entry lives. */
	readonly cache: Map<string, Inode>;
}

const states = new WeakMap<Kernel, ProcState>();

function dt(mode: number): number {
	return (mode & S_IFMT) >> 12;
}

function encode(c: Content): Uint8Array {
	return typeof c === "string" ? new TextEncoder().encode(c) : c;
}

/** seq_lseek(). */
function seqLseek(file: File, offset: number, whence: number): number {
	let pos: number;
	if (whence === SEEK_SET) pos = offset;
	else if (whence === SEEK_CUR) pos = file.f_pos + offset;
	else throw new Errno(EINVAL);
	if (pos < 0) throw new Errno(EINVAL);
	file.f_pos = pos;
	return pos;
}

/** A read-only generated file; `write` when the entry has one. */
function genFops(show: (file: File) => Content, write?: FileOperations["write"]): FileOperations {
	const fops: FileOperations = {
		read: (file, count, ppos) => {
			const data = encode(show(file));
			const out = data.slice(ppos.pos, ppos.pos + count);
			ppos.pos += out.length;
			return out;
		},
		llseek: seqLseek,
	};
	if (write) fops.write = write;
	return fops;
}

function pidOf(file: File | Inode): number {
	const inode = "inode" in file ? file.inode : file;
	return (inode.i_private as ProcPriv).pid!;
}

function task(kernel: Kernel, pid: number): Process {
	const p = kernel.processes.get(pid);
	if (!p || p.state === "reaped") throw new Errno(ESRCH);
	return p;
}

/** ptrace_may_access(PTRACE_MODE_READ_FSCREDS) as far as luosim has credentials. */
function mayAccess(target: Process): boolean {
	const me = currentOrNull();
	if (!me || me === target) return true;
	const c = me.cred;
	const t = target.cred;
	if (c.capable(CAP_SYS_PTRACE)) return true;
	return c.fsuid === t.uid && c.fsuid === t.euid && c.fsuid === t.suid && c.fsgid === t.gid && c.fsgid === t.egid && c.fsgid === t.sgid;
}

/** d_path() or the pseudo name of an open file, as /proc/PID/fd/N reads. */
export function fileDisplayName(f: File): string {
	if (f.path) return S_ISREG(f.inode.mode) && f.inode.nlink === 0 ? `${f.path.name} (deleted)` : f.path.name;
	const type = f.inode.mode & S_IFMT;
	if (type === S_IFIFO) return `pipe:[${f.inode.ino}]`;
	if (type === S_IFSOCK) return `socket:[${f.inode.ino}]`;
	return `anon_inode:[${f.inode.ino}]`;
}

/** seq_escape(s, " \t\n\\"): those bytes as \ooo. */
function mangle(s: string): string {
	return s.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`);
}

/**
 * show_vfsmnt(): one line per mount `p` can reach from its root, in mount
 * order: `source mountpoint fstype options 0 0`. The options are the mount
 * flags luosim keeps (ro/rw, nosuid, nodev, noexec); filesystem options
 * (size=, mode=) are not shown.
 */
function mountsText(kernel: Kernel, p: Process): string {
	const vfs = kernel.vfs;
	let out = "";
	for (const m of vfs.mounts.list()) {
		const where = dPath(vfs.mounts, vfs.dcache, { mnt: m, inode: m.root }, p.root);
		if (!where.reachable) continue;
		let opts = m.flags & MS_RDONLY ? "ro" : "rw";
		if (m.flags & MS_NOSUID) opts += ",nosuid";
		if (m.flags & MS_NODEV) opts += ",nodev";
		if (m.flags & MS_NOEXEC) opts += ",noexec";
		out += `${mangle(m.source)} ${mangle(where.name)} ${m.sb.fsType} ${opts} 0 0\n`;
	}
	return out;
}

/** task_state(): the State: letter and word. */
function stateText(p: Process): string {
	if (p.exited) return "Z (zombie)";
	return p.state === "blocked" ? "S (sleeping)" : "R (running)";
}

/** The fd table size the kernel would have grown to (FDSize:). */
function fdSize(p: Process): number {
	let n = 64;
	const fds = p.files.fds();
	const top = fds.length > 0 ? fds[fds.length - 1]! : 0;
	while (top >= n) n *= 2;
	return n;
}

/** proc_pid_status(), the lines luosim can fill. */
function statusText(p: Process): string {
	const c = p.cred;
	const name = p.comm.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
	return [
		`Name:\t${name}`,
		`Umask:\t${p.umask.toString(8).padStart(4, "0")}`,
		`State:\t${stateText(p)}`,
		`Tgid:\t${p.pid}`,
		"Ngid:\t0",
		`Pid:\t${p.pid}`,
		`PPid:\t${p.ppid}`,
		"TracerPid:\t0",
		`Uid:\t${c.uid}\t${c.euid}\t${c.suid}\t${c.fsuid}`,
		`Gid:\t${c.gid}\t${c.egid}\t${c.sgid}\t${c.fsgid}`,
		`FDSize:\t${fdSize(p)}`,
		"Groups:\t ",
		"Threads:\t1",
		"",
	].join("\n");
}

/** proc_fill_super(): a new proc instance of `kernel` with st_dev `dev`. */
function procFillSuper(kernel: Kernel, dev: number): ProcState {
	const sb: { fsType: string; dev: number; magic: number; root: Inode } = { fsType: "proc", dev, magic: PROC_SUPER_MAGIC, root: null as unknown as Inode };
	const cache = new Map<string, Inode>();
	const now = (): number => kernel.clock.nowNs();
	const cached = (key: string, make: () => Inode): Inode => {
		let inode = cache.get(key);
		if (!inode) cache.set(key, (inode = make()));
		return inode;
	};
	const node = (parent: Inode, mode: number, fop: FileOperations, op: InodeOperations = {}, p: ProcPriv = {}, owner?: Process): Inode =>
		new Inode({ sb, mode, fop, op, parent, uid: owner?.cred.euid ?? 0, gid: owner?.cred.egid ?? 0, timeNs: now(), i_private: p });
	const dirFops = (list: (dir: Inode) => DirEntry[]): FileOperations => ({ iterate: (file) => list(file.inode) });

	// Top-level files: root may open them for writing, and then write is EIO (pde_write).
	const eio = (): never => {
		throw new Errno(EIO);
	};
	const topFiles: Record<string, (file: File) => Content> = {
		cmdline: () => `${kernel.cmdline.text}\n`,
		meminfo: () => meminfoText(kernel),
		devices: () => `Character devices:\n${chrdevRegions(kernel).map((r) => `${String(r.major).padStart(3)} ${r.name}\n`).join("")}\nBlock devices:\n`,
		misc: () => miscDevices(kernel).map((e) => `${String(e.minor).padStart(3)} ${e.dev.name}\n`).join(""),
		uptime: () => {
			const cs = Math.floor(now() / 10_000_000);
			return `${Math.floor(cs / 100)}.${String(cs % 100).padStart(2, "0")} 0.00\n`;
		},
		version: () => `Linux version ${UTS_RELEASE} (luosim) ${UTS_VERSION}\n`,
	};
	const topLinks: Record<string, () => string> = {
		self: () => {
			const me = currentOrNull();
			if (!me) throw new Errno(ENOENT);
			return String(me.pid);
		},
		mounts: () => "self/mounts",
	};

	const fdLink = (dir: Inode, p: Process, fd: number): Inode => {
		const f = p.files.get(fd);
		const inode = cached(`${p.pid}/fd/${fd}`, () =>
			node(dir, S_IFLNK, {}, {
				readlink: (self) => {
					const t = task(kernel, pidOf(self));
					if (!mayAccess(t)) throw new Errno(EACCES);
					const fdNo = (self.i_private as ProcPriv).fd!;
					if (!t.files.has(fdNo)) throw new Errno(ENOENT);
					return fileDisplayName(t.files.get(fdNo));
				},
			}, { pid: p.pid, fd }, p),
		);
		// proc_fd_link(): following the link reopens the file itself, as for a memfd.
		setMagicLink(inode, () => {
			const t = task(kernel, p.pid);
			if (!mayAccess(t)) throw new Errno(EACCES);
			if (!t.files.has(fd)) throw new Errno(ENOENT);
			return kernel.vfs.fileJumpPath(t.files.get(fd));
		});
		// tid_fd_update_inode(): r-x for a readable file, -wx for a writable one.
		inode.mode = S_IFLNK | (f.f_mode & FMODE_READ ? 0o500 : 0) | (f.f_mode & FMODE_WRITE ? 0o300 : 0);
		return inode;
	};
	const fdEntries = (dir: Inode): DirEntry[] => {
		const p = task(kernel, pidOf(dir));
		return p.files.fds().map((fd) => ({ name: String(fd), ino: fdLink(dir, p, fd).ino, type: dt(S_IFLNK) }));
	};
	const fdOps: InodeOperations = {
		lookup: (dir, name) => {
			const p = task(kernel, pidOf(dir));
			if (!/^(0|[1-9][0-9]*)$/.test(name) || !p.files.has(Number(name))) return null;
			return fdLink(dir, p, Number(name));
		},
		readdir: fdEntries,
	};

	// The task of a /proc/PID file that reads its memory map: ptrace access needed (mm_access), EACCES otherwise.
	const mmTask = (file: File): Process => {
		const p = task(kernel, pidOf(file));
		if (!mayAccess(p)) throw new Errno(EACCES);
		return p;
	};
	const pidFiles: Record<string, { mode: number; show: (p: Process) => Content; write?: FileOperations["write"] }> = {
		cmdline: { mode: 0o444, show: (p) => (p.exited ? "" : p.argv.map((a) => `${a}\0`).join("")) },
		comm: {
			mode: 0o644,
			show: (p) => `${p.comm}\n`,
			write: (file, data) => {
				const p = task(kernel, pidOf(file));
				if (currentOrNull() !== p) throw new Errno(EINVAL);
				const bytes = data.subarray(0, TASK_COMM_LEN - 1);
				const nul = bytes.indexOf(0);
				p.comm = new TextDecoder().decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
				return data.length;
			},
		},
		maps: {
			mode: 0o444,
			show: (p) => {
				if (!mayAccess(p)) throw new Errno(EACCES);
				return mapsText(p);
			},
		},
		mounts: { mode: 0o444, show: (p) => mountsText(kernel, p) },
		status: { mode: 0o444, show: statusText },
	};
	const pidEntry = (dir: Inode, p: Process, name: string): Inode | null => {
		if (name === "fd") return cached(`${p.pid}/fd`, () => node(dir, S_IFDIR | 0o500, dirFops(fdEntries), fdOps, { pid: p.pid }, p));
		if (name === "pagemap") return cached(`${p.pid}/pagemap`, () => node(dir, S_IFREG | 0o400, pagemapFops(mmTask), {}, { pid: p.pid }, p));
		const f = pidFiles[name];
		if (!f) return null;
		return cached(`${p.pid}/${name}`, () => node(dir, S_IFREG | f.mode, genFops((file) => f.show(task(kernel, pidOf(file))), f.write), {}, { pid: p.pid }, p));
	};
	const pidNames = ["cmdline", "comm", "fd", "maps", "mounts", "pagemap", "status"];
	const pidDirEntries = (dir: Inode): DirEntry[] => {
		const p = task(kernel, pidOf(dir));
		return pidNames.map((name) => {
			const inode = pidEntry(dir, p, name)!;
			return { name, ino: inode.ino, type: dt(inode.mode) };
		});
	};
	const pidDirOps: InodeOperations = {
		lookup: (dir, name) => pidEntry(dir, task(kernel, pidOf(dir)), name),
		readdir: pidDirEntries,
	};
	const pidDir = (root: Inode, p: Process): Inode => {
		const inode = cached(String(p.pid), () => node(root, S_IFDIR | 0o555, dirFops(pidDirEntries), pidDirOps, { pid: p.pid }, p));
		// pid_update_inode(): the entries belong to the task's current euid/egid.
		for (const [key, i] of cache) {
			if (key === String(p.pid) || key.startsWith(`${p.pid}/`)) {
				i.uid = p.cred.euid;
				i.gid = p.cred.egid;
			}
		}
		return inode;
	};
	const forget = (pid: number): void => {
		for (const key of [...cache.keys()]) if (key === String(pid) || key.startsWith(`${pid}/`)) cache.delete(key);
	};
	const live = (): Process[] => {
		const ps = [...kernel.processes.values()].filter((p) => p.state !== "reaped").sort((a, b) => a.pid - b.pid);
		const pids = new Set(ps.map((p) => String(p.pid)));
		for (const key of [...cache.keys()]) if (/^[0-9]/.test(key) && !pids.has(key.split("/")[0]!)) cache.delete(key);
		return ps;
	};

	const rootEntry = (root: Inode, name: string): Inode | null => {
		const show = topFiles[name];
		if (show) return cached(name, () => node(root, S_IFREG | 0o444, genFops(show, eio)));
		const link = topLinks[name];
		if (link) return cached(name, () => node(root, S_IFLNK | 0o777, {}, { readlink: () => link() }));
		if (!/^[1-9][0-9]*$/.test(name)) return null;
		const p = kernel.processes.get(Number(name));
		if (!p || p.state === "reaped") {
			forget(Number(name));
			return null;
		}
		return pidDir(root, p);
	};
	const rootEntries = (root: Inode): DirEntry[] => {
		const names = [...Object.keys(topFiles), ...Object.keys(topLinks)].sort();
		const out = names.map((name) => {
			const inode = rootEntry(root, name)!;
			return { name, ino: inode.ino, type: dt(inode.mode) };
		});
		for (const p of live()) out.push({ name: String(p.pid), ino: pidDir(root, p).ino, type: dt(S_IFDIR) });
		return out;
	};
	const root = node(null as unknown as Inode, S_IFDIR | 0o555, dirFops(rootEntries), {
		lookup: (dir, name) => rootEntry(dir, name),
		readdir: rootEntries,
	});
	root.parent = root;
	sb.root = root;
	return { sb, cache };
}

/** The kernel's first proc instance (the one boot mounts on /proc): its superblock. */
export function procMount(kernel: Kernel): SuperBlock {
	let st = states.get(kernel);
	if (!st) states.set(kernel, (st = procFillSuper(kernel, PROC_DEV)));
	return st.sb;
}

/**
 * Anonymous minors of the later proc instances start here, far above
 * those tmpfs instances count up from (0:24), so no two share an st_dev.
 */
const PROC_EXTRA_MINOR = 0x1000;
const extraInstances = new WeakMap<Kernel, number>();

/**
 * mount -t proc (proc_get_tree, Linux >= 5.8): every mount after the
 * first is a new instance with its own st_dev and inodes, so mounting proc
 * again, even on /proc itself, stacks a new mount instead of failing with
 * EBUSY as a mount of the same superblock on its own root would.
 */
function procMountInstance(kernel: Kernel): SuperBlock {
	if (!states.has(kernel)) return procMount(kernel);
	const n = extraInstances.get(kernel) ?? 0;
	extraInstances.set(kernel, n + 1);
	return procFillSuper(kernel, makedev(0, PROC_EXTRA_MINOR + n)).sb;
}

registerFilesystem({ name: "proc", mount: (kernel) => procMountInstance(kernel) });
