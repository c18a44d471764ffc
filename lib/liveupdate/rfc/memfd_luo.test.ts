import t from "tap";
import { memfd_alloc_file, MFD_ALLOW_SEALING } from "../../fs/memfd.ts";
import { FALLOC_FL_KEEP_SIZE } from "../../fs/falloc.ts";
import { EBADMSG, EFBIG, EPERM } from "../../kernel/errno.ts";
import { kho_abort, kho_finalize } from "../../kho/kho.ts";
import { bootKho, errnoOf, kexec } from "../../kho/testing.ts";
import { PAGE_POISON, PAGE_SIZE, PHYS_PFN } from "../../mm/physmem.ts";
import { F_SEAL_GROW, shmem_folios, shmemInfo } from "../../mm/shmem.ts";
import type { File } from "../../fs/file.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import { memfd_luo_fs, memfd_luo_v1_init, memfd_luo_pfns } from "./memfd_luo.ts";
import { luo_filesystems } from "./luo_files.ts";
import { MEMFD_LUO_V1_MAX_FOLIOS } from "./memfd_luo_record.ts";
import { Machine } from "../../kernel/machine.ts";
import { O_RDWR, SEEK_SET } from "../../fs/fcntl.ts";
import { kexecNow, runOutcome } from "../../kexec/testing.ts";
import type { User } from "../../kernel/testing.ts";
import {
	LIVEUPDATE_IOCTL_EVENT_FINISH, LIVEUPDATE_IOCTL_EVENT_PREPARE, LIVEUPDATE_IOCTL_FD_PRESERVE, LIVEUPDATE_IOCTL_FD_RESTORE, liveupdate_fd,
} from "../uapi/rfc-v2.ts";

const fs = memfd_luo_fs;

/** A memfd of `k` holding `bytes` (written from offset 0), its position at `pos`. */
function memfd(k: Kernel, bytes: Uint8Array, pos = 0, name = "memfd:test"): File {
	const f = memfd_alloc_file(k, name, MFD_ALLOW_SEALING);
	if (bytes.length) k.vfs.kernelWrite(f, bytes, 0);
	f.f_pos = pos;
	return f;
}

function pattern(len: number, seed = 7): Uint8Array {
	const b = new Uint8Array(len);
	for (let i = 0; i < len; i++) b[i] = (i * 31 + seed) & 0xff;
	return b;
}

/** prepare, KHO finalize, kexec: the next kernel and the data. */
function handOver(k: Kernel, file: File): { k2: Kernel; data: bigint } {
	const data = fs.prepare!(k, file, undefined);
	kho_finalize(k);
	return { k2: kexec(k), data };
}

t.test("can_preserve: a memfd yes; a tmpfs file no", async (t) => {
	const k = bootKho();
	t.ok(fs.can_preserve(k, memfd(k, new Uint8Array()), undefined));
	const tmp = k.vfs.open(null, "/tmp/x", 0o102, 0o644);
	t.notOk(fs.can_preserve(k, tmp, undefined));
});

t.test("retrieve in the next kernel: same bytes, same PFNs, size, position, name, seals", async (t) => {
	const k = bootKho();
	const bytes = pattern(5 * PAGE_SIZE + 123);
	const f = memfd(k, bytes, 4321, "memfd:guest-ram");
	shmemInfo(f.inode)!.seals |= F_SEAL_GROW;
	const pfns = memfd_luo_pfns(f);
	const { k2, data } = handOver(k, f);
	const g = fs.retrieve(k2, undefined, data);
	t.same(memfd_luo_pfns(g), pfns, "the page cache holds the very same frames");
	t.equal(g.inode.size, bytes.length);
	t.equal(g.f_pos, 4321);
	t.equal(g.path?.name, "/memfd:guest-ram");
	t.equal(shmemInfo(g.inode)!.seals & F_SEAL_GROW, F_SEAL_GROW);
	t.same(k2.vfs.kernelRead(g, bytes.length + 10, 0), bytes);
});

t.test("holes are filled at prepare, so the whole file is preserved and reads back", async (t) => {
	const k = bootKho();
	const f = memfd(k, new Uint8Array());
	k.vfs.kernelWrite(f, pattern(10), 3 * PAGE_SIZE);
	t.equal(shmem_folios(f.inode).length, 1);
	const { k2, data } = handOver(k, f);
	t.equal(shmem_folios(f.inode).length, 4, "pages 0..3 all exist in the old kernel");
	const g = fs.retrieve(k2, undefined, data);
	const expect = new Uint8Array(3 * PAGE_SIZE + 10);
	expect.set(pattern(10), 3 * PAGE_SIZE);
	t.same(k2.vfs.kernelRead(g, expect.length, 0), expect);
});

t.test("after prepare the size is frozen (EPERM) until cancel", async (t) => {
	const k = bootKho();
	const f = memfd(k, pattern(PAGE_SIZE));
	const data = fs.prepare!(k, f, undefined);
	t.equal(errnoOf(() => k.vfs.kernelWrite(f, pattern(10), PAGE_SIZE)), EPERM, "growing write");
	fs.cancel!(k, f, undefined, data);
	t.equal(k.vfs.kernelWrite(f, pattern(10), PAGE_SIZE), 10, "grows again after cancel");
});

t.test("freeze records the position the file has at freeze time", async (t) => {
	const k = bootKho();
	const f = memfd(k, pattern(100), 5);
	const data = fs.prepare!(k, f, undefined);
	kho_finalize(k);
	f.f_pos = 77;
	t.equal(fs.freeze!(k, f, undefined, data), data, "the data stays");
	t.equal(fs.retrieve(kexec(k), undefined, data).f_pos, 77);
});

t.test("cancel (KHO aborted): nothing of the file crosses; its frames are poisoned next boot", async (t) => {
	const k = bootKho();
	const f = memfd(k, pattern(3 * PAGE_SIZE));
	const pfns = memfd_luo_pfns(f);
	const data = fs.prepare!(k, f, undefined);
	kho_finalize(k);
	kho_abort(k);
	const before = k.buddy.nr_free_pages();
	fs.cancel!(k, f, undefined, data);
	t.equal(k.buddy.nr_free_pages(), before + 1, "the record went back to the old kernel's allocator");
	kho_finalize(k);
	const k2 = kexec(k);
	t.ok(pfns.every((p) => !k2.buddy.PageReserved(p)), "nothing of it is reserved in the next kernel");
	const free = pfns.filter((p) => k2.buddy.page_is_free(p));
	t.ok(free.length > 0 && free.every((p) => k2.machine.physmem.isPoisoned(p)), "the frames the next kernel did not reuse read back poisoned");
	t.equal(k2.machine.physmem.read(free[0]! * PAGE_SIZE, 1)[0], PAGE_POISON);
	t.equal(errnoOf(() => fs.retrieve(k2, undefined, data)), EBADMSG, "the record is gone too");
});

t.test("cancel before KHO finalizes (a later participant failed) unpreserves for real", async (t) => {
	const k = bootKho();
	const f = memfd(k, pattern(8 * PAGE_SIZE));
	const pfns = memfd_luo_pfns(f);
	fs.cancel!(k, f, undefined, fs.prepare!(k, f, undefined));
	kho_finalize(k);
	const k2 = kexec(k);
	t.ok(pfns.every((p) => !k2.buddy.PageReserved(p)), "not reserved in the next kernel");
	t.ok(pfns.some((p) => k2.buddy.page_is_free(p) && k2.machine.physmem.isPoisoned(p)), "poisoned where not reused");
});

t.test("the same memfd prepared twice shares one record, kept until its last cancel", async (t) => {
	const k = bootKho();
	const f = memfd(k, pattern(PAGE_SIZE));
	const a = fs.prepare!(k, f, undefined);
	t.equal(fs.prepare!(k, f, undefined), a);
	fs.cancel!(k, f, undefined, a);
	t.equal(errnoOf(() => k.vfs.kernelWrite(f, pattern(1), PAGE_SIZE)), EPERM, "still frozen for the other user");
	kho_finalize(k);
	const k2 = kexec(k);
	const g = fs.retrieve(k2, undefined, a);
	t.equal(fs.retrieve(k2, undefined, a), g, "the second token gives the same open file");
});

t.test("finish of a file never retrieved frees its pages and record", async (t) => {
	const k = bootKho();
	const f = memfd(k, pattern(8 * PAGE_SIZE));
	const pfns = memfd_luo_pfns(f);
	const { k2, data } = handOver(k, f);
	t.ok(pfns.every((p) => k2.buddy.PageReserved(p)), "preserved pages are reserved in the next kernel");
	fs.finish!(k2, null, undefined, data, false);
	t.ok(pfns.every((p) => k2.buddy.page_is_free(p)), "back in the allocator");
	t.ok(k2.buddy.page_is_free(PHYS_PFN(Number(data))), "and the record");
});

t.test("finish of a retrieved file leaves its pages to the file", async (t) => {
	const k = bootKho();
	const f = memfd(k, pattern(2 * PAGE_SIZE));
	const { k2, data } = handOver(k, f);
	const g = fs.retrieve(k2, undefined, data);
	fs.finish!(k2, g, undefined, data, true);
	t.same(k2.vfs.kernelRead(g, 2 * PAGE_SIZE, 0), pattern(2 * PAGE_SIZE));
});

t.test("a record with a bad magic is refused with EBADMSG, and again on a second try", async (t) => {
	const k = bootKho();
	const f = memfd(k, pattern(PAGE_SIZE));
	const { k2, data } = handOver(k, f);
	const pm = k2.machine.physmem;
	pm.write(Number(data), new Uint8Array([0x00]));
	t.equal(errnoOf(() => fs.retrieve(k2, undefined, data)), EBADMSG);
	t.equal(errnoOf(() => fs.retrieve(k2, undefined, data)), EBADMSG, "still refused");
});

t.test("a record listing a frame that was not preserved is refused and restores nothing", async (t) => {
	const k = bootKho();
	const f = memfd(k, pattern(2 * PAGE_SIZE));
	const { k2, data } = handOver(k, f);
	const pm = k2.machine.physmem;
	const entry1 = Number(data) + 320 + 16;
	const dv = new DataView(pm.read(entry1, 8).buffer);
	const phys = Number(dv.getBigUint64(0, true) & ~0xfffn);
	pm.write(entry1, new Uint8Array(new BigUint64Array([BigInt(phys + 16 * PAGE_SIZE)]).buffer));
	t.equal(errnoOf(() => fs.retrieve(k2, undefined, data)), EBADMSG);
	t.ok(k2.buddy.page_is_free(PHYS_PFN(Number(data))), "the record was freed");
});

t.test("data that is not a page address (or not preserved) is EBADMSG", async (t) => {
	const k = bootKho();
	const { k2 } = handOver(k, memfd(k, pattern(10)));
	t.equal(errnoOf(() => fs.retrieve(k2, undefined, 123n)), EBADMSG);
	t.equal(errnoOf(() => fs.retrieve(k2, undefined, 1n << 60n)), EBADMSG);
	t.equal(errnoOf(() => fs.retrieve(k2, undefined, 0x200000n)), EBADMSG);
});

t.test("a file larger than one record can describe is EFBIG, and stays unfrozen", async (t) => {
	const k = bootKho();
	const f = memfd(k, new Uint8Array());
	f.inode.size = (MEMFD_LUO_V1_MAX_FOLIOS + 1) * PAGE_SIZE;
	t.equal(errnoOf(() => fs.prepare!(k, f, undefined)), EFBIG);
	t.equal(shmemInfo(f.inode)!.frozen, false);
});

t.test("pages fallocated past EOF are not carried", async (t) => {
	const k = bootKho();
	const f = memfd(k, pattern(PAGE_SIZE));
	f.f_op.fallocate!(f, FALLOC_FL_KEEP_SIZE, 0, 3 * PAGE_SIZE);
	const { k2, data } = handOver(k, f);
	t.equal(shmem_folios(fs.retrieve(k2, undefined, data).inode).length, 1);
});

t.test("the initcall registers memfd-v1 on a seed-era kernel with LUO on, and nothing otherwise", async (t) => {
	const has = (k: Kernel): boolean => luo_filesystems(k).some((f) => f.compatible === "memfd-v1");
	t.ok(has(bootKho({ cmdline: "liveupdate=on" })), "rfc-v2");
	t.ok(has(bootKho({ abi: "v2", cmdline: "liveupdate=on" })), "v2");
	const off = bootKho({ cmdline: "liveupdate=off" });
	t.equal(memfd_luo_v1_init(off), 0);
	t.notOk(has(off), "liveupdate=off");
	const ml = bootKho({ abi: "mainline" });
	t.equal(memfd_luo_v1_init(ml), 0);
	t.notOk(has(ml), "mainline");
});

/** FD_PRESERVE or FD_RESTORE through `u`'s /dev/liveupdate fd: the struct after the call, or the -errno. */
function fdIoctl(u: User, luo: number, cmd: number, arg: { fd?: number; token?: bigint }): { fd: number; token: bigint } | number {
	const addr = u.bytes(liveupdate_fd.encode(arg));
	const r = u.sys("ioctl", luo, cmd, addr);
	return r < 0 ? r : liveupdate_fd.decode(u.read(addr, liveupdate_fd.size));
}

t.test("through /dev/liveupdate and reboot(LINUX_REBOOT_CMD_KEXEC): the memfd comes back on its frames at its frozen position", async (t) => {
	const machine = new Machine();
	const k1 = machine.boot({ abi: "rfc-v2" });
	const bytes = pattern(3 * PAGE_SIZE, 3);
	let pfns: number[] = [];
	const first = await runOutcome(k1, (u) => {
		const mfd = u.sys("memfd_create", "vm", 0);
		u.sys("write", mfd, u.bytes(bytes), bytes.length);
		pfns = memfd_luo_pfns(u.p.files.get(mfd));
		const luo = u.sys("open", "/dev/liveupdate", O_RDWR);
		const pre = fdIoctl(u, luo, LIVEUPDATE_IOCTL_FD_PRESERVE, { fd: mfd });
		if (typeof pre === "number" || pre.token !== 0n) return 1;
		if (u.sys("ioctl", luo, LIVEUPDATE_IOCTL_EVENT_PREPARE, 0) !== 0) return 2;
		u.sys("lseek", mfd, 1234, SEEK_SET);
		return kexecNow(u, k1.cmdline.text) === 0 ? 0 : 3;
	});
	t.equal(first.kind, "stopped", "the kexec happened");
	const k2 = machine.kernel!;
	const second = await runOutcome(k2, (u) => {
		const luo = u.sys("open", "/dev/liveupdate", O_RDWR);
		const res = fdIoctl(u, luo, LIVEUPDATE_IOCTL_FD_RESTORE, { token: 0n });
		if (typeof res === "number") return 1;
		const f = u.p.files.get(res.fd);
		t.same(memfd_luo_pfns(f), pfns, "same PFNs");
		t.equal(f.f_pos, 1234, "the position at the freeze the reboot made");
		const buf = u.alloc(bytes.length);
		t.equal(u.sys("pread64", res.fd, buf, bytes.length, 0), bytes.length);
		t.same(u.read(buf, bytes.length), bytes, "same bytes");
		t.equal(fdIoctl(u, luo, LIVEUPDATE_IOCTL_FD_RESTORE, { token: 0n }), -22, "a second restore is EINVAL");
		return u.sys("ioctl", luo, LIVEUPDATE_IOCTL_EVENT_FINISH, 0) === 0 ? 0 : 2;
	});
	t.same(second, { kind: "exited", status: 0 });
});

t.test("FD_PRESERVE of a tmpfs file is ENOENT: memfd-v1 is the only handler and refuses it", async (t) => {
	const k = bootKho({ cmdline: "liveupdate=on" });
	const r = await runOutcome(k, (u) => {
		const fd = u.sys("open", "/tmp/f", 0o102, 0o600);
		const luo = u.sys("open", "/dev/liveupdate", O_RDWR);
		return -(fdIoctl(u, luo, LIVEUPDATE_IOCTL_FD_PRESERVE, { fd }) as number);
	});
	t.same(r, { kind: "exited", status: 2 << 8 });
});
