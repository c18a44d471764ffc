import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, open, openat, creat, fcntl, close, write, read, lseek, mkdir, fstat, Stat,
	O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK, O_CLOEXEC, O_DIRECTORY, O_ACCMODE,
	F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL, FD_CLOEXEC, AT_FDCWD, SEEK_CUR, S_IFMT, S_IFREG,
	ENOENT, EEXIST, ENOTDIR, EISDIR, EBADF, EINVAL, EFAULT, EMFILE,
} from "./mod.ts";

const enc = new TextEncoder();

t.test("open: O_CREAT makes a file with mode & ~umask; O_EXCL on an existing one is EEXIST", async (t) => {
	const r = await runTest(() => {
		const fd = open("/tmp/a", O_WRONLY | O_CREAT, 0o666);
		t.equal(fd, 3);
		const st = new Stat();
		t.equal(fstat(fd, st), 0);
		t.equal(st.st_mode & S_IFMT, S_IFREG);
		t.equal(st.st_mode & 0o777, 0o644, "umask 022");
		t.equal(open("/tmp/a", O_WRONLY | O_CREAT | O_EXCL, 0o644), -1);
		t.equal(errno, EEXIST);
		t.equal(open("/tmp/none", O_RDONLY), -1);
		t.equal(errno, ENOENT);
		t.equal(open("/tmp/a/x", O_RDONLY), -1);
		t.equal(errno, ENOTDIR);
		t.equal(open("/tmp", O_WRONLY), -1);
		t.equal(errno, EISDIR);
		t.equal(open("/tmp/a", O_RDONLY | O_DIRECTORY), -1);
		t.equal(errno, ENOTDIR);
		t.equal(open(0, O_RDONLY), -1);
		t.equal(errno, EFAULT, "NULL path");
	});
	t.equal(r.status, 0);
});

t.test("open: O_TRUNC empties, O_APPEND writes at the end", async (t) => {
	const r = await runTest(() => {
		let fd = open("/tmp/a", O_RDWR | O_CREAT, 0o644);
		t.equal(write(fd, enc.encode("12345"), 5), 5);
		close(fd);
		fd = open("/tmp/a", O_WRONLY | O_APPEND);
		t.equal(lseek(fd, 0, 0), 0);
		t.equal(write(fd, enc.encode("6"), 1), 1);
		t.equal(lseek(fd, 0, SEEK_CUR), 6, "appended at the end");
		close(fd);
		fd = open("/tmp/a", O_RDWR | O_TRUNC);
		const b = new Uint8Array(8);
		t.equal(read(fd, b, 8), 0, "truncated");
	});
	t.equal(r.status, 0);
});

t.test("openat: relative to a directory fd, AT_FDCWD, EBADF, ENOTDIR", async (t) => {
	const r = await runTest(() => {
		t.equal(mkdir("/tmp/d", 0o755), 0);
		const dfd = open("/tmp/d", O_RDONLY | O_DIRECTORY);
		const fd = openat(dfd, "f", O_CREAT | O_WRONLY, 0o600);
		t.ok(fd > dfd);
		t.ok(open("/tmp/d/f", O_RDONLY) >= 0, "created inside the directory");
		t.ok(openat(AT_FDCWD, "/tmp/d/f", O_RDONLY) >= 0);
		t.ok(openat(123, "/tmp/d/f", O_RDONLY) >= 0, "dirfd ignored for an absolute path");
		t.equal(openat(123, "f", O_RDONLY), -1);
		t.equal(errno, EBADF);
		t.equal(openat(fd, "f", O_RDONLY), -1);
		t.equal(errno, ENOTDIR);
	});
	t.equal(r.status, 0);
});

t.test("creat is O_CREAT|O_WRONLY|O_TRUNC", async (t) => {
	const r = await runTest(() => {
		const fd = creat("/tmp/c", 0o600);
		t.equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
		t.equal(write(fd, enc.encode("x"), 1), 1);
		const fd2 = creat("/tmp/c", 0o600);
		const st = new Stat();
		t.equal(fstat(fd2, st), 0);
		t.equal(st.st_size, 0, "truncated");
		t.equal(creat("/nope/c", 0o600), -1);
		t.equal(errno, ENOENT);
	});
	t.equal(r.status, 0);
});

t.test("fcntl F_GETFD/F_SETFD/F_GETFL/F_SETFL", async (t) => {
	const r = await runTest(() => {
		const fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		t.equal(fcntl(fd, F_GETFD), FD_CLOEXEC);
		t.equal(fcntl(fd, F_SETFD, 0), 0);
		t.equal(fcntl(fd, F_GETFD), 0);
		t.equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
		t.equal(fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND), 0);
		t.equal(fcntl(fd, F_GETFL) & (O_NONBLOCK | O_APPEND), O_NONBLOCK | O_APPEND);
		t.equal(fcntl(fd, F_SETFL, O_WRONLY), 0, "the access mode cannot change");
		t.equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
		t.equal(fcntl(99, F_GETFD), -1);
		t.equal(errno, EBADF);
		t.equal(fcntl(fd, 0x7fff), -1);
		t.equal(errno, EINVAL, "unknown command");
	});
	t.equal(r.status, 0);
});

t.test("fcntl F_DUPFD/F_DUPFD_CLOEXEC: the lowest fd >= arg; EINVAL beyond RLIMIT_NOFILE", async (t) => {
	const r = await runTest(() => {
		const fd = open("/dev/null", O_RDONLY);
		t.equal(fcntl(fd, F_DUPFD, 10), 10);
		t.equal(fcntl(fd, F_DUPFD, 10), 11);
		t.equal(fcntl(10, F_GETFD), 0);
		t.equal(fcntl(fd, F_DUPFD_CLOEXEC, 0), 4);
		t.equal(fcntl(4, F_GETFD), FD_CLOEXEC);
		t.equal(fcntl(fd, F_DUPFD, 5000), -1);
		t.equal(errno, EINVAL);
		t.equal(fcntl(fd, F_DUPFD, 1023), 1023);
		t.equal(fcntl(fd, F_DUPFD, 1023), -1);
		t.equal(errno, EMFILE);
		t.equal(close(10), 0);
	});
	t.equal(r.status, 0);
});
