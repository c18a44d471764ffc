import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, stat, fstat, lstat, fstatat, mkdir, mkdirat, chmod, fchmod, umask, open, close, write, symlink, Stat,
	S_ISDIR, S_ISREG, S_ISLNK, S_ISCHR, S_ISBLK, S_ISFIFO, S_ISSOCK, S_IFMT, S_IFCHR, major, minor, pipe, malloc,
	O_CREAT, O_WRONLY, O_RDONLY, O_DIRECTORY, AT_FDCWD, AT_SYMLINK_NOFOLLOW, SIZEOF_STAT,
	ENOENT, ENOTDIR, EBADF, EEXIST, EFAULT, EPERM,
} from "./mod.ts";

t.test("stat, fstat, lstat: type, mode, size, links, devices", async (t) => {
	const r = await runTest(() => {
		const fd = open("/tmp/f", O_CREAT | O_WRONLY, 0o640);
		write(fd, new Uint8Array(100), 100);
		const st = new Stat();
		t.equal(fstat(fd, st), 0);
		t.ok(S_ISREG(st.st_mode));
		t.equal(st.st_mode & 0o7777, 0o640);
		t.equal(st.st_size, 100);
		t.equal(st.st_nlink, 1);
		t.equal(st.st_uid, 0);
		t.equal(stat("/tmp", st), 0);
		t.ok(S_ISDIR(st.st_mode));
		t.equal(stat("/dev/null", st), 0);
		t.ok(S_ISCHR(st.st_mode));
		t.equal(major(st.st_rdev), 1);
		t.equal(minor(st.st_rdev), 3);
		t.equal(symlink("/tmp/f", "/tmp/l"), 0);
		t.equal(lstat("/tmp/l", st), 0);
		t.ok(S_ISLNK(st.st_mode));
		t.equal(st.st_size, 6, "a symlink's size is its target's length");
		t.equal(stat("/tmp/l", st), 0);
		t.ok(S_ISREG(st.st_mode), "stat follows");
		const p = new Int32Array(2);
		pipe(p);
		t.equal(fstat(p[0]!, st), 0);
		t.ok(S_ISFIFO(st.st_mode));
	});
	t.equal(r.status, 0);
});

t.test("stat errors leave the struct alone: ENOENT, ENOTDIR, EBADF, EFAULT", async (t) => {
	const r = await runTest(() => {
		const st = new Stat();
		st.st_size = 1234;
		t.equal(stat("/nope", st), -1);
		t.equal(errno, ENOENT);
		t.equal(st.st_size, 1234, "unchanged");
		close(open("/tmp/f", O_CREAT | O_WRONLY, 0o644));
		t.equal(stat("/tmp/f/x", st), -1);
		t.equal(errno, ENOTDIR);
		t.equal(fstat(55, st), -1);
		t.equal(errno, EBADF);
		t.equal(stat("/tmp", 0), -1);
		t.equal(errno, EFAULT);
		t.equal(stat(0, st), -1);
		t.equal(errno, EFAULT);
	});
	t.equal(r.status, 0);
});

t.test("stat into raw bytes or a user address; fstatat with a dirfd and AT_SYMLINK_NOFOLLOW", async (t) => {
	const r = await runTest(() => {
		const raw = new Uint8Array(SIZEOF_STAT);
		t.equal(stat("/dev/zero", raw), 0);
		const mode = new DataView(raw.buffer).getUint32(24, true);
		t.equal(mode & S_IFMT, S_IFCHR);
		t.equal(stat("/dev/zero", malloc(SIZEOF_STAT)), 0);
		mkdir("/tmp/d", 0o755);
		symlink("nowhere", "/tmp/d/dangling");
		const dfd = open("/tmp/d", O_RDONLY | O_DIRECTORY);
		const st = new Stat();
		t.equal(fstatat(dfd, "dangling", st, 0), -1);
		t.equal(errno, ENOENT, "followed a dangling link");
		t.equal(fstatat(dfd, "dangling", st, AT_SYMLINK_NOFOLLOW), 0);
		t.ok(S_ISLNK(st.st_mode));
		t.equal(fstatat(AT_FDCWD, "/tmp/d", st, 0), 0);
		t.ok(S_ISDIR(st.st_mode));
	});
	t.equal(r.status, 0);
});

t.test("S_IS* tests", async (t) => {
	t.ok(S_ISBLK(0o060644));
	t.ok(S_ISSOCK(0o140755));
	t.notOk(S_ISSOCK(0o100644));
	t.notOk(S_ISBLK(0o020644));
});

t.test("mkdir, mkdirat, chmod, fchmod, umask", async (t) => {
	const r = await runTest(() => {
		t.equal(umask(0o077), 0o022, "the old mask");
		t.equal(mkdir("/tmp/d", 0o777), 0);
		const st = new Stat();
		stat("/tmp/d", st);
		t.equal(st.st_mode & 0o777, 0o700, "mode & ~umask");
		t.equal(mkdir("/tmp/d", 0o755), -1);
		t.equal(errno, EEXIST);
		t.equal(mkdir("/nope/d", 0o755), -1);
		t.equal(errno, ENOENT);
		const dfd = open("/tmp/d", O_RDONLY | O_DIRECTORY);
		t.equal(mkdirat(dfd, "e", 0o755), 0);
		t.equal(stat("/tmp/d/e", st), 0);
		t.equal(chmod("/tmp/d/e", 0o711), 0);
		stat("/tmp/d/e", st);
		t.equal(st.st_mode & 0o7777, 0o711);
		const fd = open("/tmp/f", O_CREAT | O_WRONLY, 0o600);
		t.equal(fchmod(fd, 0o644), 0);
		fstat(fd, st);
		t.equal(st.st_mode & 0o777, 0o644);
		t.equal(chmod("/nope", 0o644), -1);
		t.equal(errno, ENOENT);
	});
	t.equal(r.status, 0);
	const u = await runTest(() => {
		t.equal(chmod("/tmp", 0o777), -1);
		t.equal(errno, EPERM, "not the owner");
	}, { uid: 1000 });
	t.equal(u.status, 0);
});
