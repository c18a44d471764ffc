import t from "tap";
import { runTest } from "../libc/testing.ts";
import { current } from "../kernel/current.ts";
import {
	errno, memfd_create, open, close, read, pread, lseek, ftruncate, fstat, mmap, munmap, peek, poke, Stat,
	MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS, MAP_FIXED, PROT_READ, PROT_WRITE, PROT_EXEC, O_RDONLY, SEEK_SET, SEEK_END,
	EINVAL, EACCES,
} from "../libc/mod.ts";
import { shmem_folios } from "../mm/shmem.ts";
import { TASK_SIZE } from "../uaccess/addressSpace.ts";
import { PM_FILE, PM_PFRAME_MASK, PM_PRESENT } from "./proc_task_mmu.ts";

const dec = new TextDecoder();
const P = 4096;

function cat(path: string): string {
	const fd = open(path, O_RDONLY);
	if (fd < 0) return `error ${errno}`;
	let out = "";
	const b = new Uint8Array(4096);
	for (let n; (n = read(fd, b, b.length)) > 0; ) out += dec.decode(b.subarray(0, n));
	const err = errno;
	close(fd);
	return out === "" && err !== 0 ? `error ${err}` : out;
}

/** The pagemap entry of the page at `addr` through an open pagemap fd. */
function entry(pm: number, addr: number): bigint {
	const b = new Uint8Array(8);
	if (pread(pm, b, 8, Math.floor(addr / P) * 8) !== 8) return -1n;
	return new DataView(b.buffer).getBigUint64(0, true);
}

t.test("maps: a memfd mapping prints as Linux does, the name at column 73", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("NAME", 0);
		t.equal(ftruncate(fd, 3 * P), 0);
		const st = new Stat();
		fstat(fd, st);
		const a = mmap(0x7f0000000000, P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
		t.equal(a, 0x7f0000000000);
		const head = `7f0000000000-7f0000001000 rw-s 00000000 00:01 ${st.st_ino} `;
		const line = `${head}${" ".repeat(72 - head.length)} /memfd:NAME (deleted)`;
		const maps = cat("/proc/self/maps").split("\n");
		t.ok(maps.includes(line), line);
		t.equal(maps.find((l) => l.startsWith("7f0000000000"))!.indexOf("/memfd:NAME"), 73);
		const b = mmap(0x7e0000000000, P, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 2 * P);
		t.equal(b, 0x7e0000000000);
		t.ok(cat("/proc/self/maps").includes(`7e0000000000-7e0000001000 r-xp 00002000 00:01 ${st.st_ino} `), "offset column, private, exec");
		mmap(0x7d0000000000, 2 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		t.ok(cat("/proc/self/maps").split("\n").includes("7d0000000000-7d0000002000 r--p 00000000 00:00 0 "), "anonymous: ends after the inode and a space");
		mmap(0x7c0000000000, P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		const shm = "7c0000000000-7c0000001000 rw-s 00000000 00:01 0";
		t.ok(cat("/proc/self/maps").split("\n").includes(`${shm}${" ".repeat(72 - shm.length)} /dev/zero (deleted)`), "shared anonymous memory");
	});
	t.equal(r.status, 0);
});

t.test("maps: adjacent mappings of one open file merge into one line, as Linux merges the VMAs", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("merge", 0);
		t.equal(ftruncate(fd, 4 * P), 0);
		mmap(0x7f0000000000, P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
		mmap(0x7f0000001000, P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, P);
		mmap(0x7f0000002000, P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 3 * P);
		const lines = cat("/proc/self/maps").split("\n").filter((l) => l.includes("/memfd:merge"));
		t.same(lines.map((l) => l.slice(0, 39)), [
			"7f0000000000-7f0000002000 rw-s 00000000",
			"7f0000002000-7f0000003000 rw-s 00003000",
		], "adjacent addresses with a jump in the file offset stay apart");
		const buddy = current().kernel.buddy;
		const free = buddy.nr_free_pages();
		poke(0x7f0000000000, new Uint8Array(3 * P).fill(1));
		t.equal(free - buddy.nr_free_pages(), 3);
		close(fd);
		t.equal(munmap(0x7f0000000000, 3 * P), 0);
		t.equal(buddy.nr_free_pages(), free, "the merged VMA dropped every reference");
	});
	t.equal(r.status, 0);
});

t.test("maps is in address order and needs ptrace access to another process", async (t) => {
	const r = await runTest(() => {
		const lines = cat("/proc/self/maps").trimEnd().split("\n");
		const starts = lines.map((l) => parseInt(l.split("-")[0]!, 16));
		t.same(starts, [...starts].sort((x, y) => x - y));
		t.equal(cat("/proc/1/maps"), `error ${EACCES}`);
	}, { uid: 1000 });
	t.equal(r.status, 0);
});

t.test("pagemap: a touched memfd page is present, a file page, with the PFN shmem holds (root)", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("pm", 0);
		t.equal(ftruncate(fd, 4 * P), 0);
		const a = mmap(0, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		poke(a + 2 * P, Uint8Array.of(1));
		const pm = open("/proc/self/pagemap", O_RDONLY);
		t.ok(pm >= 0);
		const [pgoff, folio] = shmem_folios(current().files.get(fd).inode)[0]!;
		t.equal(pgoff, 2);
		const e = entry(pm, a + 2 * P);
		t.equal(e & PM_PRESENT, PM_PRESENT);
		t.equal(e & PM_FILE, PM_FILE);
		t.equal(Number(e & PM_PFRAME_MASK), folio.pfn, "the same frame");
		t.equal(entry(pm, a), 0n, "an untouched page of the mapping");
		t.equal(entry(pm, 0x10000), 0n, "an unmapped address");
		const priv = mmap(0, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		poke(priv, Uint8Array.of(1));
		t.equal(entry(pm, priv), PM_PRESENT, "private memory: present, anonymous, no frame to show");
		const b = new Uint8Array(32);
		t.equal(pread(pm, b, 32, Math.floor(a / P) * 8), 32, "several entries at once");
		t.equal(new DataView(b.buffer).getBigUint64(16, true), e);
	});
	t.equal(r.status, 0);
});

t.test("pagemap: without CAP_SYS_ADMIN the PFN reads as 0; the flags stay", async (t) => {
	const r = await runTest(() => {
		const fd = memfd_create("pm", 0);
		t.equal(ftruncate(fd, P), 0);
		const a = mmap(0, P, PROT_READ, MAP_SHARED, fd, 0);
		peek(a, 1);
		const pm = open("/proc/self/pagemap", O_RDONLY);
		t.equal(entry(pm, a), PM_PRESENT | PM_FILE);
		t.equal(open("/proc/1/pagemap", O_RDONLY), -1);
		t.equal(errno, EACCES);
	}, { uid: 1000 });
	t.equal(r.status, 0);
});

t.test("pagemap: EINVAL for an unaligned offset or count; nothing past user space; SEEK_END is EINVAL", async (t) => {
	const r = await runTest(() => {
		const pm = open("/proc/self/pagemap", O_RDONLY);
		const b = new Uint8Array(16);
		t.equal(pread(pm, b, 4, 0), -1);
		t.equal(errno, EINVAL);
		t.equal(pread(pm, b, 8, 4), -1);
		t.equal(errno, EINVAL);
		t.equal(pread(pm, b, 0, 0), 0);
		t.equal(pread(pm, b, 16, (TASK_SIZE / P) * 8 - 8), 8, "the last page of user space");
		t.equal(pread(pm, b, 8, (TASK_SIZE / P) * 8), 0);
		t.equal(lseek(pm, 16, SEEK_SET), 16);
		t.equal(read(pm, b, 16), 16);
		t.equal(lseek(pm, 0, SEEK_END), -1);
		t.equal(errno, EINVAL);
	});
	t.equal(r.status, 0);
});
