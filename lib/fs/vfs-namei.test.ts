import t from "tap";
import { bootKernel } from "../kernel/machine.ts";
import { Errno, EACCES, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EBADF } from "../kernel/errno.ts";
import { S_ISDIR, S_ISLNK, S_ISREG } from "./inode.ts";
import { O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_WRONLY } from "./fcntl.ts";
import { vfsMkdir, vfsSymlink, vfsUnlink } from "./dirops.ts";
import { setMagicLink } from "./namei.ts";
import { anonInodeGetFile } from "./anon_inodes.ts";
import { errnoOf, inProcess } from "./syscalls/testing.ts";
import type { Kernel } from "../kernel/kernel.ts";

function touch(k: Kernel, path: string): void {
	k.vfs.open(null, path, O_CREAT | O_WRONLY, 0o644).put();
}

t.test("absolute paths, '.', '..' and repeated slashes resolve to the same inode", async (t) => {
	const k = bootKernel();
	vfsMkdir(k.vfs, null, "/tmp/a", 0o755);
	vfsMkdir(k.vfs, null, "/tmp/a/b", 0o755);
	const b = k.vfs.lookup(null, "/tmp/a/b").inode;
	t.equal(k.vfs.lookup(null, "//tmp///a/./b/").inode, b);
	t.equal(k.vfs.lookup(null, "/tmp/a/b/../b").inode, b);
	t.equal(k.vfs.lookup(null, "/tmp/a/b/..").inode, k.vfs.lookup(null, "/tmp/a").inode);
	t.equal(k.vfs.lookup(null, "/").inode, k.vfs.rootPath().inode);
	t.equal(k.vfs.lookup(null, "/..").inode, k.vfs.rootPath().inode, "'..' at / stays at /");
	t.equal(k.vfs.lookup(null, "/../../tmp").inode, k.vfs.lookup(null, "/tmp").inode);
});

t.test("the empty path is ENOENT; a missing component ENOENT", async (t) => {
	const k = bootKernel();
	t.equal(errnoOf(() => k.vfs.lookup(null, "")), ENOENT);
	t.equal(errnoOf(() => k.vfs.lookup(null, "/tmp/nope")), ENOENT);
	t.equal(errnoOf(() => k.vfs.lookup(null, "/nope/tmp")), ENOENT);
});

t.test("a non-directory in the middle is ENOTDIR, and so is a trailing slash on a file", async (t) => {
	const k = bootKernel();
	touch(k, "/tmp/f");
	t.equal(errnoOf(() => k.vfs.lookup(null, "/tmp/f/x")), ENOTDIR);
	t.equal(errnoOf(() => k.vfs.lookup(null, "/tmp/f/")), ENOTDIR);
	t.equal(errnoOf(() => k.vfs.lookup(null, "/tmp/f/.")), ENOTDIR);
	t.equal(errnoOf(() => k.vfs.lookup(null, "/tmp/f/..")), ENOTDIR);
	t.ok(S_ISDIR(k.vfs.lookup(null, "/tmp/").inode.mode), "a trailing slash on a directory is fine");
});

t.test("a component of 255 bytes is fine, 256 is ENAMETOOLONG (bytes, not characters)", async (t) => {
	const k = bootKernel();
	const ok = "a".repeat(255);
	touch(k, `/tmp/${ok}`);
	t.ok(S_ISREG(k.vfs.lookup(null, `/tmp/${ok}`).inode.mode));
	t.equal(errnoOf(() => k.vfs.lookup(null, `/tmp/${"a".repeat(256)}`)), ENAMETOOLONG);
	t.equal(errnoOf(() => touch(k, `/tmp/${"b".repeat(256)}`)), ENAMETOOLONG);
	t.equal(errnoOf(() => k.vfs.lookup(null, `/tmp/${"é".repeat(128)}`)), ENAMETOOLONG, "256 bytes of UTF-8");
	t.equal(errnoOf(() => k.vfs.lookup(null, `/tmp/${"é".repeat(127)}`)), ENOENT);
});

t.test("a path of 4095 bytes is looked up; 4096 (no room for the NUL) is ENAMETOOLONG", async (t) => {
	const k = bootKernel();
	const seg = `/${"d".repeat(99)}`;
	let p = "";
	while (p.length + seg.length < 4095) p += seg;
	const p4095 = p + "/".repeat(4095 - p.length);
	t.equal(p4095.length, 4095);
	t.equal(errnoOf(() => k.vfs.lookup(null, p4095)), ENOENT, "walked: the first directory is missing");
	t.equal(errnoOf(() => k.vfs.lookup(null, `${p4095}/`)), ENAMETOOLONG);
});

t.test("symlinks are followed in the middle and, when asked, at the end", async (t) => {
	const k = bootKernel();
	vfsMkdir(k.vfs, null, "/tmp/d", 0o755);
	touch(k, "/tmp/d/f");
	vfsSymlink(k.vfs, null, "d", "/tmp/rel");
	vfsSymlink(k.vfs, null, "/tmp/d/f", "/tmp/abs");
	vfsSymlink(k.vfs, null, "../d/f", "/tmp/d/up");
	const f = k.vfs.lookup(null, "/tmp/d/f").inode;
	t.equal(k.vfs.lookup(null, "/tmp/rel/f").inode, f, "relative symlink in the middle");
	t.equal(k.vfs.lookup(null, "/tmp/abs").inode, f, "absolute symlink at the end");
	t.equal(k.vfs.lookup(null, "/tmp/d/up").inode, f, "'..' inside a link target is relative to the link's directory");
	t.ok(S_ISLNK(k.vfs.lookup(null, "/tmp/abs", { follow: false }).inode.mode), "not followed at the end when told so");
	t.equal(k.vfs.lookup(null, "/tmp/rel/", { follow: false }).inode, k.vfs.lookup(null, "/tmp/d").inode, "a trailing slash follows anyway");
	t.equal(errnoOf(() => k.vfs.lookup(null, "/tmp/abs/")), ENOTDIR, "trailing slash on a link to a file");
});

t.test("a dangling symlink is ENOENT when followed; an empty target too", async (t) => {
	const k = bootKernel();
	vfsSymlink(k.vfs, null, "/nowhere", "/tmp/dangling");
	t.equal(errnoOf(() => k.vfs.lookup(null, "/tmp/dangling")), ENOENT);
	t.ok(S_ISLNK(k.vfs.lookup(null, "/tmp/dangling", { follow: false }).inode.mode));
});

t.test("a symlink loop is ELOOP; a chain of 40 links resolves and 41 is ELOOP", async (t) => {
	const k = bootKernel();
	vfsSymlink(k.vfs, null, "/tmp/b", "/tmp/a");
	vfsSymlink(k.vfs, null, "/tmp/a", "/tmp/b");
	t.equal(errnoOf(() => k.vfs.lookup(null, "/tmp/a")), ELOOP);
	t.equal(errnoOf(() => k.vfs.lookup(null, "/tmp/a/x")), ELOOP);
	vfsSymlink(k.vfs, null, "self", "/tmp/self");
	t.equal(errnoOf(() => k.vfs.lookup(null, "/tmp/self")), ELOOP);
	touch(k, "/tmp/end");
	vfsSymlink(k.vfs, null, "end", "/tmp/l0");
	for (let i = 1; i <= 40; i++) vfsSymlink(k.vfs, null, `l${i - 1}`, `/tmp/l${i}`);
	t.equal(k.vfs.lookup(null, "/tmp/l39").inode, k.vfs.lookup(null, "/tmp/end").inode, "40 links");
	t.equal(errnoOf(() => k.vfs.lookup(null, "/tmp/l40")), ELOOP, "41 links");
});

t.test("relative paths start at the cwd or at a directory fd", async (t) => {
	await inProcess((u) => {
		const vfs = u.p.kernel.vfs;
		vfsMkdir(vfs, u.p, "/tmp/w", 0o755);
		touch(u.p.kernel, "/tmp/w/f");
		u.p.cwd = vfs.lookup(u.p, "/tmp/w");
		t.equal(vfs.lookup(u.p, "f").inode, vfs.lookup(u.p, "/tmp/w/f").inode);
		t.equal(vfs.lookup(u.p, "..").inode, vfs.lookup(u.p, "/tmp").inode);
		const dir = vfs.open(u.p, "/tmp", O_RDONLY | O_DIRECTORY);
		const fd = u.p.files.install(dir, u.p.nofile, false);
		t.equal(vfs.lookup(u.p, "w/f", { dirfd: fd }).inode, vfs.lookup(u.p, "/tmp/w/f").inode);
		t.equal(vfs.lookup(u.p, "/tmp/w/f", { dirfd: 999 }).inode, vfs.lookup(u.p, "f").inode, "an absolute path ignores dirfd");
		t.equal(errnoOf(() => vfs.lookup(u.p, "f", { dirfd: 999 })), EBADF);
		const file = vfs.open(u.p, "/tmp/w/f", O_RDONLY);
		const ffd = u.p.files.install(file, u.p.nofile, false);
		t.equal(errnoOf(() => vfs.lookup(u.p, "x", { dirfd: ffd })), ENOTDIR, "dirfd of a regular file");
	});
});

t.test("every directory walked needs search permission (EACCES), root passes", async (t) => {
	const k = bootKernel();
	vfsMkdir(k.vfs, null, "/tmp/locked", 0o700);
	touch(k, "/tmp/locked/f");
	await inProcess((u) => {
		t.equal(errnoOf(() => u.p.kernel.vfs.lookup(u.p, "/tmp/locked/f")), EACCES);
		t.equal(errnoOf(() => u.p.kernel.vfs.lookup(u.p, "/tmp/locked/nothing")), EACCES, "EACCES before ENOENT");
		t.ok(u.p.kernel.vfs.lookup(u.p, "/tmp/locked"), "the directory itself can be looked up");
	}, { kernel: k, uid: 1000 });
	await inProcess((u) => {
		t.ok(u.p.kernel.vfs.lookup(u.p, "/tmp/locked/f"), "root has CAP_DAC_READ_SEARCH");
	}, { kernel: k });
});

t.test("a directory with x but no r can be walked but not listed", async (t) => {
	const k = bootKernel();
	vfsMkdir(k.vfs, null, "/tmp/xonly", 0o711);
	touch(k, "/tmp/xonly/f");
	await inProcess((u) => {
		t.ok(u.p.kernel.vfs.lookup(u.p, "/tmp/xonly/f"));
		t.equal(errnoOf(() => u.p.kernel.vfs.open(u.p, "/tmp/xonly", O_RDONLY)), EACCES);
	}, { kernel: k, uid: 1000 });
});

t.test("a magic link jumps to a file's path: a deleted file or an anonymous one can be reopened", async (t) => {
	const k = bootKernel();
	const vfs = k.vfs;
	const f = vfs.open(null, "/tmp/data", O_CREAT | O_RDWR, 0o644);
	vfs.kernelWrite(f, new TextEncoder().encode("kept"));
	vfsUnlink(vfs, null, "/tmp/data");
	const link = vfsSymlink(vfs, null, "/tmp/data (deleted)", "/tmp/fdlink").inode;
	setMagicLink(link, () => vfs.fileJumpPath(f));
	const again = vfs.open(null, "/tmp/fdlink", O_RDONLY);
	t.equal(again.inode, f.inode, "the same inode, though its name is gone");
	t.equal(new TextDecoder().decode(vfs.kernelRead(again, 10)), "kept");
	const anon = anonInodeGetFile(k, "[thing]", {}, null, O_RDWR);
	const alink = vfsSymlink(vfs, null, "anon_inode:[thing]", "/tmp/anonlink").inode;
	setMagicLink(alink, () => vfs.fileJumpPath(anon));
	const reopened = vfs.open(null, "/tmp/anonlink", O_RDONLY);
	t.equal(reopened.inode, anon.inode);
	t.equal(reopened.path?.name, "anon_inode:[thing]", "d_path of the internal mount is the file's own name");
	t.equal(errnoOf(() => vfs.lookup(null, "/tmp/anonlink/x")), ENOTDIR);
	setMagicLink(alink, () => {
		throw new Errno(EACCES);
	});
	t.equal(errnoOf(() => vfs.open(null, "/tmp/anonlink", O_RDONLY)), EACCES, "the jump may refuse");
});
