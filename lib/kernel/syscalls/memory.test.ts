import t from "tap";
import { run, type User } from "../testing.ts";
import { BRK_START, MAP_HUGETLB } from "./memory.ts";
import { EACCES, EBADF, EEXIST, EFAULT, EINVAL, ENODEV, ENOMEM, EOPNOTSUPP, EPERM } from "../errno.ts";
import {
	AnonShmem, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, PROT_EXEC, PROT_NONE,
	PROT_READ, PROT_WRITE, type VmaBacking,
} from "../../uaccess/addressSpace.ts";
import { MS_NOEXEC } from "../../fs/mount.ts";
import { tmpfsMount } from "../../fs/tmpfs.ts";
import type { MmapRequest } from "../../fs/file.ts";

const AT_FDCWD = -100;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/** Opens `path` (created if missing) and gives its File an f_op.mmap that records requests. */
function mappableFd(u: User, path: string, flags: number): { fd: number; reqs: MmapRequest[]; closed: () => number } {
	const fd = u.sys("openat", AT_FDCWD, path, flags | O_CREAT, 0o644);
	const file = u.p.files.get(fd);
	const reqs: MmapRequest[] = [];
	const shm = new AnonShmem();
	let closed = 0;
	file.f_op = {
		...file.f_op,
		mmap: (_f, req): VmaBacking => {
			reqs.push(req);
			return { name: "/test", getPage: (n) => shm.getPage(n), close: () => void closed++ };
		},
	};
	return { fd, reqs, closed: () => closed };
}

t.test("anonymous mmap: zeroed, writable memory at a page-aligned address", async (t) => {
	await run((u) => {
		const a = u.sys("mmap", 0, 10000, RW, ANON, -1, 0);
		t.ok(a > 0 && a % 4096 === 0);
		t.same([...u.read(a, 12288)].filter((b) => b !== 0), [], "three zeroed pages");
		u.p.mm.copyToUser(a + 9999, Uint8Array.of(7));
		t.same([...u.read(a + 9999, 1)], [7]);
		t.equal(u.sys("mmap", a, 4096, RW, ANON | MAP_FIXED, 123, 0), a, "MAP_FIXED replaces, the fd is ignored");
	});
});

t.test("an anonymous MAP_HUGETLB is EINVAL, with or without a huge page size: no CONFIG_HUGETLB_PAGE", async (t) => {
	await run((u) => {
		t.equal(u.sys("mmap", 0, 4096, RW, ANON | MAP_HUGETLB, -1, 0), -EINVAL);
		t.equal(u.sys("mmap", 0, 2 * 1024 * 1024, RW, ANON | MAP_HUGETLB | (21 << 26), -1, 0), -EINVAL, "MAP_HUGE_2MB");
		t.equal(u.sys("mmap", 0, 4096, RW, ANON, -1, 0) > 0, true, "an ordinary mapping still works");
	});
});

t.test("mmap errors of an anonymous mapping: EINVAL, ENOMEM, EPERM, EEXIST", async (t) => {
	await run((u) => {
		t.equal(u.sys("mmap", 0, 4096, RW, ANON, -1, 100), -EINVAL, "unaligned offset");
		t.equal(u.sys("mmap", 0, 0, RW, ANON, -1, 0), -EINVAL, "zero length");
		t.equal(u.sys("mmap", 0, 4096, RW, MAP_ANONYMOUS, -1, 0), -EINVAL, "no mapping type");
		t.equal(u.sys("mmap", 0, 4096, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0), -EINVAL);
		t.equal(u.sys("mmap", 0x1000, 4096, RW, ANON | MAP_FIXED, -1, 0), -EPERM, "below mmap_min_addr");
		t.equal(u.sys("mmap", 0x10001, 4096, RW, ANON | MAP_FIXED, -1, 0), -EINVAL, "unaligned MAP_FIXED");
		t.equal(u.sys("mmap", 0, 2 ** 50, RW, ANON, -1, 0), -ENOMEM);
		const a = u.sys("mmap", 0, 4096, RW, ANON, -1, 0);
		t.equal(u.sys("mmap", a, 4096, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), -EEXIST);
	});
});

t.test("file mmap: EBADF, ENODEV without f_op.mmap, EINVAL for MAP_HUGETLB or no type", async (t) => {
	await run((u) => {
		t.equal(u.sys("mmap", 0, 4096, PROT_READ, MAP_PRIVATE, 42, 0), -EBADF);
		t.equal(u.sys("mmap", 0, 4096, PROT_READ, MAP_PRIVATE, -1, 0), -EBADF);
		const fd = u.sys("openat", AT_FDCWD, "/dev/null", O_RDWR, 0);
		t.equal(u.sys("mmap", 0, 4096, PROT_READ, MAP_PRIVATE, fd, 0), -ENODEV);
		t.equal(u.sys("mmap", 0, 4096, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, fd, 0), -EINVAL);
		t.equal(u.sys("mmap", 0, 4096, PROT_READ, 0, fd, 0), -EINVAL);
		t.equal(u.sys("mmap", 0, 0, PROT_READ, MAP_PRIVATE, fd, 0), -EINVAL, "zero length before ENODEV");
	});
});

t.test("file mmap: the driver gets pgoff, length, prot and flags; its pages are the mapping", async (t) => {
	await run((u) => {
		const m = mappableFd(u, "/tmp/f", O_RDWR);
		const a = u.sys("mmap", 0, 5000, RW, MAP_SHARED, m.fd, 8192);
		t.ok(a > 0);
		t.same(m.reqs, [{ pgoff: 2, length: 8192, prot: RW, flags: MAP_SHARED }]);
		u.p.mm.copyToUser(a, Uint8Array.of(1, 2, 3));
		const b = u.sys("mmap", 0, 4096, PROT_READ, MAP_SHARED, m.fd, 8192);
		t.same([...u.read(b, 3)], [1, 2, 3], "two mappings of the same pages");
	});
});

t.test("file mmap: EACCES for a writable shared mapping of a read-only fd and for any mapping of a write-only fd", async (t) => {
	await run((u) => {
		const ro = mappableFd(u, "/tmp/ro", O_RDONLY);
		t.equal(u.sys("mmap", 0, 4096, RW, MAP_SHARED, ro.fd, 0), -EACCES);
		t.equal(u.sys("mmap", 0, 4096, RW, MAP_SHARED_VALIDATE, ro.fd, 0), -EACCES);
		t.ok(u.sys("mmap", 0, 4096, RW, MAP_PRIVATE, ro.fd, 0) > 0, "a private copy may be written");
		const a = u.sys("mmap", 0, 4096, PROT_READ, MAP_SHARED, ro.fd, 0);
		t.ok(a > 0);
		t.equal(u.sys("mprotect", a, 4096, RW), -EACCES, "and can never become writable");
		const wo = mappableFd(u, "/tmp/wo", O_WRONLY);
		t.equal(u.sys("mmap", 0, 4096, PROT_READ, MAP_PRIVATE, wo.fd, 0), -EACCES);
		t.equal(u.sys("mmap", 0, 4096, PROT_READ, MAP_SHARED, wo.fd, 0), -EACCES);
		t.equal(ro.reqs.length + wo.reqs.length, 2, "the driver was not asked for the refused ones");
	});
});

t.test("file mmap: EOPNOTSUPP for an unknown flag with MAP_SHARED_VALIDATE; accepted with MAP_SHARED", async (t) => {
	await run((u) => {
		const m = mappableFd(u, "/tmp/v", O_RDWR);
		const MAP_SYNC = 0x80000;
		t.equal(u.sys("mmap", 0, 4096, RW, MAP_SHARED_VALIDATE | MAP_SYNC, m.fd, 0), -EOPNOTSUPP);
		t.ok(u.sys("mmap", 0, 4096, RW, MAP_SHARED | MAP_SYNC, m.fd, 0) > 0);
		t.ok(u.sys("mmap", 0, 4096, RW, MAP_SHARED_VALIDATE, m.fd, 0) > 0);
	});
});

t.test("file mmap: EPERM for PROT_EXEC on a noexec mount", async (t) => {
	await run((u) => {
		const k = u.kernel;
		k.vfs.mkdirP("/mnt");
		k.vfs.mount(null, "/mnt", tmpfsMount(k, { mode: 0o755 }), MS_NOEXEC, "tmpfs");
		const m = mappableFd(u, "/mnt/f", O_RDWR);
		t.equal(u.sys("mmap", 0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, m.fd, 0), -EPERM);
		t.ok(u.sys("mmap", 0, 4096, PROT_READ, MAP_PRIVATE, m.fd, 0) > 0);
	});
});

t.test("file mmap: an address error after the driver's mmap releases the backing", async (t) => {
	await run((u) => {
		const m = mappableFd(u, "/tmp/e", O_RDWR);
		const a = u.sys("mmap", 0, 4096, RW, ANON, -1, 0);
		t.equal(u.sys("mmap", a, 4096, RW, MAP_SHARED | MAP_FIXED_NOREPLACE, m.fd, 0), -EEXIST);
		t.equal(m.closed(), 1);
	});
});

t.test("munmap: the pages go away (EFAULT after); EINVAL for an unaligned address or a zero length", async (t) => {
	await run((u) => {
		const a = u.sys("mmap", 0, 8192, RW, ANON, -1, 0);
		t.equal(u.sys("munmap", a + 1, 4096), -EINVAL);
		t.equal(u.sys("munmap", a, 0), -EINVAL);
		t.equal(u.sys("munmap", a, 4096), 0);
		t.equal(u.sys("uname", a), -EFAULT, "the first page is gone");
		t.equal(u.sys("munmap", a, 4096), 0, "unmapping nothing is not an error");
		u.p.mm.copyToUser(a + 4096, Uint8Array.of(1));
	});
});

t.test("mprotect: read-only memory refuses kernel writes; ENOMEM for a hole; EINVAL for bad arguments", async (t) => {
	await run((u) => {
		const a = u.sys("mmap", 0, 8192, RW, ANON, -1, 0);
		t.equal(u.sys("mprotect", a, 4096, PROT_READ), 0);
		t.equal(u.sys("uname", a), -EFAULT, "copy_to_user into a read-only page");
		t.equal(u.sys("uname", a + 4096 - 390), -EFAULT, "one page of the range is read-only");
		t.equal(u.sys("mprotect", a, 4096, PROT_NONE), 0);
		t.equal(u.sys("mprotect", a + 1, 4096, PROT_READ), -EINVAL);
		t.equal(u.sys("mprotect", a, 4096, 0x100), -EINVAL, "unknown prot bit");
		t.equal(u.sys("munmap", a + 4096, 4096), 0);
		t.equal(u.sys("mprotect", a, 8192, RW), -ENOMEM, "runs into a hole");
	});
});

t.test("brk: the break never moves and is always returned", async (t) => {
	await run((u) => {
		t.equal(u.sys("brk", 0), BRK_START);
		t.equal(u.sys("brk", BRK_START + 65536), BRK_START);
	});
});
