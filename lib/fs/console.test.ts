import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { Errno, ENODEV, ENXIO, ESPIPE } from "../kernel/errno.ts";
import { File, FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { makedev, S_IFCHR } from "./inode.ts";
import { devtmpfsMount } from "./devtmpfs.ts";
import { openConsole } from "./console.ts";
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from "./poll.ts";
import type { Inode } from "./inode.ts";
import type { Kernel } from "../kernel/kernel.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function read(f: File, count: number): string {
	return dec.decode(f.f_op.read!(f, count, { pos: 0 }));
}

function write(f: File, s: string): number {
	return f.f_op.write!(f, enc.encode(s), { pos: 0 });
}

function node(k: Kernel, name: string): Inode {
	const root = devtmpfsMount(k).root;
	return root.op.lookup!(root, name)!;
}

function openNode(k: Kernel, name: string): File {
	const inode = node(k, name);
	const f = new File({ f_op: inode.fop, inode, path: null, f_flags: 2, f_mode: FMODE_READ | FMODE_WRITE | FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE, opener: k.init });
	f.f_op.open?.(inode, f);
	return f;
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

function sink(): { out: string[]; fn: (b: Uint8Array) => void } {
	const out: string[] = [];
	return { out, fn: (b) => void out.push(dec.decode(b)) };
}

t.test("the three stdio files read the shared stdin, then EOF", async (t) => {
	const k = bootKernel();
	const [i, o, e] = openConsole(k, { stdin: enc.encode("hello world") });
	t.equal(read(i, 5), "hello");
	t.equal(read(o, 3), " wo", "every file of the terminal reads the same input");
	t.equal(read(e, 100), "rld");
	t.equal(read(i, 100), "");
});

t.test("with no stdin the first read is EOF", async (t) => {
	const [i] = openConsole(bootKernel(), {});
	t.equal(read(i, 10), "");
});

t.test("writes go to stdout for fds 0 and 1, to stderr for fd 2, at once", async (t) => {
	const so = sink();
	const se = sink();
	const [i, o, e] = openConsole(bootKernel(), { stdout: so.fn, stderr: se.fn });
	t.equal(write(o, "out\n"), 4);
	t.equal(write(e, "err\n"), 4);
	t.equal(write(i, "echo\n"), 5);
	t.same(so.out, ["out\n", "echo\n"]);
	t.same(se.out, ["err\n"]);
});

t.test("the sink gets a copy of the bytes", async (t) => {
	const got: Uint8Array[] = [];
	const [, o] = openConsole(bootKernel(), { stdout: (b) => void got.push(b) });
	const buf = enc.encode("abc");
	o.f_op.write!(o, buf, { pos: 0 });
	buf[0] = 0x7a;
	t.equal(dec.decode(got[0]), "abc");
});

t.test("without sinks writes are discarded and still succeed", async (t) => {
	const [, o, e] = openConsole(bootKernel(), {});
	t.equal(write(o, "lost"), 4);
	t.equal(write(e, "lost"), 4);
});

t.test("console files are O_RDWR /dev/console, not seekable, always ready, no ioctl", async (t) => {
	const k = bootKernel();
	const files = openConsole(k, {});
	for (const f of files) {
		t.equal(f.f_flags & 3, 2);
		t.equal(f.f_mode, FMODE_READ | FMODE_WRITE);
		t.equal(f.path?.name, "/dev/console");
		t.equal(f.inode, node(k, "console"));
		t.equal(f.inode.mode, S_IFCHR | 0o600);
		t.equal(f.inode.rdev, makedev(5, 1));
		t.equal(errnoOf(() => f.f_op.llseek!(f, 0, 0)), ESPIPE);
		t.equal(f.f_op.poll!(f, null), POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
		t.notOk(f.f_op.ioctl, "ioctl is ENOTTY from the VFS: not a real tty");
		t.equal(f.refcount, 1);
	}
});

t.test("opening /dev/console with no terminal attached is ENODEV", async (t) => {
	const k = bootKernel();
	t.equal(errnoOf(() => openNode(k, "console")), ENODEV);
});

t.test("/dev/console reaches the latest terminal and is not seekable", async (t) => {
	const k = bootKernel();
	const first = sink();
	const second = sink();
	openConsole(k, { stdout: first.fn });
	openConsole(k, { stdout: second.fn, stdin: enc.encode("in") });
	const f = openNode(k, "console");
	t.equal(write(f, "via node"), 8);
	t.same(second.out, ["via node"]);
	t.same(first.out, []);
	t.equal(read(f, 10), "in");
	t.equal(f.f_mode & (FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE), 0);
	t.equal(errnoOf(() => f.f_op.llseek!(f, 0, 0)), ESPIPE);
});

t.test("/dev/tty is ENXIO: no controlling terminal", async (t) => {
	const k = bootKernel();
	openConsole(k, {});
	t.equal(node(k, "tty").rdev, makedev(5, 0));
	t.equal(errnoOf(() => openNode(k, "tty")), ENXIO);
});
