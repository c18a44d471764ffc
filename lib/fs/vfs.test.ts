import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { EBADF, EBUSY, EINVAL, ENOENT, ENOTDIR, EPERM, EROFS } from "../kernel/errno.ts";
import { S_IFDIR } from "./inode.ts";
import { MS_RDONLY } from "./mount.ts";
import { O_CREAT, O_RDONLY, O_RDWR, O_WRONLY } from "./fcntl.ts";
import { tmpfsMount } from "./tmpfs.ts";
import { vfsMkdir } from "./dirops.ts";
import { MNT_DETACH } from "./vfs.ts";
import { errnoOf, inProcess } from "./syscalls/testing.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

t.test("fsBoot mounts tmpfs /, devtmpfs, sysfs, debugfs and proc, with the directory modes", async (t) => {
	const k = bootKernel();
	const vfs = k.vfs;
	t.same(vfs.mounts.list().map((m) => [vfs.dPath({ mnt: m, inode: m.root }), m.sb.fsType]), [
		["/", "tmpfs"], ["/dev", "devtmpfs"], ["/sys", "sysfs"], ["/sys/kernel/debug", "debugfs"], ["/proc", "proc"],
	]);
	t.equal(vfs.lookup(null, "/").inode.mode, S_IFDIR | 0o755);
	t.equal(vfs.lookup(null, "/tmp").inode.mode, S_IFDIR | 0o1777);
	t.equal(vfs.lookup(null, "/run").inode.mode, S_IFDIR | 0o755);
	t.equal(vfs.lookup(null, "/boot").inode.mode, S_IFDIR | 0o755);
	t.equal(vfs.lookup(null, "/dev/null").inode.rdev !== 0, true, "devtmpfs is on /dev");
});

t.test("without DEBUG_FS and PROC_FS there is no debugfs or proc mount", async (t) => {
	const k = bootKernel({ config: { DEBUG_FS: false, PROC_FS: false } });
	t.same(k.vfs.mounts.list().map((m) => m.sb.fsType), ["tmpfs", "devtmpfs", "sysfs"]);
	t.equal(k.vfs.lookup(null, "/proc").inode.sb.fsType, "tmpfs", "the empty directory");
});

t.test("a mount covers its directory; '..' at a mount root goes to the mountpoint's parent", async (t) => {
	const k = bootKernel();
	const vfs = k.vfs;
	vfsMkdir(vfs, null, "/tmp/m", 0o755);
	const under = vfs.lookup(null, "/tmp/m");
	vfs.open(null, "/tmp/m/hidden", O_CREAT | O_WRONLY, 0o644).put();
	const sb = tmpfsMount(k);
	const mnt = vfs.mount(null, "/tmp/m", sb, 0, "none");
	const top = vfs.lookup(null, "/tmp/m");
	t.equal(top.mnt, mnt);
	t.equal(top.inode, sb.root);
	t.not(top.inode, under.inode);
	t.equal(errnoOf(() => vfs.lookup(null, "/tmp/m/hidden")), ENOENT, "the covered directory's entries are hidden");
	t.equal(vfs.lookup(null, "/tmp/m/..").inode, vfs.lookup(null, "/tmp").inode);
	t.equal(vfs.lookup(null, "/tmp/m/../m").inode, sb.root, "and down again through the mount");
	t.equal(vfs.lookup(null, "/sys/kernel/debug/..").inode, vfs.lookup(null, "/sys/kernel").inode, "debugfs on sysfs");
	t.equal(vfs.lookup(null, "/sys/..").inode, vfs.rootPath().inode);
	t.equal(vfs.dPath(vfs.lookup(null, "/tmp/m")), "/tmp/m");
});

t.test("a second mount on the same place stacks on top; umount uncovers the one below", async (t) => {
	const k = bootKernel();
	const vfs = k.vfs;
	vfsMkdir(vfs, null, "/tmp/m", 0o755);
	const a = tmpfsMount(k);
	const b = tmpfsMount(k);
	vfs.mount(null, "/tmp/m", a, 0, "a");
	vfs.mount(null, "/tmp/m", b, 0, "b");
	t.equal(vfs.lookup(null, "/tmp/m").inode, b.root);
	t.equal(vfs.lookup(null, "/tmp/m/..").inode, vfs.lookup(null, "/tmp").inode, "'..' climbs out of both");
	t.not(a.dev, b.dev, "each tmpfs instance has its own st_dev");
	vfs.umount(null, "/tmp/m", 0);
	t.equal(vfs.lookup(null, "/tmp/m").inode, a.root);
	vfs.umount(null, "/tmp/m", 0);
	t.equal(vfs.lookup(null, "/tmp/m").inode.sb.fsType, "tmpfs");
	t.equal(errnoOf(() => vfs.umount(null, "/tmp/m", 0)), EINVAL, "no longer a mount root");
});

t.test("mount errors: ENOTDIR on a file, EBUSY for a superblock on its own root, EPERM for uid 1000", async (t) => {
	const k = bootKernel();
	const vfs = k.vfs;
	vfs.open(null, "/tmp/f", O_CREAT | O_WRONLY, 0o644).put();
	t.equal(errnoOf(() => vfs.mount(null, "/tmp/f", tmpfsMount(k), 0, "none")), ENOTDIR);
	const sys = vfs.lookup(null, "/sys");
	t.equal(errnoOf(() => vfs.mount(null, "/sys", sys.mnt.sb, 0, "sysfs")), EBUSY);
	await inProcess((u) => {
		t.equal(errnoOf(() => vfs.mount(u.p, "/tmp", tmpfsMount(k), 0, "none")), EPERM);
		t.equal(errnoOf(() => vfs.umount(u.p, "/sys", 0)), EPERM);
	}, { kernel: k, uid: 1000 });
});

t.test("umount is EBUSY while a file is open, a cwd is inside or a mount sits on it; MNT_DETACH detaches anyway", async (t) => {
	const k = bootKernel();
	const vfs = k.vfs;
	vfsMkdir(vfs, null, "/tmp/m", 0o755);
	vfs.mount(null, "/tmp/m", tmpfsMount(k), 0, "none");
	vfsMkdir(vfs, null, "/tmp/m/sub", 0o755);
	vfs.mount(null, "/tmp/m/sub", tmpfsMount(k), 0, "none");
	t.equal(errnoOf(() => vfs.umount(null, "/tmp/m", 0)), EBUSY, "a submount");
	vfs.umount(null, "/tmp/m/sub", 0);
	await inProcess((u) => {
		const f = vfs.open(u.p, "/tmp/m/file", O_CREAT | O_RDWR, 0o644);
		const fd = u.p.files.install(f, u.p.nofile, false);
		t.equal(errnoOf(() => vfs.umount(u.p, "/tmp/m", 0)), EBUSY, "an open file");
		u.p.files.remove(fd).put();
		u.p.cwd = vfs.lookup(u.p, "/tmp/m");
		t.equal(errnoOf(() => vfs.umount(u.p, "/tmp/m", 0)), EBUSY, "a cwd");
		const g = vfs.open(u.p, "/tmp/m/file", O_RDWR);
		vfs.umount(u.p, "/tmp/m", MNT_DETACH);
		t.equal(vfs.lookup(u.p, "/tmp/m").inode.sb, vfs.rootPath().inode.sb, "detached from the tree");
		t.equal(vfs.kernelWrite(g, enc.encode("still")), 5, "open files keep working");
		t.equal(dec.decode(vfs.kernelRead(g, 10, 0)), "still");
		g.put();
		t.equal(errnoOf(() => vfs.umount(u.p, "/", 0)), EBUSY, "the root");
	}, { kernel: k });
});

t.test("a read-only mount refuses writes with EROFS but opens for reading", async (t) => {
	const k = bootKernel();
	const vfs = k.vfs;
	vfsMkdir(vfs, null, "/tmp/r", 0o755);
	const sb = tmpfsMount(k);
	vfs.mount(null, "/tmp/r", sb, 0, "none");
	vfs.open(null, "/tmp/r/f", O_CREAT | O_WRONLY, 0o644).put();
	vfs.lookup(null, "/tmp/r").mnt.flags |= MS_RDONLY;
	t.equal(errnoOf(() => vfs.open(null, "/tmp/r/f", O_WRONLY)), EROFS);
	t.equal(errnoOf(() => vfs.open(null, "/tmp/r/g", O_CREAT | O_WRONLY, 0o644)), EROFS);
	t.equal(errnoOf(() => vfsMkdir(vfs, null, "/tmp/r/d", 0o755)), EROFS);
	t.ok(vfs.open(null, "/tmp/r/f", O_RDONLY));
	t.ok(vfs.open(null, "/dev/null", O_WRONLY), "devices elsewhere unaffected");
});

t.test("kernelRead and kernelWrite use and advance f_pos, or leave it with an explicit pos", async (t) => {
	const k = bootKernel();
	const f = k.vfs.open(null, "/tmp/k", O_CREAT | O_RDWR, 0o600);
	t.equal(k.vfs.kernelWrite(f, enc.encode("abcdef")), 6);
	t.equal(f.f_pos, 6);
	t.equal(k.vfs.kernelWrite(f, enc.encode("XY"), 1), 2);
	t.equal(f.f_pos, 6, "positional write leaves f_pos");
	t.equal(dec.decode(k.vfs.kernelRead(f, 100, 0)), "aXYdef");
	f.f_pos = 2;
	t.equal(dec.decode(k.vfs.kernelRead(f, 2)), "Yd");
	t.equal(f.f_pos, 4);
	const ro = k.vfs.open(null, "/tmp/k", O_RDONLY);
	t.equal(errnoOf(() => k.vfs.kernelWrite(ro, enc.encode("x"))), EBADF);
	t.equal(errnoOf(() => k.vfs.kernelRead(ro, 1, -1)), EINVAL, "negative position");
});

t.test("mkdirP makes every missing directory with exactly the mode; ENOTDIR through a file", async (t) => {
	const k = bootKernel();
	const p = k.vfs.mkdirP("/run/a/b/c", 0o700);
	t.equal(p.inode.mode, S_IFDIR | 0o700);
	t.equal(k.vfs.lookup(null, "/run/a").inode.mode, S_IFDIR | 0o700);
	t.equal(k.vfs.mkdirP("/run/a/b").inode, k.vfs.lookup(null, "/run/a/b").inode, "existing directories are kept");
	k.vfs.open(null, "/run/file", O_CREAT | O_WRONLY, 0o644).put();
	t.equal(errnoOf(() => k.vfs.mkdirP("/run/file/x")), ENOTDIR);
});

t.test("getcwd prints the path across mounts; ENOENT once the cwd is removed", async (t) => {
	await inProcess((u) => {
		const vfs = u.p.kernel.vfs;
		t.equal(vfs.getcwd(u.p), "/");
		u.p.cwd = vfs.lookup(u.p, "/sys/kernel/debug");
		t.equal(vfs.getcwd(u.p), "/sys/kernel/debug");
		vfsMkdir(vfs, u.p, "/tmp/gone", 0o755);
		u.p.cwd = vfs.lookup(u.p, "/tmp/gone");
		t.equal(vfs.getcwd(u.p), "/tmp/gone");
		u.p.kernel.vfs.lookup(u.p, "/tmp").inode.op.rmdir!(vfs.lookup(u.p, "/tmp").inode, "gone");
		t.equal(errnoOf(() => vfs.getcwd(u.p)), ENOENT);
		t.equal(errnoOf(() => vfs.lookup(u.p, "x")), ENOENT, "nothing can be found in a removed directory");
	});
});
