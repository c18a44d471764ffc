import t from "tap";
import { runTest } from "../libc/testing.ts";
import {
	errno, fallocate, memfd_create, open, close, pipe, fstat, Stat, MFD_ALLOW_SEALING, F_ADD_SEALS, F_SEAL_GROW, fcntl,
	FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_NO_HIDE_STALE, FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_ZERO_RANGE,
	FALLOC_FL_INSERT_RANGE, FALLOC_FL_UNSHARE_RANGE, O_RDONLY, O_WRONLY, O_RDWR, O_CREAT,
	EINVAL, EOPNOTSUPP, EBADF, ESPIPE, ENODEV, EFBIG, EPERM,
} from "../libc/mod.ts";

t.test("fallocate on a memfd: allocates and extends; KEEP_SIZE keeps the size; a hole can be punched", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("f", 0);
		const st = new Stat();
		t.equal(fallocate(fd, 0, 0, 10000), 0);
		fstat(fd, st);
		t.equal(st.st_size, 10000);
		t.equal(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 50000), 0);
		fstat(fd, st);
		t.equal(st.st_size, 10000);
		t.equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), 0);
	});
	t.equal(r.status, 0);
});

t.test("fallocate: EINVAL for a negative offset or a length <= 0, before anything else but the fd", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("f", 0);
		t.equal(fallocate(fd, 0, -1, 10), -1);
		t.equal(errno, EINVAL);
		t.equal(fallocate(fd, 0, 0, 0), -1);
		t.equal(errno, EINVAL);
		t.equal(fallocate(fd, 0x100, 0, -5), -1);
		t.equal(errno, EINVAL, "before the mode check");
		t.equal(fallocate(99, 0, -1, 10), -1);
		t.equal(errno, EBADF, "a bad fd comes first");
	});
	t.equal(r.status, 0);
});

t.test("fallocate: EOPNOTSUPP for unknown bits and the combinations the VFS refuses, or modes shmem lacks", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("f", 0);
		const bad = [
			0x100, FALLOC_FL_NO_HIDE_STALE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_INSERT_RANGE | FALLOC_FL_KEEP_SIZE,
			FALLOC_FL_ZERO_RANGE, FALLOC_FL_UNSHARE_RANGE, FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE,
		];
		for (const mode of bad) {
			t.equal(fallocate(fd, mode, 0, 4096), -1, `mode ${mode.toString(16)}`);
			t.equal(errno, EOPNOTSUPP);
		}
	});
	t.equal(r.status, 0);
});

t.test("fallocate: EBADF unless writable, ESPIPE on a pipe, ENODEV on a device, EOPNOTSUPP on tmpfs, EFBIG", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("f", 0);
		const ro = open(`/proc/self/fd/${fd}`, O_RDONLY);
		t.equal(fallocate(ro, 0, 0, 10), -1);
		t.equal(errno, EBADF);
		const fds: [number, number] = [0, 0];
		pipe(fds);
		t.equal(fallocate(fds[1], 0, 0, 10), -1);
		t.equal(errno, ESPIPE);
		t.equal(fallocate(fds[0], 0, 0, 10), -1);
		t.equal(errno, EBADF, "the read end is not writable");
		const dev = open("/dev/null", O_WRONLY);
		t.equal(fallocate(dev, 0, 0, 10), -1);
		t.equal(errno, ENODEV);
		const tf = open("/tmp/x", O_RDWR | O_CREAT, 0o644);
		t.equal(fallocate(tf, 0, 0, 10), -1);
		t.equal(errno, EOPNOTSUPP);
		t.equal(fallocate(fd, 0, 2 ** 53 - 100, 200), -1);
		t.equal(errno, EFBIG);
		close(ro);
	});
	t.equal(r.status, 0);
});

t.test("fallocate past EOF under F_SEAL_GROW is EPERM; with KEEP_SIZE inside the size it is fine", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("g", MFD_ALLOW_SEALING);
		t.equal(fallocate(fd, 0, 0, 8192), 0);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0);
		t.equal(fallocate(fd, 0, 4096, 8192), -1);
		t.equal(errno, EPERM);
		t.equal(fallocate(fd, FALLOC_FL_KEEP_SIZE, 4096, 8192), -1);
		t.equal(errno, EPERM, "KEEP_SIZE does not help past EOF");
		t.equal(fallocate(fd, 0, 0, 8192), 0);
	});
	t.equal(r.status, 0);
});
