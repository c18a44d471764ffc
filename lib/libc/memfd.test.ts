import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, set_errno, fallocate, posix_fallocate, memfd_create, open, pread, pwrite, fstat, pipe, Stat,
	O_RDWR, O_CREAT, O_APPEND, O_WRONLY, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE,
	EINVAL, EBADF, EOPNOTSUPP, ESPIPE, ENODEV, EFBIG,
} from "./mod.ts";

t.test("fallocate returns 0, or -1 with errno", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("f", 0);
		t.equal(fallocate(fd, 0, 0, 4096), 0);
		t.equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096), -1);
		t.equal(errno, EOPNOTSUPP);
		t.equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), 0);
	});
	t.equal(r.status, 0);
});

t.test("posix_fallocate returns the error number and leaves errno alone", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("f", 0);
		set_errno(0);
		t.equal(posix_fallocate(fd, 0, 100), 0);
		const st = new Stat();
		fstat(fd, st);
		t.equal(st.st_size, 100);
		t.equal(posix_fallocate(fd, -1, 100), EINVAL);
		t.equal(posix_fallocate(77, 0, 100), EBADF);
		const fds: [number, number] = [0, 0];
		pipe(fds);
		t.equal(posix_fallocate(fds[1], 0, 100), ESPIPE);
		t.equal(posix_fallocate(open("/dev/null", O_WRONLY), 0, 100), ENODEV);
		t.equal(posix_fallocate(fd, 2 ** 53, 2 ** 53), EFBIG);
		t.equal(errno, 0);
	});
	t.equal(r.status, 0);
});

t.test("posix_fallocate falls back to writing zeros where fallocate is EOPNOTSUPP (tmpfs), keeping data", async (t) => {
	const r = await runTest(() => {
		const fd = open("/tmp/pf", O_RDWR | O_CREAT, 0o644);
		t.equal(pwrite(fd, Uint8Array.of(7), 1, 4096 + 10), 1);
		t.equal(posix_fallocate(fd, 100, 3 * 4096), 0);
		const st = new Stat();
		fstat(fd, st);
		t.equal(st.st_size, 100 + 3 * 4096);
		const b = new Uint8Array(1);
		t.equal(pread(fd, b, 1, 4096 + 10), 1);
		t.equal(b[0], 7, "existing data kept");
		t.equal(posix_fallocate(fd, 0, 10), 0, "inside the file: nothing to do");
		fstat(fd, st);
		t.equal(st.st_size, 100 + 3 * 4096);
		t.equal(posix_fallocate(fd, 20000, 0), EINVAL, "the kernel refuses len 0 before any fallback");
		const ap = open("/tmp/pf", O_WRONLY | O_APPEND);
		t.equal(posix_fallocate(ap, 0, 100000), EBADF, "the fallback cannot work with O_APPEND");
	});
	t.equal(r.status, 0);
});
