import t from "tap";
import { debugfsMount, debugfsApplyOptions, debugfsCreateDir, debugfsCreateFile, debugfsCreateU64, debugfsCreateU32, debugfsCreateBool, debugfsCreateBlob, debugfsCreateSymlink, debugfsLookup, debugfsRemove, debugfsAttribute, simpleOpen, simpleReadFromBuffer, DEBUGFS_MAGIC } from "./debugfs.ts";
import type { DebugfsDentry } from "./debugfs.ts";
import { File, FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE, FMODE_READ, FMODE_WRITE } from "./file.ts";
import type { FileOperations } from "./file.ts";
import { S_IFDIR, S_IFLNK, S_IFREG } from "./inode.ts";
import { Errno, EACCES, EEXIST, EINVAL, EIO, ENODEV, ENOENT, ERANGE } from "../kernel/errno.ts";
import { bootKernel } from "../kernel/machine.ts";
import type { Kernel, KernelConfig } from "../kernel/kernel.ts";
import { runTest } from "../libc/testing.ts";
import * as libc from "../libc/mod.ts";

function newKernel(config: Partial<KernelConfig> = {}): Kernel {
	return bootKernel({ config });
}

const POLLHUP = 0x10;
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

function open(d: DebugfsDentry, fmode = FMODE_READ | FMODE_WRITE): File {
	const f = new File({ f_op: d.inode.fop, inode: d.inode, path: null, f_flags: 0, f_mode: fmode | FMODE_LSEEK });
	f.f_op.open?.(d.inode, f);
	return f;
}

function read(f: File, count = 4096): string {
	const ppos = { pos: f.f_pos };
	const out = f.f_op.read!(f, count, ppos);
	f.f_pos = ppos.pos;
	return dec.decode(out);
}

function write(f: File, text: string): number {
	const ppos = { pos: f.f_pos };
	const n = f.f_op.write!(f, enc.encode(text), ppos);
	f.f_pos = ppos.pos;
	return n;
}

t.test("the debugfs root is a 0700 directory on a single superblock", async (t) => {
	const k = newKernel();
	const sb = debugfsMount(k);
	t.equal(sb.fsType, "debugfs");
	t.equal(sb.magic, DEBUGFS_MAGIC);
	t.equal(sb.root.mode, S_IFDIR | 0o700);
	t.equal(debugfsMount(k), sb);
});

t.test("mount options set the root's mode and owner; unknown ones are ignored, bad values EINVAL", async (t) => {
	const k = newKernel();
	debugfsApplyOptions(k, "mode=755,uid=1000,gid=100,noatime");
	const root = debugfsMount(k).root;
	t.equal(root.mode, S_IFDIR | 0o755);
	t.equal(root.uid, 1000);
	t.equal(root.gid, 100);
	t.equal(errnoOf(() => debugfsApplyOptions(k, "mode=9")), EINVAL);
	t.equal(errnoOf(() => debugfsApplyOptions(k, "mode=700,uid=x")), EINVAL);
	t.equal(root.mode, S_IFDIR | 0o755, "a bad option changes nothing");
});

t.test("without CONFIG_DEBUG_FS every call is ENODEV", async (t) => {
	const k = newKernel({ DEBUG_FS: false });
	t.equal(errnoOf(() => debugfsMount(k)), ENODEV);
	t.equal(errnoOf(() => debugfsCreateDir(k, "demo", null)), ENODEV);
});

t.test("directories are 0755 and nest; a duplicate name is EEXIST with the kernel's message", async (t) => {
	const k = newKernel();
	const kho = debugfsCreateDir(k, "demo", null);
	const out = debugfsCreateDir(k, "out", kho);
	t.equal(kho.inode.mode, S_IFDIR | 0o755);
	t.equal(kho.inode.uid, 0);
	t.equal(debugfsLookup(k, "out", kho), out);
	t.equal(debugfsMount(k).root.op.lookup!(debugfsMount(k).root, "demo"), kho.inode);
	t.equal(errnoOf(() => debugfsCreateDir(k, "out", kho)), EEXIST);
	t.equal(errnoOf(() => debugfsCreateDir(k, "demo", null)), EEXIST);
	const log = k.log.all().map((r) => r.text).filter((l) => l.startsWith("debugfs:"));
	t.same(log, ["debugfs: File 'out' in directory 'demo' already present!", "debugfs: File 'demo' in directory '/' already present!"]);
});

t.test("a parent from another kernel or one already removed is ENOENT", async (t) => {
	const k = newKernel();
	const other = debugfsCreateDir(newKernel(), "x", null);
	t.equal(errnoOf(() => debugfsCreateDir(k, "y", other)), ENOENT);
	const d = debugfsCreateDir(k, "d", null);
	debugfsRemove(d);
	t.equal(errnoOf(() => debugfsCreateDir(k, "y", d)), ENOENT);
});

t.test("a custom file keeps its data in i_private and uses the caller's fops", async (t) => {
	const k = newKernel();
	const data = { text: "hello\n" };
	const fops: FileOperations = {
		open: simpleOpen,
		read: (file, count, ppos) => simpleReadFromBuffer(count, ppos, enc.encode((file.private_data as typeof data).text)),
	};
	const d = debugfsCreateFile(k, "f", 0o444, null, data, fops);
	t.equal(d.inode.mode, S_IFREG | 0o444);
	t.equal(d.inode.i_private, data);
	const f = open(d, FMODE_READ);
	t.equal(f.private_data, data);
	t.equal(read(f, 2), "he");
	t.equal(read(f), "llo\n");
	t.equal(read(f), "");
	t.equal(errnoOf(() => debugfsCreateFile(k, "g", 0o040755, null, data, fops)), EINVAL, "not a regular file type");
});

t.test("a file whose fops has no write has no write op (the VFS answers EINVAL)", async (t) => {
	const k = newKernel();
	const d = debugfsCreateBlob(k, "fdt", 0o600, null, { data: enc.encode("blob"), size: 4 });
	t.equal(d.inode.mode, S_IFREG | 0o400, "blob modes keep only read bits");
	const f = open(d, FMODE_READ | FMODE_WRITE);
	t.equal(f.f_op.write, undefined);
	t.equal(f.f_op.mmap, undefined);
});

t.test("a blob reads its first `size` bytes", async (t) => {
	const k = newKernel();
	const blob = { data: enc.encode("0123456789"), size: 6 };
	const f = open(debugfsCreateBlob(k, "b", 0o444, null, blob), FMODE_READ);
	t.equal(read(f), "012345");
	f.f_pos = 4;
	t.equal(read(f), "45");
	t.equal(read(f), "");
});

t.test("u64 files print %llu\\n and parse like kstrtoull", async (t) => {
	const k = newKernel();
	const v = { value: 18446744073709551615n };
	const f = open(debugfsCreateU64(k, "n", 0o600, null, v));
	t.equal(read(f), "18446744073709551615\n");
	const pos = f.f_pos;
	t.equal(write(f, "0x10\n"), 5);
	t.equal(v.value, 16n);
	t.equal(write(f, "42"), 2);
	t.equal(v.value, 42n);
	t.equal(errnoOf(() => write(f, "forty-two")), EINVAL);
	t.equal(errnoOf(() => write(f, "")), EINVAL);
	t.equal(errnoOf(() => write(f, "18446744073709551616")), ERANGE);
	t.equal(v.value, 42n, "failed writes change nothing");
	t.equal(f.f_pos, pos, "simple_attr_write does not move the offset");
	t.equal(write(f, "0".repeat(21) + "7\n" + "not parsed"), 33, "only 23 bytes are parsed, the whole length is returned");
	t.equal(v.value, 7n);
});

t.test("u64 reads render at offset 0 and continue in that text", async (t) => {
	const k = newKernel();
	const v = { value: 12345n };
	const f = open(debugfsCreateU64(k, "n", 0o444, null, v), FMODE_READ);
	t.equal(read(f, 2), "12");
	v.value = 99n;
	t.equal(read(f), "345\n");
	t.equal(read(f), "");
	f.f_pos = 0;
	t.equal(read(f), "99\n");
	t.equal(f.f_mode & (FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE), 0, "not seekable: the VFS answers ESPIPE");
});

t.test("a read-only u64 refuses writes with EACCES and a write-only one refuses reads", async (t) => {
	const k = newKernel();
	const v = { value: 1n };
	const ro = open(debugfsCreateU64(k, "ro", 0o444, null, v));
	t.equal(errnoOf(() => write(ro, "2")), EACCES);
	const wo = open(debugfsCreateU64(k, "wo", 0o200, null, v));
	t.equal(errnoOf(() => read(wo)), EACCES);
	t.equal(write(wo, "3"), 1);
	t.equal(v.value, 3n);
});

t.test("u32 files keep the low 32 bits of what is written", async (t) => {
	const k = newKernel();
	const v = { value: 5 };
	const f = open(debugfsCreateU32(k, "n", 0o644, null, v));
	t.equal(read(f), "5\n");
	write(f, "0x100000003");
	t.equal(v.value, 3);
	write(f, "4294967295");
	f.f_pos = 0;
	t.equal(read(f), "4294967295\n");
});

t.test("bool files print Y/N and parse kstrtobool; other text is ignored but consumed", async (t) => {
	const k = newKernel();
	const v = { value: false };
	const f = open(debugfsCreateBool(k, "b", 0o644, null, v));
	t.equal(read(f), "N\n");
	t.equal(write(f, "yes\n"), 4);
	t.equal(v.value, true);
	f.f_pos = 0;
	t.equal(read(f), "Y\n");
	t.equal(write(f, "off"), 3);
	t.equal(v.value, false);
	t.equal(write(f, "maybe"), 5, "garbage still returns the full count");
	t.equal(v.value, false);
	const ro = open(debugfsCreateBool(k, "ro", 0o444, null, v));
	t.equal(ro.f_op.write, undefined, "a read-only bool has no write op");
});

t.test("symlinks keep their target text", async (t) => {
	const k = newKernel();
	const l = debugfsCreateSymlink(k, "link", null, "kho/out");
	t.equal(l.inode.mode, S_IFLNK | 0o777);
	t.equal(l.inode.op.readlink!(l.inode), "kho/out");
});

t.test("remove is recursive; open files then get EIO, poll POLLHUP, new opens ENOENT", async (t) => {
	const k = newKernel();
	const dir = debugfsCreateDir(k, "demo", null);
	const v = { value: 1n };
	const n = debugfsCreateU64(k, "n", 0o644, dir, v);
	const fops: FileOperations = { poll: () => 1, read: () => new Uint8Array(0), ioctl: () => 0 };
	const p = debugfsCreateFile(k, "p", 0o644, dir, null, fops);
	const fn = open(n);
	const fp = open(p);
	t.equal(fp.f_op.poll!(fp, null), 1);
	debugfsRemove(dir);
	t.equal(debugfsLookup(k, "demo", null), null);
	t.equal(errnoOf(() => read(fn)), EIO);
	t.equal(errnoOf(() => write(fn, "2")), EIO);
	t.equal(errnoOf(() => fp.f_op.ioctl!(fp, 1, 0)), EIO);
	t.equal(fp.f_op.poll!(fp, null), POLLHUP);
	t.equal(errnoOf(() => open(n)), ENOENT);
	t.equal(v.value, 1n);
	debugfsRemove(null);
	debugfsRemove(dir);
	t.ok(debugfsCreateDir(k, "demo", null), "the name can be used again");
});

t.test("a DEFINE_DEBUGFS_ATTRIBUTE file passes get/set errors and uses its format", async (t) => {
	const k = newKernel();
	const state = { finalized: false };
	const fops = debugfsAttribute({
		get: (d) => ((d as typeof state).finalized ? 1n : 0n),
		set: (d, val) => {
			const s = d as typeof state;
			if (!!val === s.finalized) throw new Errno(val ? EEXIST : ENOENT);
			s.finalized = !!val;
		},
	});
	const f = open(debugfsCreateFile(k, "finalize", 0o600, null, state, fops));
	t.equal(read(f), "0\n");
	t.equal(errnoOf(() => write(f, "0")), ENOENT);
	t.equal(write(f, "1\n"), 2);
	t.equal(errnoOf(() => write(f, "1")), EEXIST);
	f.f_pos = 0;
	t.equal(read(f), "1\n");
	const hex = debugfsAttribute({ get: () => 255n, fmt: (v) => `0x${v.toString(16).padStart(16, "0")}\n`, signed: true, set: (d, v) => void ((d as { v: bigint }).v = v) });
	const box = { v: 0n };
	const h = open(debugfsCreateFile(k, "hex", 0o600, null, box, hex));
	t.equal(read(h), "0x00000000000000ff\n");
	write(h, "-5");
	t.equal(box.v, -5n, "signed attributes parse with kstrtoll");
});

t.test("through the syscalls: root may open a 0400 file for write and the write is EINVAL; uid 1000 is kept out by the 0700 mount", async (t) => {
	const setup = (k: Kernel): void => {
		const kho = debugfsCreateDir(k, "demo", null);
		debugfsCreateBlob(k, "fdt", 0o400, kho, { data: enc.encode("FDT"), size: 3 });
	};
	const root = await runTest(() => {
		const st = new libc.Stat();
		t.equal(libc.stat("/sys/kernel/debug", st), 0);
		t.equal(st.st_mode, S_IFDIR | 0o700);
		const fd = libc.open("/sys/kernel/debug/demo/fdt", libc.O_RDWR);
		t.ok(fd >= 0, "root passes the mode bits");
		const b = enc.encode("x");
		t.equal(libc.write(fd, b, 1), -1);
		t.equal(libc.errno, EINVAL);
		const buf = new Uint8Array(8);
		t.equal(libc.read(fd, buf, 8), 3);
		return 0;
	}, { setup });
	t.equal(root.status, 0, root.stderr);
	const user = await runTest(() => {
		t.equal(libc.open("/sys/kernel/debug/demo/fdt", libc.O_RDONLY), -1);
		t.equal(libc.errno, EACCES);
		const st = new libc.Stat();
		t.equal(libc.stat("/sys/kernel/debug/demo", st), -1);
		t.equal(libc.errno, EACCES);
		return 0;
	}, { setup, uid: 1000 });
	t.equal(user.status, 0, user.stderr);
});

t.test("through the syscalls: mounting debugfs again shows the same tree and applies its options", async (t) => {
	const r = await runTest(() => {
		t.equal(libc.mkdir("/tmp/dbg", 0o755), 0);
		t.equal(libc.mount("none", "/tmp/dbg", "debugfs", 0, "mode=755"), 0);
		const st = new libc.Stat();
		t.equal(libc.stat("/tmp/dbg/kho", st), 0);
		t.equal(st.st_mode, S_IFDIR | 0o755);
		t.equal(libc.stat("/sys/kernel/debug", st), 0);
		t.equal(st.st_mode, S_IFDIR | 0o755, "one superblock: the option shows at both mounts");
		t.equal(libc.mount("none", "/tmp/dbg", "debugfs", 0, "mode=abc"), -1);
		t.equal(libc.errno, EINVAL);
		const fd = libc.open("/tmp/dbg/demo/n", libc.O_RDWR);
		t.equal(libc.lseek(fd, 0, libc.SEEK_SET), -1);
		t.equal(libc.errno, libc.ESPIPE, "number files are not seekable");
		const b = enc.encode("0x2a");
		t.equal(libc.write(fd, b, b.length), 4);
		const buf = new Uint8Array(8);
		t.equal(libc.read(fd, buf, 8), 3);
		t.equal(dec.decode(buf.subarray(0, 3)), "42\n");
		return 0;
	}, {
		setup: (k) => {
			const kho = debugfsCreateDir(k, "demo", null);
			debugfsCreateU64(k, "n", 0o600, kho, { value: 0n });
		},
	});
	t.equal(r.status, 0, r.stderr);
});
