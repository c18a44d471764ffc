import { current } from "../kernel/current.ts";
import t from "tap";
import { runTest } from "../libc/testing.ts";
import { Machine } from "../kernel/machine.ts";
import { errno, open, read, close, write, memfd_create, ftruncate, O_RDONLY, O_WRONLY, EACCES, EIO } from "../libc/mod.ts";
import { meminfoText } from "./proc_meminfo.ts";

const dec = new TextDecoder();

function cat(path: string): string {
	const fd = open(path, O_RDONLY);
	let out = "";
	const b = new Uint8Array(512);
	for (let n; (n = read(fd, b, b.length)) > 0; ) out += dec.decode(b.subarray(0, n));
	close(fd);
	return out;
}

/** The kB value of `key` in a meminfo text. */
function kb(text: string, key: string): number {
	const m = new RegExp(`^${key.replace(/[()]/g, "\\$&")}:\\s+(\\d+) kB$`, "m").exec(text);
	return m ? Number(m[1]) : NaN;
}

t.test("meminfo: Linux's layout, MemTotal of a 4 GiB machine (less what boot reserved) first", async (t) => {
	const r = await runTest(() => {
		const text = cat("/proc/meminfo");
		const lines = text.trimEnd().split("\n");
		const k = current().kernel;
		const total = 4194304 - k.buddy.nr_reserved_pages() * 4;
		t.ok(k.buddy.nr_reserved_pages() > 0, "boot reserves the first MiB and KHO scratch");
		t.equal(lines[0], `MemTotal:       ${String(total).padStart(8)} kB`);
		t.match(lines[1]!, /^MemFree: {8}[ \d]{8} kB$/);
		t.match(lines[2]!, /^MemAvailable: {3}[ \d]{8} kB$/);
		for (const l of lines) t.match(l, /^[A-Za-z0-9_()]+: +\d+( kB)?$/, l);
		t.notOk(lines.some((l) => /^(HugePages_|Hugepagesize|Hugetlb)/.test(l)), "no CONFIG_HUGETLB_PAGE, no hugetlb lines");
		t.equal(lines[lines.length - 1], "FilePmdMapped:         0 kB", "the THP lines end it");
		t.ok(lines.includes("VmallocTotal:   34359738367 kB"));
		t.equal(kb(text, "CommitLimit"), Math.floor(total / 2), "half of MemTotal (no swap, overcommit_ratio 50)");
		t.equal(kb(text, "Shmem"), 0);
	});
	t.equal(r.status, 0);
});

t.test("meminfo follows the buddy allocator: memfd pages show in MemFree, Shmem and Cached", async (t) => {
	const r = await runTest(() => {
		const before = cat("/proc/meminfo");
		const fd = memfd_create("m", 0);
		t.equal(ftruncate(fd, 1 << 30), 0);
		t.equal(write(fd, new Uint8Array(3 * 4096), 3 * 4096), 3 * 4096);
		const during = cat("/proc/meminfo");
		t.equal(kb(before, "MemFree") - kb(during, "MemFree"), 12);
		t.equal(kb(during, "Shmem"), 12, "three pages, not the 1 GiB size");
		t.equal(kb(during, "Cached"), 12);
		t.equal(kb(during, "MemTotal"), kb(before, "MemTotal"));
		close(fd);
		const after = cat("/proc/meminfo");
		t.equal(kb(after, "MemFree"), kb(before, "MemFree"));
		t.equal(kb(after, "Shmem"), 0);
	});
	t.equal(r.status, 0);
});

t.test("meminfo: 0444, a write-open is EACCES for a user and a write EIO for root", async (t) => {
	const user = await runTest(() => {
		t.equal(open("/proc/meminfo", O_WRONLY), -1);
		t.equal(errno, EACCES);
	}, { uid: 1000 });
	t.equal(user.status, 0);
	const root = await runTest(() => {
		const fd = open("/proc/meminfo", O_WRONLY);
		t.equal(write(fd, new Uint8Array(1), 1), -1);
		t.equal(errno, EIO);
	});
	t.equal(root.status, 0);
});

t.test("MemTotal leaves out reserved frames; MemAvailable is MemFree", async (t) => {
	const k = new Machine({ memBytes: 64 * 1024 * 1024 }).boot();
	const reservedAtBoot = k.buddy.nr_reserved_pages();
	k.buddy.reserve(8192, 256);
	const text = meminfoText(k);
	t.equal(kb(text, "MemTotal"), 64 * 1024 - (reservedAtBoot + 256) * 4);
	t.equal(kb(text, "MemFree"), k.buddy.nr_free_pages() * 4);
	t.equal(kb(text, "MemAvailable"), kb(text, "MemFree"));
});
