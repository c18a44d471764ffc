import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, set_errno, open, close, read, write, pread, pwrite, lseek, dup, dup2, dup3, pipe, pipe2, unlink, rmdir,
	symlink, readlink, chdir, getcwd, ftruncate, mkdir, mmap, munmap, getrlimit, setrlimit, fcntl, fstat, Stat,
	O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_CLOEXEC, O_NONBLOCK, SEEK_SET, SEEK_CUR, SEEK_END, F_GETFD, F_GETFL, FD_CLOEXEC,
	PROT_READ, PROT_WRITE, MAP_PRIVATE, MAP_ANONYMOUS, RLIMIT_NOFILE, type Rlimit,
	EBADF, EFAULT, ENOENT, ENOSPC, EMFILE, ESPIPE, EINVAL, EISDIR, ENOTDIR, ENOTEMPTY, EEXIST, ERANGE, EAGAIN,
} from "./mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

t.test("acceptance: /dev/null, /dev/zero, ENOENT, EBADF, EFAULT, ENOSPC, EMFILE", async (t) => {
	const r = await runTest(() => {
		t.equal(open("/dev/null", O_RDWR), 3, "first free fd after 0, 1, 2");
		t.equal(open("/dev/zero", O_RDONLY), 4);
		t.equal(close(3), 0);
		t.equal(open("/dev/null", O_RDWR), 3, "a closed fd is reused first");

		const buf = new Uint8Array(32).fill(0xa5);
		t.equal(read(4, buf, 32), 32);
		t.same(buf, new Uint8Array(32), "zeros");

		set_errno(0);
		t.equal(open("/no/such/file", O_RDONLY), -1);
		t.equal(errno, ENOENT);

		t.equal(close(3), 0);
		t.equal(close(3), -1);
		t.equal(errno, EBADF, "closing twice");

		const page = 4096;
		const map = mmap(0, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		t.ok(map > 0);
		t.equal(munmap(map + page, page), 0);
		const hole = map + page;
		t.equal(read(4, hole, 16), -1);
		t.equal(errno, EFAULT, "read into an unmapped page");

		const fd = open("/tmp/data", O_RDWR | O_CREAT, 0o644);
		t.equal(write(fd, enc.encode("abcdefghijklmnopqrstuvwxyz"), 26), 26);
		t.equal(lseek(fd, 4, SEEK_SET), 4);
		set_errno(0);
		t.equal(read(fd, hole, 16), -1);
		t.equal(errno, EFAULT);
		t.equal(lseek(fd, 0, SEEK_CUR), 4, "offset unchanged by the failed read");
		// Linux copies up to the fault: the 8 mapped bytes, and the offset moves by 8.
		t.equal(read(fd, hole - 8, 16), 8, "a buffer straddling into an unmapped page reads what fits");
		t.equal(lseek(fd, 0, SEEK_CUR), 12);
		t.equal(close(fd), 0);

		const full = open("/dev/full", O_WRONLY);
		t.equal(write(full, buf, 16), -1);
		t.equal(errno, ENOSPC, "/dev/full");
		t.equal(close(full), 0);

		const rl: Rlimit = { rlim_cur: 0n, rlim_max: 0n };
		t.equal(getrlimit(RLIMIT_NOFILE, rl), 0);
		t.equal(rl.rlim_cur, 1024n, "default soft RLIMIT_NOFILE");
		let last = -1;
		for (;;) {
			const f = open("/dev/null", O_RDONLY);
			if (f < 0) break;
			last = f;
		}
		t.equal(last, 1023, "fds up to 1023");
		t.equal(errno, EMFILE, "EMFILE at the limit");
		t.equal(close(1023), 0);
		t.equal(open("/dev/null", O_RDONLY), 1023);
	});
	t.equal(r.status, 0);
});

t.test("read and write: EBADF on a closed fd or the wrong access mode; a short array is EFAULT", async (t) => {
	const r = await runTest(() => {
		const b = new Uint8Array(4);
		t.equal(read(42, b, 4), -1);
		t.equal(errno, EBADF);
		t.equal(write(-1, b, 4), -1);
		t.equal(errno, EBADF);
		const wr = open("/dev/null", O_WRONLY);
		t.equal(read(wr, b, 4), -1);
		t.equal(errno, EBADF, "read on O_WRONLY");
		const rd = open("/dev/zero", O_RDONLY);
		t.equal(write(rd, b, 4), -1);
		t.equal(errno, EBADF, "write on O_RDONLY");
		b.fill(7);
		t.equal(read(rd, b, 8), -1);
		t.equal(errno, EFAULT, "count beyond the array");
		t.same(b, new Uint8Array(4).fill(7), "array untouched on failure");
	});
	t.equal(r.status, 0);
});

t.test("read and write through a user address; pread/pwrite keep the offset", async (t) => {
	const r = await runTest(() => {
		const fd = open("/tmp/f", O_RDWR | O_CREAT, 0o600);
		t.equal(write(fd, enc.encode("hello world"), 11), 11);
		t.equal(pwrite(fd, enc.encode("W"), 1, 6), 1);
		t.equal(lseek(fd, 0, SEEK_CUR), 11, "pwrite leaves the offset");
		const b = new Uint8Array(5);
		t.equal(pread(fd, b, 5, 6), 5);
		t.equal(dec.decode(b), "World");
		t.equal(lseek(fd, 0, SEEK_CUR), 11, "pread leaves the offset");
		t.equal(pread(fd, b, 5, -1), -1);
		t.equal(errno, EINVAL, "negative pread offset");
		const map = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		t.equal(lseek(fd, 0, SEEK_SET), 0);
		t.equal(read(fd, map, 11), 11);
		t.equal(lseek(fd, 0, SEEK_END), 11);
		t.equal(write(fd, map, 5), 5, "write from a user address");
		t.equal(pread(fd, b, 5, 11), 5);
		t.equal(dec.decode(b), "hello");
	});
	t.equal(r.status, 0);
});

t.test("lseek: EINVAL for a bad whence or a negative result, ESPIPE on a pipe", async (t) => {
	const r = await runTest(() => {
		const fd = open("/tmp/f", O_RDWR | O_CREAT, 0o600);
		t.equal(lseek(fd, 0, 7), -1);
		t.equal(errno, EINVAL);
		t.equal(lseek(fd, -1, SEEK_SET), -1);
		t.equal(errno, EINVAL);
		t.equal(lseek(fd, 0, SEEK_CUR), 0, "unchanged");
		const p = new Int32Array(2);
		t.equal(pipe(p), 0);
		t.equal(lseek(p[0]!, 0, SEEK_SET), -1);
		t.equal(errno, ESPIPE);
		t.equal(lseek(99, 0, SEEK_SET), -1);
		t.equal(errno, EBADF);
	});
	t.equal(r.status, 0);
});

t.test("dup, dup2, dup3 share the offset; their errors", async (t) => {
	const r = await runTest(() => {
		const fd = open("/tmp/f", O_RDWR | O_CREAT, 0o600);
		const d = dup(fd);
		t.equal(d, fd + 1);
		t.equal(write(fd, enc.encode("abc"), 3), 3);
		t.equal(lseek(d, 0, SEEK_CUR), 3, "shared open file description");
		t.equal(dup(77), -1);
		t.equal(errno, EBADF);
		t.equal(dup2(fd, 10), 10);
		t.equal(dup2(fd, fd), fd, "dup2 onto itself is a no-op");
		t.equal(dup2(55, 10), -1);
		t.equal(errno, EBADF);
		t.equal(dup3(fd, fd, 0), -1);
		t.equal(errno, EINVAL, "dup3 onto itself");
		t.equal(dup3(fd, 11, O_CLOEXEC), 11);
		t.equal(fcntl(11, F_GETFD), FD_CLOEXEC);
		t.equal(fcntl(10, F_GETFD), 0, "dup2 clears close-on-exec");
		t.equal(dup3(fd, 12, 0x1), -1);
		t.equal(errno, EINVAL, "dup3 flags other than O_CLOEXEC");
	});
	t.equal(r.status, 0);
});

t.test("pipe and pipe2 fill an Int32Array or an array; a nonblocking empty pipe is EAGAIN", async (t) => {
	const r = await runTest(() => {
		const fds = [0, 0];
		t.equal(pipe(fds), 0);
		t.same(fds, [3, 4]);
		t.equal(write(fds[1]!, enc.encode("xy"), 2), 2);
		const b = new Uint8Array(2);
		t.equal(read(fds[0]!, b, 2), 2);
		t.equal(dec.decode(b), "xy");
		const p2 = new Int32Array(2);
		t.equal(pipe2(p2, O_CLOEXEC | O_NONBLOCK), 0);
		t.equal(fcntl(p2[0]!, F_GETFD), FD_CLOEXEC);
		t.equal(fcntl(p2[0]!, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
		t.equal(read(p2[0]!, b, 2), -1);
		t.equal(errno, EAGAIN);
		t.equal(pipe2(p2, 0x1), -1);
		t.equal(errno, EINVAL);
		t.equal(pipe(0), -1);
		t.equal(errno, EFAULT, "pipe(NULL)");
	});
	t.equal(r.status, 0);
});

t.test("unlink, rmdir, mkdir: errors", async (t) => {
	const r = await runTest(() => {
		t.equal(unlink("/tmp/nothing"), -1);
		t.equal(errno, ENOENT);
		t.equal(mkdir("/tmp/d", 0o755), 0);
		t.equal(unlink("/tmp/d"), -1);
		t.equal(errno, EISDIR, "unlink of a directory is EISDIR on Linux");
		t.equal(close(open("/tmp/d/f", O_CREAT | O_WRONLY, 0o644)), 0);
		t.equal(rmdir("/tmp/d"), -1);
		t.equal(errno, ENOTEMPTY);
		t.equal(rmdir("/tmp/d/f"), -1);
		t.equal(errno, ENOTDIR);
		t.equal(unlink("/tmp/d/f"), 0);
		t.equal(rmdir("/tmp/d"), 0);
		t.equal(open("/tmp/d", O_RDONLY), -1);
		t.equal(errno, ENOENT);
	});
	t.equal(r.status, 0);
});

t.test("symlink and readlink; readlink truncates without a NUL", async (t) => {
	const r = await runTest(() => {
		t.equal(symlink("/dev/null", "/tmp/l"), 0);
		t.equal(symlink("/dev/zero", "/tmp/l"), -1);
		t.equal(errno, EEXIST);
		const b = new Uint8Array(64).fill(0x2a);
		t.equal(readlink("/tmp/l", b, 64), 9);
		t.equal(dec.decode(b.subarray(0, 9)), "/dev/null");
		t.equal(b[9], 0x2a, "no NUL added");
		const small = new Uint8Array(4);
		t.equal(readlink("/tmp/l", small, 4), 4);
		t.equal(dec.decode(small), "/dev");
		t.equal(readlink("/tmp", b, 64), -1);
		t.equal(errno, EINVAL, "not a symlink");
		t.equal(readlink("/tmp/none", b, 64), -1);
		t.equal(errno, ENOENT);
		const st = new Stat();
		const fd = open("/tmp/l", O_RDONLY);
		t.equal(fstat(fd, st), 0);
		t.equal(st.st_rdev !== 0, true, "opening the link opens /dev/null");
	});
	t.equal(r.status, 0);
});

t.test("chdir and getcwd: relative paths, ERANGE, ENOTDIR", async (t) => {
	const r = await runTest(() => {
		t.equal(getcwd(null, 0), "/");
		t.equal(mkdir("/tmp/w", 0o755), 0);
		t.equal(chdir("/tmp/w"), 0);
		t.equal(getcwd(null, 0), "/tmp/w");
		const b = new Uint8Array(16);
		t.equal(getcwd(b, 16), "/tmp/w");
		t.equal(dec.decode(b.subarray(0, 7)), "/tmp/w\0");
		t.equal(getcwd(b, 3), null);
		t.equal(errno, ERANGE);
		t.equal(close(open("rel", O_CREAT | O_WRONLY, 0o644)), 0);
		t.ok(open("/tmp/w/rel", O_RDONLY) >= 0, "relative open used the cwd");
		t.equal(chdir("/tmp/w/rel"), -1);
		t.equal(errno, ENOTDIR);
		t.equal(chdir("/nope"), -1);
		t.equal(errno, ENOENT);
		t.equal(getcwd(null, 0), "/tmp/w", "unchanged after a failed chdir");
	});
	t.equal(r.status, 0);
});

t.test("ftruncate: sizes, EINVAL for a negative length or a read-only fd", async (t) => {
	const r = await runTest(() => {
		const fd = open("/tmp/f", O_RDWR | O_CREAT, 0o600);
		t.equal(ftruncate(fd, 100), 0);
		t.equal(lseek(fd, 0, SEEK_END), 100);
		t.equal(ftruncate(fd, -1), -1);
		t.equal(errno, EINVAL);
		const ro = open("/tmp/f", O_RDONLY);
		t.equal(ftruncate(ro, 0), -1);
		t.equal(errno, EINVAL, "read-only fd (do_sys_ftruncate)");
		t.equal(lseek(fd, 0, SEEK_END), 100, "size unchanged");
	});
	t.equal(r.status, 0);
});

t.test("RLIMIT_NOFILE lowered: EMFILE sooner", async (t) => {
	const r = await runTest(() => {
		t.equal(setrlimit(RLIMIT_NOFILE, { rlim_cur: 5n, rlim_max: 4096n }), 0);
		t.equal(open("/dev/null", O_RDONLY), 3);
		t.equal(open("/dev/null", O_RDONLY), 4);
		t.equal(open("/dev/null", O_RDONLY), -1);
		t.equal(errno, EMFILE);
		t.equal(dup(3), -1);
		t.equal(errno, EMFILE);
	});
	t.equal(r.status, 0);
});
