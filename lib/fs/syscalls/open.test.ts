import t from "tap";
import { EACCES, EBADF, EEXIST, EFAULT, EINVAL, EISDIR, ENAMETOOLONG, ENOENT, ENOTDIR, EPERM, ERANGE, EROFS } from "../../kernel/errno.ts";
import { MS_RDONLY } from "../mount.ts";
import {
	AT_EACCESS, F_GETFD, F_GETFL, FD_CLOEXEC, O_ACCMODE, O_CLOEXEC, O_CREAT, O_EXCL, O_LARGEFILE, O_PATH, O_RDONLY, O_RDWR,
	O_WRONLY, R_OK, SEEK_END, W_OK, X_OK,
} from "../fcntl.ts";
import { tmpfsMount } from "../tmpfs.ts";
import { inProcess } from "./testing.ts";

t.test("openat: fds, O_CLOEXEC on the fd, F_GETFL with O_LARGEFILE, errnos from the path", async (t) => {
	await inProcess((u) => {
		const fd = u.sys("openat", -100, "/tmp/a", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o644);
		t.equal(fd, 0);
		t.equal(u.sys("fcntl", fd, F_GETFD), FD_CLOEXEC);
		t.equal(u.sys("fcntl", fd, F_GETFL), O_RDWR | O_LARGEFILE, "O_CREAT/O_EXCL/O_CLOEXEC are not status flags");
		t.equal(u.sys("openat", -100, "/tmp/a", O_CREAT | O_EXCL | O_RDWR, 0o644), -EEXIST);
		t.equal(u.sys("open", "/tmp/a/x", O_RDONLY, 0), -ENOTDIR);
		t.equal(u.sys("open", "/tmp", O_WRONLY, 0), -EISDIR);
		t.equal(u.sys("open", "/tmp/none", O_RDONLY, 0), -ENOENT);
		t.equal(u.sys("open", 0, O_RDONLY, 0), -EFAULT);
		t.equal(u.sys("open", "", O_RDONLY, 0), -ENOENT);
		const long = u.alloc(4097);
		u.p.mm.copyToUser(long, new Uint8Array(4096).fill(0x61));
		t.equal(u.sys("open", long, O_RDONLY, 0), -ENAMETOOLONG, "no NUL within PATH_MAX");
		t.equal(u.sys("openat", 99, "rel", O_RDONLY, 0), -EBADF);
		t.equal(u.sys("openat", fd, "rel", O_RDONLY, 0), -ENOTDIR);
	});
});

t.test("creat is O_CREAT|O_WRONLY|O_TRUNC", async (t) => {
	await inProcess((u) => {
		const fd = u.sys("creat", "/tmp/c", 0o600);
		t.equal(u.sys("fcntl", fd, F_GETFL) & O_ACCMODE, O_WRONLY);
		u.sys("write", fd, u.bytes(new Uint8Array(3)), 3);
		const again = u.sys("creat", "/tmp/c", 0o600);
		t.equal(u.sys("lseek", again, 0, SEEK_END), 0, "truncated");
	});
});

t.test("truncate and ftruncate: sizes, EINVAL for negatives, non-regular files or read-only fds; EISDIR; EACCES", async (t) => {
	await inProcess((u) => {
		const fd = u.sys("openat", -100, "/tmp/f", O_CREAT | O_RDWR, 0o644);
		t.equal(u.sys("ftruncate", fd, 100), 0);
		t.equal(u.sys("lseek", fd, 0, SEEK_END), 100);
		t.equal(u.sys("truncate", "/tmp/f", 10), 0);
		t.equal(u.sys("lseek", fd, 0, SEEK_END), 10);
		t.equal(u.sys("ftruncate", fd, -1), -EINVAL);
		t.equal(u.sys("truncate", "/tmp/f", -1), -EINVAL);
		const ro = u.sys("openat", -100, "/tmp/f", O_RDONLY, 0);
		t.equal(u.sys("ftruncate", ro, 0), -EINVAL);
		const dev = u.sys("openat", -100, "/dev/null", O_RDWR, 0);
		t.equal(u.sys("ftruncate", dev, 0), -EINVAL, "not a regular file");
		t.equal(u.sys("truncate", "/dev/null", 0), -EINVAL);
		t.equal(u.sys("truncate", "/tmp", 0), -EISDIR);
		t.equal(u.sys("truncate", "/tmp/none", 0), -ENOENT);
		t.equal(u.sys("ftruncate", 88, 0), -EBADF);
		const p = u.sys("openat", -100, "/tmp/f", O_PATH, 0);
		t.equal(u.sys("ftruncate", p, 0), -EBADF, "O_PATH");
		u.sys("chmod", "/tmp/f", 0o444);
	});
	await inProcess((u) => {
		u.sys("close", u.sys("openat", -100, "/tmp/ro", O_CREAT | O_WRONLY, 0o444));
		t.equal(u.sys("truncate", "/tmp/ro", 0), -EACCES);
	}, { uid: 1000 });
});

t.test("chdir, fchdir and getcwd: relative lookups, ERANGE, ENOTDIR, EACCES", async (t) => {
	const k = await inProcess((u) => {
		const buf = u.alloc(64);
		t.equal(u.sys("getcwd", buf, 64), 2);
		t.equal(u.text(buf, 2), "/\0");
		u.sys("mkdir", "/tmp/w", 0o755);
		t.equal(u.sys("chdir", "/tmp/w"), 0);
		t.equal(u.sys("getcwd", buf, 64), 7);
		t.equal(u.text(buf, 7), "/tmp/w\0");
		t.equal(u.sys("getcwd", buf, 6), -ERANGE);
		t.equal(u.sys("getcwd", 0, 64), -EFAULT);
		t.equal(u.sys("close", u.sys("openat", -100, "rel", O_CREAT | O_WRONLY, 0o644)), 0);
		t.ok(u.p.kernel.vfs.lookup(u.p, "/tmp/w/rel"));
		t.equal(u.sys("chdir", ".."), 0);
		t.equal(u.sys("getcwd", buf, 64), 5);
		t.equal(u.sys("chdir", "/tmp/w/rel"), -ENOTDIR);
		t.equal(u.sys("chdir", "/nope"), -ENOENT);
		const dfd = u.sys("openat", -100, "/sys/kernel", O_PATH, 0);
		t.equal(u.sys("fchdir", dfd), 0, "an O_PATH directory fd");
		t.equal(u.sys("getcwd", buf, 64), 12);
		t.equal(u.text(buf, 11), "/sys/kernel");
		t.equal(u.sys("fchdir", u.sys("openat", -100, "/dev/null", O_RDONLY, 0)), -ENOTDIR);
		t.equal(u.sys("fchdir", 77), -EBADF);
		u.sys("mkdir", "/tmp/closed", 0o700);
	});
	await inProcess((u) => {
		t.equal(u.sys("chdir", "/tmp/closed"), -EACCES);
	}, { kernel: k, uid: 1000 });
});

t.test("chmod and fchmod: the owner or root; EPERM otherwise; EROFS; S_ISGID dropped for a non-member", async (t) => {
	const k = await inProcess((u) => {
		u.sys("close", u.sys("openat", -100, "/tmp/mine", O_CREAT | O_WRONLY, 0o600));
		t.equal(u.sys("chmod", "/tmp/mine", 0o2755), 0);
		t.equal(u.p.kernel.vfs.lookup(u.p, "/tmp/mine").inode.mode & 0o7777, 0o2755, "a member keeps S_ISGID");
		u.p.kernel.vfs.lookup(u.p, "/tmp/mine").inode.gid = 4242;
		t.equal(u.sys("chmod", "/tmp/mine", 0o2755), 0);
		t.equal(u.p.kernel.vfs.lookup(u.p, "/tmp/mine").inode.mode & 0o7777, 0o755, "a non-member loses it");
		const fd = u.sys("openat", -100, "/tmp/mine", O_RDONLY, 0);
		t.equal(u.sys("fchmod", fd, 0o640), 0, "fchmod needs no write access to the fd");
		t.equal(u.sys("chmod", "/tmp", 0o777), -EPERM);
		t.equal(u.sys("chmod", "/nope", 0o777), -ENOENT);
		const p = u.sys("openat", -100, "/tmp/mine", O_PATH, 0);
		t.equal(u.sys("fchmod", p, 0o600), -EBADF);
		t.equal(u.sys("fchmodat", -100, "/tmp/mine", 0o604), 0);
		t.equal(u.p.kernel.vfs.lookup(u.p, "/tmp/mine").inode.mode & 0o7777, 0o604);
	}, { uid: 1000 });
	await inProcess((u) => {
		t.equal(u.sys("chmod", "/tmp/mine", 0o600), 0, "root may");
		u.sys("mkdir", "/tmp/r", 0o755);
		u.p.kernel.vfs.mount(u.p, "/tmp/r", tmpfsMount(u.p.kernel), MS_RDONLY, "none");
		t.equal(u.sys("chmod", "/tmp/r", 0o700), -EROFS);
	}, { kernel: k });
});

t.test("access and faccessat2: the real ids, R_OK/W_OK/X_OK, EINVAL for bad modes or flags, EROFS", async (t) => {
	const k = await inProcess((u) => {
		u.sys("close", u.sys("openat", -100, "/tmp/f", O_CREAT | O_WRONLY, 0o640));
		u.sys("close", u.sys("openat", -100, "/tmp/x", O_CREAT | O_WRONLY, 0o744));
		t.equal(u.sys("access", "/tmp/f", R_OK | W_OK), 0);
		t.equal(u.sys("access", "/tmp/f", X_OK), -EACCES, "root needs some x bit to pass X_OK");
		t.equal(u.sys("access", "/tmp/x", X_OK), 0);
		t.equal(u.sys("access", "/tmp/none", 0), -ENOENT);
		t.equal(u.sys("access", "/tmp/f", 8), -EINVAL);
		t.equal(u.sys("faccessat2", -100, "/tmp/f", R_OK, 0x4), -EINVAL);
		u.sys("mkdir", "/tmp/r", 0o755);
		u.p.kernel.vfs.mount(u.p, "/tmp/r", tmpfsMount(u.p.kernel), MS_RDONLY, "none");
		t.equal(u.sys("access", "/tmp/r", W_OK), -EROFS);
		t.equal(u.sys("access", "/dev/null", W_OK), 0);
	});
	await inProcess((u) => {
		t.equal(u.sys("access", "/tmp/f", R_OK), -EACCES);
		t.equal(u.sys("faccessat", -100, "/tmp/x", R_OK), 0);
		u.p.cred.euid = u.p.cred.fsuid = 0;
		t.equal(u.sys("access", "/tmp/f", R_OK), -EACCES, "checks the real uid, not the effective one");
		t.equal(u.sys("faccessat2", -100, "/tmp/f", R_OK, AT_EACCESS), 0, "AT_EACCESS: the effective ids");
	}, { kernel: k, uid: 1000 });
});

t.test("umask returns the old mask and keeps only 0777", async (t) => {
	await inProcess((u) => {
		t.equal(u.sys("umask", 0o7077), 0o022);
		t.equal(u.sys("umask", 0), 0o077);
	});
});

t.test("fsync: 0 for files and directories, EINVAL for devices, EBADF", async (t) => {
	await inProcess((u) => {
		t.equal(u.sys("fsync", u.sys("openat", -100, "/tmp/f", O_CREAT | O_WRONLY, 0o644)), 0);
		t.equal(u.sys("fdatasync", u.sys("openat", -100, "/tmp", O_RDONLY, 0)), 0);
		t.equal(u.sys("fsync", u.sys("openat", -100, "/dev/null", O_RDONLY, 0)), -EINVAL);
		t.equal(u.sys("fsync", 99), -EBADF);
	});
});
