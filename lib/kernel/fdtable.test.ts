import t from "tap";
import { FdTable } from "./fdtable.ts";
import { Errno, EBADF, EMFILE } from "./errno.ts";
import { File } from "../fs/file.ts";
import { Inode, S_IFREG } from "../fs/inode.ts";
import type { SuperBlock } from "../fs/inode.ts";

const sb = { dev: 0, root: null, magic: 0 } as unknown as SuperBlock;

/** A File that counts its releases. */
function file(released: string[] = [], name = "f"): File {
	const inode = new Inode({ sb, mode: S_IFREG | 0o644, fop: { release: () => void released.push(name) } });
	return new File({ f_op: inode.fop, inode, path: null, f_flags: 0, f_mode: 0 });
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

t.test("install takes the lowest free fd at or above minFd; EMFILE at the limit", async (t) => {
	const ft = new FdTable();
	const f = file();
	t.equal(ft.install(f, 6, false), 0);
	t.equal(ft.install(f, 6, false), 1);
	t.equal(ft.install(f, 6, false, 4), 4);
	t.equal(errnoOf(() => ft.install(f, 6, false, 6)), EMFILE, "minFd at the limit");
	t.equal(ft.install(f, 6, false), 2);
	t.equal(ft.install(f, 6, false), 3);
	t.equal(ft.install(f, 6, false), 5);
	t.equal(errnoOf(() => ft.install(f, 6, false)), EMFILE);
	ft.remove(1);
	t.equal(ft.install(f, 6, false), 1, "a closed fd is reused first");
	t.same(ft.fds(), [0, 1, 2, 3, 4, 5]);
	t.equal(ft.size(), 6);
});

t.test("get, has and remove: EBADF for closed, negative and non-integer fds", async (t) => {
	const ft = new FdTable();
	const f = file();
	ft.install(f, 10, false);
	t.equal(ft.get(0), f);
	t.ok(ft.has(0));
	t.notOk(ft.has(1));
	for (const fd of [1, -1, 0.5, NaN]) t.equal(errnoOf(() => ft.get(fd)), EBADF, `get(${fd})`);
	t.equal(errnoOf(() => ft.remove(3)), EBADF);
	t.equal(ft.remove(0), f);
	t.equal(errnoOf(() => ft.get(0)), EBADF);
	t.equal(ft.size(), 0);
});

t.test("replace puts a file at exactly fd and returns the old one; EBADF outside 0..limit-1", async (t) => {
	const ft = new FdTable();
	const a = file();
	const b = file();
	t.equal(ft.replace(4, a, 10, false), undefined);
	t.equal(ft.replace(4, b, 10, true), a);
	t.equal(ft.get(4), b);
	t.ok(ft.getCloexec(4));
	t.equal(ft.size(), 1);
	t.equal(errnoOf(() => ft.replace(10, a, 10, false)), EBADF);
	t.equal(errnoOf(() => ft.replace(-1, a, 10, false)), EBADF);
});

t.test("close-on-exec: per fd, taken out by takeCloseOnExec", async (t) => {
	const ft = new FdTable();
	const f = file();
	ft.install(f, 10, true);
	ft.install(f, 10, false);
	ft.install(f, 10, true);
	ft.setCloexec(1, true);
	ft.setCloexec(0, false);
	t.equal(errnoOf(() => ft.setCloexec(7, true)), EBADF);
	t.equal(errnoOf(() => ft.getCloexec(7)), EBADF);
	t.equal(ft.takeCloseOnExec().length, 2);
	t.same(ft.fds(), [0]);
});

t.test("fork shares every open file description with a reference of its own; takeAll empties the table", async (t) => {
	const released: string[] = [];
	const ft = new FdTable();
	const f = file(released);
	ft.install(f, 10, false);
	ft.install(f.get(), 10, true);
	const child = ft.fork();
	t.equal(f.refcount, 4);
	t.ok(child.getCloexec(1));
	t.equal(child.get(0), f);
	for (const x of ft.takeAll()) x.put();
	t.same(released, [], "the child still holds it");
	for (const x of child.takeAll()) x.put();
	t.same(released, ["f"], "released with the last reference");
	t.equal(child.size(), 0);
});
