import t from "tap";
import { KernfsRoot, kernfsAddFile, kernfsCreateDir, kernfsCreateEmptyDir, kernfsCreateLink, kernfsFind, kernfsNodeOf, kernfsRemove } from "./kernfs.ts";
import { S_IFDIR, S_IFLNK, S_IFREG } from "./inode.ts";
import { PAGE_SIZE } from "../uaccess/vma.ts";
import { Errno, EEXIST, EINVAL, ENOENT, ENOTDIR } from "../kernel/errno.ts";

function newRoot(): KernfsRoot {
	let now = 1000;
	return new KernfsRoot({ fsType: "sysfs", magic: 0x62656572, dev: 22, rootMode: 0o555, extraOpenPermCheck: true, now: () => now++ });
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

t.test("directories, files and links get inodes with the right types, modes and numbers", async (t) => {
	const root = newRoot();
	t.equal(root.root.ino, 1);
	t.equal(root.root.mode, S_IFDIR | 0o555);
	t.equal(root.root.parent, root.root, "the root is its own parent");
	const dir = kernfsCreateDir(root.node, "kernel", 0o755);
	const file = kernfsAddFile(dir, "state", { mode: 0o100644 | 0o7000, size: PAGE_SIZE, fops: {} });
	const link = kernfsCreateLink(root.node, "k", dir);
	t.equal(dir.inode.mode, S_IFDIR | 0o755);
	t.equal(file.inode.mode, S_IFREG | 0o7644, "only the permission bits of the mode are kept");
	t.equal(file.inode.size, 4096);
	t.equal(link.inode.mode, S_IFLNK | 0o777);
	t.same([dir.inode.ino, file.inode.ino, link.inode.ino], [2, 3, 4]);
	t.equal(root.root.nlink, 3, "a subdirectory adds a link to its parent");
	t.equal(dir.inode.parent, root.root);
	t.equal(root.root.op.lookup!(root.root, "kernel"), dir.inode);
	t.equal(root.root.op.lookup!(root.root, "nope"), null);
	t.same(root.root.op.readdir!(root.root), [
		{ name: "kernel", ino: 2, type: 4 },
		{ name: "k", ino: 4, type: 10 },
	]);
	t.equal(link.inode.op.readlink!(link.inode), "kernel");
	t.equal(file.inode.uid, 0);
	t.equal(kernfsNodeOf(file.inode), file);
	t.equal(file.inode.i_private, file, "kernfs keeps the node in i_private");
	const data = kernfsAddFile(dir, "data", { mode: 0o444, fops: {}, iPrivate: null });
	t.equal(data.inode.i_private, null, "a creator's i_private is kept, even null");
	t.equal(kernfsNodeOf(data.inode), data);
});

t.test("symlinks to nodes read as relative paths", async (t) => {
	const root = newRoot();
	const a = kernfsCreateDir(root.node, "a", 0o755);
	const b = kernfsCreateDir(a, "b", 0o755);
	const c = kernfsCreateDir(root.node, "c", 0o755);
	const l1 = kernfsCreateLink(b, "toC", c);
	const l2 = kernfsCreateLink(c, "toB", b);
	const l3 = kernfsCreateLink(a, "text", "/fixed/text");
	t.equal(l1.inode.op.readlink!(l1.inode), "../../c");
	t.equal(l2.inode.op.readlink!(l2.inode), "../a/b");
	t.equal(l3.inode.op.readlink!(l3.inode), "/fixed/text");
});

t.test("creating a duplicate name is EEXIST, under a file ENOTDIR, under a removed dir ENOENT", async (t) => {
	const root = newRoot();
	const dir = kernfsCreateDir(root.node, "d", 0o755);
	const f = kernfsAddFile(dir, "f", { mode: 0o444, fops: {} });
	t.equal(errnoOf(() => kernfsCreateDir(root.node, "d", 0o755)), EEXIST);
	t.equal(errnoOf(() => kernfsAddFile(dir, "f", { mode: 0o444, fops: {} })), EEXIST);
	t.equal(errnoOf(() => kernfsCreateDir(f, "x", 0o755)), ENOTDIR);
	t.equal(errnoOf(() => kernfsCreateDir(root.node, "a/b", 0o755)), EINVAL);
	kernfsRemove(dir);
	t.equal(errnoOf(() => kernfsCreateDir(dir, "x", 0o755)), ENOENT);
});

t.test("an empty mount-point directory lists nothing and refuses children", async (t) => {
	const root = newRoot();
	const d = kernfsCreateEmptyDir(root.node, "debug");
	t.equal(d.inode.mode, S_IFDIR | 0o555);
	t.same(d.inode.op.readdir!(d.inode), []);
	t.equal(d.inode.op.lookup!(d.inode, "x"), null);
	t.equal(errnoOf(() => kernfsCreateDir(d, "x", 0o755)), ENOENT);
});

t.test("removal is recursive and unlinks the node from its parent", async (t) => {
	const root = newRoot();
	const d = kernfsCreateDir(root.node, "d", 0o755);
	const sub = kernfsCreateDir(d, "sub", 0o755);
	const f = kernfsAddFile(sub, "f", { mode: 0o444, fops: {} });
	t.equal(root.root.nlink, 3);
	kernfsRemove(d);
	t.notOk(d.active);
	t.notOk(sub.active);
	t.notOk(f.active);
	t.equal(kernfsFind(root.node, "d"), null);
	t.equal(root.root.nlink, 2);
	t.equal(root.root.op.lookup!(root.root, "d"), null);
	kernfsRemove(d);
	kernfsRemove(null);
	t.pass("removing twice or null is harmless");
});

t.test("setattr changes mode and owner but not the size", async (t) => {
	const root = newRoot();
	const kn = kernfsAddFile(root.node, "a", { mode: 0o444, size: 4096, fops: {} });
	kn.inode.op.setattr!(kn.inode, { mode: 0o600, uid: 5, size: 0 });
	t.equal(kn.inode.mode, S_IFREG | 0o600);
	t.equal(kn.inode.uid, 5);
	t.equal(kn.inode.size, 4096);
});
