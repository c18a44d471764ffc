import t from "tap";
import { runTest } from "./testing.ts";
import {
	malloc, free, memset, memcpy, memcmp, strlen, strncpy, peek, poke, strerror, strerrorname_np,
	EINVAL, ENOENT, EAGAIN,
} from "./mod.ts";

const enc = new TextEncoder();

t.test("memset, memcpy, memcmp on user memory and on arrays", async (t) => {
	const r = await runTest(() => {
		const a = malloc(32);
		const b = malloc(32);
		t.equal(memset(a, 0x141, 32), a, "returns dest");
		t.same(peek(a, 32), new Uint8Array(32).fill(0x41), "c & 0xff");
		t.equal(memcpy(b, a, 32), b);
		t.equal(memcmp(a, b, 32), 0);
		poke(b + 5, Uint8Array.of(0x40));
		t.equal(memcmp(a, b, 32), 1, "difference of the first differing bytes");
		t.equal(memcmp(b, a, 32), -1);
		t.equal(memcmp(a, b, 5), 0, "only n bytes compared");
		const arr = new Uint8Array(8);
		memcpy(arr, a, 8);
		t.same(arr, new Uint8Array(8).fill(0x41), "user memory to an array");
		memset(arr, 0, 4);
		memcpy(a, arr, 8);
		t.same(peek(a, 8), Uint8Array.of(0, 0, 0, 0, 0x41, 0x41, 0x41, 0x41));
		t.equal(memcmp(Uint8Array.of(0xff), Uint8Array.of(0x01), 1), 0xfe, "bytes compare unsigned");
		memcpy(a + 1, a, 7);
		t.same(peek(a, 8), Uint8Array.of(0, 0, 0, 0, 0, 0x41, 0x41, 0x41), "overlap as memmove");
		free(a);
		free(b);
	});
	t.equal(r.status, 0);
});

t.test("memset past the end of an array or on unmapped memory is SIGSEGV", async (t) => {
	const r = await runTest(() => {
		memset(new Uint8Array(4), 0, 5);
	});
	t.equal(r.status & 0x7f, 11);
	const u = await runTest(() => {
		memcpy(new Uint8Array(4), 16, 4);
	});
	t.equal(u.status & 0x7f, 11);
});

t.test("strlen and strncpy", async (t) => {
	const r = await runTest(() => {
		t.equal(strlen("héllo"), 6, "UTF-8 bytes");
		const s = malloc(16);
		poke(s, enc.encode("abc\0"));
		t.equal(strlen(s), 3);
		const name = new Uint8Array(8).fill(0xff);
		strncpy(name, "abc", 8);
		t.same(name, Uint8Array.of(0x61, 0x62, 0x63, 0, 0, 0, 0, 0), "NUL padded");
		strncpy(name, "abcdefghij", 8);
		t.same(name, enc.encode("abcdefgh"), "no NUL when the source is as long");
		strncpy(s, "xy", 4);
		t.same(peek(s, 4), Uint8Array.of(0x78, 0x79, 0, 0));
	});
	t.equal(r.status, 0);
});

t.test("strerror and strerrorname_np", async (t) => {
	t.equal(strerror(EINVAL), "Invalid argument");
	t.equal(strerror(ENOENT), "No such file or directory");
	t.equal(strerror(9999), "Unknown error 9999");
	t.equal(strerrorname_np(EAGAIN), "EAGAIN");
	t.equal(strerrorname_np(9999), null);
	t.equal(strerrorname_np(512), null, "kernel-internal ERESTARTSYS is not a userspace errno");
});
