/**
 * Acceptance (issue 6): what a session is worth across a kexec, seen from
 * userspace with the selftests' own helpers. A session left open (held by
 * a daemon, as luo_test() does) comes back in the next kernel with every
 * memfd byte for byte, on the same page frames (/proc/self/pagemap before
 * and after); a session closed before the kexec is gone (RETRIEVE_SESSION
 * ENOENT), and closing it took back every page KHO had been told to keep
 * for it (the preserved-memory radix tree is as it was before the session
 * existed).
 */
import t from "tap";
import { Machine } from "../../lib/kernel/machine.ts";
import { spawnProgram } from "../../lib/kernel/exec.ts";
import { loadAndKexec } from "../../lib/cli/kexecRun.ts";
import { kho_radix_walk_tree } from "../../lib/kho/mainline/kho_radix.ts";
import { outTree } from "../../lib/kho/mainline/testing.ts";
import {
	close, fork, ftruncate, lseek, memfd_create, mmap, munmap, open, peek, pread, pwrite, sleep,
	ENOENT, MAP_FAILED, MAP_SHARED, O_RDONLY, PROT_READ, SEEK_CUR, SEEK_END,
} from "../../lib/libc/mod.ts";
import type { Kernel, ProgramMain } from "../../lib/kernel/kernel.ts";
import {
	luo_create_session, luo_open_device, luo_retrieve_session, luo_session_finish, luo_session_preserve_fd, luo_session_retrieve_fd,
} from "./lib/lu_utils.ts";

const P = 4096;
const PM_PFRAME_MASK = (1n << 55n) - 1n;
const PM_PRESENT = 1n << 63n;

/** The memfds of a session: token, size in pages, file position left at preserve time. */
const KEPT = [
	{ token: 0x10, pages: 1, pos: 17 },
	{ token: 0x20, pages: 5, pos: 3 * P },
	{ token: 0x30, pages: 0, pos: 0 },
];
const DROPPED = [
	{ token: 0x10, pages: 2, pos: 0 },
	{ token: 0x40, pages: 3, pos: 0 },
];

/** `pages` pages of bytes that depend on `seed` (a small LCG). */
function pattern(seed: number, pages: number): Uint8Array {
	const b = new Uint8Array(pages * P);
	let x = seed >>> 0;
	for (let i = 0; i < b.length; i++) {
		x = (Math.imul(x, 1103515245) + 12345) >>> 0;
		b[i] = x >>> 24;
	}
	return b;
}

/** The PFNs behind `pages` pages of `fd`, through a shared mapping and /proc/self/pagemap. */
function pfnsOf(fd: number, pages: number): number[] {
	if (pages === 0) return [];
	const map = mmap(0, pages * P, PROT_READ, MAP_SHARED, fd, 0);
	if (map === MAP_FAILED) throw new Error("mmap failed");
	for (let i = 0; i < pages; i++) peek(map + i * P, 1);
	const pm = open("/proc/self/pagemap", O_RDONLY);
	const buf = new Uint8Array(8 * pages);
	if (pread(pm, buf, buf.length, (map / P) * 8) !== buf.length) throw new Error("pagemap read failed");
	close(pm);
	munmap(map, pages * P);
	const dv = new DataView(buf.buffer);
	return Array.from({ length: pages }, (_, i) => {
		const e = dv.getBigUint64(i * 8, true);
		if (!(e & PM_PRESENT)) throw new Error(`page ${i} not present`);
		return Number(e & PM_PFRAME_MASK);
	});
}

/** Every block in `k`'s preserved-memory map, as "pfn/order". */
function preserved(k: Kernel): Set<string> {
	const tree = outTree(k);
	const out = new Set<string>();
	kho_radix_walk_tree(tree.pm, tree.root, (pfn, order) => out.add(`${pfn}/${order}`));
	return out;
}

/** Makes, fills and preserves the memfds of `specs` in `sfd`; their PFNs by token. */
function preserveAll(sfd: number, specs: typeof KEPT, seed: number): Map<number, number[]> {
	const pfns = new Map<number, number[]>();
	for (const s of specs) {
		const mfd = memfd_create(`m-${s.token}`, 0);
		if (mfd < 0 || ftruncate(mfd, s.pages * P) < 0) throw new Error("memfd setup failed");
		const data = pattern(seed + s.token, s.pages);
		if (s.pages && pwrite(mfd, data, data.length, 0) !== data.length) throw new Error("pwrite failed");
		lseek(mfd, s.pos, 0);
		pfns.set(s.token, pfnsOf(mfd, s.pages));
		if (luo_session_preserve_fd(sfd, mfd, s.token) !== 0) throw new Error(`preserve of ${s.token} failed`);
		close(mfd);
	}
	return pfns;
}

async function run(k: Kernel, body: ProgramMain): Promise<number> {
	const out = await k.waitForOutcome(spawnProgram(k, body));
	return out.kind === "exited" ? (out.status >> 8) & 0xff : -1;
}

t.test("a session held across kexec comes back whole on the same frames; a closed one is gone from LUO and KHO", async (t) => {
	const machine = new Machine();
	const k1 = machine.boot({ abi: "mainline" });
	let keptPfns = new Map<number, number[]>();
	let droppedPfns = new Map<number, number[]>();

	t.equal(await run(k1, () => {
		const luo_fd = luo_open_device();
		const kept = luo_create_session(luo_fd, "kept");
		keptPfns = preserveAll(kept, KEPT, 1);

		const before = preserved(k1);
		const dropped = luo_create_session(luo_fd, "dropped");
		droppedPfns = preserveAll(dropped, DROPPED, 2);
		const during = preserved(k1);
		for (const pfn of [...droppedPfns.values()].flat()) t.ok(during.has(`${pfn}/0`), `dropped data frame ${pfn} is preserved while the session is open`);
		t.ok(during.size > before.size + 5, "and so are its records");
		close(dropped);
		t.same([...preserved(k1)].sort(), [...before].sort(), "closing the session unpreserved all of it");

		fork(async () => {
			for (;;) await sleep(60);
		});
		return close(luo_fd);
	}), 0, "stage 1");

	const ev = await loadAndKexec(k1, k1.cmdline.text);
	t.equal(typeof ev === "string" ? ev : ev.kind, "kexec");
	const k2 = machine.kernel!;
	t.not(k2, k1);

	t.equal(await run(k2, () => {
		const luo_fd = luo_open_device();
		t.equal(luo_retrieve_session(luo_fd, "dropped"), -ENOENT, "the closed session did not survive");
		const kept = luo_retrieve_session(luo_fd, "kept");
		t.ok(kept >= 0, "the held session did");
		for (const s of KEPT) {
			const fd = luo_session_retrieve_fd(kept, s.token);
			t.ok(fd >= 0, `token ${s.token} retrieved`);
			t.equal(lseek(fd, 0, SEEK_CUR), s.pos, `token ${s.token}: position kept`);
			t.equal(lseek(fd, 0, SEEK_END), s.pages * P, `token ${s.token}: size kept`);
			const got = new Uint8Array(s.pages * P);
			t.equal(pread(fd, got, got.length, 0), got.length);
			t.ok(Buffer.from(got).equals(Buffer.from(pattern(1 + s.token, s.pages))), `token ${s.token}: byte for byte`);
			t.same(pfnsOf(fd, s.pages), keptPfns.get(s.token), `token ${s.token}: on the same frames`);
			close(fd);
		}
		t.equal(luo_session_finish(kept), 0);
		close(kept);
		return close(luo_fd);
	}), 0, "stage 2");
});
