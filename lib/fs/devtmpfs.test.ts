import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { Cred } from "../kernel/cred.ts";
import { Errno, EEXIST, EISDIR, ENOTDIR, ENOTEMPTY, ENXIO } from "../kernel/errno.ts";
import { File, FMODE_READ } from "./file.ts";
import { makedev, S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK } from "./inode.ts";
import { DEVTMPFS_DEV, TMPFS_MAGIC, devtmpfsCreateNode, devtmpfsDeleteNode, devtmpfsMount } from "./devtmpfs.ts";
import type { Inode } from "./inode.ts";
import type { Kernel } from "../kernel/kernel.ts";

function lookup(k: Kernel, path: string): Inode | null {
	let inode: Inode | null = devtmpfsMount(k).root;
	for (const part of path.split("/")) {
		if (!inode) return null;
		inode = inode.op.lookup!(inode, part);
	}
	return inode;
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

t.test("devtmpfs is one tmpfs-like superblock per kernel with a 0755 root", async (t) => {
	const k = bootKernel();
	const sb = devtmpfsMount(k);
	t.equal(devtmpfsMount(k), sb, "mounting again gives the same instance");
	t.not(devtmpfsMount(bootKernel()), sb);
	t.equal(sb.fsType, "devtmpfs");
	t.equal(sb.magic, TMPFS_MAGIC);
	t.equal(sb.dev, DEVTMPFS_DEV);
	t.equal(sb.root.mode, S_IFDIR | 0o755);
	t.equal(sb.root.parent, sb.root);
});

t.test("the boot-time nodes exist once /dev is mounted", async (t) => {
	const k = bootKernel();
	const root = devtmpfsMount(k).root;
	for (const n of ["null", "zero", "full", "random", "urandom", "kmsg", "tty", "console"]) t.ok(names(root).includes(n), n);
	t.equal(lookup(k, "null")!.rdev, makedev(1, 3));
	t.equal(lookup(k, "kmsg")!.mode, S_IFCHR | 0o644);
	t.equal(lookup(k, "console")!.mode, S_IFCHR | 0o600);
	t.equal(lookup(k, "tty")!.mode, S_IFCHR | 0o666);
});

t.test("createNode makes missing directories 0755 and the node with owner and mode", async (t) => {
	const k = bootKernel();
	k.clock.advance(5000);
	const n = devtmpfsCreateNode(k, "input/by-id/event0", 0o640, makedev(13, 64), 0, 104);
	t.equal(lookup(k, "input/by-id/event0"), n);
	t.equal(lookup(k, "input")!.mode, S_IFDIR | 0o755);
	t.equal(lookup(k, "input/by-id")!.mode, S_IFDIR | 0o755);
	t.equal(n.mode, S_IFCHR | 0o640);
	t.equal(n.gid, 104);
	t.equal(n.mtimeNs, 5000, "times come from the virtual clock");
	t.equal(n.sb.dev, DEVTMPFS_DEV);
	t.same(names(lookup(k, "input")!), ["by-id"]);
	t.equal(lookup(k, "input")!.nlink, 3);
});

t.test("createNode refuses a taken name and a file in the way of a directory", async (t) => {
	const k = bootKernel();
	devtmpfsCreateNode(k, "thing", 0o600, makedev(240, 0));
	t.equal(errnoOf(() => devtmpfsCreateNode(k, "thing", 0o600, makedev(240, 1))), EEXIST);
	t.equal(errnoOf(() => devtmpfsCreateNode(k, "thing/sub", 0o600, makedev(240, 1))), ENOTDIR);
});

t.test("a block node opens with ENXIO (no block drivers)", async (t) => {
	const k = bootKernel();
	const n = devtmpfsCreateNode(k, "sda", S_IFBLK | 0o660, makedev(8, 0));
	t.equal(n.mode, S_IFBLK | 0o660);
	const f = new File({ f_op: n.fop, inode: n, path: null, f_flags: 0, f_mode: FMODE_READ, opener: k.init });
	t.equal(errnoOf(() => f.f_op.open!(n, f)), ENXIO);
});

t.test("deleteNode removes the node and the directories devtmpfs made, once empty", async (t) => {
	const k = bootKernel();
	devtmpfsCreateNode(k, "bus/usb/001", 0o664, makedev(189, 0));
	devtmpfsCreateNode(k, "bus/usb/002", 0o664, makedev(189, 1));
	devtmpfsDeleteNode(k, "bus/usb/001");
	t.equal(lookup(k, "bus/usb/001"), null);
	t.ok(lookup(k, "bus/usb/002"));
	devtmpfsDeleteNode(k, "bus/usb/002");
	t.equal(lookup(k, "bus"), null);
	devtmpfsDeleteNode(k, "bus/usb/002");
	devtmpfsDeleteNode(k, "nowhere/at/all");
});

t.test("deleteNode leaves what userspace made or replaced", async (t) => {
	const k = bootKernel();
	const root = devtmpfsMount(k).root;
	const cred = new Cred(0, 0);
	root.op.symlink!(root, "fd", "/proc/self/fd", cred);
	devtmpfsDeleteNode(k, "fd");
	t.ok(lookup(k, "fd"), "a symlink made by userspace stays");
	devtmpfsCreateNode(k, "grp/node", 0o600, makedev(240, 0));
	const grp = lookup(k, "grp")!;
	grp.op.mkdir!(grp, "mine", 0o700, cred);
	devtmpfsDeleteNode(k, "grp/node");
	t.ok(lookup(k, "grp"), "a directory that is not empty stays");
	const own = root.op.mkdir!(root, "own", 0o755, cred);
	devtmpfsCreateNode(k, "own/node", 0o600, makedev(240, 1));
	devtmpfsDeleteNode(k, "own/node");
	t.equal(lookup(k, "own"), own, "a directory userspace made stays");
});

t.test("userspace can mkdir, symlink, unlink and rmdir in /dev", async (t) => {
	const k = bootKernel();
	const root = devtmpfsMount(k).root;
	const cred = new Cred(1000, 1000);
	const links = root.nlink;
	const d = root.op.mkdir!(root, "shm", 0o1777, cred);
	t.equal(d.mode, S_IFDIR | 0o1777);
	t.equal(d.uid, 1000);
	t.equal(root.nlink, links + 1);
	t.equal(errnoOf(() => root.op.mkdir!(root, "shm", 0o755, cred)), EEXIST);
	const l = root.op.symlink!(root, "stdin", "/proc/self/fd/0", cred);
	t.equal(l.mode, S_IFLNK | 0o777);
	t.equal(l.size, 15);
	t.equal(l.op.readlink!(l), "/proc/self/fd/0");
	devtmpfsCreateNode(k, "shm/x", 0o600, makedev(240, 0));
	t.equal(errnoOf(() => root.op.rmdir!(root, "shm")), ENOTEMPTY);
	t.equal(errnoOf(() => root.op.unlink!(root, "shm")), EISDIR);
	t.equal(errnoOf(() => root.op.rmdir!(root, "stdin")), ENOTDIR);
	d.op.unlink!(d, "x");
	root.op.rmdir!(root, "shm");
	root.op.unlink!(root, "stdin");
	t.equal(lookup(k, "shm"), null);
	t.equal(lookup(k, "stdin"), null);
	t.equal(root.nlink, links);
	t.notOk(root.op.create, "regular files cannot be created (EPERM from the VFS)");
});

t.test("setattr changes permission bits and owner, never the file type", async (t) => {
	const k = bootKernel();
	const n = devtmpfsCreateNode(k, "thing", 0o600, makedev(240, 0));
	k.clock.advance(77);
	n.op.setattr!(n, { mode: S_IFDIR | 0o666, uid: 3, gid: 4 });
	t.equal(n.mode, S_IFCHR | 0o666);
	t.equal(n.uid, 3);
	t.equal(n.gid, 4);
	t.equal(n.ctimeNs, 77);
});

t.test("readdir lists entries in creation order with their d_type", async (t) => {
	const k = bootKernel();
	const root = devtmpfsMount(k).root;
	devtmpfsCreateNode(k, "zz", 0o600, makedev(240, 0));
	devtmpfsCreateNode(k, "aa/b", 0o600, makedev(240, 1));
	const list = root.op.readdir!(root);
	const tail = list.slice(-2);
	t.same(tail.map((e) => [e.name, e.type]), [["zz", 2], ["aa", 4]]);
	t.same(root.fop.iterate!(new File({ f_op: root.fop, inode: root, path: null, f_flags: 0, f_mode: FMODE_READ })), list);
});
