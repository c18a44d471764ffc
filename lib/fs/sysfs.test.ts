import t from "tap";
import { sysfsMount, kernelKobj, kobjectCreateAndAdd, kobjectDel, sysfsCreateFile, sysfsRemoveFile, sysfsCreateGroup, sysfsRemoveGroup, sysfsCreateLink, sysfsRemoveLink, sysfsNotify, kobjAttrRO, kobjAttrRW, kobjAttrWO, SYSFS_MAGIC } from "./sysfs.ts";
import type { Kobject, KobjAttribute } from "./sysfs.ts";
import { kernfsNodeOf } from "./kernfs.ts";
import { DEFAULT_POLLMASK, POLLERR, POLLPRI } from "./poll.ts";
import { File, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { S_IFDIR, S_IFREG } from "./inode.ts";
import type { Inode } from "./inode.ts";
import { Errno, EACCES, EEXIST, EINVAL, EIO, ENODEV, ENOENT, EPERM } from "../kernel/errno.ts";
import { kstrtouint } from "../kernel/kstrtox.ts";
import { runTest } from "../libc/testing.ts";
import * as libc from "../libc/mod.ts";
import { bootKernel } from "../kernel/machine.ts";
import type { Kernel, KernelConfig } from "../kernel/kernel.ts";

function newKernel(config: Partial<KernelConfig> = {}): Kernel {
	// No LUO built in: its /sys/kernel/liveupdate would be one more kobject, and the tests make their own.
	return bootKernel({ config: { LIVEUPDATE: false, ...config } });
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function errnoOf(fn: () => unknown): number {
	try {
		fn();
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		throw e;
	}
	return 0;
}

function walk(k: Kernel, path: string): Inode {
	let inode = sysfsMount(k).root;
	for (const name of path.split("/").filter(Boolean)) {
		const next = inode.op.lookup?.(inode, name);
		if (!next) throw new Error(`no ${path}`);
		inode = next;
	}
	return inode;
}

function open(inode: Inode, fmode: number): File {
	const f = new File({ f_op: inode.fop, inode, path: null, f_flags: 0, f_mode: fmode });
	f.f_op.open?.(inode, f);
	return f;
}

function readAll(f: File): string {
	let out = "";
	for (;;) {
		const ppos = { pos: f.f_pos };
		const chunk = f.f_op.read!(f, 4096, ppos);
		f.f_pos = ppos.pos;
		if (chunk.length === 0) return out;
		out += dec.decode(chunk);
	}
}

function write(f: File, text: string | Uint8Array): number {
	const ppos = { pos: f.f_pos };
	const n = f.f_op.write!(f, typeof text === "string" ? enc.encode(text) : text, ppos);
	f.f_pos = ppos.pos;
	return n;
}

/** An attribute holding a u32, parsed like kstrtouint. */
function valueAttr(initial: number, mode = 0o644): KobjAttribute & { value: number; stores: string[] } {
	const attr = {
		name: "value",
		mode,
		value: initial,
		stores: [] as string[],
		show: (): string => `${attr.value}\n`,
		store: (_k: Kobject, _a: KobjAttribute, buf: string, count: number): number => {
			attr.stores.push(buf);
			attr.value = kstrtouint(buf);
			return count;
		},
	};
	return attr;
}

t.test("/sys is a 0555 sysfs root with /sys/kernel and the empty /sys/kernel/debug", async (t) => {
	const k = newKernel();
	const sb = sysfsMount(k);
	t.equal(sb.fsType, "sysfs");
	t.equal(sb.magic, SYSFS_MAGIC);
	t.equal(sb, sysfsMount(k), "one superblock per kernel");
	t.equal(sb.root.mode, S_IFDIR | 0o555);
	const kernel = walk(k, "kernel");
	t.equal(kernel.mode, S_IFDIR | 0o755);
	t.equal(kernelKobj(k).sd.inode, kernel);
	const debug = walk(k, "kernel/debug");
	t.equal(debug.mode, S_IFDIR | 0o555);
	t.same(debug.op.readdir!(debug), []);
	t.not(sysfsMount(newKernel()), sb, "another kernel has its own");
});

t.test("no /sys/kernel/debug without CONFIG_DEBUG_FS", async (t) => {
	const k = newKernel({ DEBUG_FS: false });
	t.throws(() => walk(k, "kernel/debug"));
});

t.test("an attribute reads as its show text, is root-owned with its mode and size 4096", async (t) => {
	const k = newKernel();
	const kobj = kobjectCreateAndAdd(k, "liveupdate", kernelKobj(k));
	sysfsCreateFile(kobj, kobjAttrRO("state", () => "normal\n"));
	const inode = walk(k, "kernel/liveupdate/state");
	t.equal(inode.mode, S_IFREG | 0o444);
	t.equal(inode.uid, 0);
	t.equal(inode.gid, 0);
	t.equal(inode.size, 4096);
	t.equal(readAll(open(inode, FMODE_READ)), "normal\n");
});

t.test("read one byte at a time gives the whole text", async (t) => {
	const k = newKernel();
	let calls = 0;
	sysfsCreateFile(kernelKobj(k), kobjAttrRO("text", () => `call ${++calls}\n`));
	const f = open(walk(k, "kernel/text"), FMODE_READ);
	let out = "";
	for (;;) {
		const ppos = { pos: f.f_pos };
		const b = f.f_op.read!(f, 1, ppos);
		f.f_pos = ppos.pos;
		if (b.length === 0) break;
		out += dec.decode(b);
	}
	t.equal(out, "call 1\n");
	t.equal(calls, 1);
});

t.test("show output is cut to PAGE_SIZE-1 bytes, with a warning", async (t) => {
	const k = newKernel();
	sysfsCreateFile(kernelKobj(k), kobjAttrRO("big", function big_show() {
		return "x".repeat(5000);
	}));
	t.equal(readAll(open(walk(k, "kernel/big"), FMODE_READ)).length, 4095);
	t.match(k.log.all().map((r) => r.text).join("\n"), /fill_read_buffer: big_show returned bad count/);
	sysfsCreateFile(kernelKobj(k), kobjAttrRO("exact", () => "y".repeat(4095)));
	t.equal(readAll(open(walk(k, "kernel/exact"), FMODE_READ)).length, 4095, "4095 bytes pass untouched");
});

t.test("store gets the whole write in one call and its return is the write's", async (t) => {
	const k = newKernel();
	const attr = valueAttr(1);
	sysfsCreateFile(kernelKobj(k), attr);
	const f = open(walk(k, "kernel/value"), FMODE_READ | FMODE_WRITE);
	t.equal(write(f, "1234\n"), 5);
	t.same(attr.stores, ["1234\n"]);
	t.equal(attr.value, 1234);
	f.f_pos = 0;
	t.equal(readAll(f), "1234\n");
	const long = "7".repeat(6000);
	attr.store = (_k, _a, buf, count): number => {
		attr.stores.push(buf);
		return count;
	};
	t.equal(write(f, long), 4096, "a write longer than a page stores its first page");
	t.equal(attr.stores[1]!.length, 4096);
});

t.test("store errors are the write's errno and change nothing", async (t) => {
	const k = newKernel();
	const attr = valueAttr(7);
	sysfsCreateFile(kernelKobj(k), attr);
	const f = open(walk(k, "kernel/value"), FMODE_READ | FMODE_WRITE);
	t.equal(errnoOf(() => write(f, "banana")), EINVAL);
	t.equal(attr.value, 7);
	t.equal(write(f, new Uint8Array(0)), 0, "an empty write does not reach store");
	t.equal(attr.stores.length, 1);
});

t.test("write-open of a 0444 attribute is EACCES even for root; read-open of a 0200 one too", async (t) => {
	const k = newKernel();
	sysfsCreateFile(kernelKobj(k), valueAttr(1, 0o444));
	sysfsCreateFile(kernelKobj(k), kobjAttrWO("trigger", (_k, _a, _b, count) => count));
	t.equal(errnoOf(() => open(walk(k, "kernel/value"), FMODE_WRITE)), EACCES);
	t.equal(errnoOf(() => open(walk(k, "kernel/trigger"), FMODE_READ)), EACCES);
	t.equal(write(open(walk(k, "kernel/trigger"), FMODE_WRITE), "go"), 2);
});

t.test("a writable mode without store, or a readable one without show, is EIO on use", async (t) => {
	const k = newKernel();
	sysfsCreateFile(kernelKobj(k), { name: "odd", mode: 0o644 });
	const f = open(walk(k, "kernel/odd"), FMODE_READ | FMODE_WRITE);
	t.equal(errnoOf(() => write(f, "1")), EIO);
	t.equal(errnoOf(() => readAll(f)), EIO);
});

t.test("duplicate names are EEXIST with the kernel's warnings", async (t) => {
	const k = newKernel();
	const kobj = kobjectCreateAndAdd(k, "liveupdate", kernelKobj(k));
	sysfsCreateFile(kobj, kobjAttrRO("state", () => ""));
	t.equal(errnoOf(() => sysfsCreateFile(kobj, kobjAttrRO("state", () => ""))), EEXIST);
	t.equal(errnoOf(() => kobjectCreateAndAdd(k, "liveupdate", kernelKobj(k))), EEXIST);
	const log = k.log.all().map((r) => r.text).join("\n");
	t.match(log, /sysfs: cannot create duplicate filename '\/kernel\/liveupdate\/state'/);
	t.match(log, /kobject_add_internal failed for liveupdate with -EEXIST/);
});

t.test("kobject names and top-level kobjects", async (t) => {
	const k = newKernel();
	const top = kobjectCreateAndAdd(k, "a/b", null);
	t.equal(top.name, "a!b", "a slash becomes '!'");
	t.equal(walk(k, "a!b"), top.sd.inode);
});

t.test("kobject_del removes the directory; open attributes then fail with ENODEV", async (t) => {
	const k = newKernel();
	const kobj = kobjectCreateAndAdd(k, "gone", kernelKobj(k));
	sysfsCreateFile(kobj, kobjAttrRO("a", () => "a\n"));
	const f = open(walk(k, "kernel/gone/a"), FMODE_READ);
	kobjectDel(kobj);
	t.throws(() => walk(k, "kernel/gone"));
	t.equal(errnoOf(() => readAll(f)), ENODEV);
	t.equal(errnoOf(() => sysfsCreateFile(kobj, kobjAttrRO("b", () => ""))), ENOENT);
});

t.test("sysfs_remove_file removes only that attribute, silently if absent", async (t) => {
	const k = newKernel();
	const attr = kobjAttrRO("a", () => "");
	sysfsCreateFile(kernelKobj(k), attr);
	sysfsRemoveFile(kernelKobj(k), attr);
	sysfsRemoveFile(kernelKobj(k), "a");
	t.throws(() => walk(k, "kernel/a"));
	t.ok(walk(k, "kernel/debug"));
});

t.test("groups: named in a subdirectory, rolled back on failure, removable", async (t) => {
	const k = newKernel();
	const kobj = kernelKobj(k);
	const grp = { name: "grp", attrs: [kobjAttrRO("x", () => "x\n"), kobjAttrRW("y", () => "y\n", (_k, _a, _b, c) => c)] };
	sysfsCreateGroup(kobj, grp);
	t.equal(readAll(open(walk(k, "kernel/grp/y"), FMODE_READ)), "y\n");
	t.equal(walk(k, "kernel/grp/x").mode, S_IFREG | 0o444);
	t.equal(kernfsNodeOf(walk(k, "kernel/grp"))!.priv, kobj, "the group directory belongs to the kobject");
	sysfsRemoveGroup(kobj, grp);
	t.throws(() => walk(k, "kernel/grp"));
	sysfsCreateFile(kobj, kobjAttrRO("b", () => ""));
	const bad = { attrs: [kobjAttrRO("a", () => ""), kobjAttrRO("b", () => "")] };
	t.equal(errnoOf(() => sysfsCreateGroup(kobj, bad)), EEXIST);
	t.throws(() => walk(k, "kernel/a"), "the attribute made before the failure is gone");
	t.ok(walk(k, "kernel/b"), "the existing one stays");
});

t.test("links point at kobjects by relative path", async (t) => {
	const k = newKernel();
	const a = kobjectCreateAndAdd(k, "a", null);
	sysfsCreateLink(kernelKobj(k), a, "toA");
	const link = walk(k, "kernel/toA");
	t.equal(link.op.readlink!(link), "../a");
	sysfsRemoveLink(kernelKobj(k), "toA");
	t.throws(() => walk(k, "kernel/toA"));
});

t.test("sysfs_notify flags POLLPRI|POLLERR for open files until they read from offset 0", async (t) => {
	const k = newKernel();
	const kobj = kobjectCreateAndAdd(k, "liveupdate", kernelKobj(k));
	sysfsCreateFile(kobj, kobjAttrRO("state", () => "normal\n"));
	sysfsCreateGroup(kobj, { name: "sub", attrs: [kobjAttrRO("s", () => "s\n")] });
	const f = open(walk(k, "kernel/liveupdate/state"), FMODE_READ);
	const g = open(walk(k, "kernel/liveupdate/sub/s"), FMODE_READ);
	readAll(f);
	readAll(g);
	t.equal(f.f_op.poll!(f, null), DEFAULT_POLLMASK);
	sysfsNotify(kobj, null, "state");
	t.equal(f.f_op.poll!(f, null), DEFAULT_POLLMASK | POLLPRI | POLLERR);
	t.equal(g.f_op.poll!(g, null), DEFAULT_POLLMASK, "only the named attribute");
	sysfsNotify(kobj, "sub", "s");
	t.equal(g.f_op.poll!(g, null), DEFAULT_POLLMASK | POLLPRI | POLLERR, "an attribute in a subdirectory");
	sysfsNotify(kobj, null, "missing");
	sysfsNotify(kobj, "nodir", "state");
	f.f_pos = 0;
	readAll(f);
	t.equal(f.f_op.poll!(f, null), DEFAULT_POLLMASK);
});

t.test("through the syscalls: text, store errors, EACCES for root on 0444 and for uid 1000 on 0644", async (t) => {
	const setup = (k: Kernel): void => {
		const kobj = kobjectCreateAndAdd(k, "luotest", kernelKobj(k));
		sysfsCreateFile(kobj, kobjAttrRO("state", () => "text\n"));
		sysfsCreateFile(kobj, valueAttr(5));
	};
	const body = (): number => {
		const buf = new Uint8Array(64);
		const fd = libc.open("/sys/kernel/luotest/state", libc.O_RDONLY);
		const n = libc.read(fd, buf, 64);
		t.equal(dec.decode(buf.subarray(0, n)), "text\n");
		const st = new libc.Stat();
		t.equal(libc.stat("/sys/kernel/luotest/state", st), 0);
		t.same([st.st_mode, st.st_uid, st.st_gid, st.st_size], [S_IFREG | 0o444, 0, 0, 4096]);
		t.equal(libc.open("/sys/kernel/luotest/state", libc.O_WRONLY), -1);
		t.equal(libc.errno, EACCES);
		const v = libc.open("/sys/kernel/luotest/value", libc.O_RDWR);
		const bad = enc.encode("banana\n");
		t.equal(libc.write(v, bad, bad.length), -1);
		t.equal(libc.errno, EINVAL);
		const good = enc.encode("42\n");
		t.equal(libc.write(v, good, good.length), 3);
		t.equal(libc.pread(v, buf, 64, 0), 3);
		t.equal(dec.decode(buf.subarray(0, 3)), "42\n");
		return 0;
	};
	const root = await runTest(body, { setup });
	t.equal(root.status, 0, root.stderr);
	const user = await runTest(() => {
		t.equal(libc.open("/sys/kernel/luotest/value", libc.O_WRONLY), -1);
		t.equal(libc.errno, EACCES, "the mode bits apply to uid 1000");
		t.ok(libc.open("/sys/kernel/luotest/value", libc.O_RDONLY) >= 0);
		return 0;
	}, { setup, uid: 1000 });
	t.equal(user.status, 0, user.stderr);
});

t.test("through the syscalls: echo-style O_TRUNC opens work, lseek uses the 4096 size, /sys lists kobjects", async (t) => {
	let attr: ReturnType<typeof valueAttr> | null = null;
	const r = await runTest(() => {
		const fd = libc.open("/sys/kernel/value", libc.O_WRONLY | libc.O_CREAT | libc.O_TRUNC, 0o644);
		t.ok(fd >= 0, "O_TRUNC on an attribute is accepted and ignored");
		const b = enc.encode("9\n");
		t.equal(libc.write(fd, b, b.length), 2);
		t.equal(attr!.value, 9);
		const st = new libc.Stat();
		t.equal(libc.fstat(fd, st), 0);
		t.equal(st.st_size, 4096);
		const rfd = libc.open("/sys/kernel/value", libc.O_RDONLY);
		t.equal(libc.lseek(rfd, 0, libc.SEEK_END), 4096);
		t.equal(libc.lseek(rfd, 1, libc.SEEK_SET), 1);
		const buf = new Uint8Array(8);
		t.equal(libc.read(rfd, buf, 8), 1, "a read at offset 1 renders the text again from there");
		t.equal(dec.decode(buf.subarray(0, 1)), "\n");
		const dir = libc.opendir("/sys/kernel");
		const names: string[] = [];
		for (let e = libc.readdir(dir!); e; e = libc.readdir(dir!)) names.push(e.d_name);
		t.same(names, [".", "..", "debug", "liveupdate", "value"], "LUO's kobject is there in the default boot");
		t.equal(libc.mkdir("/sys/kernel/new", 0o755), -1);
		t.equal(libc.errno, EPERM, "userspace cannot create in sysfs");
		return 0;
	}, { setup: (k) => sysfsCreateFile(kernelKobj(k), (attr = valueAttr(1))) });
	t.equal(r.status, 0, r.stderr);
});
