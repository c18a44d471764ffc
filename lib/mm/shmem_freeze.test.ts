/**
 * shmem_freeze() (mm/shmem.c, "shmem: allow freezing inode mapping"), seen
 * from user space: what a memfd refuses while LUO holds it preserved
 * (SHMEM_F_MAPPING_FROZEN) and what keeps working.
 */
import t from "tap";
import { runTest } from "../libc/testing.ts";
import { current } from "../kernel/current.ts";
import {
	errno, memfd_create, write, pwrite, pread, ftruncate, truncate, fallocate, fcntl, mmap, peek, poke, fstat, Stat,
	MAP_SHARED, MAP_FAILED, PROT_READ, PROT_WRITE, F_GET_SEALS, F_SEAL_SEAL, MFD_ALLOW_SEALING, FALLOC_FL_KEEP_SIZE,
	FALLOC_FL_PUNCH_HOLE, EPERM,
} from "../libc/mod.ts";
import { shmem_folios, shmem_freeze } from "./shmem.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const P = 4096;

/** A memfd of `size` bytes holding "data" at 0, frozen; its fd. */
function frozenMemfd(size = 2 * P, flags = 0): number {
	const fd = memfd_create("frozen", flags);
	write(fd, enc.encode("data"), 4);
	ftruncate(fd, size);
	shmem_freeze(current().files.get(fd).inode, true);
	return fd;
}

function sizeOf(fd: number): number {
	const st = new Stat();
	fstat(fd, st);
	return Number(st.st_size);
}

function text(fd: number, len: number, pos: number): string {
	const b = new Uint8Array(len);
	return dec.decode(b.subarray(0, pread(fd, b, len, pos)));
}

t.test("ftruncate to a larger size is EPERM and the size stays", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd();
		t.equal(ftruncate(fd, 3 * P), -1);
		t.equal(errno, EPERM);
		t.equal(sizeOf(fd), 2 * P);
	});
	t.equal(r.status, 0);
});

t.test("ftruncate to a smaller size is EPERM and the data stays", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd();
		t.equal(ftruncate(fd, 2), -1);
		t.equal(errno, EPERM);
		t.equal(sizeOf(fd), 2 * P);
		t.equal(text(fd, 4, 0), "data");
	});
	t.equal(r.status, 0);
});

t.test("ftruncate to the same size succeeds", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd();
		t.equal(ftruncate(fd, 2 * P), 0);
	});
	t.equal(r.status, 0);
});

t.test("truncate(2) through /proc/self/fd is EPERM too", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd();
		t.equal(truncate(`/proc/self/fd/${fd}`, 0), -1);
		t.equal(errno, EPERM);
		t.equal(sizeOf(fd), 2 * P);
	});
	t.equal(r.status, 0);
});

t.test("a write inside the size works", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd();
		t.equal(pwrite(fd, enc.encode("DA"), 2, 0), 2);
		t.equal(pwrite(fd, enc.encode("tail"), 4, 2 * P - 4), 4, "up to the last byte");
		t.equal(text(fd, 4, 0), "DAta");
		t.equal(text(fd, 4, 2 * P - 4), "tail");
	});
	t.equal(r.status, 0);
});

t.test("a write extending past i_size is EPERM and writes nothing", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd(P + 100);
		t.equal(pwrite(fd, enc.encode("over"), 4, P + 98), -1);
		t.equal(errno, EPERM);
		t.equal(sizeOf(fd), P + 100);
		t.equal(text(fd, 2, P + 98), "\0\0");
	});
	t.equal(r.status, 0);
});

t.test("a write from an earlier page across EOF is short: the pages inside are written", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd();
		t.equal(pwrite(fd, new Uint8Array(P + 8).fill(0x41), P + 8, P), P);
		t.equal(sizeOf(fd), 2 * P);
	});
	t.equal(r.status, 0);
});

t.test("fallocate that allocates inside the size is EPERM", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd();
		const before = shmem_folios(current().files.get(fd).inode).length;
		t.equal(fallocate(fd, 0, 0, 2 * P), -1);
		t.equal(errno, EPERM);
		t.equal(shmem_folios(current().files.get(fd).inode).length, before, "no page allocated");
	});
	t.equal(r.status, 0);
});

t.test("fallocate with FALLOC_FL_KEEP_SIZE is EPERM", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd();
		t.equal(fallocate(fd, FALLOC_FL_KEEP_SIZE, P, 4 * P), -1);
		t.equal(errno, EPERM);
	});
	t.equal(r.status, 0);
});

t.test("fallocate PUNCH_HOLE is EPERM and the data stays", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd();
		t.equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, P), -1);
		t.equal(errno, EPERM);
		t.equal(text(fd, 4, 0), "data");
	});
	t.equal(r.status, 0);
});

t.test("stores through a shared mapping inside the size work, also into a hole", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd();
		const a = mmap(0, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		t.not(a, MAP_FAILED);
		poke(a, enc.encode("MAPS"));
		poke(a + P + 1, enc.encode("hole"));
		t.equal(text(fd, 4, 0), "MAPS");
		t.equal(text(fd, 4, P + 1), "hole");
		t.equal(dec.decode(peek(a + P + 1, 4)), "hole");
	});
	t.equal(r.status, 0);
});

t.test("freezing is not a seal: F_GET_SEALS does not show it", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd(2 * P, MFD_ALLOW_SEALING);
		t.equal(fcntl(fd, F_GET_SEALS), 0);
		const plain = frozenMemfd();
		t.equal(fcntl(plain, F_GET_SEALS), F_SEAL_SEAL);
	});
	t.equal(r.status, 0);
});

t.test("after shmem_freeze(inode, false) size changes and fallocate work again", async (t) => {
	const r = await runTest(() => {
		const fd = frozenMemfd();
		shmem_freeze(current().files.get(fd).inode, false);
		t.equal(ftruncate(fd, P), 0);
		t.equal(pwrite(fd, enc.encode("grow"), 4, 3 * P), 4);
		t.equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, P), 0);
		t.equal(sizeOf(fd), 3 * P + 4);
	});
	t.equal(r.status, 0);
});
