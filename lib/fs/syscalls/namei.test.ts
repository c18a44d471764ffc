import t from "tap";
import {
	EACCES, EBUSY, EEXIST, EFAULT, EINVAL, EISDIR, ENAMETOOLONG, ENOENT, ENOTDIR, ENOTEMPTY, EPERM, EXDEV,
} from "../../kernel/errno.ts";
import { AT_REMOVEDIR, O_CREAT, O_RDONLY, O_WRONLY, RENAME_EXCHANGE, RENAME_NOREPLACE } from "../fcntl.ts";
import { tmpfsMount } from "../tmpfs.ts";
import { inProcess } from "./testing.ts";
import type { UserCtx } from "./testing.ts";

function touch(u: UserCtx, path: string): void {
	u.sys("close", u.sys("openat", -100, path, O_CREAT | O_WRONLY, 0o644));
}

t.test("mkdir: mode & ~umask, EEXIST (also for '/', '.' and '..'), ENOENT, ENOTDIR, trailing slash allowed", async (t) => {
	await inProcess((u) => {
		t.equal(u.sys("mkdir", "/tmp/d", 0o777), 0);
		t.equal(u.p.kernel.vfs.lookup(u.p, "/tmp/d").inode.mode & 0o7777, 0o755);
		t.equal(u.sys("mkdir", "/tmp/s", 0o7777), 0);
		t.equal(u.p.kernel.vfs.lookup(u.p, "/tmp/s").inode.mode & 0o7777, 0o1755, "setuid and setgid bits are dropped, sticky kept");
		t.equal(u.sys("mkdir", "/tmp/d", 0o755), -EEXIST);
		t.equal(u.sys("mkdir", "/", 0o755), -EEXIST);
		t.equal(u.sys("mkdir", "/tmp/d/.", 0o755), -EEXIST);
		t.equal(u.sys("mkdir", "/tmp/d/..", 0o755), -EEXIST);
		t.equal(u.sys("mkdir", "/tmp/none/d", 0o755), -ENOENT);
		touch(u, "/tmp/f");
		t.equal(u.sys("mkdir", "/tmp/f/d", 0o755), -ENOTDIR);
		t.equal(u.sys("mkdir", "/tmp/e/", 0o755), 0);
		t.equal(u.sys("mkdir", `/tmp/${"n".repeat(256)}`, 0o755), -ENAMETOOLONG);
		t.equal(u.sys("mkdir", 0, 0o755), -EFAULT);
		t.equal(u.sys("mkdir", "", 0o755), -ENOENT);
		const dfd = u.sys("openat", -100, "/tmp/d", O_RDONLY, 0);
		t.equal(u.sys("mkdirat", dfd, "sub", 0o700), 0);
		t.ok(u.p.kernel.vfs.lookup(u.p, "/tmp/d/sub"));
	});
});

t.test("rmdir: ENOTEMPTY, ENOTDIR, EINVAL for '.', ENOTEMPTY for '..', EBUSY for '/' and mountpoints", async (t) => {
	await inProcess((u) => {
		u.sys("mkdir", "/tmp/d", 0o755);
		touch(u, "/tmp/d/f");
		t.equal(u.sys("rmdir", "/tmp/d"), -ENOTEMPTY);
		t.equal(u.sys("rmdir", "/tmp/d/f"), -ENOTDIR);
		t.equal(u.sys("rmdir", "/tmp/d/."), -EINVAL);
		t.equal(u.sys("rmdir", "/tmp/d/.."), -ENOTEMPTY);
		t.equal(u.sys("rmdir", "/"), -EBUSY);
		t.equal(u.sys("rmdir", "/tmp/nope"), -ENOENT);
		t.equal(u.sys("rmdir", "/proc"), -EBUSY, "a mountpoint");
		t.equal(u.sys("unlink", "/tmp/d/f"), 0);
		t.equal(u.sys("rmdir", "/tmp/d/"), 0, "a trailing slash is fine");
		t.equal(u.sys("rmdir", "/tmp/d"), -ENOENT);
	});
});

t.test("unlink: EISDIR for a directory, a trailing slash is ENOTDIR on a file, ENOENT; unlinkat flags", async (t) => {
	await inProcess((u) => {
		u.sys("mkdir", "/tmp/d", 0o755);
		touch(u, "/tmp/f");
		t.equal(u.sys("unlink", "/tmp/d"), -EISDIR);
		t.equal(u.sys("unlink", "/tmp/f/"), -ENOTDIR);
		t.equal(u.sys("unlink", "/tmp/d/"), -EISDIR);
		t.equal(u.sys("unlink", "/tmp/gone/"), -ENOENT);
		t.equal(u.sys("unlink", "/tmp/."), -EISDIR);
		t.equal(u.sys("unlink", "/tmp/nope"), -ENOENT);
		t.equal(u.sys("unlinkat", -100, "/tmp/f", 0x1), -EINVAL);
		t.equal(u.sys("unlinkat", -100, "/tmp/d", AT_REMOVEDIR), 0);
		t.equal(u.sys("unlinkat", -100, "/tmp/f", 0), 0);
		t.equal(u.sys("unlink", "/dev/null/x"), -ENOTDIR);
	});
});

t.test("unlink and rmdir need write and search permission on the directory (EACCES)", async (t) => {
	await inProcess((u) => {
		t.equal(u.sys("unlink", "/dev/null"), -EACCES);
		t.equal(u.sys("rmdir", "/boot"), -EACCES);
		t.equal(u.sys("mkdir", "/boot/x", 0o755), -EACCES);
		t.equal(u.sys("symlink", "x", "/boot/l"), -EACCES);
	}, { uid: 1000 });
});

t.test("symlink and readlink: the target text, truncation without NUL, EINVAL for a non-link or bufsiz <= 0", async (t) => {
	await inProcess((u) => {
		t.equal(u.sys("symlink", "/dev/null", "/tmp/l"), 0);
		t.equal(u.sys("symlink", "x", "/tmp/l"), -EEXIST);
		t.equal(u.sys("symlink", "", "/tmp/e"), -ENOENT);
		t.equal(u.sys("symlink", "x", "/tmp/trail/"), -ENOENT, "a trailing slash on a new non-directory");
		const buf = u.alloc(32);
		u.p.mm.copyToUser(buf, new Uint8Array(32).fill(0x2a));
		t.equal(u.sys("readlink", "/tmp/l", buf, 32), 9);
		t.equal(u.text(buf, 10), "/dev/null*");
		t.equal(u.sys("readlink", "/tmp/l", buf, 4), 4);
		t.equal(u.sys("readlink", "/tmp/l", buf, 0), -EINVAL);
		t.equal(u.sys("readlink", "/tmp", buf, 32), -EINVAL);
		t.equal(u.sys("readlink", "/tmp/none", buf, 32), -ENOENT);
		t.equal(u.sys("readlink", "/tmp/l", 0, 32), -EFAULT);
		const dfd = u.sys("openat", -100, "/tmp", O_RDONLY, 0);
		t.equal(u.sys("symlinkat", "rel", dfd, "l2"), 0);
		t.equal(u.sys("readlinkat", dfd, "l2", buf, 32), 3);
		t.equal(u.text(buf, 3), "rel");
	});
});

t.test("rename: files and directories, replacing, and Linux's errnos", async (t) => {
	await inProcess((u) => {
		u.sys("mkdir", "/tmp/a", 0o755);
		u.sys("mkdir", "/tmp/a/b", 0o755);
		u.sys("mkdir", "/tmp/c", 0o755);
		touch(u, "/tmp/f");
		touch(u, "/tmp/g");
		t.equal(u.sys("rename", "/tmp/f", "/tmp/a/f2"), 0);
		t.equal(u.sys("stat", "/tmp/f", u.alloc(144)), -ENOENT);
		t.equal(u.sys("rename", "/tmp/g", "/tmp/a/f2"), 0, "replaces a file");
		t.equal(u.sys("rename", "/tmp/a/f2", "/tmp/a/f2"), 0, "onto itself");
		t.equal(u.sys("rename", "/tmp/a", "/tmp/a/b/x"), -EINVAL, "into itself");
		t.equal(u.sys("rename", "/tmp/a/b", "/tmp/a"), -ENOTEMPTY, "onto its ancestor");
		t.equal(u.sys("rename", "/tmp/a/f2", "/tmp/c"), -EISDIR);
		t.equal(u.sys("rename", "/tmp/c", "/tmp/a/f2"), -ENOTDIR);
		t.equal(u.sys("rename", "/tmp/a/f2/", "/tmp/x"), -ENOTDIR, "a trailing slash on a file");
		t.equal(u.sys("rename", "/tmp/a/.", "/tmp/x"), -EBUSY);
		t.equal(u.sys("rename", "/tmp/c", "/tmp/a/.."), -EBUSY);
		t.equal(u.sys("rename", "/tmp/nope", "/tmp/x"), -ENOENT);
		t.equal(u.sys("rename", "/tmp/c", "/dev/c"), -EXDEV);
		t.equal(u.sys("rename", "/tmp/c", "/tmp/a/b"), 0, "an empty directory is replaced");
		t.equal(u.sys("rename", "/proc", "/tmp/p"), -EBUSY, "a mountpoint");
	});
});

t.test("renameat2: RENAME_NOREPLACE is EEXIST on an existing target; RENAME_EXCHANGE is EINVAL; bad flags EINVAL", async (t) => {
	await inProcess((u) => {
		touch(u, "/tmp/a");
		touch(u, "/tmp/b");
		t.equal(u.sys("renameat2", -100, "/tmp/a", -100, "/tmp/b", RENAME_NOREPLACE), -EEXIST);
		t.equal(u.sys("renameat2", -100, "/tmp/a", -100, "/tmp/c", RENAME_NOREPLACE), 0);
		t.equal(u.sys("renameat2", -100, "/tmp/c", -100, "/tmp/b", RENAME_EXCHANGE), -EINVAL);
		t.equal(u.sys("renameat2", -100, "/tmp/c", -100, "/tmp/b", RENAME_EXCHANGE | RENAME_NOREPLACE), -EINVAL);
		t.equal(u.sys("renameat2", -100, "/tmp/c", -100, "/tmp/b", 0x10), -EINVAL);
		const dfd = u.sys("openat", -100, "/tmp", O_RDONLY, 0);
		t.equal(u.sys("renameat", dfd, "c", dfd, "d"), 0);
		t.ok(u.p.kernel.vfs.lookup(u.p, "/tmp/d"));
	});
});

t.test("rename and rmdir of a mountpoint inside one filesystem are EBUSY", async (t) => {
	await inProcess((u) => {
		const vfs = u.p.kernel.vfs;
		u.sys("mkdir", "/tmp/m", 0o755);
		u.sys("mkdir", "/tmp/n", 0o755);
		vfs.mount(u.p, "/tmp/m", tmpfsMount(u.p.kernel), 0, "none");
		t.equal(u.sys("rename", "/tmp/n", "/tmp/m"), -EBUSY);
		t.equal(u.sys("rmdir", "/tmp/m"), -EBUSY);
	});
});

t.test("a directory moved to another parent needs write permission on itself", async (t) => {
	const k = await inProcess((u) => {
		u.sys("mkdir", "/tmp/dir", 0o555);
		u.sys("mkdir", "/tmp/to", 0o777);
		u.sys("chmod", "/tmp/to", 0o777);
	}, { uid: 1000 });
	await inProcess((u) => {
		t.equal(u.sys("rename", "/tmp/dir", "/tmp/to/dir"), -EACCES);
		t.equal(u.sys("rename", "/tmp/dir", "/tmp/dir2"), 0, "the same parent is fine");
	}, { kernel: k, uid: 1000 });
	await inProcess((u) => {
		t.equal(u.sys("rename", "/tmp/dir2", "/tmp/dir3"), -EPERM, "sticky /tmp: not the owner");
	}, { kernel: k, uid: 2000 });
});
