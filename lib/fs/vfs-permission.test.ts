import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { Cred, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH } from "../kernel/cred.ts";
import { EACCES, EEXIST, ENOENT, EPERM } from "../kernel/errno.ts";
import { Inode, S_IFDIR, S_IFREG } from "./inode.ts";
import { O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from "./fcntl.ts";
import { genericPermission, MAY_EXEC, MAY_READ, MAY_WRITE } from "./permission.ts";
import { chmodCommon } from "./open.ts";
import { vfsMkdir, vfsRename, vfsRmdir, vfsUnlink } from "./dirops.ts";
import { errnoOf, inProcess } from "./syscalls/testing.ts";
import type { SuperBlock } from "./inode.ts";

const sb = { fsType: "test", dev: 0, magic: 0, root: null } as unknown as SuperBlock;

function inode(mode: number, uid = 0, gid = 0): Inode {
	return new Inode({ sb, mode, uid, gid, fop: {} });
}

function cred(uid: number, gid: number, caps: number[] = []): Cred {
	const c = new Cred(uid, gid);
	c.capEffective = caps.reduce((s, cap) => s | (1n << BigInt(cap)), 0n);
	return c;
}

t.test("owner, group and other bits are checked against fsuid and fsgid", async (t) => {
	const f = inode(S_IFREG | 0o640, 1000, 100);
	t.ok(genericPermission(cred(1000, 5), f, MAY_READ | MAY_WRITE), "owner rw");
	t.notOk(genericPermission(cred(1000, 5), f, MAY_EXEC), "owner has no x");
	t.ok(genericPermission(cred(2000, 100), f, MAY_READ), "group r");
	t.notOk(genericPermission(cred(2000, 100), f, MAY_WRITE), "group has no w");
	t.notOk(genericPermission(cred(2000, 5), f, MAY_READ), "other has nothing");
	const c = cred(2000, 5);
	c.fsuid = 1000;
	t.ok(genericPermission(c, f, MAY_WRITE), "fsuid, not euid, decides");
	const g = inode(S_IFREG | 0o077, 1000, 100);
	t.notOk(genericPermission(cred(1000, 100), g, MAY_READ), "the owner class applies even when group or other would allow");
});

t.test("CAP_DAC_OVERRIDE passes read and write always, exec only with some x bit or on a directory", async (t) => {
	const root = cred(0, 0, [CAP_DAC_OVERRIDE]);
	const f = inode(S_IFREG | 0o000, 1000, 1000);
	t.ok(genericPermission(root, f, MAY_READ | MAY_WRITE));
	t.notOk(genericPermission(root, f, MAY_EXEC), "no x bit anywhere");
	t.ok(genericPermission(root, inode(S_IFREG | 0o001, 1000, 1000), MAY_EXEC), "an x bit for others is enough");
	t.ok(genericPermission(root, inode(S_IFDIR | 0o000, 1000, 1000), MAY_EXEC | MAY_WRITE), "directories");
});

t.test("CAP_DAC_READ_SEARCH passes read, and search on directories, but not write", async (t) => {
	const c = cred(0, 0, [CAP_DAC_READ_SEARCH]);
	t.ok(genericPermission(c, inode(S_IFREG | 0o000, 1000), MAY_READ));
	t.notOk(genericPermission(c, inode(S_IFREG | 0o000, 1000), MAY_WRITE));
	t.notOk(genericPermission(c, inode(S_IFREG | 0o000, 1000), MAY_EXEC));
	t.ok(genericPermission(c, inode(S_IFDIR | 0o000, 1000), MAY_READ | MAY_EXEC));
	t.notOk(genericPermission(c, inode(S_IFDIR | 0o000, 1000), MAY_WRITE));
	t.notOk(genericPermission(cred(0, 0), inode(S_IFREG | 0o000, 1000), MAY_READ), "a uid 0 without capabilities has only the bits");
});

t.test("uid 1000 is refused what root may do on a root-owned 0644 file", async (t) => {
	const k = bootKernel();
	k.vfs.open(null, "/tmp/rootfile", O_CREAT | O_WRONLY, 0o644).put();
	k.vfs.open(null, "/tmp/secret", O_CREAT | O_WRONLY, 0o600).put();
	await inProcess((u) => {
		const vfs = u.p.kernel.vfs;
		t.ok(vfs.open(u.p, "/tmp/rootfile", O_RDONLY), "read by others");
		t.equal(errnoOf(() => vfs.open(u.p, "/tmp/rootfile", O_WRONLY)), EACCES);
		t.equal(errnoOf(() => vfs.open(u.p, "/tmp/rootfile", O_RDONLY | O_TRUNC)), EACCES, "O_TRUNC needs write");
		t.equal(errnoOf(() => vfs.open(u.p, "/tmp/secret", O_RDONLY)), EACCES);
		t.equal(errnoOf(() => vfsMkdir(vfs, u.p, "/", 0o755)), EEXIST, "EEXIST comes first");
		t.equal(errnoOf(() => vfsMkdir(vfs, u.p, "/newdir", 0o755)), EACCES, "/ is 0755 root");
		t.equal(errnoOf(() => chmodCommon(vfs, u.p.cred, null, vfs.lookup(u.p, "/tmp/rootfile").inode, 0o777)), EPERM);
	}, { kernel: k, uid: 1000 });
	await inProcess((u) => {
		const vfs = u.p.kernel.vfs;
		t.ok(vfs.open(u.p, "/tmp/secret", O_RDWR), "root passes the mode bits");
	}, { kernel: k });
});

t.test("the sticky /tmp lets only the owner of a file (or of /tmp) remove or rename it", async (t) => {
	const k = bootKernel();
	await inProcess((u) => {
		u.p.umask = 0;
		u.p.kernel.vfs.open(u.p, "/tmp/mine", O_CREAT | O_WRONLY, 0o666).put();
		vfsMkdir(u.p.kernel.vfs, u.p, "/tmp/mydir", 0o777);
	}, { kernel: k, uid: 1000 });
	await inProcess((u) => {
		const vfs = u.p.kernel.vfs;
		t.equal(errnoOf(() => vfsUnlink(vfs, u.p, "/tmp/mine")), EPERM);
		t.equal(errnoOf(() => vfsRename(vfs, u.p, -100, "/tmp/mine", -100, "/tmp/theirs", 0)), EPERM);
		t.equal(errnoOf(() => vfsRmdir(vfs, u.p, "/tmp/mydir")), EPERM);
		t.ok(vfs.open(u.p, "/tmp/mine", O_RDWR), "but the 0666 file can be written");
	}, { kernel: k, uid: 2000 });
	await inProcess((u) => {
		vfsUnlink(u.p.kernel.vfs, u.p, "/tmp/mine");
		t.equal(errnoOf(() => u.p.kernel.vfs.lookup(u.p, "/tmp/mine")), ENOENT, "the owner removed it");
	}, { kernel: k, uid: 1000 });
	await inProcess((u) => {
		vfsRmdir(u.p.kernel.vfs, u.p, "/tmp/mydir");
		t.pass("root (CAP_FOWNER) removes anything");
	}, { kernel: k });
});

t.test("a file created by uid 1000 is owned by its fsuid and fsgid, and the mode is mode & ~umask", async (t) => {
	await inProcess((u) => {
		u.p.umask = 0o027;
		const f = u.p.kernel.vfs.open(u.p, "/tmp/owned", O_CREAT | O_WRONLY, 0o777);
		t.equal(f.inode.uid, 1000);
		t.equal(f.inode.gid, 50);
		t.equal(f.inode.mode, S_IFREG | 0o750);
		const d = vfsMkdir(u.p.kernel.vfs, u.p, "/tmp/owneddir", 0o777);
		t.equal(d.inode.mode, S_IFDIR | 0o750);
	}, { uid: 1000, gid: 50 });
});
