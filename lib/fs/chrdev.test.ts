import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { Errno, EBUSY, EINVAL, ENXIO } from "../kernel/errno.ts";
import { File, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { makedev, S_IFCHR } from "./inode.ts";
import { chrdevFops, chrdevLookup, chrdevRegions, def_chr_fops, registerChrdev, unregisterChrdev } from "./chrdev.ts";
import { devtmpfsCreateNode, devtmpfsMount } from "./devtmpfs.ts";
import type { Inode } from "./inode.ts";
import type { FileOperations } from "./file.ts";
import type { Kernel } from "../kernel/kernel.ts";

function devNode(k: Kernel, name: string): Inode | null {
	const root = devtmpfsMount(k).root;
	return root.op.lookup!(root, name);
}

/** What the VFS does on open: a File with the inode's fops, then their open. */
function openInode(k: Kernel, inode: Inode): File {
	const f = new File({ f_op: inode.fop, inode, path: null, f_flags: 2, f_mode: FMODE_READ | FMODE_WRITE, opener: k.init });
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

t.test("registering a char device creates its /dev node with the device number", async (t) => {
	const k = bootKernel();
	registerChrdev(k, 240, 3, "widget", {}, { mode: 0o640, uid: 5, gid: 6 });
	const node = devNode(k, "widget");
	t.ok(node);
	t.equal(node!.mode, S_IFCHR | 0o640);
	t.equal(node!.rdev, makedev(240, 3));
	t.equal(node!.uid, 5);
	t.equal(node!.gid, 6);
	t.equal(node!.fop, chrdevFops(k));
});

t.test("opening the node swaps in the driver's fops and calls its open", async (t) => {
	const k = bootKernel();
	let opened: File | null = null;
	const fops: FileOperations = {
		open: (_inode, file) => {
			opened = file;
			file.private_data = "mine";
		},
		read: () => new Uint8Array([7]),
	};
	registerChrdev(k, 240, 0, "widget", fops);
	const f = openInode(k, devNode(k, "widget")!);
	t.equal(f.f_op, fops);
	t.equal(opened, f);
	t.equal(f.private_data, "mine");
	t.same([...f.f_op.read!(f, 1, { pos: 0 })], [7]);
});

t.test("a driver's open error fails the open", async (t) => {
	const k = bootKernel();
	registerChrdev(k, 240, 0, "widget", {
		open: () => {
			throw new Errno(EBUSY);
		},
	});
	t.equal(errnoOf(() => openInode(k, devNode(k, "widget")!)), EBUSY);
});

t.test("a node whose (major, minor) no driver registered opens with ENXIO", async (t) => {
	const k = bootKernel();
	registerChrdev(k, 240, 0, "widget", {});
	const stray = devtmpfsCreateNode(k, "stray", 0o600, makedev(240, 1));
	t.equal(errnoOf(() => openInode(k, stray)), ENXIO);
	const other = devtmpfsCreateNode(k, "other", 0o600, makedev(241, 0));
	t.equal(errnoOf(() => openInode(k, other)), ENXIO);
});

t.test("a taken minor is EBUSY, also inside a multi-minor region", async (t) => {
	const k = bootKernel();
	registerChrdev(k, 240, 0, "widget", {});
	t.equal(errnoOf(() => registerChrdev(k, 240, 0, "again", {})), EBUSY);
	registerChrdev(k, 241, 10, "range", {}, { count: 10 });
	t.equal(errnoOf(() => registerChrdev(k, 241, 19, "last", {})), EBUSY);
	t.equal(errnoOf(() => registerChrdev(k, 241, 5, "overlap", {}, { count: 6 })), EBUSY);
	t.equal(registerChrdev(k, 241, 20, "after", {}), 241);
	t.notOk(devNode(k, "again"));
});

t.test("a multi-minor region creates no node and serves every minor", async (t) => {
	const k = bootKernel();
	registerChrdev(k, 242, 0, "multi", { read: () => new Uint8Array([1]) }, { count: 4 });
	t.notOk(devNode(k, "multi"));
	t.equal(chrdevLookup(k, makedev(242, 3))?.name, "multi");
	t.equal(chrdevLookup(k, makedev(242, 4)), undefined);
	const f = openInode(k, devtmpfsCreateNode(k, "m3", 0o600, makedev(242, 3)));
	t.same([...f.f_op.read!(f, 1, { pos: 0 })], [1]);
});

t.test("major 0 allocates dynamic majors from 254 down", async (t) => {
	const k = bootKernel();
	t.equal(registerChrdev(k, 0, 0, "dyn1", {}), 254);
	t.equal(registerChrdev(k, 0, 0, "dyn2", {}), 253);
	t.equal(devNode(k, "dyn2")!.rdev, makedev(253, 0));
});

t.test("out-of-range majors, minors and counts are EINVAL", async (t) => {
	const k = bootKernel();
	t.equal(errnoOf(() => registerChrdev(k, 512, 0, "x", {})), EINVAL);
	t.equal(errnoOf(() => registerChrdev(k, -1, 0, "x", {})), EINVAL);
	t.equal(errnoOf(() => registerChrdev(k, 240, -1, "x", {})), EINVAL);
	t.equal(errnoOf(() => registerChrdev(k, 240, 0, "x", {}, { count: 0 })), EINVAL);
	t.equal(errnoOf(() => registerChrdev(k, 240, 1, "x", {}, { count: 1 << 20 })), EINVAL);
	t.notOk(devNode(k, "x"));
});

t.test("unregistering removes the node, later opens are ENXIO, open files keep working", async (t) => {
	const k = bootKernel();
	const fops: FileOperations = { read: () => new Uint8Array([9]) };
	registerChrdev(k, 240, 0, "widget", fops);
	const inode = devNode(k, "widget")!;
	const f = openInode(k, inode);
	unregisterChrdev(k, 240, 0);
	t.notOk(devNode(k, "widget"));
	t.same([...f.f_op.read!(f, 1, { pos: 0 })], [9]);
	t.equal(errnoOf(() => openInode(k, inode)), ENXIO);
	registerChrdev(k, 240, 0, "widget", fops);
	t.ok(devNode(k, "widget"), "the number can be registered again");
});

t.test("registries are per kernel", async (t) => {
	const a = bootKernel();
	const b = bootKernel();
	registerChrdev(a, 240, 0, "widget", {});
	t.notOk(devNode(b, "widget"));
	t.equal(registerChrdev(b, 240, 0, "widget", {}), 240);
});

t.test("the boot-time regions are listed by major", async (t) => {
	const k = bootKernel();
	devtmpfsMount(k);
	const names = chrdevRegions(k).map((r) => `${r.major} ${r.name}`);
	t.same(names, ["1 mem", "5 /dev/tty", "5 /dev/console", "10 misc"]);
});

t.test("def_chr_fops finds the opener's kernel, and is ENXIO with no process at all", async (t) => {
	const k = bootKernel();
	const fops: FileOperations = { read: () => new Uint8Array([3]) };
	registerChrdev(k, 240, 0, "widget", fops);
	const inode = devNode(k, "widget")!;
	const f = new File({ f_op: def_chr_fops, inode, path: null, f_flags: 0, f_mode: FMODE_READ, opener: k.init });
	def_chr_fops.open!(inode, f);
	t.equal(f.f_op, fops);
	const g = new File({ f_op: def_chr_fops, inode, path: null, f_flags: 0, f_mode: FMODE_READ });
	t.equal(errnoOf(() => def_chr_fops.open!(inode, g)), ENXIO);
});

t.test("through the VFS: a kernel-internal open of a registered node reaches the driver", async (t) => {
	const k = bootKernel();
	registerChrdev(k, 240, 0, "widget", { read: () => new Uint8Array([4, 2]) }, { mode: 0o666 });
	const f = k.vfs.open(null, "/dev/widget", 0);
	t.same([...k.vfs.kernelRead(f, 2)], [4, 2]);
	t.equal(f.path?.name, "/dev/widget");
	devtmpfsCreateNode(k, "nobody", 0o666, makedev(240, 9));
	t.equal(errnoOf(() => k.vfs.open(null, "/dev/nobody", 0)), ENXIO);
});
