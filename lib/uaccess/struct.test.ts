import t from "tap";
import {
	__u32, alignof, array, bytes, char, int, long, offsetof, ptr, s16, s32, s64, s8, size_t, sizeof, struct, u16, u32, u64,
	u8, union,
} from "./struct.ts";
import { struct_linux_dirent64, struct_pollfd, struct_stat, struct_timespec } from "./abi.ts";
import { AddressSpace, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "./addressSpace.ts";
import { Errno, EFAULT } from "../kernel/errno.ts";

t.test("sizes and offsets follow x86_64 natural alignment", async (t) => {
	const a = struct("a", { c: u8, x: u64 });
	t.equal(sizeof(a), 16, "{u8; u64} is 16");
	t.equal(offsetof(a, "x"), 8);
	const b = struct("b", { x: u64, c: u8 });
	t.equal(sizeof(b), 16, "tail padding to the alignment");
	const c = struct("c", { a: u8, b: u16, c: u8, d: u32, e: s8 });
	t.same([offsetof(c, "a"), offsetof(c, "b"), offsetof(c, "c"), offsetof(c, "d"), offsetof(c, "e")], [0, 2, 4, 8, 12]);
	t.equal(sizeof(c), 16);
	t.equal(alignof(c), 4);
	t.equal(sizeof(struct("empty", {})), 0, "GNU C's empty struct");
	t.equal(sizeof(struct("chars", { a: char(3) })), 3);
	t.equal(sizeof(struct("p", { a: u8, p: ptr })), 16);
	t.same([sizeof(int), sizeof(long), sizeof(size_t), sizeof(__u32)], [4, 8, 8, 4]);
});

t.test("nested structs and arrays", async (t) => {
	const inner = struct("inner", { a: u8, b: u32 });
	const outer = struct("outer", { c: u8, in: inner, arr: array(u16, 3), d: u8, ins: array(inner, 2) });
	t.equal(sizeof(inner), 8);
	t.equal(offsetof(outer, "in"), 4, "aligned to the nested struct's alignment");
	t.equal(offsetof(outer, "in.b"), 8, "a dotted path reaches into it");
	t.equal(offsetof(outer, "arr"), 12);
	t.equal(offsetof(outer, "d"), 18);
	t.equal(offsetof(outer, "ins"), 20);
	t.equal(sizeof(outer), 36);
	const b = outer.encode({ c: 1, in: { b: 0xdeadbeef }, arr: [7, 8], ins: [{ a: 3 }, { b: 4 }] });
	t.same(outer.decode(b), { c: 1, in: { a: 0, b: 0xdeadbeef }, arr: [7, 8, 0], d: 0, ins: [{ a: 3, b: 0 }, { a: 0, b: 4 }] });
	t.throws(() => offsetof(outer, "nope" as "c"), /struct outer has no member "nope"/);
	t.throws(() => offsetof(outer, "c.x"), /goes through u8/);
	t.throws(() => outer.encode({ arr: [1, 2, 3, 4] }), /struct outer\.arr: u16\[3\]: 4 elements do not fit/);
});

t.test("encode/decode: missing fields are zero, little-endian, C conversions", async (t) => {
	const s = struct("s", { a: u8, b: s16, c: u32, d: s32, e: u64, f: s64, p: ptr });
	const b = s.encode({ a: 0x1ff, b: -2, c: -1, d: 0x80000000, e: -1n, f: -5, p: 0x7f0000001000 });
	t.equal(b.length, 40);
	t.same(s.decode(b), { a: 0xff, b: -2, c: 0xffffffff, d: -0x80000000, e: 0xffffffffffffffffn, f: -5n, p: 0x7f0000001000 });
	t.same(Array.from(b.subarray(4, 8)), [0xff, 0xff, 0xff, 0xff], "c = -1 as u32");
	t.same(s.decode(s.encode({})), { a: 0, b: 0, c: 0, d: 0, e: 0n, f: 0n, p: 0 });
	t.equal(s.decode(s.encode({ p: -1 })).p, -1, "(void *)-1 survives");
	t.throws(() => s.encode({ a: 1.5 }), /struct s\.a: u8: 1\.5 is not an integer/);
	t.throws(() => s.encode({ e: 0.5 }), TypeError);
	t.throws(() => s.encode({ p: 2 ** 60 }), /not an address/);
	t.throws(() => s.encode({ zz: 1 } as never), /struct s has no member "zz"/, "a typo is caught");
	t.throws(() => s.decode(new Uint8Array(39)), RangeError, "too short");
	t.throws(() => s.decode(new Uint8Array(48), 9), RangeError, "too short after the offset");
	const big = new Uint8Array(48);
	big.set(s.encode({ a: 9 }), 8);
	t.equal(s.decode(big, 8).a, 9, "decode at an offset");
	t.equal(s.decode(big.subarray(8)).a, 9, "over a subarray");
});

t.test("char(n): NUL padded, decode stops at the first NUL, longer strings rejected unless truncate", async (t) => {
	const s = struct("named", { name: char(8), n: u32 });
	const b = s.encode({ name: "abc", n: 1 });
	t.same(Array.from(b.subarray(0, 8)), [0x61, 0x62, 0x63, 0, 0, 0, 0, 0]);
	t.equal(s.decode(b).name, "abc");
	t.equal(s.decode(s.encode({ name: "12345678" })).name, "12345678", "exactly n bytes: no terminator, still fits");
	t.throws(() => s.encode({ name: "123456789" }), /struct named\.name: char\[8\]: "123456789" is 9 bytes, longer than 8/);
	t.equal(s.decode(s.encode({ name: "123456789" }, { truncate: true })).name, "12345678", "strncpy's cut on request");
	t.throws(() => s.encode({ name: "\u00e9\u00e9\u00e9\u00e9\u00e9" }), /10 bytes/, "the length is in UTF-8 bytes");
	const raw = s.encode({ name: Uint8Array.of(0x61, 0, 0x62) });
	t.equal(s.decode(raw).name, "a", "bytes after the first NUL are not part of the string");
	t.same(Array.from(raw.subarray(0, 3)), [0x61, 0, 0x62]);
	t.equal(sizeof(char(0)), 0);
});

t.test("bytes(n) and flexible array members", async (t) => {
	const s = struct("blob", { len: u32, data: bytes(6) });
	t.equal(sizeof(s), 12);
	const d = s.decode(s.encode({ len: 2, data: [1, 2] }));
	t.same(d.data, Uint8Array.of(1, 2, 0, 0, 0, 0));
	t.throws(() => s.encode({ data: new Uint8Array(7) }), /u8\[6\]: 7 bytes do not fit/);
	t.equal(sizeof(struct_linux_dirent64), 24);
	t.equal(offsetof(struct_linux_dirent64, "d_name"), 19);
	t.equal(struct_linux_dirent64.decode(new Uint8Array(24).fill(0x41)).d_name, "", "a flexible array decodes as empty");
});

t.test("unions: members at offset 0, size of the largest, one member initialized", async (t) => {
	const u = union("u", { b: u8, q: u64, c: char(12) });
	t.equal(sizeof(u), 16, "12 rounded up to the u64 alignment");
	t.equal(offsetof(u, "c"), 0);
	const d = u.decode(u.encode({ q: 0x4142n }));
	t.equal(d.b, 0x42);
	t.equal(d.c, "BA");
	t.throws(() => u.encode({ b: 1, q: 2n }), /union u: initialize one member, not b, q/);
	const holder = struct("holder", { tag: u8, u });
	t.equal(offsetof(holder, "u"), 8);
	t.equal(sizeof(holder), 24);
});

t.test("packed and aligned attributes", async (t) => {
	const p = struct("p", { a: u8, b: u32, c: u16 }, { packed: true });
	t.equal(sizeof(p), 7);
	t.equal(offsetof(p, "b"), 1);
	t.equal(alignof(p), 1);
	t.same(p.decode(p.encode({ b: 0x01020304 })), { a: 0, b: 0x01020304, c: 0 });
	const al = struct("al", { a: u8 }, { aligned: 8 });
	t.equal(sizeof(al), 8);
	t.equal(alignof(al), 8);
});

t.test("a view reads and writes single fields in place", async (t) => {
	const buf = new Uint8Array(2 * sizeof(struct_pollfd));
	buf.set(struct_pollfd.encode({ fd: 3, events: 1 }), 8);
	const v = struct_pollfd.view(buf, 8);
	t.equal(v.get("fd"), 3);
	v.set("revents", 0x41);
	t.equal(struct_pollfd.decode(buf, 8).revents, 0x41);
	t.same(Array.from(buf.subarray(0, 8)), [0, 0, 0, 0, 0, 0, 0, 0], "the neighbour is untouched");
	const st = new Uint8Array(sizeof(struct_stat)).fill(0xff);
	const sv = struct_stat.view(st);
	sv.set("st_mtim", { tv_nsec: 5n });
	t.same(struct_stat.decode(st).st_mtim, { tv_sec: 0n, tv_nsec: 5n }, "a nested struct is replaced whole");
	t.equal(struct_stat.decode(st).st_atim.tv_sec, -1n, "other fields keep their bytes");
	t.throws(() => sv.set("st_ino", 1.5 as never), TypeError);
	t.throws(() => struct_pollfd.view(new Uint8Array(7)), RangeError);
	t.throws(() => sv.get("nope" as "st_ino"), /struct stat has no member "nope"/);
});

t.test("fromUser/toUser copy a struct through user memory, EFAULT as Errno", async (t) => {
	const mm = new AddressSpace();
	const a = mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	struct_timespec.toUser(mm, a, { tv_sec: 5n, tv_nsec: 6 });
	t.same(struct_timespec.fromUser(mm, a), { tv_sec: 5n, tv_nsec: 6n });
	t.same(mm.copyFromUser(a, 16), struct_timespec.encode({ tv_sec: 5n, tv_nsec: 6n }));
	const err = t.throws(() => struct_timespec.fromUser(mm, a + 4090));
	t.ok(err instanceof Errno && err.errno === EFAULT, "EFAULT straddling the end of the mapping");
	const err2 = t.throws(() => struct_timespec.toUser(mm, a + 4090, { tv_sec: 1n }));
	t.ok(err2 instanceof Errno && err2.errno === EFAULT);
	t.same(mm.copyFromUser(a + 4090, 6), new Uint8Array(6), "nothing written");
});

t.test("struct stat is glibc's 144-byte x86_64 layout", async (t) => {
	t.equal(sizeof(struct_stat), 144);
	t.same(
		["st_dev", "st_ino", "st_nlink", "st_mode", "st_uid", "st_gid", "st_rdev", "st_size", "st_blksize", "st_blocks", "st_atim", "st_mtim", "st_ctim"].map(
			(f) => offsetof(struct_stat, f as "st_dev"),
		),
		[0, 8, 16, 24, 28, 32, 40, 48, 56, 64, 72, 88, 104],
	);
	t.equal(offsetof(struct_stat, "st_ctim.tv_nsec"), 112);
	t.equal(sizeof(struct_timespec), 16);
	t.equal(sizeof(struct_pollfd), 8);
});

t.test("type errors in array() and char() counts are programming errors", async (t) => {
	t.throws(() => char(-1), RangeError);
	t.throws(() => array(u8, 1.5), RangeError);
	t.throws(() => bytes(NaN), RangeError);
	t.equal(sizeof(array(s16, 0)), 0);
});
