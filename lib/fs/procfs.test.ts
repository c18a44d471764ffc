import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { spawnProgram } from "../kernel/exec.ts";
import { doExit } from "../kernel/process.ts";
import { setCurrent } from "../kernel/current.ts";
import { W_EXITCODE } from "../kernel/signal.ts";
import { UTS_RELEASE } from "../kernel/utsname.ts";
import { Errno, EACCES, EINVAL, EIO, ENOENT, ESRCH } from "../kernel/errno.ts";
import { File, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { S_IFDIR, S_IFLNK, S_IFREG } from "./inode.ts";
import { PROC_DEV, PROC_SUPER_MAGIC, fileDisplayName, procMount } from "./procfs.ts";
import { openConsole } from "./console.ts";
import { O_RDONLY } from "./fcntl.ts";
import { inProcess } from "./syscalls/testing.ts";
import { miscRegister, MISC_DYNAMIC_MINOR } from "./miscdev.ts";
import type { Inode } from "./inode.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { Process } from "../kernel/process.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

function walk(k: Kernel, path: string): Inode | null {
	let inode: Inode | null = procMount(k).root;
	for (const part of path.split("/").filter(Boolean)) {
		if (!inode) return null;
		inode = inode.op.lookup!(inode, part);
	}
	return inode;
}

function open(k: Kernel, path: string, opener: Process | null = null): File {
	const inode = walk(k, path);
	if (!inode) throw new Error(`no /proc/${path}`);
	const f = new File({ f_op: inode.fop, inode, path: { inode, name: `/proc/${path}` }, f_flags: 2, f_mode: FMODE_READ | FMODE_WRITE, opener });
	f.f_op.open?.(inode, f);
	return f;
}

function cat(k: Kernel, path: string): string {
	const f = open(k, path);
	let out = "";
	for (;;) {
		const ppos = { pos: f.f_pos };
		const chunk = f.f_op.read!(f, 7, ppos);
		f.f_pos = ppos.pos;
		if (chunk.length === 0) return out;
		out += dec.decode(chunk);
	}
}

function names(dir: Inode): string[] {
	return dir.op.readdir!(dir).map((e) => e.name);
}

function errnoOf(fn: () => unknown): number {
	try {
		fn();
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		throw e;
	}
	return 0;
}

function asCurrent<T>(p: Process | null, fn: () => T): T {
	setCurrent(p);
	try {
		return fn();
	} finally {
		setCurrent(null);
	}
}

function spawn(k: Kernel, argv: string[], uid = 0): Process {
	return spawnProgram(k, () => 0, { argv, uid });
}

t.test("the boot proc superblock: the same for every procMount call, 0555 root", async (t) => {
	const k = bootKernel();
	const sb = procMount(k);
	t.equal(procMount(k), sb);
	t.equal(sb.fsType, "proc");
	t.equal(sb.magic, PROC_SUPER_MAGIC);
	t.equal(sb.dev, PROC_DEV);
	t.equal(sb.root.mode, S_IFDIR | 0o555);
});

t.test("mounting proc again makes a new instance (Linux >= 5.8), even on /proc itself", async (t) => {
	await inProcess((u) => {
		const vfs = u.p.kernel.vfs;
		const boot = vfs.lookup(u.p, "/proc").inode;
		t.equal(u.sys("mount", "proc", "/proc", "proc", 0, 0), 0, "no EBUSY");
		const again = vfs.lookup(u.p, "/proc").inode;
		t.not(again, boot, "a new root stacked on the first mount");
		t.not(again.sb.dev, PROC_DEV, "with an st_dev of its own");
		u.sys("mkdir", "/tmp/p", 0o755);
		t.equal(u.sys("mount", "proc", "/tmp/p", "proc", 0, 0), 0);
		const third = vfs.lookup(u.p, "/tmp/p").inode;
		t.not(third.sb.dev, again.sb.dev, "every instance has its own st_dev");
		const buf = u.alloc(4096);
		const fd = u.sys("openat", -100, "/tmp/p/cmdline", O_RDONLY, 0);
		t.equal(u.text(buf, u.sys("read", fd, buf, 4096)), `${u.p.kernel.cmdline.text}\n`, "the same kernel state");
		t.equal(u.sys("umount2", "/proc", 0), 0, "the new instance unmounts");
		t.equal(vfs.lookup(u.p, "/proc").inode, boot, "and the boot one shows again");
	});
});

t.test("/proc/cmdline is the command line and a newline, 0444", async (t) => {
	const k = bootKernel({ cmdline: "quiet luosim.seed=7" });
	t.equal(cat(k, "cmdline"), `${k.cmdline.text}\n`);
	t.match(cat(k, "cmdline"), /quiet luosim\.seed=7\n$/);
	t.equal(walk(k, "cmdline")!.mode, S_IFREG | 0o444);
});

t.test("reading past the end returns 0 bytes; lseek is SEEK_SET/SEEK_CUR only", async (t) => {
	const k = bootKernel();
	const f = open(k, "version");
	t.equal(f.f_op.llseek!(f, 1000, 0), 1000);
	t.equal(f.f_op.read!(f, 10, { pos: f.f_pos }).length, 0);
	t.equal(f.f_op.llseek!(f, -990, 1), 10);
	t.equal(dec.decode(f.f_op.read!(f, 4, { pos: f.f_pos })), "ion ");
	t.equal(errnoOf(() => f.f_op.llseek!(f, 0, 2)), EINVAL);
	t.equal(errnoOf(() => f.f_op.llseek!(f, -11, 1)), EINVAL);
});

t.test("/proc/version matches the boot banner", async (t) => {
	const k = bootKernel();
	t.equal(cat(k, "version"), `${k.log.all()[0]!.text}\n`);
	t.match(cat(k, "version"), `Linux version ${UTS_RELEASE} `);
});

t.test("/proc/uptime follows the virtual clock", async (t) => {
	const k = bootKernel();
	k.clock.advance(12_345_678_901);
	t.equal(cat(k, "uptime"), "12.34 0.00\n");
});

t.test("root writing a top-level proc file gets EIO", async (t) => {
	const k = bootKernel();
	const f = open(k, "cmdline");
	t.equal(errnoOf(() => f.f_op.write!(f, enc.encode("x"), { pos: 0 })), EIO);
});

t.test("/proc/devices and /proc/misc list the registered drivers", async (t) => {
	const k = bootKernel({ cmdline: "liveupdate=off" });
	miscRegister(k, { name: "liveupdate", minor: MISC_DYNAMIC_MINOR, fops: {} });
	t.equal(cat(k, "devices"), "Character devices:\n  1 mem\n  5 /dev/tty\n  5 /dev/console\n 10 misc\n\nBlock devices:\n");
	t.equal(cat(k, "misc"), "127 liveupdate\n");
});

t.test("/proc/self links to the reader's pid, ENOENT outside any process", async (t) => {
	const k = bootKernel();
	const p = spawn(k, ["prog"]);
	const self = walk(k, "self")!;
	t.equal(self.mode, S_IFLNK | 0o777);
	t.equal(asCurrent(p, () => self.op.readlink!(self)), String(p.pid));
	t.equal(errnoOf(() => self.op.readlink!(self)), ENOENT);
	t.equal(walk(k, "mounts")!.op.readlink!(walk(k, "mounts")!), "self/mounts");
});

t.test("the root lists its files and every live pid", async (t) => {
	const k = bootKernel();
	const p = spawn(k, ["prog"]);
	const list = names(procMount(k).root);
	for (const n of ["cmdline", "version", "uptime", "mounts", "self", "devices", "misc", "1", String(p.pid)]) t.ok(list.includes(n), n);
	t.equal(walk(k, "99"), null);
	t.equal(walk(k, "01"), null);
});

t.test("/proc/PID/cmdline is argv NUL-terminated; comm is the name and a newline", async (t) => {
	const k = bootKernel();
	const p = spawn(k, ["/usr/bin/luo_test", "-s", "2"]);
	t.equal(cat(k, `${p.pid}/cmdline`), "/usr/bin/luo_test\0-s\0" + "2\0");
	t.equal(cat(k, `${p.pid}/comm`), "luo_test\n");
	t.same(names(walk(k, String(p.pid))!), ["cmdline", "comm", "fd", "maps", "mounts", "pagemap", "status"]);
});

t.test("/proc/PID/status has Name, State, Pid, PPid, Uid and Gid", async (t) => {
	const k = bootKernel();
	const p = spawn(k, ["worker"], 1000);
	const s = cat(k, `${p.pid}/status`);
	t.match(s, /^Name:\tworker\n/);
	t.match(s, /\nState:\tR \(running\)\n/);
	t.match(s, new RegExp(`\\nPid:\\t${p.pid}\\n`));
	t.match(s, /\nPPid:\t1\n/);
	t.match(s, /\nUid:\t1000\t1000\t1000\t1000\n/);
	t.match(s, /\nGid:\t1000\t1000\t1000\t1000\n/);
	t.match(s, /\nFDSize:\t64\n/);
	p.state = "blocked";
	t.match(cat(k, `${p.pid}/status`), /\nState:\tS \(sleeping\)\n/);
});

t.test("per-process entries belong to the process's euid", async (t) => {
	const k = bootKernel();
	const p = spawn(k, ["worker"], 1000);
	t.equal(walk(k, String(p.pid))!.uid, 1000);
	t.equal(walk(k, `${p.pid}/status`)!.mode, S_IFREG | 0o444);
	t.equal(walk(k, `${p.pid}/comm`)!.mode, S_IFREG | 0o644);
	t.equal(walk(k, `${p.pid}/fd`)!.mode, S_IFDIR | 0o500);
	t.equal(walk(k, `${p.pid}/fd`)!.uid, 1000);
	p.cred.euid = 0;
	t.equal(walk(k, `${p.pid}/fd`)!.uid, 0, "refreshed on lookup");
});

t.test("a per-process file without a write method is EINVAL to write", async (t) => {
	const k = bootKernel();
	const p = spawn(k, ["worker"]);
	const f = open(k, `${p.pid}/status`);
	t.notOk(f.f_op.write, "no write op: the VFS answers EINVAL");
});

t.test("/proc/PID/comm takes a write from the process itself only", async (t) => {
	const k = bootKernel();
	const p = spawn(k, ["worker"]);
	const q = spawn(k, ["other"]);
	const f = open(k, `${p.pid}/comm`);
	t.equal(asCurrent(q, () => errnoOf(() => f.f_op.write!(f, enc.encode("x"), { pos: 0 }))), EINVAL);
	t.equal(asCurrent(p, () => f.f_op.write!(f, enc.encode("a-very-long-name-indeed"), { pos: 0 })), 23);
	t.equal(p.comm, "a-very-long-nam");
});

t.test("/proc/PID/fd lists open fds as links named by the file's path", async (t) => {
	const k = bootKernel();
	const con = openConsole(k, {});
	const p = spawnProgram(k, () => 0, { argv: ["prog"], stdio: con });
	const fd = walk(k, `${p.pid}/fd`)!;
	t.same(names(fd), ["0", "1", "2"]);
	const link = walk(k, `${p.pid}/fd/1`)!;
	t.equal(link.mode, S_IFLNK | 0o700, "lrwx------ for a read-write file");
	t.equal(asCurrent(p, () => link.op.readlink!(link)), "/dev/console");
	t.equal(walk(k, `${p.pid}/fd/3`), null);
	t.equal(walk(k, `${p.pid}/fd/01`), null);
	t.equal(walk(k, `${p.pid}/fd/1`), link, "the same inode while the entry lives");
});

t.test("fd links need ptrace read access: own uid or root, else EACCES", async (t) => {
	const k = bootKernel();
	const con = openConsole(k, {});
	const p = spawnProgram(k, () => 0, { argv: ["prog"], stdio: con, uid: 1000 });
	const same = spawn(k, ["same"], 1000);
	const other = spawn(k, ["other"], 1001);
	const root = spawn(k, ["root"], 0);
	const link = walk(k, `${p.pid}/fd/0`)!;
	t.equal(asCurrent(same, () => link.op.readlink!(link)), "/dev/console");
	t.equal(asCurrent(root, () => link.op.readlink!(link)), "/dev/console");
	t.equal(asCurrent(other, () => errnoOf(() => link.op.readlink!(link))), EACCES);
});

t.test("a closed fd's link is ENOENT; a reaped process's files are ESRCH", async (t) => {
	const k = bootKernel();
	const con = openConsole(k, {});
	const p = spawnProgram(k, () => 0, { argv: ["prog"], stdio: con });
	const link = walk(k, `${p.pid}/fd/2`)!;
	const status = open(k, `${p.pid}/status`);
	p.files.remove(2).put();
	t.equal(errnoOf(() => link.op.readlink!(link)), ENOENT);
	doExit(p, W_EXITCODE(0));
	t.equal(p.state, "reaped", "a child of init is reaped at once");
	t.equal(errnoOf(() => status.f_op.read!(status, 100, { pos: 0 })), ESRCH);
	t.equal(walk(k, String(p.pid)), null);
	t.notOk(names(procMount(k).root).includes(String(p.pid)));
});

t.test("a zombie still has /proc/PID, with State Z and an empty cmdline", async (t) => {
	const k = bootKernel();
	const parent = spawn(k, ["parent"]);
	const child = spawnProgram(k, () => 0, { argv: ["child", "x"], parent });
	doExit(child, W_EXITCODE(3));
	t.equal(child.state, "zombie");
	t.match(cat(k, `${child.pid}/status`), /\nState:\tZ \(zombie\)\n/);
	t.equal(cat(k, `${child.pid}/cmdline`), "");
});

t.test("fileDisplayName: path, deleted files, pipes, sockets and anonymous files", async (t) => {
	const k = bootKernel();
	const [f] = openConsole(k, {});
	t.equal(fileDisplayName(f), "/dev/console");
	const reg = walk(k, "cmdline")!;
	const named = new File({ f_op: {}, inode: { ...reg, mode: S_IFREG | 0o600, nlink: 0 } as Inode, path: { inode: reg, name: "/tmp/x" }, f_flags: 0, f_mode: FMODE_READ });
	t.equal(fileDisplayName(named), "/tmp/x (deleted)");
	const fifo = new File({ f_op: {}, inode: { ...reg, mode: 0o010600, ino: 77 } as Inode, path: null, f_flags: 0, f_mode: FMODE_READ });
	t.equal(fileDisplayName(fifo), "pipe:[77]");
	const sock = new File({ f_op: {}, inode: { ...reg, mode: 0o140777, ino: 78 } as Inode, path: null, f_flags: 0, f_mode: FMODE_READ });
	t.equal(fileDisplayName(sock), "socket:[78]");
});

t.test("through the VFS: /proc/mounts follows /proc/self to the reader's mount table", async (t) => {
	const k = bootKernel();
	const p = spawn(k, ["reader"]);
	const f = asCurrent(p, () => k.vfs.open(p, "/proc/mounts", 0));
	const text = dec.decode(k.vfs.kernelRead(f, 65536));
	const lines = text.split("\n").filter(Boolean);
	t.equal(lines[0], "rootfs / tmpfs rw 0 0");
	t.ok(lines.includes("devtmpfs /dev devtmpfs rw,nosuid 0 0"));
	t.ok(lines.includes("proc /proc proc rw,nosuid,nodev,noexec 0 0"));
	t.ok(lines.includes("sysfs /sys sysfs rw,nosuid,nodev,noexec 0 0"));
	t.equal(f.path?.name, `/proc/${p.pid}/mounts`);
});

t.test("through the VFS: a non-root write-open of /proc/cmdline is EACCES, root's write is EIO", async (t) => {
	const k = bootKernel();
	const user = spawn(k, ["user"], 1000);
	t.equal(errnoOf(() => k.vfs.open(user, "/proc/cmdline", 1)), EACCES);
	const f = k.vfs.open(null, "/proc/cmdline", 1);
	t.equal(errnoOf(() => k.vfs.kernelWrite(f, enc.encode("x"))), EIO);
});

t.test("through the VFS: /proc/self/fd/N resolves to the file's path", async (t) => {
	const k = bootKernel();
	const con = openConsole(k, {});
	const p = spawnProgram(k, () => 0, { argv: ["prog"], stdio: con });
	const target = asCurrent(p, () => k.vfs.lookup(p, "/proc/self/fd/1"));
	t.equal(target.inode, con[1].inode, "the walk lands on /dev/console");
});
