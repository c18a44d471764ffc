import t from "tap";
import { runTest } from "./testing.ts";
import { getSyscall } from "../kernel/syscallTable.ts";
import { bootKernel } from "../kernel/machine.ts";
import {
	errno, mmap, munmap, mprotect, memfd_create, ftruncate, write, read, lseek, close, peek, poke, fork, waitpid,
	fcntl, open, readlink,
	PROT_READ, PROT_WRITE, PROT_NONE, MAP_PRIVATE, MAP_SHARED, MAP_ANONYMOUS, MAP_FAILED, MFD_CLOEXEC,
	MFD_ALLOW_SEALING, F_GETFD, F_GET_SEALS, F_SEAL_SEAL, FD_CLOEXEC, O_RDONLY, SEEK_SET, WEXITSTATUS,
	EINVAL, EBADF, ENODEV, EACCES,
} from "./mod.ts";

bootKernel(); // a boot loads every syscall module
/** Skips a test until the syscall's subsystem has registered it (it is written separately). */
const pending = (name: string): { skip: string | false } => ({ skip: getSyscall(name) ? false : `${name}(2) is not in the syscall table yet` });

const enc = new TextEncoder();
const dec = new TextDecoder();

t.test("mmap anonymous memory: zeroed, writable; EINVAL for length 0 or bad flags", async (t) => {
	const r = await runTest(() => {
		const a = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		t.not(a, MAP_FAILED);
		t.equal(a % 4096, 0, "page aligned");
		t.same(peek(a, 16), new Uint8Array(16));
		poke(a + 8190, Uint8Array.of(1, 2));
		t.same(peek(a + 8190, 2), Uint8Array.of(1, 2));
		t.equal(mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), MAP_FAILED);
		t.equal(errno, EINVAL);
		t.equal(mmap(0, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0), MAP_FAILED);
		t.equal(errno, EINVAL, "neither MAP_PRIVATE nor MAP_SHARED");
		t.equal(mmap(0, 4096, PROT_READ, MAP_PRIVATE, 77, 0), MAP_FAILED);
		t.equal(errno, EBADF);
		t.equal(munmap(a + 1, 4096), -1);
		t.equal(errno, EINVAL, "unaligned munmap");
		t.equal(munmap(a, 8192), 0);
	});
	t.equal(r.status, 0);
});

t.test("mmap of a device without mmap is ENODEV; a write mapping of a read-only fd is EACCES", pending("memfd_create"), async (t) => {
	const r = await runTest(() => {
		const fd = open("/dev/null", O_RDONLY);
		t.equal(mmap(0, 4096, PROT_READ, MAP_SHARED, fd, 0), MAP_FAILED);
		t.equal(errno, ENODEV);
		const m = memfd_create("x", 0);
		t.equal(ftruncate(m, 4096), 0);
		const ro = open(`/proc/self/fd/${m}`, O_RDONLY);
		t.ok(ro >= 0, "reopened read-only through /proc/self/fd");
		t.equal(mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), MAP_FAILED);
		t.equal(errno, EACCES);
	});
	t.equal(r.status, 0);
});

t.test("mprotect: a store to a read-only page kills with SIGSEGV", async (t) => {
	let after = false;
	const r = await runTest(() => {
		const a = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		t.equal(mprotect(a, 4096, PROT_READ), 0);
		t.same(peek(a, 1), Uint8Array.of(0), "still readable");
		t.equal(mprotect(a + 1, 4096, PROT_READ), -1);
		t.equal(errno, EINVAL);
		poke(a, Uint8Array.of(1));
		after = true;
	});
	t.equal(r.status & 0x7f, 11, "killed by SIGSEGV");
	t.equal(after, false);
});

t.test("peek of an unmapped or PROT_NONE address kills with SIGSEGV", async (t) => {
	const r = await runTest(() => {
		const a = mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		peek(a, 1);
	});
	t.equal(r.status & 0x7f, 11);
	const u = await runTest(() => {
		peek(0, 1);
	});
	t.equal(u.status & 0x7f, 11, "NULL dereference");
});

t.test("memfd_create: fd, name, CLOEXEC, sealing flags; MAP_SHARED is shared with a fork child", pending("memfd_create"), async (t) => {
	const r = await runTest(async () => {
		const fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		t.equal(fd, 3);
		t.equal(fcntl(fd, F_GETFD), FD_CLOEXEC);
		t.equal(fcntl(fd, F_GET_SEALS), 0, "sealing allowed: no seals yet");
		const link = new Uint8Array(64);
		const n = readlink(`/proc/self/fd/${fd}`, link, 64);
		t.equal(dec.decode(link.subarray(0, Math.max(n, 0))), "/memfd:test (deleted)");
		const nos = memfd_create("nos", 0);
		t.equal(fcntl(nos, F_GET_SEALS), F_SEAL_SEAL, "no sealing: F_SEAL_SEAL set");
		t.equal(write(fd, enc.encode("hello"), 5), 5);
		t.equal(ftruncate(fd, 4096), 0);
		const a = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		t.equal(dec.decode(peek(a, 5)), "hello");
		const c = fork(() => {
			poke(a, enc.encode("HE"));
			return 0;
		});
		const st = new Int32Array(1);
		t.equal(await waitpid(c, st, 0), c);
		t.equal(WEXITSTATUS(st[0]!), 0);
		t.equal(dec.decode(peek(a, 5)), "HEllo", "the child's store is visible");
		const b = new Uint8Array(5);
		t.equal(lseek(fd, 0, SEEK_SET), 0);
		t.equal(read(fd, b, 5), 5);
		t.equal(dec.decode(b), "HEllo", "and in the file");
		t.equal(memfd_create("x".repeat(250), 0), -1);
		t.equal(errno, EINVAL, "name over 249 bytes");
		t.equal(memfd_create("y", 0x100), -1);
		t.equal(errno, EINVAL, "unknown flag");
		t.equal(close(fd), 0);
	});
	t.equal(r.status, 0);
});

t.test("MAP_PRIVATE memory is copied at fork", async (t) => {
	const r = await runTest(async () => {
		const a = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		poke(a, Uint8Array.of(1));
		const c = fork(() => {
			poke(a, Uint8Array.of(2));
			return peek(a, 1)[0];
		});
		const st = new Int32Array(1);
		await waitpid(c, st, 0);
		t.equal(WEXITSTATUS(st[0]!), 2);
		t.same(peek(a, 1), Uint8Array.of(1), "the parent's copy is untouched");
	});
	t.equal(r.status, 0);
});
