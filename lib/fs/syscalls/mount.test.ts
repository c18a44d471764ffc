import t from "tap";
import { EBUSY, EFAULT, EINVAL, ENODEV, ENOENT, EPERM, EROFS } from "../../kernel/errno.ts";
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from "../mount.ts";
import { O_CREAT, O_RDONLY, O_WRONLY } from "../fcntl.ts";
import { MNT_DETACH } from "../vfs.ts";
import { MS_BIND, MS_MOVE, MS_PRIVATE, MS_REMOUNT, MS_SHARED } from "./mount.ts";
import { inProcess } from "./testing.ts";
import type { UserCtx } from "./testing.ts";

function stDev(u: UserCtx, path: string): number {
	const st = u.alloc(144);
	if (u.sys("stat", path, st) !== 0) return -1;
	return Number(new DataView(u.read(st, 8).buffer).getBigUint64(0, true));
}

t.test("mount a tmpfs with options, use it, unmount it", async (t) => {
	await inProcess((u) => {
		u.sys("mkdir", "/tmp/m", 0o755);
		const before = stDev(u, "/tmp/m");
		t.equal(u.sys("mount", "none", "/tmp/m", "tmpfs", 0, "mode=0700,size=1m"), 0);
		t.not(stDev(u, "/tmp/m"), before, "a new filesystem");
		t.equal(u.p.kernel.vfs.lookup(u.p, "/tmp/m").inode.mode & 0o7777, 0o700, "mode= applied");
		t.equal(u.sys("close", u.sys("openat", -100, "/tmp/m/f", O_CREAT | O_WRONLY, 0o644)), 0);
		t.equal(u.sys("umount2", "/tmp/m", 0), 0);
		t.equal(stDev(u, "/tmp/m/f"), -1, "the file went with the mount");
		t.equal(stDev(u, "/tmp/m"), before);
		t.equal(u.sys("mount", 0, "/tmp/m", "tmpfs", 0xc0ed0000, 0), 0, "the old magic in the flags is ignored; NULL source and data");
	});
});

t.test("mount errors: ENOENT target, ENODEV type, EINVAL without a type or with bad options, EFAULT, EPERM", async (t) => {
	await inProcess((u) => {
		u.sys("mkdir", "/tmp/m", 0o755);
		t.equal(u.sys("mount", "none", "/tmp/none", "tmpfs", 0, 0), -ENOENT);
		t.equal(u.sys("mount", "none", "/tmp/m", "nosuchfs", 0, 0), -ENODEV);
		t.equal(u.sys("mount", "none", "/tmp/m", 0, 0, 0), -EINVAL);
		t.equal(u.sys("mount", "none", "/tmp/m", "tmpfs", 0, "bogus"), -EINVAL);
		t.equal(u.sys("mount", "none", 0, "tmpfs", 0, 0), -EFAULT);
		t.equal(u.sys("mount", "none", "/tmp/m", "tmpfs", MS_MOVE, 0), -EINVAL);
		t.equal(u.sys("umount2", "/tmp/m", 0), -EINVAL, "not a mount point");
		t.equal(u.sys("umount2", "/tmp/m", 0x100), -EINVAL, "unknown flag");
		t.equal(u.sys("umount2", 0, 0x100), -EINVAL, "flags are checked before the path");
		t.equal(u.sys("umount2", "/tmp/none", 0), -ENOENT);
	});
	await inProcess((u) => {
		t.equal(u.sys("mount", "none", "/tmp", "tmpfs", 0, 0), -EPERM);
		t.equal(u.sys("mount", "none", "/none", "tmpfs", 0, 0), -ENOENT, "the lookup comes first");
		t.equal(u.sys("umount2", "/sys", 0), -EPERM);
	}, { uid: 1000 });
});

t.test("MS_RDONLY gives EROFS; MS_REMOUNT changes the flags; propagation flags are accepted on a mount root", async (t) => {
	await inProcess((u) => {
		u.sys("mkdir", "/tmp/r", 0o755);
		t.equal(u.sys("mount", "none", "/tmp/r", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0), 0);
		t.equal(u.p.kernel.vfs.lookup(u.p, "/tmp/r").mnt.flags, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
		t.equal(u.sys("openat", -100, "/tmp/r/f", O_CREAT | O_WRONLY, 0o644), -EROFS);
		t.equal(u.sys("mount", 0, "/tmp/r", 0, MS_REMOUNT, 0), 0);
		t.equal(u.p.kernel.vfs.lookup(u.p, "/tmp/r").mnt.flags, 0);
		t.ok(u.sys("openat", -100, "/tmp/r/f", O_CREAT | O_WRONLY, 0o644) >= 0, "writable now");
		t.equal(u.sys("mount", 0, "/tmp", 0, MS_REMOUNT, 0), -EINVAL, "not a mount root");
		t.equal(u.sys("mount", 0, "/tmp/r", 0, MS_PRIVATE, 0), 0);
		t.equal(u.sys("mount", 0, "/tmp/r", 0, MS_PRIVATE | MS_SHARED, 0), -EINVAL, "one propagation type");
		t.equal(u.sys("mount", 0, "/tmp", 0, MS_PRIVATE, 0), -EINVAL);
	});
});

t.test("MS_BIND of a whole mounted filesystem; a subdirectory is EINVAL", async (t) => {
	await inProcess((u) => {
		u.sys("mkdir", "/tmp/b", 0o755);
		t.equal(u.sys("mount", "/dev", "/tmp/b", 0, MS_BIND, 0), 0);
		t.equal(u.p.kernel.vfs.lookup(u.p, "/tmp/b/null").inode, u.p.kernel.vfs.lookup(u.p, "/dev/null").inode);
		u.sys("mkdir", "/tmp/c", 0o755);
		t.equal(u.sys("mount", "/sys/kernel", "/tmp/c", 0, MS_BIND, 0), -EINVAL);
	});
});

t.test("umount2: EBUSY with an open file or a cwd inside, MNT_DETACH works anyway", async (t) => {
	await inProcess((u) => {
		u.sys("mkdir", "/tmp/m", 0o755);
		u.sys("mount", "none", "/tmp/m", "tmpfs", 0, 0);
		t.equal(u.sys("chdir", "/tmp/m"), 0);
		t.equal(u.sys("umount2", "/tmp/m", 0), -EBUSY);
		u.sys("chdir", "/");
		const fd = u.sys("openat", -100, "/tmp/m", O_RDONLY, 0);
		t.equal(u.sys("umount2", "/tmp/m", 0), -EBUSY);
		t.equal(u.sys("umount2", "/tmp/m", MNT_DETACH), 0);
		t.equal(u.sys("close", fd), 0);
		t.equal(u.sys("umount2", "/", 0), -EBUSY);
	});
});

t.test("the kernel's single-instance filesystems mount again elsewhere (init.c's /debugfs), but not on themselves (EBUSY)", async (t) => {
	await inProcess((u) => {
		u.sys("mkdir", "/debugfs", 0o755);
		t.equal(u.sys("mount", "debugfs", "/debugfs", "debugfs", 0, 0), 0);
		const vfs = u.p.kernel.vfs;
		t.equal(vfs.lookup(u.p, "/debugfs").inode, vfs.lookup(u.p, "/sys/kernel/debug").inode, "one superblock, two mounts");
		t.equal(vfs.lookup(u.p, "/debugfs/..").inode, vfs.rootPath().inode);
		t.equal(u.sys("mount", "sysfs", "/sys", "sysfs", 0, 0), -EBUSY);
		const buf = u.alloc(4096);
		const fd = u.sys("openat", -100, "/proc/self/mounts", O_RDONLY, 0);
		const n = u.sys("read", fd, buf, 4096);
		t.match(u.text(buf, n), /^debugfs \/debugfs debugfs rw 0 0$/m, "listed in /proc/self/mounts");
	});
});
