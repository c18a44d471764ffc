import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { EACCES, EEXIST, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, EOPNOTSUPP, EPERM, ENXIO } from "../kernel/errno.ts";
import { FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { makedev, S_IFBLK, S_IFREG, S_ISLNK } from "./inode.ts";
import { devtmpfsCreateNode } from "./devtmpfs.ts";
import {
	O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_LARGEFILE, O_NOATIME, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY,
	O_RDWR, O_TMPFILE, O_TRUNC, O_WRONLY,
} from "./fcntl.ts";
import { FMODE_PATH } from "./vfs.ts";
import { vfsMkdir, vfsRmdir, vfsSymlink } from "./dirops.ts";
import { errnoOf, inProcess } from "./syscalls/testing.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

t.test("O_CREAT makes a regular file; O_CREAT|O_EXCL on an existing name is EEXIST", async (t) => {
	const k = bootKernel();
	const f = k.vfs.open(null, "/tmp/new", O_CREAT | O_EXCL | O_RDWR, 0o640);
	t.equal(f.inode.mode, S_IFREG | 0o640, "the kernel has no umask");
	t.equal(k.vfs.open(null, "/tmp/new", O_CREAT | O_RDWR, 0o600).inode, f.inode, "O_CREAT alone opens the existing file");
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp/new", O_CREAT | O_EXCL | O_RDWR, 0o600)), EEXIST);
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp", O_CREAT | O_EXCL | O_RDWR, 0o600)), EEXIST, "EEXIST before EISDIR");
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp/none/x", O_CREAT | O_RDWR, 0o600)), ENOENT, "the directory must exist");
});

t.test("O_CREAT on a directory, '.', or with a trailing slash is EISDIR; O_CREAT|O_DIRECTORY is EINVAL", async (t) => {
	const k = bootKernel();
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp", O_CREAT | O_RDONLY, 0o600)), EISDIR);
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp/.", O_CREAT | O_RDONLY, 0o600)), EISDIR);
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp/newdir/", O_CREAT | O_RDONLY, 0o600)), EISDIR);
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp/x", O_CREAT | O_DIRECTORY | O_RDONLY, 0o600)), EINVAL);
});

t.test("a directory opens read-only; a write mode or O_TRUNC is EISDIR", async (t) => {
	const k = bootKernel();
	t.ok(k.vfs.open(null, "/tmp", O_RDONLY));
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp", O_WRONLY)), EISDIR);
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp", O_RDWR)), EISDIR);
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp", O_RDONLY | O_TRUNC)), EISDIR);
});

t.test("O_DIRECTORY on a non-directory is ENOTDIR", async (t) => {
	const k = bootKernel();
	k.vfs.open(null, "/tmp/f", O_CREAT | O_WRONLY, 0o644).put();
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp/f", O_RDONLY | O_DIRECTORY)), ENOTDIR);
	t.equal(errnoOf(() => k.vfs.open(null, "/dev/null", O_RDONLY | O_DIRECTORY)), ENOTDIR);
	t.ok(k.vfs.open(null, "/tmp", O_RDONLY | O_DIRECTORY));
});

t.test("O_NOFOLLOW on a final symlink is ELOOP; symlinks before it are followed", async (t) => {
	const k = bootKernel();
	vfsSymlink(k.vfs, null, "/dev/null", "/tmp/l");
	vfsSymlink(k.vfs, null, "/tmp", "/tmp/dirlink");
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp/l", O_RDONLY | O_NOFOLLOW)), ELOOP);
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp/l", O_CREAT | O_RDONLY | O_NOFOLLOW, 0o644)), ELOOP);
	t.equal(k.vfs.open(null, "/tmp/dirlink/l", O_RDONLY).inode, k.vfs.lookup(null, "/dev/null").inode, "followed without O_NOFOLLOW");
	const p = k.vfs.open(null, "/tmp/l", O_PATH | O_NOFOLLOW);
	t.ok(S_ISLNK(p.inode.mode), "O_PATH|O_NOFOLLOW opens the link itself");
});

t.test("O_CREAT through a dangling symlink creates its target; with O_EXCL it is EEXIST", async (t) => {
	const k = bootKernel();
	vfsSymlink(k.vfs, null, "target", "/tmp/dangling");
	t.equal(errnoOf(() => k.vfs.open(null, "/tmp/dangling", O_CREAT | O_EXCL | O_WRONLY, 0o644)), EEXIST);
	const f = k.vfs.open(null, "/tmp/dangling", O_CREAT | O_WRONLY, 0o644);
	t.equal(k.vfs.lookup(null, "/tmp/target").inode, f.inode);
});

t.test("O_TRUNC empties a regular file and leaves devices alone; O_APPEND writes at the end", async (t) => {
	const k = bootKernel();
	const f = k.vfs.open(null, "/tmp/t", O_CREAT | O_RDWR, 0o644);
	k.vfs.kernelWrite(f, enc.encode("0123456789"));
	const a = k.vfs.open(null, "/tmp/t", O_WRONLY | O_APPEND);
	t.equal(k.vfs.kernelWrite(a, enc.encode("ab"), 0), 2);
	t.equal(dec.decode(k.vfs.kernelRead(f, 20, 0)), "0123456789ab", "appended whatever the position");
	k.vfs.open(null, "/tmp/t", O_RDONLY | O_TRUNC).put();
	t.equal(f.inode.size, 0, "truncated by an O_RDONLY|O_TRUNC open (write permission checked)");
	t.ok(k.vfs.open(null, "/dev/null", O_WRONLY | O_TRUNC), "a character device is not truncated");
});

t.test("the File: f_flags keep status flags and O_LARGEFILE, drop O_CREAT/O_EXCL/O_TRUNC/O_CLOEXEC; f_mode from the access mode", async (t) => {
	const k = bootKernel();
	const f = k.vfs.open(null, "/tmp/fl", O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC | O_NONBLOCK | O_APPEND | O_RDWR, 0o644);
	t.equal(f.f_flags, O_RDWR | O_NONBLOCK | O_APPEND | O_LARGEFILE);
	t.equal(f.f_mode, FMODE_READ | FMODE_WRITE | FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE);
	t.equal(k.vfs.open(null, "/tmp/fl", O_RDONLY).f_mode & (FMODE_READ | FMODE_WRITE), FMODE_READ);
	t.equal(k.vfs.open(null, "/tmp/fl", O_WRONLY).f_mode & (FMODE_READ | FMODE_WRITE), FMODE_WRITE);
	t.equal(k.vfs.open(null, "/tmp/fl", 3).f_mode & (FMODE_READ | FMODE_WRITE), 0, "access mode 3: neither");
	t.equal(f.path?.name, "/tmp/fl");
	t.equal(k.vfs.filePath(f)?.mnt, k.vfs.rootPath().mnt);
});

t.test("O_PATH gives a File that only marks a place: no open call, FMODE_PATH only", async (t) => {
	const k = bootKernel();
	const f = k.vfs.open(null, "/dev/null", O_PATH | O_RDWR | O_TRUNC);
	t.equal(f.f_mode, FMODE_PATH);
	t.same(f.f_op, {}, "no file operations");
	t.equal(k.vfs.open(null, "/tmp", O_PATH | O_DIRECTORY).f_mode, FMODE_PATH);
});

t.test("a file O_CREAT makes is writable even when its mode says 0444", async (t) => {
	await inProcess((u) => {
		const f = u.p.kernel.vfs.open(u.p, "/tmp/ro", O_CREAT | O_WRONLY, 0o444);
		t.equal(u.p.kernel.vfs.kernelWrite(f, enc.encode("x")), 1);
		t.equal(errnoOf(() => u.p.kernel.vfs.open(u.p, "/tmp/ro", O_WRONLY)), EACCES, "a second open checks the mode");
	}, { uid: 1000 });
});

t.test("O_NOATIME needs the owner (EPERM); O_TMPFILE is EOPNOTSUPP (EINVAL without a write mode)", async (t) => {
	const k = bootKernel();
	k.vfs.open(null, "/tmp/pub", O_CREAT | O_WRONLY, 0o644).put();
	await inProcess((u) => {
		t.equal(errnoOf(() => u.p.kernel.vfs.open(u.p, "/tmp/pub", O_RDONLY | O_NOATIME)), EPERM);
		t.equal(errnoOf(() => u.p.kernel.vfs.open(u.p, "/tmp", O_TMPFILE | O_RDWR, 0o600)), EOPNOTSUPP);
		t.equal(errnoOf(() => u.p.kernel.vfs.open(u.p, "/tmp", O_TMPFILE | O_RDONLY, 0o600)), EINVAL);
	}, { kernel: k, uid: 1000 });
});

t.test("creating in a removed directory is ENOENT", async (t) => {
	const k = bootKernel();
	const d = vfsMkdir(k.vfs, null, "/tmp/d", 0o755);
	const dir = k.vfs.open(null, "/tmp/d", O_RDONLY);
	vfsRmdir(k.vfs, null, "/tmp/d");
	t.equal(d.inode.nlink, 0);
	await inProcess((u) => {
		u.p.cwd = d;
		t.equal(errnoOf(() => u.p.kernel.vfs.open(u.p, "f", O_CREAT | O_WRONLY, 0o644)), ENOENT);
	}, { kernel: k });
	dir.put();
});

t.test("the inode's open runs with the File; a driver that refuses leaves nothing open", async (t) => {
	const k = bootKernel();
	const f = k.vfs.open(null, "/dev/null", O_RDWR);
	t.not(f.f_op, f.inode.fop, "chrdev_open replaced the operations with the driver's");
	devtmpfsCreateNode(k, "sda", S_IFBLK | 0o660, makedev(8, 0));
	t.equal(errnoOf(() => k.vfs.open(null, "/dev/sda", O_RDONLY)), ENXIO, "a block device without a driver");
});

t.test("openPath opens a looked-up path with the open(2) checks", async (t) => {
	const k = bootKernel();
	const p = k.vfs.lookup(null, "/dev/zero");
	const f = k.vfs.openPath(null, p, O_RDONLY);
	t.same(k.vfs.kernelRead(f, 4), new Uint8Array(4));
	t.equal(errnoOf(() => k.vfs.openPath(null, k.vfs.lookup(null, "/tmp"), O_WRONLY)), EISDIR);
});
