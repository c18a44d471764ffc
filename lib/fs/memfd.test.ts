import t from "tap";
import { runTest } from "../libc/testing.ts";
import {
	errno, memfd_create, close, read, write, pread, pwrite, lseek, ftruncate, fcntl, readlink, open, fstat, fchmod, pipe,
	mmap, munmap, mprotect, setrlimit, fork, waitpid, Stat,
	MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB, MFD_NOEXEC_SEAL, MFD_EXEC, MAP_SHARED, MAP_PRIVATE, MAP_FAILED,
	PROT_READ, PROT_WRITE, F_GETFD, F_GETFL, F_ADD_SEALS, F_GET_SEALS, F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW,
	F_SEAL_WRITE, F_SEAL_FUTURE_WRITE, F_SEAL_EXEC, FD_CLOEXEC, O_RDWR, O_RDONLY, O_CREAT, SEEK_SET,
	SEEK_END, RLIMIT_NOFILE, WEXITSTATUS,
	EINVAL, EFAULT, ENOSYS, EMFILE, EPERM, EBUSY, EACCES,
} from "../libc/mod.ts";
import { poke, peek } from "../libc/string.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const P = 4096;

function link(fd: number): string {
	const b = new Uint8Array(300);
	const n = readlink(`/proc/self/fd/${fd}`, b, b.length);
	return n < 0 ? `error ${errno}` : dec.decode(b.subarray(0, n));
}

t.test("memfd_create: the lowest fd, /memfd:NAME (deleted), 0777 regular, O_RDWR|O_LARGEFILE, seekable", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("buf", 0);
		t.equal(fd, 3);
		t.equal(link(fd), "/memfd:buf (deleted)");
		const st = new Stat();
		t.equal(fstat(fd, st), 0);
		t.equal(st.st_mode, 0o100777);
		t.equal(st.st_nlink, 0);
		t.equal(st.st_size, 0);
		t.equal(st.st_dev, 1, "shm_mnt is 0:1");
		t.equal(fcntl(fd, F_GETFL), O_RDWR | 0o100000, "the kernel's O_LARGEFILE (glibc's is 0 on x86_64)");
		t.equal(fcntl(fd, F_GETFD), 0);
		t.equal(write(fd, enc.encode("hello world"), 11), 11);
		t.equal(lseek(fd, 0, SEEK_END), 11);
		t.equal(pwrite(fd, enc.encode("W"), 1, 6), 1);
		const b = new Uint8Array(11);
		t.equal(pread(fd, b, 11, 0), 11);
		t.equal(dec.decode(b), "hello World");
		t.equal(lseek(fd, 0, SEEK_SET), 0);
		t.equal(read(fd, b, 11), 11);
		t.equal(memfd_create("", 0), 4, "an empty name is fine");
		t.equal(link(4), "/memfd: (deleted)");
	});
	t.equal(r.status, 0);
});

t.test("memfd_create flags: CLOEXEC, NOEXEC_SEAL (0666 + F_SEAL_EXEC), EXEC; EINVAL for bad combinations", async (t) => {
	const r = await runTest(() => {
		const c = memfd_create("c", MFD_CLOEXEC);
		t.equal(fcntl(c, F_GETFD), FD_CLOEXEC);
		const ne = memfd_create("ne", MFD_NOEXEC_SEAL);
		const st = new Stat();
		fstat(ne, st);
		t.equal(st.st_mode, 0o100666);
		t.equal(fcntl(ne, F_GET_SEALS), F_SEAL_EXEC, "sealable, with F_SEAL_EXEC");
		const ex = memfd_create("ex", MFD_EXEC);
		fstat(ex, st);
		t.equal(st.st_mode, 0o100777);
		t.equal(fcntl(ex, F_GET_SEALS), F_SEAL_SEAL);
		t.equal(memfd_create("x", MFD_EXEC | MFD_NOEXEC_SEAL), -1);
		t.equal(errno, EINVAL);
		t.equal(memfd_create("x", 0x20), -1);
		t.equal(errno, EINVAL, "unknown flag");
		t.equal(memfd_create("x", 21 << 26), -1);
		t.equal(errno, EINVAL, "a huge page size without MFD_HUGETLB");
	});
	t.equal(r.status, 0);
});

t.test("MFD_HUGETLB passes the flag and name checks, then ENOSYS (no hugetlbfs)", async (t) => {
	const r = await runTest(() => {
		t.equal(memfd_create("h", MFD_HUGETLB | (21 << 26)), -1);
		t.equal(errno, ENOSYS);
		t.equal(memfd_create("h", MFD_HUGETLB | 0x80), -1);
		t.equal(errno, EINVAL, "an unknown flag is still EINVAL");
		t.equal(memfd_create("h".repeat(250), MFD_HUGETLB), -1);
		t.equal(errno, EINVAL, "the name check comes first");
		t.equal(memfd_create("h", 0), 3, "no fd was used up");
	});
	t.equal(r.status, 0);
});

t.test("names: 249 bytes is the limit (EINVAL past it); a bad pointer is EFAULT", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("n".repeat(249), 0);
		t.ok(fd >= 0);
		t.equal(link(fd), `/memfd:${"n".repeat(249)} (deleted)`);
		t.equal(memfd_create("n".repeat(250), 0), -1);
		t.equal(errno, EINVAL);
		t.equal(memfd_create("é".repeat(125), 0), -1, "250 bytes of UTF-8");
		t.equal(errno, EINVAL);
		t.equal(memfd_create(0, 0), -1);
		t.equal(errno, EFAULT, "NULL");
		t.equal(memfd_create(0x1000, 0), -1);
		t.equal(errno, EFAULT, "unmapped");
	});
	t.equal(r.status, 0);
});

t.test("EMFILE when no fd is free under RLIMIT_NOFILE", async (t) => {
	const r = await runTest(() => {
		t.equal(setrlimit(RLIMIT_NOFILE, { rlim_cur: 3n, rlim_max: 3n }), 0);
		t.equal(memfd_create("m", 0), -1);
		t.equal(errno, EMFILE);
		t.equal(memfd_create("m", MFD_HUGETLB), -1);
		t.equal(errno, EMFILE, "before the ENOSYS of MFD_HUGETLB");
	});
	t.equal(r.status, 0);
});

t.test("sealing: without MFD_ALLOW_SEALING F_SEAL_SEAL is set and F_ADD_SEALS is EPERM", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("s", 0);
		t.equal(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), -1);
		t.equal(errno, EPERM);
	});
	t.equal(r.status, 0);
});

t.test("F_ADD_SEALS adds, F_SEAL_SEAL ends it; EINVAL for an unknown seal or a file that is no memfd", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("s", MFD_ALLOW_SEALING);
		t.equal(fcntl(fd, F_GET_SEALS), 0);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0);
		t.equal(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW);
		t.equal(fcntl(fd, F_ADD_SEALS, 0x40), -1);
		t.equal(errno, EINVAL);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL), 0);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
		t.equal(errno, EPERM);
		t.equal(fcntl(fd, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
		const ro = open(`/proc/self/fd/${fd}`, O_RDONLY);
		t.equal(fcntl(ro, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL, "the seals are the inode's");
		t.equal(fcntl(ro, F_ADD_SEALS, 0), -1);
		t.equal(errno, EPERM, "not open for writing");
		const fds: [number, number] = [0, 0];
		t.equal(pipe(fds), 0);
		t.equal(fcntl(fds[1], F_GET_SEALS), -1);
		t.equal(errno, EINVAL, "a pipe has no seals");
		t.equal(fcntl(fds[1], F_ADD_SEALS, F_SEAL_GROW), -1);
		t.equal(errno, EINVAL);
		const tf = open("/tmp/f", O_RDWR | O_CREAT, 0o600);
		t.equal(fcntl(tf, F_GET_SEALS), F_SEAL_SEAL, "a tmpfs file is shmem: sealed for good");
		t.equal(fcntl(tf, F_ADD_SEALS, F_SEAL_GROW), -1);
		t.equal(errno, EPERM);
		t.equal(fcntl(0, F_GET_SEALS), -1);
		t.equal(errno, EINVAL, "the console");
	});
	t.equal(r.status, 0);
});

t.test("F_SEAL_SHRINK and F_SEAL_GROW: ftruncate and writes past EOF are EPERM", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("s", MFD_ALLOW_SEALING);
		t.equal(ftruncate(fd, 2 * P), 0);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), 0);
		t.equal(ftruncate(fd, P), -1);
		t.equal(errno, EPERM);
		t.equal(ftruncate(fd, 3 * P), -1);
		t.equal(errno, EPERM);
		t.equal(ftruncate(fd, 2 * P), 0, "the same size is fine");
		t.equal(pwrite(fd, new Uint8Array(10), 10, 2 * P - 10), 10);
		t.equal(pwrite(fd, new Uint8Array(10), 10, 2 * P), -1);
		t.equal(errno, EPERM);
		t.equal(pwrite(fd, new Uint8Array(P + 10), P + 10, P), P, "short: the page-sized chunk that would grow is refused");
		t.equal(pwrite(fd, new Uint8Array(10), 10, 2 * P - 5), 5, "a chunk ends at the page boundary");
	});
	t.equal(r.status, 0);
});

t.test("F_SEAL_WRITE: EBUSY while a shared mapping may write; then writes, writable shared mmaps are refused", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("w", MFD_ALLOW_SEALING);
		t.equal(write(fd, enc.encode("data"), 4), 4);
		const rw = mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
		t.equal(errno, EBUSY);
		t.equal(munmap(rw, P), 0);
		const r = mmap(0, P, PROT_READ, MAP_SHARED, fd, 0);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
		t.equal(errno, EBUSY, "a PROT_READ shared mapping of an O_RDWR fd may still become writable");
		t.equal(munmap(r, P), 0);
		const priv = mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0, "private mappings do not count");
		t.equal(write(fd, enc.encode("x"), 1), -1);
		t.equal(errno, EPERM);
		t.equal(mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
		t.equal(errno, EPERM);
		const ro = mmap(0, P, PROT_READ, MAP_SHARED, fd, 0);
		t.not(ro, MAP_FAILED, "a read-only shared mapping is fine");
		t.equal(dec.decode(peek(ro, 4)), "data");
		t.equal(mprotect(ro, P, PROT_READ | PROT_WRITE), -1);
		t.equal(errno, EACCES, "and can never become writable");
		poke(priv, enc.encode("P"));
		t.equal(dec.decode(peek(priv, 4)), "Pata", "a private copy may still be written");
		t.equal(dec.decode(peek(ro, 4)), "data");
	});
	t.equal(r.status, 0);
});

t.test("F_SEAL_FUTURE_WRITE: a writable mapping made before keeps working, nothing new may write", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("fw", MFD_ALLOW_SEALING);
		t.equal(ftruncate(fd, P), 0);
		const rw = mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), 0, "no EBUSY");
		poke(rw, enc.encode("old"));
		const b = new Uint8Array(3);
		t.equal(pread(fd, b, 3, 0), 3);
		t.equal(dec.decode(b), "old");
		t.equal(pwrite(fd, b, 3, 0), -1);
		t.equal(errno, EPERM);
		t.equal(mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED);
		t.equal(errno, EPERM);
	});
	t.equal(r.status, 0);
});

t.test("F_SEAL_EXEC: on an executable memfd it brings the write, grow and shrink seals; exec bits stay", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("x", MFD_ALLOW_SEALING);
		t.equal(fcntl(fd, F_ADD_SEALS, F_SEAL_EXEC), 0);
		t.equal(fcntl(fd, F_GET_SEALS), F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE);
		t.equal(fchmod(fd, 0o666), -1);
		t.equal(errno, EPERM);
		t.equal(fchmod(fd, 0o711), 0, "bits other than x may change");
		const ne = memfd_create("ne", MFD_NOEXEC_SEAL);
		t.equal(fchmod(ne, 0o755), -1);
		t.equal(errno, EPERM);
		t.equal(write(ne, enc.encode("ok"), 2), 2, "a non-executable memfd gets F_SEAL_EXEC alone");
	});
	t.equal(r.status, 0);
});

t.test("a fork child shares the memfd; its writes are the parent's reads", async (t) => {
	const r = await runTest(async () => {
		const fd = memfd_create("shared", 0);
		const c = fork(() => (write(fd, enc.encode("from child"), 10) === 10 ? 0 : 1));
		const st = new Int32Array(1);
		t.equal(await waitpid(c, st, 0), c);
		t.equal(WEXITSTATUS(st[0]!), 0);
		const b = new Uint8Array(10);
		t.equal(pread(fd, b, 10, 0), 10);
		t.equal(dec.decode(b), "from child");
		t.equal(close(fd), 0);
	});
	t.equal(r.status, 0);
});
