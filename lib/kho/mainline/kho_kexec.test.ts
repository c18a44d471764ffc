import t from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { folio_address, folio_alloc, folio_pfn } from "../../mm/folio.ts";
import { PAGE_SIZE, PFN_PHYS } from "../../mm/physmem.ts";
import { bootFromDump, kexecViaFile } from "../../kexec/kexec_dump.ts";
import { kexecNow, loadBootImage, runOutcome } from "../../kexec/testing.ts";
import { is_kho_boot, kho_add_subtree, kho_alloc_preserve, kho_kexec_metadata, kho_preserve_folio, kho_restore_folio, kho_retrieve_subtree } from "./kho.ts";
import { bootMainline, sameBytes } from "./testing.ts";
import type { Kernel } from "../../kernel/kernel.ts";

const dir = mkdtempSync(join(tmpdir(), "luosim-kho-mainline-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** A preserved 4 MiB folio with a pattern, a subtree naming it, and a written frame that is not preserved. */
function stage1(k: Kernel): { pfn: number; bytes: Uint8Array; lost: number } {
	const f = folio_alloc(k.buddy, 10)!;
	const a = folio_address(f);
	for (let i = 0; i < a.length; i++) a[i] = (i * 31) & 0xff;
	kho_preserve_folio(k, f);
	const meta = kho_alloc_preserve(k, 8);
	new DataView(folio_address(meta).buffer, folio_address(meta).byteOffset).setBigUint64(0, BigInt(PFN_PHYS(folio_pfn(f))), true);
	kho_add_subtree(k, "stage1", PFN_PHYS(folio_pfn(meta)), 8);
	const lost = folio_alloc(k.buddy, 10)!;
	folio_address(lost).fill(0x5a);
	return { pfn: folio_pfn(f), bytes: a.slice(), lost: folio_pfn(lost) + 1023 };
}

/** What stage 2 finds: the folio named by the subtree, restored. */
function stage2(k: Kernel): Uint8Array | null {
	const { phys } = kho_retrieve_subtree(k, "stage1");
	const at = Number(new DataView(k.machine.physmem.read(phys, 8).buffer).getBigUint64(0, true));
	const f = kho_restore_folio(k, at);
	return f && folio_address(f);
}

t.test("kexec_file_load + reboot(LINUX_REBOOT_CMD_KEXEC) hands mainline KHO to the next kernel", async (t) => {
	const k = bootMainline();
	const s = stage1(k);
	const next = k.machine.nextReboot();
	await runOutcome(k, (u) => void kexecNow(u, k.cmdline.text));
	const k2 = (await next).to!;
	t.ok(k2);
	t.equal(k2.abi, "mainline");
	t.ok(is_kho_boot(k2));
	t.ok(sameBytes(stage2(k2)!, s.bytes));
	t.ok(k2.machine.physmem.isPoisoned(s.lost));
	t.equal(kho_kexec_metadata(k2).kexec_count, 1);
});

t.test("kexec through a dump file: the next kernel finds everything from the file alone", async (t) => {
	const k = bootMainline();
	const s = stage1(k);
	await runOutcome(k, (u) => void t.equal(loadBootImage(u, k.cmdline.text), 0));
	const file = join(dir, "mainline");
	const ev = kexecViaFile(k, file);
	t.not(ev.jump!.handoverPhys, null);
	const { machine, kernel } = bootFromDump(file);
	t.not(machine, k.machine);
	t.ok(kernel && is_kho_boot(kernel));
	const got = stage2(kernel!);
	t.ok(got && sameBytes(got, s.bytes));
	t.equal(kho_restore_folio(kernel!, PFN_PHYS(s.pfn)), null, "restored once only");
	t.ok(machine.physmem.isPoisoned(s.lost));
	t.equal(machine.physmem.read(PFN_PHYS(s.lost), PAGE_SIZE)[0], 0xaa);
});
