import t from "tap";
import { EBADF, EFAULT, EINVAL, ENOENT, ENOTDIR } from "../../kernel/errno.ts";
import { O_CREAT, O_PATH, O_RDONLY, O_WRONLY, SEEK_SET } from "../fcntl.ts";
import { inProcess } from "./testing.ts";
import type { UserCtx } from "./testing.ts";

interface Dirent {
	ino: number;
	off: number;
	reclen: number;
	type: number;
	name: string;
}

/** Parses linux_dirent64 records. */
function parse(u: UserCtx, addr: number, len: number): Dirent[] {
	const b = u.read(addr, len);
	const v = new DataView(b.buffer);
	const out: Dirent[] = [];
	for (let o = 0; o < len;) {
		const reclen = v.getUint16(o + 16, true);
		const end = b.indexOf(0, o + 19);
		out.push({ ino: Number(v.getBigUint64(o, true)), off: Number(v.getBigInt64(o + 8, true)), reclen, type: v.getUint8(o + 18), name: new TextDecoder().decode(b.subarray(o + 19, end)) });
		o += reclen;
	}
	return out;
}

t.test("getdents64 lists '.', '..' and the entries with inode numbers and types, then 0", async (t) => {
	await inProcess((u) => {
		u.sys("mkdir", "/tmp/d", 0o755);
		u.sys("mkdir", "/tmp/d/sub", 0o755);
		u.sys("close", u.sys("openat", -100, "/tmp/d/file", O_CREAT | O_WRONLY, 0o644));
		u.sys("symlink", "file", "/tmp/d/link");
		const fd = u.sys("openat", -100, "/tmp/d", O_RDONLY, 0);
		const buf = u.alloc(4096);
		const n = u.sys("getdents64", fd, buf, 4096);
		t.ok(n > 0);
		const ents = parse(u, buf, n);
		t.same(ents.map((e) => [e.name, e.type]), [[".", 4], ["..", 4], ["sub", 4], ["file", 8], ["link", 10]]);
		const vfs = u.p.kernel.vfs;
		t.equal(ents[0]!.ino, vfs.lookup(u.p, "/tmp/d").inode.ino);
		t.equal(ents[1]!.ino, vfs.lookup(u.p, "/tmp").inode.ino);
		t.equal(ents[3]!.ino, vfs.lookup(u.p, "/tmp/d/file").inode.ino);
		t.ok(ents.every((e) => e.reclen % 8 === 0), "records are 8-byte aligned");
		t.same(ents.map((e) => e.off), [1, 2, 3, 4, 5]);
		t.equal(u.sys("getdents64", fd, buf, 4096), 0, "the end");
		t.equal(u.sys("lseek", fd, 0, SEEK_SET), 0);
		t.equal(parse(u, buf, u.sys("getdents64", fd, buf, 4096)).length, 5, "rewound");
		t.equal(u.sys("lseek", fd, 3, SEEK_SET), 3);
		t.same(parse(u, buf, u.sys("getdents64", fd, buf, 4096)).map((e) => e.name), ["file", "link"], "resumed at a d_off");
	});
});

t.test("a small buffer takes the records that fit; too small for one is EINVAL", async (t) => {
	await inProcess((u) => {
		const fd = u.sys("openat", -100, "/", O_RDONLY, 0);
		const buf = u.alloc(64);
		t.equal(u.sys("getdents64", fd, buf, 10), -EINVAL);
		t.equal(u.sys("getdents64", fd, buf, 24), 24, "one '.' record");
		let names: string[] = [];
		for (let n = u.sys("getdents64", fd, buf, 48); n > 0; n = u.sys("getdents64", fd, buf, 48)) names = names.concat(parse(u, buf, n).map((e) => e.name));
		t.same(names, ["..", "boot", "dev", "proc", "run", "sys", "tmp"]);
	});
});

t.test("errors: ENOTDIR on a file, EBADF (also O_PATH), EFAULT for a bad buffer, ENOENT in a removed directory", async (t) => {
	await inProcess((u) => {
		const buf = u.alloc(1024);
		const f = u.sys("openat", -100, "/tmp/f", O_CREAT | O_WRONLY, 0o644);
		t.equal(u.sys("getdents64", f, buf, 1024), -ENOTDIR);
		t.equal(u.sys("getdents64", 55, buf, 1024), -EBADF);
		const p = u.sys("openat", -100, "/tmp", O_PATH, 0);
		t.equal(u.sys("getdents64", p, buf, 1024), -EBADF);
		const d = u.sys("openat", -100, "/tmp", O_RDONLY, 0);
		t.equal(u.sys("getdents64", d, 0, 1024), -EFAULT);
		t.equal(u.sys("getdents64", d, buf, -1), -EFAULT);
		t.equal(u.sys("lseek", d, 0, 1), 0, "nothing consumed");
		u.sys("mkdir", "/tmp/gone", 0o755);
		const g = u.sys("openat", -100, "/tmp/gone", O_RDONLY, 0);
		u.sys("rmdir", "/tmp/gone");
		t.equal(u.sys("getdents64", g, buf, 1024), -ENOENT);
	});
});

t.test("pseudo filesystems list through the same call", async (t) => {
	await inProcess((u) => {
		const buf = u.alloc(8192);
		const fd = u.sys("openat", -100, "/dev", O_RDONLY, 0);
		const names = parse(u, buf, u.sys("getdents64", fd, buf, 8192)).map((e) => e.name);
		t.ok(names.includes("null") && names.includes("zero"));
		const sys = u.sys("openat", -100, "/sys/kernel", O_RDONLY, 0);
		t.ok(parse(u, buf, u.sys("getdents64", sys, buf, 8192)).some((e) => e.name === "debug"));
	});
});
