import t from "tap";
import { KernfsRoot, kernfsRemove } from "./kernfs.ts";
import { kernfsCreateFile, kernfsNotify } from "./kernfsFile.ts";
import { DEFAULT_POLLMASK, POLLERR, POLLPRI } from "./poll.ts";
import type { KernfsOps, KernfsNode } from "./kernfs.ts";
import { File, FMODE_READ, FMODE_WRITE } from "./file.ts";
import type { PollTable } from "./file.ts";
import { Errno, EACCES, EINVAL, EIO, ENODEV } from "../kernel/errno.ts";
import type { WaitQueue } from "../kernel/waitqueue.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function newRoot(extraOpenPermCheck = true): KernfsRoot {
	let now = 1000;
	return new KernfsRoot({ fsType: "sysfs", magic: 0x62656572, dev: 22, rootMode: 0o555, extraOpenPermCheck, now: () => now++ });
}

function open(kn: KernfsNode, fmode: number): File {
	const f = new File({ f_op: kn.inode.fop, inode: kn.inode, path: null, f_flags: 0, f_mode: fmode });
	f.f_op.open?.(kn.inode, f);
	return f;
}

function read(f: File, count: number): string {
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

function errnoOf(fn: () => unknown): number {
	try {
		fn();
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		throw e;
	}
	return 0;
}

/** A show op that counts its calls and returns `text()`. */
function counter(text: () => string): KernfsOps & { shows: number; writes: Uint8Array[] } {
	const ops = {
		shows: 0,
		writes: [] as Uint8Array[],
		seqShow: (): Uint8Array => {
			ops.shows++;
			return enc.encode(text());
		},
		write: (_of: unknown, buf: Uint8Array): number => {
			ops.writes.push(buf);
			return buf.length;
		},
	};
	return ops;
}

class RecordingPt implements PollTable {
	queues: WaitQueue[] = [];
	wait(q: WaitQueue): void {
		this.queues.push(q);
	}
}


t.test("a read at offset 0 calls show; later reads page through that snapshot", async (t) => {
	const root = newRoot();
	let value = "hello world\n";
	const ops = counter(() => value);
	const kn = kernfsCreateFile(root.node, "a", { mode: 0o444, ops });
	const f = open(kn, FMODE_READ);
	let text = "";
	for (;;) {
		const chunk = read(f, 1);
		if (chunk === "") break;
		text += chunk;
		value = "changed meanwhile\n";
	}
	t.equal(text, "hello world\n", "one byte at a time gives the whole first text");
	t.equal(ops.shows, 1, "show ran once");
	t.equal(read(f, 100), "", "still EOF");
	t.equal(ops.shows, 1, "EOF does not call show");
	f.f_pos = 0;
	t.equal(read(f, 100), "changed meanwhile\n", "offset 0 renders again");
	t.equal(ops.shows, 2);
});

t.test("each open file has its own snapshot", async (t) => {
	const root = newRoot();
	let n = 0;
	const kn = kernfsCreateFile(root.node, "a", { mode: 0o444, ops: counter(() => `value ${++n}\n`) });
	const f1 = open(kn, FMODE_READ);
	const f2 = open(kn, FMODE_READ);
	t.equal(read(f1, 3), "val");
	t.equal(read(f2, 3), "val");
	t.equal(read(f1, 100), "ue 1\n");
	t.equal(read(f2, 100), "ue 2\n");
});

t.test("a read at an offset other than where the last one stopped renders again from there", async (t) => {
	const root = newRoot();
	const ops = counter(() => "0123456789\n");
	const kn = kernfsCreateFile(root.node, "a", { mode: 0o444, ops });
	const f = open(kn, FMODE_READ);
	f.f_pos = 4;
	t.equal(read(f, 3), "456");
	t.equal(ops.shows, 1);
	t.equal(read(f, 100), "789\n");
	f.f_pos = 50;
	t.equal(read(f, 100), "", "past the end is EOF");
	t.equal(ops.shows, 2);
});

t.test("show errors reach the reader; an empty show is EOF", async (t) => {
	const root = newRoot();
	const bad = kernfsCreateFile(root.node, "bad", {
		mode: 0o444,
		ops: {
			seqShow: () => {
				throw new Errno(EIO);
			},
		},
	});
	const f = open(bad, FMODE_READ);
	t.equal(errnoOf(() => read(f, 10)), EIO);
	const empty = kernfsCreateFile(root.node, "empty", { mode: 0o444, ops: counter(() => "") });
	t.equal(read(open(empty, FMODE_READ), 10), "");
});

t.test("a write reaches the op in one call of at most PAGE_SIZE bytes and advances the offset", async (t) => {
	const root = newRoot();
	const ops = counter(() => "");
	const kn = kernfsCreateFile(root.node, "a", { mode: 0o644, ops });
	const f = open(kn, FMODE_WRITE);
	t.equal(write(f, "1234567"), 7);
	t.equal(ops.writes.length, 1);
	t.equal(dec.decode(ops.writes[0]), "1234567");
	t.equal(f.f_pos, 7);
	t.equal(write(f, "x".repeat(10000)), 4096, "a long write is cut to one page");
	t.equal(ops.writes[1]!.length, 4096);
});

t.test("the write op's return value and errors are the write's", async (t) => {
	const root = newRoot();
	const kn = kernfsCreateFile(root.node, "a", {
		mode: 0o644,
		ops: {
			seqShow: () => new Uint8Array(0),
			write: (_of, buf) => {
				if (buf[0] === 0x78) throw new Errno(EINVAL);
				return 2;
			},
		},
	});
	const f = open(kn, FMODE_WRITE);
	t.equal(write(f, "12345"), 2);
	t.equal(f.f_pos, 2);
	t.equal(errnoOf(() => write(f, "x")), EINVAL);
	t.equal(f.f_pos, 2, "a failed write leaves the offset");
});

t.test("with the extra check, opens need the op and a mode bit, even for root", async (t) => {
	const root = newRoot();
	const ro = kernfsCreateFile(root.node, "ro", { mode: 0o444, ops: counter(() => "") });
	const rwNoWriteBits = kernfsCreateFile(root.node, "r", { mode: 0o444, ops: counter(() => "") });
	const showOnly = kernfsCreateFile(root.node, "s", { mode: 0o644, ops: { seqShow: () => new Uint8Array(0) } });
	const wo = kernfsCreateFile(root.node, "wo", { mode: 0o200, ops: counter(() => "") });
	t.equal(errnoOf(() => open(ro, FMODE_WRITE)), EACCES);
	t.equal(errnoOf(() => open(rwNoWriteBits, FMODE_READ | FMODE_WRITE)), EACCES);
	t.equal(errnoOf(() => open(showOnly, FMODE_WRITE)), EACCES, "no write op");
	t.equal(errnoOf(() => open(wo, FMODE_READ)), EACCES, "no read bit");
	t.ok(open(wo, FMODE_WRITE));
	t.ok(open(ro, FMODE_READ));
});

t.test("without the extra check, the ops do not decide who may open", async (t) => {
	const root = newRoot(false);
	const ro = kernfsCreateFile(root.node, "ro", { mode: 0o444, ops: { seqShow: () => new Uint8Array(0) } });
	const f = open(ro, FMODE_WRITE);
	t.equal(errnoOf(() => write(f, "1")), EINVAL, "no write op");
});

t.test("poll: a change until the first read, then nothing until notify, then a change until read at 0", async (t) => {
	const root = newRoot();
	const kn = kernfsCreateFile(root.node, "a", { mode: 0o444, ops: counter(() => "v\n") });
	const f = open(kn, FMODE_READ);
	const pt = new RecordingPt();
	t.equal(f.f_op.poll!(f, pt), DEFAULT_POLLMASK | POLLPRI | POLLERR, "a fresh open file has not seen the current event");
	t.equal(pt.queues.length, 1, "poll registers on the node's queue");
	read(f, 100);
	t.equal(f.f_op.poll!(f, null), DEFAULT_POLLMASK);
	let woken = 0;
	pt.queues[0]!.add(() => woken++);
	kernfsNotify(kn);
	t.equal(woken, 1, "notify wakes the pollers");
	t.equal(f.f_op.poll!(f, null), DEFAULT_POLLMASK | POLLPRI | POLLERR);
	t.equal(read(f, 100), "", "reading on at EOF does not clear it");
	t.equal(f.f_op.poll!(f, null), DEFAULT_POLLMASK | POLLPRI | POLLERR);
	f.f_pos = 0;
	read(f, 100);
	t.equal(f.f_op.poll!(f, null), DEFAULT_POLLMASK);
});

t.test("poll state is per open file and dies with the last close", async (t) => {
	const root = newRoot();
	const kn = kernfsCreateFile(root.node, "a", { mode: 0o444, ops: counter(() => "v\n") });
	const f1 = open(kn, FMODE_READ);
	const f2 = open(kn, FMODE_READ);
	read(f1, 10);
	read(f2, 10);
	kernfsNotify(kn);
	f1.f_pos = 0;
	read(f1, 10);
	t.equal(f1.f_op.poll!(f1, null), DEFAULT_POLLMASK);
	t.equal(f2.f_op.poll!(f2, null), DEFAULT_POLLMASK | POLLPRI | POLLERR);
	f1.put();
	f2.put();
	t.equal(kn.openNode, null);
	kernfsNotify(kn);
	t.pass("notify without open files is a no-op");
});

t.test("a removed file: reads and writes are ENODEV, poll reports a change, open is ENODEV", async (t) => {
	const root = newRoot();
	const kn = kernfsCreateFile(root.node, "a", { mode: 0o644, ops: counter(() => "v\n") });
	const f = open(kn, FMODE_READ | FMODE_WRITE);
	read(f, 100);
	kernfsRemove(kn);
	f.f_pos = 0;
	t.equal(errnoOf(() => read(f, 10)), ENODEV);
	t.equal(errnoOf(() => write(f, "1")), ENODEV);
	t.equal(f.f_op.poll!(f, null), DEFAULT_POLLMASK | POLLPRI | POLLERR);
	t.equal(errnoOf(() => open(kn, FMODE_READ)), ENODEV);
	f.put();
});

t.test("without the extra check, reading a node that cannot show is EINVAL", async (t) => {
	const root = newRoot(false);
	const wo = kernfsCreateFile(root.node, "wo", { mode: 0o644, ops: { write: (_of, buf) => buf.length } });
	const f = open(wo, FMODE_READ | FMODE_WRITE);
	t.equal(errnoOf(() => read(f, 10)), EINVAL);
	t.equal(write(f, "ok"), 2);
});
