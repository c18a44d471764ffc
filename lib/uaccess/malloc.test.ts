import t from "tap";
import { AddressSpace, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MMAP_MIN_ADDR, PROT_NONE, PROT_READ, PROT_WRITE, TASK_SIZE } from "./addressSpace.ts";
import { ARENA_SIZE, HeapError, MALLOC_ALIGNMENT, MMAP_THRESHOLD, UserHeap } from "./malloc.ts";

function heap(): UserHeap {
	return new UserHeap(new AddressSpace());
}

t.test("malloc: 16-byte aligned, usable, distinct, in user memory", async (t) => {
	const h = heap();
	const seen = new Set<number>();
	let prevEnd = 0;
	for (const n of [1, 7, 16, 24, 25, 100, 1000, 5000, 60000]) {
		const p = h.malloc(n);
		t.not(p, 0, `malloc(${n})`);
		t.equal(p % MALLOC_ALIGNMENT, 0, `malloc(${n}) is 16-byte aligned`);
		t.ok(h.malloc_usable_size(p) >= n, `malloc(${n}) has room for ${n} bytes`);
		t.ok(p >= prevEnd, "chunks do not overlap");
		prevEnd = p + h.malloc_usable_size(p);
		h.mm.copyToUser(p, new Uint8Array(n).fill(n & 0xff));
		seen.add(p);
	}
	t.equal(seen.size, 9);
	t.equal(h.malloc_usable_size(h.malloc(24)), 24, "glibc's chunk sizes: 24 bytes fit a 32-byte chunk");
	t.equal(h.malloc_usable_size(h.malloc(25)), 40);
});

t.test("malloc(0) returns a unique non-NULL pointer each time", async (t) => {
	const h = heap();
	const a = h.malloc(0);
	const b = h.malloc(0);
	t.not(a, 0);
	t.not(b, 0);
	t.not(a, b);
	h.free(a);
	h.free(b);
});

t.test("malloc fails with 0 (NULL) for a size that cannot be mapped, and the heap still works", async (t) => {
	const h = heap();
	t.equal(h.malloc(TASK_SIZE), 0, "larger than user space");
	t.equal(h.malloc(2 ** 53), 0, "not a safe integer");
	t.equal(h.malloc(-1), 0, "a negative size is a huge size_t");
	t.equal(h.malloc(1.5), 0);
	t.equal(h.mm.vmas().length, 0, "nothing was mapped by the failures");
	t.not(h.malloc(10), 0);
});

t.test("malloc returns 0 when the address space is full", async (t) => {
	const mm = new AddressSpace();
	mm.mmap(MMAP_MIN_ADDR, TASK_SIZE - MMAP_MIN_ADDR, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	const h = new UserHeap(mm);
	t.equal(h.malloc(16), 0);
	t.equal(h.malloc(MMAP_THRESHOLD), 0);
	t.equal(h.calloc(1, 16), 0);
});

t.test("free: a freed chunk is reused for the next request of its size; free(0) is a no-op", async (t) => {
	const h = heap();
	const a = h.malloc(40);
	const b = h.malloc(40);
	h.free(a);
	t.equal(h.malloc(40), a, "last freed, first reused (tcache)");
	t.equal(h.malloc(40) !== b, true);
	h.free(0);
	const big = h.malloc(3000);
	const big2 = h.malloc(3000);
	h.malloc(16);
	h.free(big);
	h.free(big2);
	t.equal(h.malloc(5000), big, "freed neighbours coalesce and are split again");
	t.equal(h.malloc(900), big + 5008, "the rest of the coalesced chunk serves the next request");
});

t.test("free of a pointer malloc did not return throws glibc's message", async (t) => {
	const h = heap();
	const p = h.malloc(32);
	t.throws(() => h.free(p + 16), new HeapError("free(): invalid pointer"));
	t.throws(() => h.free(0x1234), { name: "HeapError", message: "free(): invalid pointer" });
	h.free(p);
	t.throws(() => h.free(p), { message: "free(): double free detected in tcache 2" });
	const q = h.malloc(4000);
	h.malloc(16);
	h.free(q);
	t.throws(() => h.free(q), { message: "double free or corruption (!prev)" });
	t.throws(() => h.realloc(0x1234, 8), { message: "realloc(): invalid pointer" });
	t.throws(() => h.malloc_usable_size(0x1234), HeapError);
	t.not(h.malloc(32), 0, "the heap still works");
});

t.test("large allocations get their own mapping, removed by free", async (t) => {
	const h = heap();
	const small = h.malloc(100);
	const before = h.mm.vmas().length;
	const p = h.malloc(MMAP_THRESHOLD);
	t.equal(p % MALLOC_ALIGNMENT, 0);
	t.equal((p - 16) % 4096, 0, "the chunk header starts the mapping");
	const arena = small - 16;
	t.ok(p + MMAP_THRESHOLD <= arena || p >= arena + ARENA_SIZE, "not in the arena");
	h.mm.copyToUser(p + MMAP_THRESHOLD - 1, Uint8Array.of(1));
	t.ok(h.malloc_usable_size(p) >= MMAP_THRESHOLD);
	h.free(p);
	t.equal(h.mm.findVma(p), undefined, "unmapped");
	t.equal(h.mm.vmas().length, before);
});

t.test("a new arena is mapped when the current one is full", async (t) => {
	const h = heap();
	const ptrs: number[] = [];
	for (let i = 0; i < (2 * ARENA_SIZE) / 65536; i++) ptrs.push(h.malloc(65536 - 8));
	t.ok(h.mm.vmas().length >= 1);
	const arenas = new Set(ptrs.map((p) => h.mm.findVma(p)!.start));
	t.ok(arenas.size >= 2 || h.mm.vmas()[0]!.end - h.mm.vmas()[0]!.start >= 2 * ARENA_SIZE, "more than one arena's worth is mapped");
	for (const p of ptrs) h.mm.copyToUser(p + 65536 - 9, Uint8Array.of(1));
	t.equal(new Set(ptrs).size, ptrs.length);
});

t.test("calloc zeroes (also recycled memory) and returns 0 when n * size overflows", async (t) => {
	const h = heap();
	const p = h.malloc(64);
	h.mm.copyToUser(p, new Uint8Array(64).fill(0xff));
	h.free(p);
	const q = h.calloc(4, 16);
	t.equal(q, p, "the dirty chunk is reused");
	t.same(h.mm.copyFromUser(q, 64), new Uint8Array(64), "and zeroed");
	t.equal(h.calloc(2 ** 30, 2 ** 30), 0, "2^60 bytes");
	t.equal(h.calloc(2 ** 53, 2), 0, "the product overflows");
	t.equal(h.calloc(-1, 4), 0);
	const z = h.calloc(0, 8);
	t.not(z, 0, "calloc(0, n) is like malloc(0)");
	const big = h.calloc(1, MMAP_THRESHOLD * 2);
	t.same(h.mm.copyFromUser(big + MMAP_THRESHOLD, 16), new Uint8Array(16));
});

t.test("realloc: grows and shrinks keeping the contents; NULL and 0 cases as glibc", async (t) => {
	const h = heap();
	const p = h.realloc(0, 10);
	t.not(p, 0, "realloc(NULL, n) is malloc(n)");
	h.mm.copyToUser(p, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
	t.equal(h.realloc(p, 5), p, "shrinking stays in place");
	const blocker = h.malloc(16);
	const q = h.realloc(p, 2000);
	t.not(q, p, "moved: the neighbour is in use");
	t.same(h.mm.copyFromUser(q, 10), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), "contents kept");
	t.throws(() => h.free(p), HeapError, "the old chunk was freed");
	const r = h.realloc(q, 3000);
	t.equal(r, q, "the last chunk grows in place at the top");
	const huge = h.realloc(r, TASK_SIZE);
	t.equal(huge, 0, "failure returns NULL");
	t.same(h.mm.copyFromUser(r, 10), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), "and leaves the old block alone");
	t.equal(h.realloc(r, MMAP_THRESHOLD * 2), r, "at the top it grows in place even past the mmap threshold, as glibc");
	t.equal(h.realloc(r, 100), r, "and shrinks in place");
	const m = h.malloc(MMAP_THRESHOLD * 2);
	h.mm.copyToUser(m, Uint8Array.of(5, 4, 3));
	t.equal(h.realloc(m, MMAP_THRESHOLD * 2 - 100), m, "a mapped chunk shrinks in place while it stays above the threshold");
	const back = h.realloc(m, 100);
	t.not(back, m, "below the threshold it moves into an arena");
	t.same(h.mm.copyFromUser(back, 3), Uint8Array.of(5, 4, 3));
	t.equal(h.mm.findVma(m), undefined, "the mapping is gone");
	t.equal(h.realloc(back, 0), 0, "realloc(p, 0) frees and returns NULL");
	t.throws(() => h.free(back), HeapError);
	h.free(blocker);
	h.free(r);
});

t.test("fork: the child's heap has the same chunks over its own memory", async (t) => {
	const h = heap();
	const p = h.malloc(32);
	const freed = h.malloc(48);
	h.free(freed);
	h.mm.copyToUser(p, Uint8Array.of(7));
	const childMm = h.mm.fork();
	const c = h.fork(childMm);
	t.equal(c.mm, childMm);
	c.mm.copyToUser(p, Uint8Array.of(8));
	t.same(h.mm.copyFromUser(p, 1), Uint8Array.of(7), "the parent's memory is its own");
	c.free(p);
	t.equal(h.malloc_usable_size(p), 40, "freeing in the child leaves the parent's chunk allocated");
	t.equal(c.malloc(48), freed, "the free lists were copied");
	t.equal(h.malloc(48), freed, "and are independent");
	t.equal(c.malloc(32), p);
	t.not(h.malloc(32), p);
});

t.test("arena memory is ordinary private anonymous RW memory", async (t) => {
	const h = heap();
	const p = h.malloc(8);
	const v = h.mm.findVma(p)!;
	t.equal(v.prot, PROT_READ | PROT_WRITE);
	t.equal(v.flags, MAP_PRIVATE | MAP_ANONYMOUS);
});
