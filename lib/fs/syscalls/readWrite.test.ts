import t from "tap";
import { EBADF, EFAULT, EINVAL, EISDIR, ENXIO, ESPIPE } from "../../kernel/errno.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from "../../uaccess/addressSpace.ts";
import { FMODE_LSEEK, FMODE_PREAD } from "../file.ts";
import { O_APPEND, O_CREAT, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET } from "../fcntl.ts";
import { inProcess } from "./testing.ts";
import type { UserCtx } from "./testing.ts";

const enc = new TextEncoder();

function fileWith(u: UserCtx, text: string): number {
	const fd = u.sys("openat", -100, "/tmp/f", O_CREAT | O_RDWR, 0o644);
	u.sys("write", fd, u.bytes(enc.encode(text)), text.length);
	u.sys("lseek", fd, 0, SEEK_SET);
	return fd;
}

/** Two pages mapped, the second unmapped again: returns the start of the hole. */
function hole(u: UserCtx): number {
	const map = u.p.mm.mmap(0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	u.p.mm.munmap(map + PAGE_SIZE, PAGE_SIZE);
	return map + PAGE_SIZE;
}

t.test("read and write move the offset; pread and pwrite leave it", async (t) => {
	await inProcess((u) => {
		const fd = fileWith(u, "hello world");
		const buf = u.alloc(16);
		t.equal(u.sys("read", fd, buf, 5), 5);
		t.equal(u.text(buf, 5), "hello");
		t.equal(u.sys("lseek", fd, 0, SEEK_CUR), 5);
		t.equal(u.sys("pread64", fd, buf, 5, 6), 5);
		t.equal(u.text(buf, 5), "world");
		t.equal(u.sys("lseek", fd, 0, SEEK_CUR), 5);
		t.equal(u.sys("pwrite64", fd, u.bytes(enc.encode("W")), 1, 6), 1);
		t.equal(u.sys("lseek", fd, 0, SEEK_CUR), 5);
		t.equal(u.sys("read", fd, buf, 16), 6, "short read at the end");
		t.equal(u.text(buf, 6), " World");
		t.equal(u.sys("read", fd, buf, 16), 0, "EOF");
		t.equal(u.sys("read", fd, buf, 0), 0, "zero bytes");
	});
});

t.test("EBADF for a closed fd, for read on O_WRONLY and write on O_RDONLY, and on O_PATH fds", async (t) => {
	await inProcess((u) => {
		const buf = u.alloc(8);
		t.equal(u.sys("read", 40, buf, 1), -EBADF);
		t.equal(u.sys("write", -5, buf, 1), -EBADF);
		const w = u.sys("openat", -100, "/tmp/w", O_CREAT | O_WRONLY, 0o644);
		const r = u.sys("openat", -100, "/tmp/w", O_RDONLY, 0);
		t.equal(u.sys("read", w, buf, 1), -EBADF);
		t.equal(u.sys("write", r, buf, 1), -EBADF);
		t.equal(u.sys("pread64", w, buf, 1, 0), -EBADF);
		const p = u.sys("openat", -100, "/tmp/w", O_PATH, 0);
		t.equal(u.sys("read", p, buf, 1), -EBADF);
		t.equal(u.sys("lseek", p, 0, SEEK_SET), -EBADF);
	});
});

t.test("a directory read is EISDIR; a file whose driver has no read or write is EINVAL", async (t) => {
	await inProcess((u) => {
		const buf = u.alloc(8);
		const d = u.sys("openat", -100, "/tmp", O_RDONLY, 0);
		t.equal(u.sys("read", d, buf, 8), -EISDIR);
		const fd = u.sys("openat", -100, "/dev/null", O_RDWR, 0);
		u.p.files.get(fd).f_op = {};
		t.equal(u.sys("read", fd, buf, 8), -EINVAL);
		t.equal(u.sys("write", fd, buf, 8), -EINVAL);
	});
});

t.test("EFAULT when the buffer's first byte is unmapped: nothing read, offset unchanged", async (t) => {
	await inProcess((u) => {
		const fd = fileWith(u, "abcdefghijklmnopqrstuvwxyz");
		u.sys("lseek", fd, 4, SEEK_SET);
		const h = hole(u);
		t.equal(u.sys("read", fd, h, 16), -EFAULT);
		t.equal(u.sys("lseek", fd, 0, SEEK_CUR), 4);
		t.equal(u.sys("read", fd, 0, 16), -EFAULT, "NULL");
		t.equal(u.sys("pread64", fd, h, 16, 0), -EFAULT);
		t.equal(u.sys("read", fd, h - 8, 16), 8, "what fits before the hole");
		t.equal(u.text(h - 8, 8), "efghijkl");
		t.equal(u.sys("lseek", fd, 0, SEEK_CUR), 12);
	});
});

t.test("a write copies the user data first: EFAULT changes nothing; a buffer running into a hole writes what it can", async (t) => {
	await inProcess((u) => {
		const fd = fileWith(u, "0123456789");
		const h = hole(u);
		t.equal(u.sys("write", fd, h, 4), -EFAULT);
		t.equal(u.sys("lseek", fd, 0, SEEK_CUR), 0, "offset unchanged");
		const buf = u.alloc(16);
		t.equal(u.sys("pread64", fd, buf, 16, 0), 10);
		t.equal(u.text(buf, 10), "0123456789", "file unchanged");
		u.p.mm.copyToUser(h - 3, enc.encode("XYZ"));
		t.equal(u.sys("write", fd, h - 3, 10), 3);
		t.equal(u.sys("pread64", fd, buf, 4, 0), 4);
		t.equal(u.text(buf, 4), "XYZ3");
	});
});

t.test("a negative count is a huge size_t (EFAULT); a negative offset is EINVAL", async (t) => {
	await inProcess((u) => {
		const fd = fileWith(u, "abc");
		const buf = u.alloc(8);
		t.equal(u.sys("read", fd, buf, -1), -EFAULT);
		t.equal(u.sys("write", fd, buf, -1), -EFAULT);
		t.equal(u.sys("pread64", fd, buf, 1, -1), -EINVAL);
		t.equal(u.sys("pwrite64", fd, buf, 1, -1), -EINVAL);
		t.equal(u.sys("pread64", 99, buf, 1, -1), -EINVAL, "EINVAL before EBADF");
		t.equal(u.sys("lseek", fd, -1, SEEK_SET), -EINVAL);
		t.equal(u.sys("lseek", fd, -4, SEEK_END), -EINVAL);
		t.equal(u.sys("lseek", fd, 0, SEEK_CUR), 0, "unchanged");
	});
});

t.test("lseek: SEEK_SET/CUR/END, past the end, SEEK_DATA/SEEK_HOLE, a bad whence", async (t) => {
	await inProcess((u) => {
		const fd = fileWith(u, "0123456789");
		t.equal(u.sys("lseek", fd, 3, SEEK_SET), 3);
		t.equal(u.sys("lseek", fd, 2, SEEK_CUR), 5);
		t.equal(u.sys("lseek", fd, -1, SEEK_END), 9);
		t.equal(u.sys("lseek", fd, 100, SEEK_SET), 100, "past the end is fine");
		t.equal(u.sys("lseek", fd, 4, SEEK_DATA), 4);
		t.equal(u.sys("lseek", fd, 4, SEEK_HOLE), 10);
		t.equal(u.sys("lseek", fd, 10, SEEK_DATA), -ENXIO);
		t.equal(u.sys("lseek", fd, 0, 5), -EINVAL);
		t.equal(u.sys("write", fd, u.bytes(enc.encode("!")), 1), 1);
		const st = u.alloc(144);
		u.sys("fstat", fd, st);
		t.equal(Number(new DataView(u.read(st, 144).buffer).getBigInt64(48, true)), 11, "the write at 10 after seeking back from 100 made 11 bytes");
	});
});

t.test("ESPIPE for lseek and pread/pwrite on a file without FMODE_LSEEK/FMODE_PREAD", async (t) => {
	await inProcess((u) => {
		const fd = u.sys("openat", -100, "/dev/null", O_RDWR, 0);
		const f = u.p.files.get(fd);
		f.f_mode &= ~(FMODE_LSEEK | FMODE_PREAD);
		const buf = u.alloc(4);
		t.equal(u.sys("lseek", fd, 0, SEEK_SET), -ESPIPE);
		t.equal(u.sys("pread64", fd, buf, 1, 0), -ESPIPE);
		t.equal(u.sys("pwrite64", fd, buf, 1, 0), 1, "FMODE_PWRITE kept");
		t.equal(u.sys("lseek", fd, 0, 9), -EINVAL, "a bad whence is EINVAL before ESPIPE");
	});
});

t.test("O_APPEND writes at the end, pwrite64 included", async (t) => {
	await inProcess((u) => {
		fileWith(u, "abc");
		const fd = u.sys("openat", -100, "/tmp/f", O_WRONLY | O_APPEND, 0);
		t.equal(u.sys("write", fd, u.bytes(enc.encode("d")), 1), 1);
		t.equal(u.sys("lseek", fd, 0, SEEK_CUR), 4);
		t.equal(u.sys("pwrite64", fd, u.bytes(enc.encode("e")), 1, 0), 1);
		const r = u.sys("openat", -100, "/tmp/f", O_RDONLY, 0);
		const buf = u.alloc(8);
		t.equal(u.sys("read", r, buf, 8), 5);
		t.equal(u.text(buf, 5), "abcde");
	});
});
