import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { Errno, EACCES, EAGAIN, EINVAL, ENOSPC, ENXIO, EPERM, EPIPE, ESPIPE } from "../kernel/errno.ts";
import { spawnProgram } from "../kernel/exec.ts";
import { KERN_INFO, formatKmsgRecord } from "../kernel/printk.ts";
import { File, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { makedev, S_IFCHR } from "./inode.ts";
import { devtmpfsCreateNode, devtmpfsMount } from "./devtmpfs.ts";
import { DEFAULT_RANDOM_SEED, PRINTKRB_RECORD_MAX, getRandomBytes } from "./memdev.ts";
import { POLLERR, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM } from "./poll.ts";
import type { Inode } from "./inode.ts";
import type { Kernel } from "../kernel/kernel.ts";

const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;
const SEEK_DATA = 3;
const enc = new TextEncoder();
const dec = new TextDecoder();

function node(k: Kernel, name: string): Inode {
	const root = devtmpfsMount(k).root;
	return root.op.lookup!(root, name)!;
}

function open(k: Kernel, name: string, f_flags = 2): File {
	const inode = node(k, name);
	const f = new File({ f_op: inode.fop, inode, path: { inode, name: `/dev/${name}` }, f_flags, f_mode: FMODE_READ | FMODE_WRITE, opener: k.init });
	f.f_op.open?.(inode, f);
	return f;
}

function read(f: File, count: number): Uint8Array {
	const ppos = { pos: f.f_pos };
	const out = f.f_op.read!(f, count, ppos);
	f.f_pos = ppos.pos;
	return out;
}

function write(f: File, data: Uint8Array | string): number {
	const ppos = { pos: f.f_pos };
	const n = f.f_op.write!(f, typeof data === "string" ? enc.encode(data) : data, ppos);
	f.f_pos = ppos.pos;
	return n;
}

function errnoOf(fn: () => unknown): number {
	try {
		fn();
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		throw e;
	}
	return 0;
}

t.test("the mem nodes have Linux's numbers and modes", async (t) => {
	const k = bootKernel();
	const want: [string, number, number][] = [["null", 3, 0o666], ["zero", 5, 0o666], ["full", 7, 0o666], ["random", 8, 0o666], ["urandom", 9, 0o666], ["kmsg", 11, 0o644]];
	for (const [name, minor, mode] of want) {
		t.equal(node(k, name).rdev, makedev(1, minor), name);
		t.equal(node(k, name).mode, S_IFCHR | mode, name);
	}
});

t.test("a major-1 minor that mem.c lacks opens with ENXIO", async (t) => {
	const k = bootKernel();
	devtmpfsMount(k);
	const inode = devtmpfsCreateNode(k, "mem", 0o640, makedev(1, 1));
	const f = new File({ f_op: inode.fop, inode, path: null, f_flags: 0, f_mode: FMODE_READ, opener: k.init });
	t.equal(errnoOf(() => f.f_op.open!(inode, f)), ENXIO);
});

t.test("/dev/null reads EOF, swallows writes and seeks to 0", async (t) => {
	const k = bootKernel();
	const f = open(k, "null");
	t.equal(read(f, 100).length, 0);
	t.equal(write(f, "hello"), 5);
	f.f_pos = 42;
	t.equal(f.f_op.llseek!(f, 1000, SEEK_END), 0);
	t.equal(f.f_pos, 0);
});

t.test("/dev/zero reads zeros and swallows writes", async (t) => {
	const k = bootKernel();
	const f = open(k, "zero");
	const out = read(f, 4096);
	t.equal(out.length, 4096);
	t.ok(out.every((b) => b === 0));
	t.equal(write(f, new Uint8Array(10)), 10);
	t.equal(f.f_op.llseek!(f, 5, SEEK_SET), 0);
});

t.test("/dev/full reads zeros and fails writes with ENOSPC", async (t) => {
	const k = bootKernel();
	const f = open(k, "full");
	t.same([...read(f, 3)], [0, 0, 0]);
	t.equal(errnoOf(() => write(f, "x")), ENOSPC);
	t.equal(f.f_op.llseek!(f, 9, SEEK_CUR), 0);
});

t.test("/dev/urandom repeats for the same seed and differs for another", async (t) => {
	const a = read(open(bootKernel(), "urandom"), 64);
	const b = read(open(bootKernel(), "urandom"), 64);
	t.same(a, b, "default seed: same bytes every boot");
	t.ok(a.some((x) => x !== 0));
	const c = read(open(bootKernel({ cmdline: "luosim.seed=42" }), "urandom"), 64);
	const d = read(open(bootKernel({ cmdline: "luosim.seed=0x2a" }), "urandom"), 64);
	t.same(c, d, "kstrtoull base 0: 42 == 0x2a");
	t.notSame(a, c);
	const e = read(open(bootKernel({ cmdline: `luosim.seed=${DEFAULT_RANDOM_SEED}` }), "urandom"), 64);
	t.same(e, a, "the default seed written out gives the default stream");
});

t.test("/dev/random and /dev/urandom share one stream per kernel", async (t) => {
	const k1 = bootKernel();
	const whole = getRandomBytes(k1, 16);
	const k2 = bootKernel();
	const first = read(open(k2, "random"), 8);
	const second = read(open(k2, "urandom"), 8);
	t.same([...first, ...second], [...whole]);
});

t.test("an invalid luosim.seed warns and uses the default", async (t) => {
	const k = bootKernel({ cmdline: "luosim.seed=banana" });
	const bytes = read(open(k, "urandom"), 16);
	t.same(bytes, read(open(bootKernel(), "urandom"), 16));
	t.ok(k.log.all().some((r) => r.text === "luosim: invalid luosim.seed=banana, using the default seed"));
});

t.test("random writes are accepted, poll is ready and lseek leaves f_pos", async (t) => {
	const k = bootKernel();
	const r = open(k, "random");
	t.equal(write(r, "entropy"), 7);
	t.equal(r.f_op.poll!(r, null), POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
	r.f_pos = 12;
	t.equal(r.f_op.llseek!(r, 100, SEEK_SET), 12);
	const u = open(k, "urandom");
	t.notOk(u.f_op.poll, "urandom has no poll: DEFAULT_POLLMASK");
});

t.test("/dev/kmsg reads one record per read, from the oldest, in the dev-kmsg format", async (t) => {
	const k = bootKernel();
	const first = k.log.all()[0]!;
	const f = open(k, "kmsg");
	const out = dec.decode(read(f, 8192));
	t.equal(out, formatKmsgRecord(first));
	t.match(out, /^6,0,0,-;Linux version /);
	const g = open(k, "kmsg");
	t.equal(dec.decode(read(g, 8192)), formatKmsgRecord(first), "each open starts at the oldest record");
});

t.test("/dev/kmsg read with a buffer too small is EINVAL and skips the record", async (t) => {
	const k = bootKernel();
	const f = open(k, "kmsg");
	const [r0, r1] = k.log.all();
	t.equal(errnoOf(() => read(f, 5)), EINVAL);
	t.equal(dec.decode(read(f, 8192)), formatKmsgRecord(r1!));
	t.not(r0, r1);
});

t.test("/dev/kmsg read is EAGAIN when nothing is new, then returns the next record", async (t) => {
	const k = bootKernel();
	const f = open(k, "kmsg");
	t.equal(f.f_op.llseek!(f, 0, SEEK_END), 0);
	t.equal(errnoOf(() => read(f, 8192)), EAGAIN);
	k.printk(KERN_INFO, "fresh");
	t.match(dec.decode(read(f, 8192)), /^6,\d+,\d+,-;fresh\n$/);
	t.equal(errnoOf(() => read(f, 8192)), EAGAIN);
});

t.test("/dev/kmsg read is EPIPE once after records were overwritten", async (t) => {
	const k = bootKernel();
	const f = open(k, "kmsg");
	for (let i = 0; i < 2000; i++) k.printk(KERN_INFO, `filler ${i} ${"x".repeat(100)}`);
	const oldest = k.log.all()[0]!;
	t.ok(oldest.seq > 0, "the buffer wrapped");
	t.equal(f.f_op.poll!(f, null), POLLIN | POLLRDNORM | POLLERR | POLLPRI);
	t.equal(errnoOf(() => read(f, 8192)), EPIPE);
	t.equal(dec.decode(read(f, 8192)), formatKmsgRecord(oldest));
});

t.test("/dev/kmsg lseek: SEEK_SET, SEEK_DATA, SEEK_END; an offset is ESPIPE, SEEK_CUR EINVAL", async (t) => {
	const k = bootKernel();
	const f = open(k, "kmsg");
	const first = formatKmsgRecord(k.log.all()[0]!);
	t.equal(f.f_op.llseek!(f, 0, SEEK_END), 0);
	t.equal(errnoOf(() => read(f, 8192)), EAGAIN);
	t.equal(f.f_op.llseek!(f, 0, SEEK_SET), 0);
	t.equal(dec.decode(read(f, 8192)), first);
	t.equal(f.f_op.llseek!(f, 0, SEEK_DATA), 0);
	t.equal(dec.decode(read(f, 8192)), first);
	t.equal(errnoOf(() => f.f_op.llseek!(f, 1, SEEK_SET)), ESPIPE);
	t.equal(errnoOf(() => f.f_op.llseek!(f, 0, SEEK_CUR)), EINVAL);
});

t.test("/dev/kmsg poll: nothing new is 0, a new record wakes the wait queue with POLLIN", async (t) => {
	const k = bootKernel();
	const f = open(k, "kmsg");
	f.f_op.llseek!(f, 0, SEEK_END);
	let woken = 0;
	t.equal(f.f_op.poll!(f, { wait: (q) => void q.add(() => woken++) }), 0);
	k.pr_info("news");
	t.equal(woken, 1);
	t.equal(f.f_op.poll!(f, null), POLLIN | POLLRDNORM);
});

t.test("/dev/kmsg write logs a record: <N> sets level and facility, LOG_USER by default", async (t) => {
	const k = bootKernel({ cmdline: "printk.devkmsg=on" });
	const f = open(k, "kmsg");
	const cases: [string, number, number, string][] = [
		["<5>hello\n", 5, 1, "hello"],
		["<30>daemon", 6, 3, "daemon"],
		["<6>kernel facility", 6, 1, "kernel facility"],
		["plain", 4, 1, "plain"],
		["<>empty", 0, 1, "empty"],
		["<x>not a prefix", 4, 1, "<x>not a prefix"],
		["cut\0here", 4, 1, "cut"],
	];
	for (const [text, level, facility, logged] of cases) {
		t.equal(write(f, text), enc.encode(text).length, text);
		const r = k.log.all().at(-1)!;
		t.same([r.level, r.facility, r.text], [level, facility, logged], text);
	}
});

t.test("/dev/kmsg write over PRINTKRB_RECORD_MAX is EINVAL and logs nothing", async (t) => {
	const k = bootKernel();
	const f = open(k, "kmsg");
	const before = k.log.next;
	t.equal(errnoOf(() => write(f, "y".repeat(PRINTKRB_RECORD_MAX + 1))), EINVAL);
	t.equal(k.log.next, before);
	t.equal(write(f, "y".repeat(PRINTKRB_RECORD_MAX)), PRINTKRB_RECORD_MAX);
});

t.test("/dev/kmsg writers are ratelimited to 10 per 5 s and the release reports the rest", async (t) => {
	const k = bootKernel();
	const f = open(k, "kmsg");
	const before = k.log.next;
	for (let i = 0; i < 15; i++) t.equal(write(f, `line ${i}`), 5 + String(i).length);
	t.equal(k.log.next - before, 10);
	k.clock.advance(5_000_000_000);
	write(f, "after the interval");
	t.equal(k.log.all().at(-1)!.text, "after the interval");
	f.put();
	t.match(k.log.all().at(-1)!.text, /: 5 output lines suppressed due to ratelimiting$/);
});

t.test("printk.devkmsg=on lifts the ratelimit; =off makes open EPERM", async (t) => {
	const k = bootKernel({ cmdline: "printk.devkmsg=on" });
	const f = open(k, "kmsg");
	const before = k.log.next;
	for (let i = 0; i < 15; i++) write(f, `line ${i}`);
	t.equal(k.log.next - before, 15);
	const off = bootKernel({ cmdline: "printk.devkmsg=off" });
	t.equal(errnoOf(() => open(off, "kmsg")), EPERM);
});

t.test("through the VFS: the kernel and unprivileged processes open the mem devices", async (t) => {
	const k = bootKernel();
	const f = k.vfs.open(null, "/dev/zero", 0);
	t.same([...k.vfs.kernelRead(f, 4)], [0, 0, 0, 0]);
	const user = spawnProgram(k, () => 0, { uid: 1000 });
	const n = k.vfs.open(user, "/dev/null", 2);
	t.equal(k.vfs.kernelWrite(n, enc.encode("abc")), 3);
	t.equal(errnoOf(() => k.vfs.open(user, "/dev/kmsg", 1)), EACCES, "kmsg is 0644");
	const r = k.vfs.open(user, "/dev/kmsg", 0);
	t.match(dec.decode(k.vfs.kernelRead(r, 8192)), /^6,0,/);
});
