import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { Errno, EBUSY, EEXIST, EINVAL, ENODEV } from "../kernel/errno.ts";
import { File, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { makedev, S_IFCHR } from "./inode.ts";
import { devtmpfsCreateNode, devtmpfsMount } from "./devtmpfs.ts";
import { DYNAMIC_MINORS, MISC_DYNAMIC_MINOR, MISC_MAJOR, miscDeregister, miscDevices, miscRegister } from "./miscdev.ts";
import type { Inode } from "./inode.ts";
import type { FileOperations } from "./file.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** A kernel with no misc device of its own (LUO off: no /dev/liveupdate), so minors start from a known table. */
const NO_MISC = { cmdline: "liveupdate=off" };

function node(k: Kernel, name: string): Inode | null {
	const root = devtmpfsMount(k).root;
	return root.op.lookup!(root, name);
}

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

const dyn = (name: string, fops: FileOperations = {}): { name: string; minor: number; fops: FileOperations } => ({ name, minor: MISC_DYNAMIC_MINOR, fops });

t.test("dynamic minors count down from 127, as 6.15's misc_minor_alloc does", async (t) => {
	const k = bootKernel(NO_MISC);
	t.equal(miscRegister(k, dyn("a")), 127);
	t.equal(miscRegister(k, dyn("b")), 126);
	t.equal(miscRegister(k, dyn("c")), 125);
	t.equal(node(k, "b")!.rdev, makedev(MISC_MAJOR, 126));
});

t.test("a freed dynamic minor is reused first", async (t) => {
	const k = bootKernel(NO_MISC);
	miscRegister(k, dyn("a"));
	miscRegister(k, dyn("b"));
	miscDeregister(k, 127);
	t.equal(miscRegister(k, dyn("c")), 127);
});

t.test("after 128 dynamic minors the next ones come from 256 up", async (t) => {
	const k = bootKernel(NO_MISC);
	for (let i = 0; i < DYNAMIC_MINORS; i++) miscRegister(k, dyn(`d${i}`));
	t.equal(miscRegister(k, dyn("over")), 256);
	t.equal(miscRegister(k, dyn("over2")), 257);
	t.equal(node(k, "over")!.rdev, makedev(MISC_MAJOR, 256));
});

t.test("a fixed minor below 128 keeps dynamic devices off it", async (t) => {
	const k = bootKernel(NO_MISC);
	t.equal(miscRegister(k, { name: "fixed", minor: 127, fops: {} }), 127);
	t.equal(miscRegister(k, dyn("a")), 126);
	t.equal(miscRegister(k, { name: "mid", minor: 200, fops: {} }), 200);
});

t.test("a taken fixed minor is EBUSY, also when a dynamic device got it", async (t) => {
	const k = bootKernel(NO_MISC);
	miscRegister(k, { name: "fixed", minor: 200, fops: {} });
	t.equal(errnoOf(() => miscRegister(k, { name: "other", minor: 200, fops: {} })), EBUSY);
	miscRegister(k, dyn("a"));
	t.equal(errnoOf(() => miscRegister(k, { name: "clash", minor: 127, fops: {} })), EBUSY);
	t.equal(node(k, "other"), null);
	t.equal(node(k, "clash"), null);
});

t.test("a name already registered is EEXIST and frees the minor it took", async (t) => {
	const k = bootKernel(NO_MISC);
	miscRegister(k, dyn("twin"));
	t.equal(errnoOf(() => miscRegister(k, dyn("twin"))), EEXIST);
	t.equal(miscRegister(k, dyn("other")), 126, "126 was not kept by the failed call");
});

t.test("a minor outside 0..MINORMASK is EINVAL", async (t) => {
	const k = bootKernel(NO_MISC);
	t.equal(errnoOf(() => miscRegister(k, { name: "neg", minor: -1, fops: {} })), EINVAL);
	t.equal(errnoOf(() => miscRegister(k, { name: "big", minor: 1 << 20, fops: {} })), EINVAL);
});

t.test("the node gets the mode, 0600 by default, and the nodename when given", async (t) => {
	const k = bootKernel(NO_MISC);
	miscRegister(k, dyn("plain"));
	t.equal(node(k, "plain")!.mode, S_IFCHR | 0o600);
	miscRegister(k, { name: "open", minor: MISC_DYNAMIC_MINOR, fops: {}, mode: 0o666 });
	t.equal(node(k, "open")!.mode, S_IFCHR | 0o666);
	const m = miscRegister(k, { name: "tun", minor: 200, fops: {}, nodename: "net/tun" });
	const net = node(k, "net")!;
	t.equal(net.op.lookup!(net, "tun")!.rdev, makedev(MISC_MAJOR, m));
	t.equal(node(k, "tun"), null);
});

t.test("open hands the file to the driver with private_data set to the device", async (t) => {
	const k = bootKernel(NO_MISC);
	let seen: unknown = null;
	const dev = {
		name: "liveupdate",
		minor: MISC_DYNAMIC_MINOR,
		fops: {
			open: (_i: Inode, f: File): void => {
				seen = f.private_data;
			},
			ioctl: (): number => 42,
		},
	};
	miscRegister(k, dev);
	const f = openInode(k, node(k, "liveupdate")!);
	t.equal(seen, dev);
	t.equal(f.private_data, dev);
	t.equal(f.f_op, dev.fops);
	t.equal(f.f_op.ioctl!(f, 0, 0), 42);
});

t.test("a misc minor with no device opens with ENODEV", async (t) => {
	const k = bootKernel(NO_MISC);
	devtmpfsMount(k);
	const stray = devtmpfsCreateNode(k, "stray", 0o600, makedev(MISC_MAJOR, 99));
	t.equal(errnoOf(() => openInode(k, stray)), ENODEV);
});

t.test("deregister removes the node; the old node is ENODEV; open files keep working", async (t) => {
	const k = bootKernel(NO_MISC);
	const minor = miscRegister(k, dyn("gone", { read: () => new Uint8Array([5]) }));
	const inode = node(k, "gone")!;
	const f = openInode(k, inode);
	miscDeregister(k, minor);
	t.equal(node(k, "gone"), null);
	t.same([...f.f_op.read!(f, 1, { pos: 0 })], [5]);
	t.equal(errnoOf(() => openInode(k, inode)), ENODEV);
	miscDeregister(k, minor);
	t.equal(miscRegister(k, dyn("gone")), minor, "the name and minor are free again");
});

t.test("miscDevices lists the newest first, as /proc/misc does", async (t) => {
	const k = bootKernel(NO_MISC);
	miscRegister(k, dyn("first"));
	miscRegister(k, { name: "second", minor: 200, fops: {} });
	t.same(miscDevices(k).map((e) => [e.minor, e.dev.name]), [[200, "second"], [127, "first"]]);
});
