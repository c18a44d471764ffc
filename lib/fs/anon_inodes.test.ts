import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { ESPIPE } from "../kernel/errno.ts";
import { FMODE_LSEEK, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { O_APPEND, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from "./fcntl.ts";
import { ANON_INODE_DEV, anonInode, anonInodeGetFile } from "./anon_inodes.ts";
import { inProcess } from "./syscalls/testing.ts";

t.test("every anonymous file of a kernel shares one 0600 inode without a file type", async (t) => {
	const k = bootKernel();
	const a = anonInodeGetFile(k, "[a]", {}, null, O_RDWR);
	const b = anonInodeGetFile(k, "[b]", {}, null, O_RDONLY);
	t.equal(a.inode, b.inode);
	t.equal(a.inode, anonInode(k));
	t.equal(a.inode.mode, 0o600);
	t.equal(a.inode.sb.dev, ANON_INODE_DEV);
	t.not(anonInode(bootKernel()), a.inode, "another kernel has its own");
});

t.test("the File: access mode and O_NONBLOCK from flags, private_data, the anon_inode:NAME path, no FMODE_LSEEK", async (t) => {
	const k = bootKernel();
	const priv = { x: 1 };
	const fops = { read: (): Uint8Array => new Uint8Array(0) };
	const f = anonInodeGetFile(k, "[luo_session]", fops, priv, O_WRONLY | O_NONBLOCK | O_APPEND);
	t.equal(f.f_op, fops);
	t.equal(f.private_data, priv);
	t.equal(f.f_flags, O_WRONLY | O_NONBLOCK);
	t.equal(f.f_mode, FMODE_WRITE);
	t.equal(f.path?.name, "anon_inode:[luo_session]");
	t.equal(anonInodeGetFile(k, "x", {}, null, O_RDWR).f_mode, FMODE_READ | FMODE_WRITE);
	t.equal(f.f_mode & FMODE_LSEEK, 0);
	let released = 0;
	const g = anonInodeGetFile(k, "[r]", { release: () => void released++ }, null, O_RDONLY);
	g.put();
	t.equal(released, 1, "the last put releases");
});

t.test("lseek and pread on an anonymous file are ESPIPE; /proc/self/fd names it", async (t) => {
	await inProcess((u) => {
		const f = anonInodeGetFile(u.p.kernel, "[test]", { read: (_f, n) => new Uint8Array(n) }, null, O_RDONLY);
		const fd = u.p.files.install(f, u.p.nofile, false);
		t.equal(u.sys("lseek", fd, 0, 0), -ESPIPE);
		t.equal(u.sys("pread64", fd, u.alloc(4), 4, 0), -ESPIPE);
		t.equal(u.sys("read", fd, u.alloc(4), 4), 4);
		const buf = u.alloc(64);
		const n = u.sys("readlink", `/proc/self/fd/${fd}`, buf, 64);
		t.equal(u.text(buf, n), "anon_inode:[test]");
	});
});
