import t from "tap";
import { EBADF, EFAULT, EINVAL, ENOENT, ENOTDIR } from "../../kernel/errno.ts";
import { makedev, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG } from "../inode.ts";
import { AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, O_CREAT, O_PATH, O_RDONLY, O_WRONLY } from "../fcntl.ts";
import { SIZEOF_STAT, STAT_OFFSETS, encodeStat } from "../stat.ts";
import { anonInodeGetFile } from "../anon_inodes.ts";
import { inProcess } from "./testing.ts";
import type { UserCtx } from "./testing.ts";

/** struct stat decoded from user memory. */
function decode(u: UserCtx, addr: number): Record<keyof typeof STAT_OFFSETS, number> {
	const v = new DataView(u.read(addr, SIZEOF_STAT).buffer);
	const out = {} as Record<keyof typeof STAT_OFFSETS, number>;
	for (const [k, off] of Object.entries(STAT_OFFSETS) as [keyof typeof STAT_OFFSETS, number][]) {
		out[k] = k === "st_mode" || k === "st_uid" || k === "st_gid" ? v.getUint32(off, true) : Number(v.getBigInt64(off, true));
	}
	return out;
}

t.test("struct stat is the 144-byte x86_64 layout", async (t) => {
	const b = encodeStat({ dev: 1, ino: 2, nlink: 3, mode: 4, uid: 5, gid: 6, rdev: 7, size: 8, blksize: 9, blocks: 10, atimeNs: 11_000_000_012n, mtimeNs: 13n, ctimeNs: -1n });
	t.equal(b.length, 144);
	const v = new DataView(b.buffer);
	t.same(
		[0, 8, 16].map((o) => Number(v.getBigUint64(o, true))).concat([24, 28, 32].map((o) => v.getUint32(o, true))),
		[1, 2, 3, 4, 5, 6],
		"st_dev, st_ino, st_nlink (u64) then st_mode, st_uid, st_gid (u32)",
	);
	t.equal(v.getUint32(36, true), 0, "padding");
	t.same([40, 48, 56, 64].map((o) => Number(v.getBigInt64(o, true))), [7, 8, 9, 10]);
	t.same([72, 80, 88, 96].map((o) => Number(v.getBigInt64(o, true))), [11, 12, 0, 13], "timespecs");
	t.same([104, 112].map((o) => Number(v.getBigInt64(o, true))), [-1, 999_999_999], "a negative time normalises tv_nsec");
	t.same([120, 128, 136].map((o) => Number(v.getBigInt64(o, true))), [0, 0, 0], "__unused");
});

t.test("stat of a regular file: every field", async (t) => {
	await inProcess((u) => {
		u.p.kernel.clock.advance(3_500_000_001);
		const fd = u.sys("openat", -100, "/tmp/f", O_CREAT | O_WRONLY, 0o640);
		u.sys("write", fd, u.bytes(new Uint8Array(5000)), 5000);
		const st = u.alloc(SIZEOF_STAT);
		t.equal(u.sys("stat", "/tmp/f", st), 0);
		const s = decode(u, st);
		const inode = u.p.kernel.vfs.lookup(u.p, "/tmp/f").inode;
		t.equal(s.st_dev, inode.sb.dev);
		t.equal(s.st_ino, inode.ino);
		t.equal(s.st_mode, S_IFREG | 0o640);
		t.equal(s.st_nlink, 1);
		t.equal(s.st_uid, 1000);
		t.equal(s.st_gid, 1000);
		t.equal(s.st_rdev, 0);
		t.equal(s.st_size, 5000);
		t.equal(s.st_blksize, 4096);
		t.equal(s.st_blocks, 16, "two pages in 512-byte blocks");
		const ns = BigInt(u.p.kernel.clock.realtimeBaseNs) + 3_500_000_001n;
		const sec = Number(ns / 1_000_000_000n);
		t.same([s.st_mtime, s.st_mtime_nsec], [sec, Number(ns % 1_000_000_000n)], "virtual-clock time on CLOCK_REALTIME, to the ns");
		t.same([s.st_ctime, s.st_atime], [sec, sec]);
		t.equal(u.sys("fstat", fd, st), 0);
		t.equal(decode(u, st).st_ino, inode.ino, "fstat agrees");
	}, { uid: 1000 });
});

t.test("stat follows symlinks, lstat does not; devices report st_rdev; directories their link count", async (t) => {
	await inProcess((u) => {
		const st = u.alloc(SIZEOF_STAT);
		u.sys("symlink", "/dev/null", "/tmp/l");
		t.equal(u.sys("lstat", "/tmp/l", st), 0);
		t.equal(decode(u, st).st_mode, S_IFLNK | 0o777);
		t.equal(decode(u, st).st_size, 9);
		t.equal(u.sys("stat", "/tmp/l", st), 0);
		t.equal(decode(u, st).st_mode, S_IFCHR | 0o666);
		t.equal(decode(u, st).st_rdev, makedev(1, 3));
		u.sys("mkdir", "/tmp/d", 0o755);
		u.sys("mkdir", "/tmp/d/e", 0o755);
		t.equal(u.sys("stat", "/tmp/d", st), 0);
		t.equal(decode(u, st).st_mode, S_IFDIR | 0o755);
		t.equal(decode(u, st).st_nlink, 3);
		t.equal(decode(u, st).st_blocks, 0);
	});
});

t.test("newfstatat: dirfd, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH (also O_PATH fds), EINVAL for other flags", async (t) => {
	await inProcess((u) => {
		const st = u.alloc(SIZEOF_STAT);
		u.sys("mkdir", "/tmp/d", 0o755);
		u.sys("symlink", "nowhere", "/tmp/d/dangling");
		const dfd = u.sys("openat", -100, "/tmp/d", O_RDONLY, 0);
		t.equal(u.sys("newfstatat", dfd, "dangling", st, 0), -ENOENT);
		t.equal(u.sys("newfstatat", dfd, "dangling", st, AT_SYMLINK_NOFOLLOW), 0);
		t.equal(decode(u, st).st_mode & 0o170000, S_IFLNK);
		t.equal(u.sys("newfstatat", dfd, "", st, AT_EMPTY_PATH), 0);
		t.equal(decode(u, st).st_mode & 0o170000, S_IFDIR);
		t.equal(u.sys("newfstatat", dfd, 0, st, AT_EMPTY_PATH), 0, "NULL path with AT_EMPTY_PATH");
		t.equal(u.sys("newfstatat", dfd, "", st, 0), -ENOENT, "empty path without the flag");
		t.equal(u.sys("newfstatat", -100, "", st, AT_EMPTY_PATH), 0, "the cwd");
		t.equal(u.sys("newfstatat", dfd, "dangling", st, 0x4), -EINVAL);
		const pfd = u.sys("openat", -100, "/dev/zero", O_PATH, 0);
		t.equal(u.sys("fstat", pfd, st), 0, "fstat works on an O_PATH fd");
		t.equal(decode(u, st).st_rdev, makedev(1, 5));
	});
});

t.test("errors leave the buffer alone; a bad buffer is EFAULT only after the lookup", async (t) => {
	await inProcess((u) => {
		const st = u.alloc(SIZEOF_STAT);
		u.p.mm.copyToUser(st, new Uint8Array(SIZEOF_STAT).fill(0x5a));
		t.equal(u.sys("stat", "/nope", st), -ENOENT);
		t.equal(u.sys("stat", "/tmp/../dev/null/x", st), -ENOTDIR);
		t.equal(u.sys("fstat", 33, st), -EBADF);
		t.same(u.read(st, SIZEOF_STAT), new Uint8Array(SIZEOF_STAT).fill(0x5a));
		t.equal(u.sys("stat", "/tmp", 0), -EFAULT);
		t.equal(u.sys("stat", "/nope", 0), -ENOENT, "ENOENT first");
		t.equal(u.sys("stat", 0, st), -EFAULT);
	});
});

t.test("fstat of an anonymous file: the shared 0600 inode with no type", async (t) => {
	await inProcess((u) => {
		const f = anonInodeGetFile(u.p.kernel, "[test]", {}, null, 2);
		const fd = u.p.files.install(f, u.p.nofile, false);
		const st = u.alloc(SIZEOF_STAT);
		t.equal(u.sys("fstat", fd, st), 0);
		t.equal(decode(u, st).st_mode, 0o600);
		t.equal(decode(u, st).st_size, 0);
	});
});
