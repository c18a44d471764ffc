import t from "tap";
import { EINVAL } from "../../kernel/errno.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import { S_IFDIR, S_IFREG } from "../../fs/inode.ts";
import { fdt_totalsize } from "../../fdt/libfdt.ts";
import { folio_address, folio_pfn } from "../../mm/folio.ts";
import { PAGE_SIZE, PFN_PHYS } from "../../mm/physmem.ts";
import { khoScratchAreas } from "../kho.ts";
import { kho_add_subtree, kho_alloc_preserve, kho_remove_subtree, KHO_KEXEC_METADATA_SIZE } from "./kho.ts";
import { kho_out_fdt } from "./kho_fdt.ts";
import { bootMainline, errnoOf, kexecMainline, outFdt, readBytes, readText, sameBytes, writeText } from "./testing.ts";

const D = "/sys/kernel/debug/kho";

function mode(k: Kernel, path: string): number {
	return k.vfs.lookup(null, path).inode.mode;
}

function exists(k: Kernel, path: string): boolean {
	return errnoOf(() => k.vfs.lookup(null, path)) === 0;
}

function blob(k: Kernel, text: string): number {
	const f = kho_alloc_preserve(k, PAGE_SIZE);
	folio_address(f).set(new TextEncoder().encode(text));
	return PFN_PHYS(folio_pfn(f));
}

t.test("a cold boot has out/ with scratch_phys, scratch_len, fdt and sub_fdts, all 0400, and no finalize or in/", async (t) => {
	const k = bootMainline();
	t.equal(mode(k, `${D}/out`), S_IFDIR | 0o755);
	t.equal(mode(k, `${D}/out/sub_fdts`), S_IFDIR | 0o755);
	for (const f of ["scratch_phys", "scratch_len", "fdt"]) t.equal(mode(k, `${D}/out/${f}`), S_IFREG | 0o400, f);
	t.notOk(exists(k, `${D}/out/finalize`));
	t.notOk(exists(k, `${D}/out/active`));
	t.notOk(exists(k, `${D}/in`));
});

t.test("scratch_phys and scratch_len print one 0x%llx line per area", async (t) => {
	const k = bootMainline();
	const areas = khoScratchAreas(k);
	t.equal(readText(k, `${D}/out/scratch_phys`), areas.map((a) => `0x${a.addr.toString(16)}\n`).join(""));
	t.equal(readText(k, `${D}/out/scratch_len`), areas.map((a) => `0x${a.size.toString(16)}\n`).join(""));
});

t.test("nothing is writable: a write is EINVAL", async (t) => {
	const k = bootMainline();
	for (const f of ["out/scratch_phys", "out/scratch_len", "out/fdt", "out/sub_fdts/kexec-metadata"]) t.equal(errnoOf(() => writeText(k, `${D}/${f}`, "1")), EINVAL, f);
});

t.test("out/fdt is the root FDT as kho_init left it", async (t) => {
	const k = bootMainline();
	t.ok(sameBytes(readBytes(k, `${D}/out/fdt`), outFdt(k)));
});

t.test("out/fdt keeps the size it had at kho_init when subtrees grow the tree, as the kernel's blob does", async (t) => {
	const k = bootMainline();
	const size = fdt_totalsize(kho_out_fdt(k)!);
	kho_add_subtree(k, "grown", blob(k, "x"), 1);
	t.ok(fdt_totalsize(kho_out_fdt(k)!) > size);
	t.equal(readBytes(k, `${D}/out/fdt`).length, size);
});

t.test("out/sub_fdts/NAME is the raw blob, blob-size bytes, from kho_add_subtree to kho_remove_subtree", async (t) => {
	const k = bootMainline();
	const phys = blob(k, "hello world");
	kho_add_subtree(k, "greeting", phys, 5);
	t.equal(mode(k, `${D}/out/sub_fdts/greeting`), S_IFREG | 0o400);
	t.equal(readText(k, `${D}/out/sub_fdts/greeting`), "hello");
	kho_remove_subtree(k, phys);
	t.notOk(exists(k, `${D}/out/sub_fdts/greeting`));
});

t.test("out/sub_fdts/kexec-metadata is its 73 bytes", async (t) => {
	t.equal(readBytes(bootMainline(), `${D}/out/sub_fdts/kexec-metadata`).length, KHO_KEXEC_METADATA_SIZE);
});

t.test("after a KHO kexec in/fdt and in/sub_fdts/NAME show what came in", async (t) => {
	const k = bootMainline();
	kho_add_subtree(k, "greeting", blob(k, "hello"), 5);
	const fdt = outFdt(k);
	const k2 = kexecMainline(k);
	t.equal(mode(k2, `${D}/in/fdt`), S_IFREG | 0o400);
	t.ok(sameBytes(readBytes(k2, `${D}/in/fdt`), fdt));
	t.equal(readText(k2, `${D}/in/sub_fdts/greeting`), "hello");
	t.equal(readBytes(k2, `${D}/in/sub_fdts/kexec-metadata`).length, KHO_KEXEC_METADATA_SIZE);
});

t.test("a KHO boot has no out/fdt, as in the kernel version modelled", async (t) => {
	const k2 = kexecMainline(bootMainline());
	t.ok(exists(k2, `${D}/out/scratch_phys`));
	t.ok(exists(k2, `${D}/out/sub_fdts/kexec-metadata`), "its own subtrees are there");
	t.notOk(exists(k2, `${D}/out/fdt`));
});

t.test("there is no kho/ directory with KHO off or without debugfs", async (t) => {
	t.notOk(exists(bootMainline({ cmdline: "kho=off" }), D));
	t.notOk(exists(bootMainline({ config: { KEXEC_HANDOVER_DEBUGFS: false } }), D));
});
