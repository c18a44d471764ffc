import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, set_errno, malloc, calloc, realloc, free, peek, poke, write, open, read, atoi, strtol, strtoul, getenv,
	O_RDONLY, ENOMEM, ERANGE, EINVAL, SIGABRT,
} from "./mod.ts";

t.test("malloc memory is usable by syscalls; calloc is zeroed; realloc keeps the contents", async (t) => {
	const r = await runTest(() => {
		const a = malloc(100);
		t.ok(a > 0);
		t.not(malloc(100), a, "distinct blocks");
		poke(a, new TextEncoder().encode("abc"));
		t.equal(write(1, a, 3), 3, "write from heap memory");
		const z = open("/dev/zero", O_RDONLY);
		const c = calloc(10, 10);
		t.same(peek(c, 100), new Uint8Array(100));
		poke(c, Uint8Array.of(9, 9));
		t.equal(read(z, c, 1), 1);
		t.same(peek(c, 2), Uint8Array.of(0, 9), "read into heap memory");
		const b = realloc(a, 10000);
		t.ok(b > 0);
		t.same(peek(b, 3), new TextEncoder().encode("abc"));
		t.ok(realloc(0, 16) > 0, "realloc(NULL, n) is malloc");
		free(b);
		free(0);
	});
	t.equal(r.status, 0);
	t.equal(r.stdout, "abc");
});

t.test("malloc failure is NULL with ENOMEM", async (t) => {
	const r = await runTest(() => {
		set_errno(0);
		t.equal(malloc(2 ** 52), 0);
		t.equal(errno, ENOMEM);
		set_errno(0);
		t.equal(calloc(2 ** 40, 2 ** 40), 0, "overflowing product");
		t.equal(errno, ENOMEM);
		const a = malloc(8);
		t.equal(realloc(a, 2 ** 52), 0);
		t.equal(errno, ENOMEM);
		t.ok(peek(a, 8), "the old block is still there");
	});
	t.equal(r.status, 0);
});

t.test("free of a pointer malloc did not return, or a double free, aborts with glibc's message", async (t) => {
	const r = await runTest(() => {
		const a = malloc(64);
		free(a + 8);
	});
	t.equal(r.status & 0x7f, SIGABRT);
	t.equal(r.stderr, "free(): invalid pointer\n", "glibc's message");
	const d = await runTest(() => {
		const a = malloc(64);
		free(a);
		free(a);
	});
	t.equal(d.status & 0x7f, SIGABRT);
	t.equal(d.stderr, "free(): double free detected in tcache 2\n");
});

t.test("atoi, strtol, strtoul parse like C", async (t) => {
	const r = await runTest(() => {
		t.equal(atoi("  42xyz"), 42);
		t.equal(atoi("-17"), -17);
		t.equal(atoi("abc"), 0);
		const end = [0];
		t.equal(strtol("0x1fg", end, 0), 31);
		t.equal(end[0], 4);
		t.equal(strtol("0755", null, 0), 0o755);
		t.equal(strtol("zz", end, 36), 1295);
		t.equal(strtol("", end, 10), 0);
		t.equal(end[0], 0, "no digits: endptr is the start");
		set_errno(0);
		t.equal(strtol("99999999999999999999", null, 10), 9223372036854775807);
		t.equal(errno, ERANGE);
		set_errno(0);
		t.equal(strtol("1", null, 1), 0);
		t.equal(errno, EINVAL);
		t.equal(strtoul("4294967296", null, 10), 4294967296);
		t.equal(strtoul("-1", null, 10), 18446744073709551615);
		t.equal(getenv("HOME"), null, "empty environment");
	});
	t.equal(r.status, 0);
});
