import t from "tap";
import { runTest } from "../libc/testing.ts";
import { current } from "../kernel/current.ts";
import {
	errno, memfd_create, close, read, write, pread, pwrite, lseek, ftruncate, open, mmap, munmap, mprotect, fork, waitpid,
	peek, poke, MAP_SHARED, MAP_PRIVATE, MAP_FAILED, PROT_READ, PROT_WRITE, O_RDONLY, SEEK_SET, WIFSIGNALED, WTERMSIG,
	WEXITSTATUS, SIGSEGV, SIGBUS, EACCES, EFAULT,
} from "../libc/mod.ts";
import { shmem_folios } from "./shmem.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const P = 4096;
const GiB = 1024 * 1024 * 1024;

/** Frames the running kernel has handed out since `base` (a nr_free_pages() reading). */
function usedSince(base: number): number {
	return base - current().kernel.buddy.nr_free_pages();
}

t.test("write, then mmap: the mapping shows the bytes; a store through it is what read() returns", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("rw", 0);
		t.equal(write(fd, enc.encode("hello"), 5), 5);
		t.equal(ftruncate(fd, 2 * P), 0);
		const a = mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		t.not(a, MAP_FAILED);
		t.equal(dec.decode(peek(a, 5)), "hello");
		poke(a + P + 7, enc.encode("mapped"));
		const b = new Uint8Array(6);
		t.equal(pread(fd, b, 6, P + 7), 6);
		t.equal(dec.decode(b), "mapped");
		t.equal(pwrite(fd, enc.encode("again"), 5, 100), 5);
		t.equal(dec.decode(peek(a + 100, 5)), "again", "a later write() shows through the mapping");
		const off = mmap(0, P, PROT_READ, MAP_SHARED, fd, P);
		t.equal(dec.decode(peek(off + 7, 6)), "mapped", "a mapping at a file offset");
		t.equal(lseek(fd, 0, SEEK_SET), 0);
		t.equal(read(fd, a + 200, 5), 5, "read() into the mapping itself");
		t.equal(dec.decode(peek(a + 200, 5)), "hello");
	});
	t.equal(r.status, 0);
});

t.test("MAP_PRIVATE reads the file; a store makes a private copy that the file never sees", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("priv", 0);
		t.equal(write(fd, enc.encode("file"), 4), 4);
		const ro = open(`/proc/self/fd/${fd}`, O_RDONLY);
		const a = mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
		t.not(a, MAP_FAILED, "a writable private mapping of a read-only fd is fine");
		t.equal(dec.decode(peek(a, 4)), "file");
		poke(a, enc.encode("MINE"));
		t.equal(dec.decode(peek(a, 4)), "MINE");
		const b = new Uint8Array(4);
		t.equal(pread(fd, b, 4, 0), 4);
		t.equal(dec.decode(b), "file");
		t.equal(pwrite(fd, enc.encode("FILE"), 4, 0), 4);
		t.equal(dec.decode(peek(a, 4)), "MINE", "the copy no longer follows the file");
	});
	t.equal(r.status, 0);
});

t.test("PROT_WRITE|MAP_SHARED of an O_RDONLY fd is EACCES; its read-only mapping cannot be made writable", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("ro", 0);
		t.equal(ftruncate(fd, P), 0);
		const ro = open(`/proc/self/fd/${fd}`, O_RDONLY);
		t.equal(mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), MAP_FAILED);
		t.equal(errno, EACCES);
		const a = mmap(0, P, PROT_READ, MAP_SHARED, ro, 0);
		t.not(a, MAP_FAILED);
		t.equal(mprotect(a, P, PROT_READ | PROT_WRITE), -1);
		t.equal(errno, EACCES);
		const w = mmap(0, P, PROT_READ, MAP_SHARED, fd, 0);
		t.equal(mprotect(w, P, PROT_READ | PROT_WRITE), 0, "through the O_RDWR fd it can");
	});
	t.equal(r.status, 0);
});

t.test("a store through a read-only mapping kills the process with SIGSEGV", async (t) => {
	let after = false;
	const r = await runTest(async () => {
		const fd = memfd_create("segv", 0);
		t.equal(ftruncate(fd, P), 0);
		const a = mmap(0, P, PROT_READ, MAP_SHARED, fd, 0);
		const c = fork(() => {
			poke(a, Uint8Array.of(1));
			return 0;
		});
		const st = new Int32Array(1);
		t.equal(await waitpid(c, st, 0), c);
		t.ok(WIFSIGNALED(st[0]!));
		t.equal(WTERMSIG(st[0]!), SIGSEGV);
		t.same(peek(a, 1), Uint8Array.of(0), "nothing was stored");
		poke(a, Uint8Array.of(1));
		after = true;
	});
	t.ok(WIFSIGNALED(r.status));
	t.equal(WTERMSIG(r.status), SIGSEGV);
	t.equal(after, false);
});

t.test("touching a mapped page past EOF kills with SIGBUS; the last partial page is whole", async (t) => {
	const r = await runTest(async () => {
		const fd = memfd_create("bus", 0);
		t.equal(ftruncate(fd, P + 1), 0);
		const a = mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		poke(a + 2 * P - 1, Uint8Array.of(5));
		t.same(peek(a + 2 * P - 1, 1), Uint8Array.of(5), "the page holding EOF is mapped to its end");
		t.equal(read(fd, a + 3 * P, 1), -1);
		t.equal(errno, EFAULT, "the kernel sees a fault as EFAULT");
		const st = new Int32Array(1);
		for (const touch of [() => peek(a + 2 * P, 1), () => poke(a + 3 * P + 5, Uint8Array.of(1))]) {
			const c = fork(() => {
				touch();
				return 0;
			});
			t.equal(await waitpid(c, st, 0), c);
			t.equal(WTERMSIG(st[0]!), SIGBUS);
		}
		const c = fork(() => {
			poke(0x10000, Uint8Array.of(1));
			return 0;
		});
		await waitpid(c, st, 0);
		t.equal(WTERMSIG(st[0]!), SIGSEGV, "an unmapped address is still SIGSEGV");
	});
	t.equal(r.status, 0);
});

t.test("a 1 GiB memfd with one page touched through a mapping uses one frame; close and munmap free it", async (t) => {
	const r = await runTest(() => {
		const base = current().kernel.buddy.nr_free_pages();
		const fd = memfd_create("sparse", 0);
		t.equal(ftruncate(fd, GiB), 0);
		const a = mmap(0, GiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		t.not(a, MAP_FAILED);
		t.equal(usedSince(base), 0, "mapping allocates nothing");
		poke(a + 300 * 1024 * 1024 + 5, enc.encode("x"));
		t.equal(usedSince(base), 1);
		t.same(peek(a + 300 * 1024 * 1024, 6), Uint8Array.of(0, 0, 0, 0, 0, 0x78));
		const p = current();
		t.same(shmem_folios(p.files.get(fd).inode).map(([i]) => i), [300 * 256]);
		t.equal(close(fd), 0);
		t.equal(usedSince(base), 1, "the mapping keeps the memfd alive");
		t.same(peek(a + 300 * 1024 * 1024 + 5, 1), enc.encode("x"));
		t.equal(munmap(a, GiB), 0);
		t.equal(usedSince(base), 0, "freed with the last reference");
	});
	t.equal(r.status, 0);
});

t.test("split and forked mappings each hold a reference; frames go back only after the last one", async (t) => {
	const r = await runTest(async () => {
		const base = current().kernel.buddy.nr_free_pages();
		const fd = memfd_create("refs", 0);
		t.equal(ftruncate(fd, 4 * P), 0);
		const a = mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		for (let i = 0; i < 4; i++) poke(a + i * P, Uint8Array.of(i + 1));
		t.equal(usedSince(base), 4);
		t.equal(munmap(a + P, P), 0, "split in two");
		t.equal(close(fd), 0);
		const c = fork(() => {
			poke(a + 3 * P, Uint8Array.of(9));
			return 0;
		});
		const st = new Int32Array(1);
		await waitpid(c, st, 0);
		t.equal(WEXITSTATUS(st[0]!), 0);
		t.same(peek(a + 3 * P, 1), Uint8Array.of(9), "the child's store through the shared mapping");
		t.equal(munmap(a, P), 0);
		t.equal(usedSince(base), 4);
		t.equal(munmap(a + 2 * P, 2 * P), 0);
		t.equal(usedSince(base), 0);
	});
	t.equal(r.status, 0);
});

t.test("process exit drops the fds and mappings: the frames come back", async (t) => {
	let base = 0;
	const r = await runTest(() => {
		base = current().kernel.buddy.nr_free_pages();
		const fd = memfd_create("exit", 0);
		t.equal(ftruncate(fd, 8 * P), 0);
		const a = mmap(0, 8 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		poke(a, new Uint8Array(8 * P).fill(1));
		t.equal(usedSince(base), 8);
	});
	t.equal(r.status, 0);
	t.equal(r.kernel.buddy.nr_free_pages(), base);
});
