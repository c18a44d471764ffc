import t from "tap";
import { ENOENT } from "../../kernel/errno.ts";
import { run, type User } from "../../kernel/testing.ts";
import { folio_pfn } from "../../mm/folio.ts";
import { shmem_folios } from "../../mm/shmem.ts";
import { MEMFD_LUO_FH_COMPATIBLE } from "../../mm/memfd_luo.ts";
import { luo_outgoing_compatibles } from "./luo_file.ts";
import {
	bootMainline, createSession, finishSession, kexecAfter, openLuo, preserveFd, preservedBlocks, retrieveFd, retrieveSession,
} from "./testing.ts";
import type { Kernel } from "../../kernel/kernel.ts";

const PAGE = 4096;

async function inKernel(k: Kernel, body: (u: User) => void): Promise<void> {
	await run((u) => void body(u), { kernel: k });
}

/** `pages` pages whose bytes depend on `seed` and the page. */
function pattern(seed: number, pages: number): Uint8Array {
	const b = new Uint8Array(pages * PAGE);
	for (let i = 0; i < b.length; i++) b[i] = (seed * 31 + i * 7 + (i >> 12)) & 0xff;
	return b;
}

/** A memfd holding `data`, its fd. */
function memfdWith(u: User, name: string, data: Uint8Array): number {
	const fd = u.sys("memfd_create", name, 0);
	u.sys("write", fd, u.bytes(data), data.length);
	return fd;
}

function pfnsOf(u: User, fd: number): number[] {
	return shmem_folios(u.p.files.get(fd).inode).map(([, f]) => folio_pfn(f));
}

function contents(u: User, fd: number, len: number): Uint8Array {
	const buf = u.alloc(len);
	const n = u.sys("pread64", fd, buf, len, 0);
	return u.read(buf, Math.max(0, n));
}

t.test("memfds in two sessions cross a kexec byte for byte on the same frames", async (t) => {
	const data = [pattern(1, 3), pattern(2, 1), pattern(3, 5)];
	const pfns: number[][] = [];
	const k = await kexecAfter(bootMainline(), (u) => {
		const fd = openLuo(u);
		const a = createSession(u, fd, "vm-a");
		const b = createSession(u, fd, "vm-b");
		data.forEach((d, i) => {
			const m = memfdWith(u, `m${i}`, d);
			pfns.push(pfnsOf(u, m));
			t.equal(preserveFd(u, i < 2 ? a : b, m, BigInt(100 + i)), 0);
			u.sys("close", m);
		});
		t.same([...luo_outgoing_compatibles(u.kernel)], [MEMFD_LUO_FH_COMPATIBLE]);
		u.sys("close", fd);
	});
	await inKernel(k, (u) => {
		const fd = openLuo(u);
		const a = retrieveSession(u, fd, "vm-a");
		const b = retrieveSession(u, fd, "vm-b");
		data.forEach((d, i) => {
			const m = retrieveFd(u, i < 2 ? a : b, BigInt(100 + i));
			t.ok(m >= 0, `memfd ${i} retrieved`);
			t.same(contents(u, m, d.length + PAGE), d, `memfd ${i}: same bytes, same size`);
			t.same(pfnsOf(u, m), pfns[i], `memfd ${i}: same frames`);
		});
		t.equal(finishSession(u, a), 0);
		t.equal(finishSession(u, b), 0);
	});
});

t.test("a memfd session closed before the kexec leaves nothing preserved and is gone after it", async (t) => {
	const k1 = bootMainline();
	let before: string[] = [];
	const k = await kexecAfter(k1, (u) => {
		const fd = openLuo(u);
		before = preservedBlocks(k1);
		const s = createSession(u, fd, "closed");
		const m = memfdWith(u, "m", pattern(9, 4));
		preserveFd(u, s, m, 1n);
		t.ok(preservedBlocks(k1).length > before.length);
		u.sys("close", s);
		t.same(preservedBlocks(k1), before, "nothing of it stays preserved in KHO");
	});
	await inKernel(k, (u) => t.equal(retrieveSession(u, openLuo(u), "closed"), -ENOENT));
});
