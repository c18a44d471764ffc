import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { Cred } from "../kernel/cred.ts";
import { EINVAL, EISDIR, ENOENT, ENOSPC, ENOTDIR, ENOTEMPTY } from "../kernel/errno.ts";
import { S_IFDIR, S_IFLNK, S_IFREG, S_ISGID } from "./inode.ts";
import { O_CREAT, O_RDONLY, O_RDWR, O_WRONLY } from "./fcntl.ts";
import { BOGO_DIRENT_SIZE, TMPFS_MAGIC, parseTmpfsOptions, tmpfsMount, tmpfsUsage } from "./tmpfs.ts";
import { getFilesystem } from "./fsTypes.ts";
import { notifyChange } from "./open.ts";
import { vfsMkdir, vfsRename, vfsRmdir, vfsSymlink, vfsUnlink } from "./dirops.ts";
import { errnoOf } from "./syscalls/testing.ts";
import type { Kernel } from "../kernel/kernel.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A kernel with a fresh tmpfs (of `opts`) mounted on /mnt. */
function withTmpfs(data: string | null = null): Kernel {
	const k = bootKernel();
	k.vfs.mkdirP("/mnt");
	k.vfs.mount(null, "/mnt", tmpfsMount(k, parseTmpfsOptions(k, data)), 0, "none");
	return k;
}

function create(k: Kernel, path: string, text = ""): void {
	const f = k.vfs.open(null, path, O_CREAT | O_WRONLY, 0o644);
	if (text) k.vfs.kernelWrite(f, enc.encode(text));
	f.put();
}

function readAll(k: Kernel, path: string): string {
	const f = k.vfs.open(null, path, O_RDONLY);
	const s = dec.decode(k.vfs.kernelRead(f, 1 << 20));
	f.put();
	return s;
}

t.test("a new instance: 01777 root owned by root, TMPFS_MAGIC, its own st_dev; registered as \"tmpfs\"", async (t) => {
	const k = bootKernel();
	const a = tmpfsMount(k);
	const b = tmpfsMount(k);
	t.equal(a.root.mode, S_IFDIR | 0o1777);
	t.equal(a.root.ino, 1);
	t.equal(a.root.nlink, 2);
	t.equal(a.magic, TMPFS_MAGIC);
	t.not(a.dev, b.dev);
	t.equal(a.root.parent, a.root, "the root is its own parent");
	t.ok(getFilesystem("tmpfs"));
	const c = tmpfsMount(k, parseTmpfsOptions(k, "mode=0700,uid=1000,gid=100,size=1m,nr_inodes=5"));
	t.equal(c.root.mode, S_IFDIR | 0o700);
	t.equal(c.root.uid, 1000);
	t.equal(c.root.gid, 100);
	t.same(tmpfsUsage(c), { used: 0, max: 1024 * 1024 });
	t.equal(errnoOf(() => parseTmpfsOptions(k, "bogus=1")), EINVAL);
	t.equal(errnoOf(() => parseTmpfsOptions(k, "mode=999")), EINVAL);
	t.equal(errnoOf(() => parseTmpfsOptions(k, "size=lots")), EINVAL);
});

t.test("files keep their bytes; a write past the end zero-fills the gap", async (t) => {
	const k = withTmpfs();
	const f = k.vfs.open(null, "/mnt/f", O_CREAT | O_RDWR, 0o644);
	t.equal(k.vfs.kernelWrite(f, enc.encode("hello")), 5);
	t.equal(k.vfs.kernelWrite(f, enc.encode("!"), 8), 1);
	t.equal(f.inode.size, 9);
	t.same(k.vfs.kernelRead(f, 100, 0), new Uint8Array([104, 101, 108, 108, 111, 0, 0, 0, 33]));
	t.equal(k.vfs.kernelRead(f, 10, 9).length, 0, "EOF");
	t.equal(k.vfs.kernelRead(f, 10, 100).length, 0, "past EOF");
});

t.test("one Inode per memfs node: the same object from every lookup and open; inode numbers are not reused", async (t) => {
	const k = withTmpfs();
	create(k, "/mnt/a");
	const a = k.vfs.lookup(null, "/mnt/a").inode;
	t.equal(k.vfs.lookup(null, "/mnt/./a").inode, a);
	t.equal(k.vfs.open(null, "/mnt/a", O_RDONLY).inode, a);
	const ino = a.ino;
	vfsUnlink(k.vfs, null, "/mnt/a");
	create(k, "/mnt/b");
	t.ok(k.vfs.lookup(null, "/mnt/b").inode.ino > ino, "a fresh number");
});

t.test("directories: nlink 2 plus subdirectories, size 40 plus 20 per entry, entries in creation order", async (t) => {
	const k = withTmpfs();
	const root = k.vfs.lookup(null, "/mnt").inode;
	vfsMkdir(k.vfs, null, "/mnt/d1", 0o755);
	vfsMkdir(k.vfs, null, "/mnt/d2", 0o755);
	create(k, "/mnt/f");
	vfsSymlink(k.vfs, null, "f", "/mnt/l");
	t.equal(root.nlink, 4);
	t.equal(root.size, 2 * BOGO_DIRENT_SIZE + 4 * BOGO_DIRENT_SIZE);
	t.same(root.op.readdir!(root).map((e) => [e.name, e.type]), [["d1", 4], ["d2", 4], ["f", 8], ["l", 10]]);
	vfsRmdir(k.vfs, null, "/mnt/d1");
	t.equal(root.nlink, 3);
	create(k, "/mnt/d2/x");
	t.equal(errnoOf(() => vfsRmdir(k.vfs, null, "/mnt/d2")), ENOTEMPTY);
	const dir = k.vfs.lookup(null, "/mnt/d2").inode;
	t.equal(errnoOf(() => dir.op.rmdir!(dir, "x")), ENOTDIR, "the filesystem checks the type too");
	t.equal(errnoOf(() => root.op.unlink!(root, "d2")), EISDIR);
	t.equal(errnoOf(() => root.op.unlink!(root, "nope")), ENOENT);
});

t.test("symlinks: mode 0777, size is the target's length in bytes", async (t) => {
	const k = withTmpfs();
	const l = vfsSymlink(k.vfs, null, "/dev/null/é", "/mnt/l").inode;
	t.equal(l.mode, S_IFLNK | 0o777);
	t.equal(l.size, 12);
	t.equal(l.op.readlink!(l), "/dev/null/é");
});

t.test("unlink while open: the data stays readable and writable at nlink 0; the last close frees it", async (t) => {
	const k = withTmpfs();
	const sb = k.vfs.lookup(null, "/mnt").mnt.sb;
	create(k, "/mnt/f", "keep me");
	const f = k.vfs.open(null, "/mnt/f", O_RDWR);
	const g = k.vfs.open(null, "/mnt/f", O_RDONLY);
	vfsUnlink(k.vfs, null, "/mnt/f");
	t.equal(errnoOf(() => k.vfs.lookup(null, "/mnt/f")), ENOENT);
	t.equal(f.inode.nlink, 0);
	t.equal(dec.decode(k.vfs.kernelRead(f, 100, 0)), "keep me");
	t.equal(k.vfs.kernelWrite(f, enc.encode("!"), 7), 1);
	t.equal(dec.decode(k.vfs.kernelRead(g, 100, 0)), "keep me!");
	t.equal(tmpfsUsage(sb)!.used, 8);
	f.put();
	t.equal(tmpfsUsage(sb)!.used, 8, "one File still open");
	g.put();
	t.equal(tmpfsUsage(sb)!.used, 0, "freed at the last close");
	create(k, "/mnt/f", "new");
	t.equal(readAll(k, "/mnt/f"), "new", "the name is free for a new file");
});

t.test("rename moves a file or directory, replacing a file or an empty directory", async (t) => {
	const k = withTmpfs();
	vfsMkdir(k.vfs, null, "/mnt/a", 0o755);
	vfsMkdir(k.vfs, null, "/mnt/b", 0o755);
	create(k, "/mnt/a/f", "data");
	vfsRename(k.vfs, null, -100, "/mnt/a/f", -100, "/mnt/b/g", 0);
	t.equal(readAll(k, "/mnt/b/g"), "data");
	t.equal(errnoOf(() => k.vfs.lookup(null, "/mnt/a/f")), ENOENT);
	create(k, "/mnt/b/h", "old");
	const old = k.vfs.lookup(null, "/mnt/b/h").inode;
	vfsRename(k.vfs, null, -100, "/mnt/b/g", -100, "/mnt/b/h", 0);
	t.equal(readAll(k, "/mnt/b/h"), "data");
	t.equal(old.nlink, 0, "the replaced file lost its link");
	vfsMkdir(k.vfs, null, "/mnt/a/sub", 0o755);
	vfsRename(k.vfs, null, -100, "/mnt/a/sub", -100, "/mnt/b/sub", 0);
	t.equal(k.vfs.lookup(null, "/mnt/b/sub/..").inode, k.vfs.lookup(null, "/mnt/b").inode, "'..' follows the move");
	t.equal(k.vfs.lookup(null, "/mnt/a").inode.nlink, 2);
	t.equal(k.vfs.lookup(null, "/mnt/b").inode.nlink, 3);
	t.equal(k.vfs.dPath(k.vfs.lookup(null, "/mnt/b/sub")), "/mnt/b/sub");
	vfsMkdir(k.vfs, null, "/mnt/empty", 0o755);
	vfsRename(k.vfs, null, -100, "/mnt/b/sub", -100, "/mnt/empty", 0);
	t.equal(k.vfs.lookup(null, "/mnt").inode.nlink, 5, "an empty directory replaced: 2 + a, b, empty");
	create(k, "/mnt/empty/x");
	vfsMkdir(k.vfs, null, "/mnt/other", 0o755);
	t.equal(errnoOf(() => vfsRename(k.vfs, null, -100, "/mnt/other", -100, "/mnt/empty", 0)), ENOTEMPTY);
	t.equal(errnoOf(() => vfsRename(k.vfs, null, -100, "/mnt/other", -100, "/mnt/b/h", 0)), ENOTDIR);
	t.equal(errnoOf(() => vfsRename(k.vfs, null, -100, "/mnt/b/h", -100, "/mnt/other", 0)), EISDIR);
});

t.test("times come from the virtual clock: create, write (mtime, ctime), chmod (ctime), read (atime)", async (t) => {
	const k = withTmpfs();
	k.clock.advance(1_000_000_000);
	const f = k.vfs.open(null, "/mnt/f", O_CREAT | O_RDWR, 0o644);
	const i = f.inode;
	t.equal(i.mtimeNs, 1_000_000_000);
	t.equal(i.ctimeNs, 1_000_000_000);
	t.equal(i.atimeNs, 1_000_000_000);
	t.equal(k.vfs.lookup(null, "/mnt").inode.mtimeNs, 1_000_000_000, "the directory changed too");
	k.clock.advance(5);
	k.vfs.kernelWrite(f, enc.encode("x"));
	t.equal(i.mtimeNs, 1_000_000_005);
	k.clock.advance(5);
	notifyChange(k.vfs, i, { mode: 0o600 });
	t.equal(i.ctimeNs, 1_000_000_010);
	t.equal(i.mtimeNs, 1_000_000_005);
	t.equal(i.mode, S_IFREG | 0o600);
	k.clock.advance(5);
	k.vfs.kernelRead(f, 1, 0);
	t.equal(i.atimeNs, 1_000_000_015, "relatime: atime older than mtime moves");
	k.clock.advance(5);
	k.vfs.kernelRead(f, 1, 0);
	t.equal(i.atimeNs, 1_000_000_015, "and then stays until the file changes");
});

t.test("truncate grows with zeros and shrinks; ENOSPC past size=, and a write that does not fit is short", async (t) => {
	const k = withTmpfs("size=10");
	const f = k.vfs.open(null, "/mnt/f", O_CREAT | O_RDWR, 0o644);
	k.vfs.kernelWrite(f, enc.encode("abc"));
	notifyChange(k.vfs, f.inode, { size: 6 });
	t.same(k.vfs.kernelRead(f, 10, 0), new Uint8Array([97, 98, 99, 0, 0, 0]));
	notifyChange(k.vfs, f.inode, { size: 2 });
	t.equal(dec.decode(k.vfs.kernelRead(f, 10, 0)), "ab");
	t.equal(errnoOf(() => notifyChange(k.vfs, f.inode, { size: 11 })), ENOSPC);
	t.equal(f.inode.size, 2, "unchanged after ENOSPC");
	t.equal(k.vfs.kernelWrite(f, enc.encode("0123456789"), 2), 8, "short");
	t.equal(errnoOf(() => k.vfs.kernelWrite(f, enc.encode("z"), 10)), ENOSPC);
	t.equal(k.vfs.kernelWrite(f, enc.encode("Z"), 0), 1, "overwriting needs no space");
	const d = k.vfs.lookup(null, "/mnt").inode;
	t.equal(errnoOf(() => notifyChange(k.vfs, d, { size: 0 })), EINVAL, "a directory has no size to set");
});

t.test("new inodes belong to the creator's fsuid/fsgid; a set-group-ID directory passes on its group (and the bit to subdirectories)", async (t) => {
	const k = withTmpfs();
	const mnt = k.vfs.lookup(null, "/mnt").inode;
	const c = new Cred(1000, 100);
	const f = mnt.op.create!(mnt, "f", S_IFREG | 0o640, c);
	t.equal(f.uid, 1000);
	t.equal(f.gid, 100);
	const sg = mnt.op.mkdir!(mnt, "sg", 0o2775, new Cred(0, 500));
	t.equal(sg.mode, S_IFDIR | 0o2775);
	const inner = sg.op.create!(sg, "x", S_IFREG | 0o644, c);
	t.equal(inner.gid, 500, "the directory's group");
	const sub = sg.op.mkdir!(sg, "sub", 0o755, c);
	t.equal(sub.gid, 500);
	t.equal(sub.mode & S_ISGID, S_ISGID, "inherited");
});
