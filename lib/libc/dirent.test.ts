import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, set_errno, opendir, fdopendir, readdir, rewinddir, closedir, dirfd, mkdir, open, close, symlink, fcntl,
	O_CREAT, O_WRONLY, O_RDONLY, F_GETFD, FD_CLOEXEC, DT_DIR, DT_REG, DT_LNK, ENOENT, ENOTDIR, EBADF, type Dirent,
} from "./mod.ts";

t.test("opendir/readdir list ., .. and the entries with their types; end is null with errno unchanged", async (t) => {
	const r = await runTest(() => {
		mkdir("/tmp/d", 0o755);
		mkdir("/tmp/d/sub", 0o755);
		close(open("/tmp/d/file", O_CREAT | O_WRONLY, 0o644));
		symlink("file", "/tmp/d/link");
		const d = opendir("/tmp/d");
		t.ok(d);
		t.equal(fcntl(dirfd(d!), F_GETFD), FD_CLOEXEC, "opened O_CLOEXEC");
		const seen = new Map<string, Dirent>();
		set_errno(0);
		for (let e = readdir(d!); e; e = readdir(d!)) seen.set(e.d_name, e);
		t.equal(errno, 0, "end of directory leaves errno");
		t.same([...seen.keys()].sort(), [".", "..", "file", "link", "sub"]);
		t.equal(seen.get(".")!.d_type, DT_DIR);
		t.equal(seen.get("sub")!.d_type, DT_DIR);
		t.equal(seen.get("file")!.d_type, DT_REG);
		t.equal(seen.get("link")!.d_type, DT_LNK);
		t.ok(seen.get("file")!.d_ino > 0);
		rewinddir(d!);
		t.ok(readdir(d!), "rewound");
		t.equal(closedir(d!), 0);
		t.equal(closedir(d!), -1);
		t.equal(errno, EBADF);
	});
	t.equal(r.status, 0);
});

t.test("opendir errors: ENOENT, ENOTDIR; fdopendir checks the fd", async (t) => {
	const r = await runTest(() => {
		t.equal(opendir("/nope"), null);
		t.equal(errno, ENOENT);
		close(open("/tmp/f", O_CREAT | O_WRONLY, 0o644));
		t.equal(opendir("/tmp/f"), null);
		t.equal(errno, ENOTDIR);
		t.equal(fdopendir(open("/tmp/f", O_RDONLY)), null);
		t.equal(errno, ENOTDIR);
		t.equal(fdopendir(77), null);
		t.equal(errno, EBADF);
		const d = fdopendir(open("/tmp", O_RDONLY));
		t.ok(d);
		t.ok(readdir(d!));
	});
	t.equal(r.status, 0);
});

t.test("readdir on a DIR whose fd was closed is EBADF", async (t) => {
	const r = await runTest(() => {
		const d = opendir("/")!;
		close(dirfd(d));
		set_errno(0);
		t.equal(readdir(d), null);
		t.equal(errno, EBADF);
	});
	t.equal(r.status, 0);
});

t.test("a large directory is read across several getdents64 calls", async (t) => {
	const r = await runTest(() => {
		mkdir("/tmp/big", 0o755);
		for (let i = 0; i < 1500; i++) close(open(`/tmp/big/file-with-a-long-name-${i}`, O_CREAT | O_WRONLY, 0o644));
		const d = opendir("/tmp/big")!;
		let n = 0;
		while (readdir(d)) n++;
		t.equal(n, 1502);
		closedir(d);
	});
	t.equal(r.status, 0);
});
