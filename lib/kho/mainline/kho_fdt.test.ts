import t from "tap";
import { EEXIST, EINVAL, ENOENT, ENOMEM, EOPNOTSUPP, ESRCH } from "../../kernel/errno.ts";
import { UTS_RELEASE } from "../../kernel/utsname.ts";
import {
	cpu_to_le64,
	fdt_add_subnode,
	fdt_check_header,
	fdt_first_subnode,
	fdt_get_name,
	fdt_getprop,
	fdt_next_subnode,
	fdt_node_check_compatible,
	fdt_open_into,
	fdt_pack,
	fdt_setprop,
	le64_ld,
} from "../../fdt/libfdt.ts";
import { dtcDecompile, dtcSkipReason, pyGetprop, pylibfdtSkipReason } from "../../fdt/fdt-oracle.ts";
import { folio_address, folio_pfn } from "../../mm/folio.ts";
import { PAGE_SIZE, PFN_PHYS } from "../../mm/physmem.ts";
import { kho_add_subtree, kho_alloc_preserve, kho_kexec_metadata, kho_remove_subtree, kho_retrieve_subtree, KHO_KEXEC_METADATA_SIZE } from "./kho.ts";
import { kho_out_fdt } from "./kho_fdt.ts";
import { kho_kexec_metadata_decode } from "./kho_abi.ts";
import { bootMainline, dmesg, errnoOf, kexecMainline, outFdt, outTree } from "./testing.ts";

function children(fdt: Uint8Array): string[] {
	const out: string[] = [];
	for (let o = fdt_first_subnode(fdt, 0); o >= 0; o = fdt_next_subnode(fdt, o)) out.push(fdt_get_name(fdt, o) ?? "");
	return out;
}

function u64prop(fdt: Uint8Array, path: string, name: string): number | null {
	let node = 0;
	if (path !== "/") {
		node = -1;
		for (let o = fdt_first_subnode(fdt, 0); o >= 0; o = fdt_next_subnode(fdt, o)) if (fdt_get_name(fdt, o) === path) node = o;
	}
	const v = node >= 0 ? fdt_getprop(fdt, node, name) : null;
	return v && v.length === 8 ? Number(le64_ld(v)) : null;
}

/** A preserved one-page blob with `text` in it: its physical address. */
function blob(k: ReturnType<typeof bootMainline>, text: string): number {
	const f = kho_alloc_preserve(k, PAGE_SIZE);
	folio_address(f).set(new TextEncoder().encode(text));
	return PFN_PHYS(folio_pfn(f));
}

t.test("the root FDT is a valid tree with compatible kho-v4 and the radix root's address", async (t) => {
	const k = bootMainline();
	const fdt = outFdt(k);
	t.equal(fdt_check_header(fdt), 0);
	t.equal(fdt_node_check_compatible(fdt, 0, "kho-v4"), 0);
	t.equal(u64prop(fdt, "/", "preserved-memory-map"), PFN_PHYS(outTree(k).root));
});

t.test("a cold boot's root FDT holds the kexec-metadata subtree: version 1, this release, count 1", async (t) => {
	const k = bootMainline();
	const fdt = outFdt(k);
	t.same(children(fdt), ["kexec-metadata"]);
	t.equal(u64prop(fdt, "kexec-metadata", "blob-size"), KHO_KEXEC_METADATA_SIZE);
	const phys = u64prop(fdt, "kexec-metadata", "preserved-data")!;
	t.same(kho_kexec_metadata_decode(k.machine.physmem.read(phys, 73)), { version: 1, previous_release: UTS_RELEASE, kexec_count: 1 });
	t.same(kho_kexec_metadata(k), { previous_release: "", kexec_count: 0 }, "nothing came in");
});

t.test("each kexec counts one more in kexec-metadata", async (t) => {
	const k3 = kexecMainline(kexecMainline(bootMainline()));
	t.same(kho_kexec_metadata(k3), { previous_release: UTS_RELEASE, kexec_count: 2 });
	t.ok(dmesg(k3).includes(`KHO: exec from: ${UTS_RELEASE} (count 2)`));
});

t.test("kho_add_subtree adds a node with preserved-data and blob-size", async (t) => {
	const k = bootMainline();
	const phys = blob(k, "hello");
	kho_add_subtree(k, "test-blob", phys, 32);
	const fdt = outFdt(k);
	t.same(children(fdt), ["test-blob", "kexec-metadata"], "fdt_add_subnode puts a new node first");
	t.equal(u64prop(fdt, "test-blob", "preserved-data"), phys);
	t.equal(u64prop(fdt, "test-blob", "blob-size"), 32);
});

t.test("kho_add_subtree of a name already there is EEXIST and changes nothing", async (t) => {
	const k = bootMainline();
	kho_add_subtree(k, "test-blob", blob(k, "a"), 8);
	const before = outFdt(k);
	t.equal(errnoOf(() => kho_add_subtree(k, "test-blob", blob(k, "b"), 8)), EEXIST);
	t.same(outFdt(k), before);
});

t.test("kho_add_subtree with KHO off is EINVAL, without CONFIG_KEXEC_HANDOVER EOPNOTSUPP", async (t) => {
	t.equal(errnoOf(() => kho_add_subtree(bootMainline({ cmdline: "kho=off" }), "x", 0x100000, 1)), EINVAL);
	t.equal(errnoOf(() => kho_add_subtree(bootMainline({ config: { KEXEC_HANDOVER: false } }), "x", 0x100000, 1)), EOPNOTSUPP);
});

t.test("kho_remove_subtree removes the node naming that address, and only it", async (t) => {
	const k = bootMainline();
	const a = blob(k, "a");
	const b = blob(k, "b");
	kho_add_subtree(k, "A", a, 1);
	kho_add_subtree(k, "B", b, 1);
	kho_remove_subtree(k, a);
	t.same(children(outFdt(k)), ["B", "kexec-metadata"]);
	kho_remove_subtree(k, 0x12345000);
	t.same(children(outFdt(k)), ["B", "kexec-metadata"], "an address no node names changes nothing");
	kho_add_subtree(k, "A", a, 1);
	t.same(children(outFdt(k)), ["A", "B", "kexec-metadata"], "the name is free again");
});

t.test("a subtree added before kexec is retrieved after it with its address and size", async (t) => {
	const k = bootMainline();
	const phys = blob(k, "payload");
	kho_add_subtree(k, "test-blob", phys, 7);
	const k2 = kexecMainline(k);
	t.same(kho_retrieve_subtree(k2, "test-blob"), { phys, size: 7 });
	t.equal(new TextDecoder().decode(k2.machine.physmem.read(phys, 7)), "payload");
});

t.test("a subtree removed before kexec is ENOENT after it", async (t) => {
	const k = bootMainline();
	const phys = blob(k, "x");
	kho_add_subtree(k, "test-blob", phys, 1);
	kho_remove_subtree(k, phys);
	t.equal(errnoOf(() => kho_retrieve_subtree(kexecMainline(k), "test-blob")), ENOENT);
});

t.test("kho_retrieve_subtree on a cold boot is ENOENT", async (t) => {
	t.equal(errnoOf(() => kho_retrieve_subtree(bootMainline(), "kexec-metadata")), ENOENT);
});

t.test("kho_retrieve_subtree without CONFIG_KEXEC_HANDOVER is EOPNOTSUPP", async (t) => {
	t.equal(errnoOf(() => kho_retrieve_subtree(bootMainline({ config: { KEXEC_HANDOVER: false } }), "x")), EOPNOTSUPP);
});

/** Adds node `name` with raw properties straight into the outgoing root (what a broken kernel would hand over). */
function rawNode(k: ReturnType<typeof bootMainline>, name: string, props: [string, Uint8Array][]): void {
	const root = kho_out_fdt(k)!;
	t.equal(fdt_open_into(root, root, PAGE_SIZE), 0);
	const off = fdt_add_subnode(root, 0, name);
	for (const [p, v] of props) t.equal(fdt_setprop(root, off, p, v), 0);
	t.equal(fdt_pack(root), 0);
}

t.test("kho_retrieve_subtree of a node without preserved-data, or a short one, is EINVAL", async (t) => {
	const k = bootMainline();
	rawNode(k, "none", [["blob-size", cpu_to_le64(1)]]);
	rawNode(k, "short", [["preserved-data", new Uint8Array(4)], ["blob-size", cpu_to_le64(1)]]);
	const k2 = kexecMainline(k);
	t.equal(errnoOf(() => kho_retrieve_subtree(k2, "none")), EINVAL);
	t.equal(errnoOf(() => kho_retrieve_subtree(k2, "short")), EINVAL);
	t.equal(errnoOf(() => kho_retrieve_subtree(k2, "missing")), ENOENT);
});

t.test("kho_retrieve_subtree of a node without blob-size is EINVAL with the kernel's warning", async (t) => {
	const k = bootMainline();
	rawNode(k, "old", [["preserved-data", cpu_to_le64(0x100000)]]);
	const k2 = kexecMainline(k);
	t.equal(errnoOf(() => kho_retrieve_subtree(k2, "old")), EINVAL);
	t.ok(dmesg(k2).includes("KHO: broken KHO subnode 'old': missing or invalid blob-size property"));
});

t.test("dtc reads the handed-over root FDT", { skip: dtcSkipReason() }, async (t) => {
	const k = bootMainline();
	kho_add_subtree(k, "test-blob", blob(k, "x"), 32);
	const dts = dtcDecompile(outFdt(k));
	t.match(dts, /compatible = "kho-v4";/);
	t.match(dts, /preserved-memory-map = <0x[0-9a-f]+ 0x00>;/);
	// libfdt's setprop puts a new property first, as C libfdt does; u64s are little-endian, so dtc shows swapped cells.
	t.match(dts, /test-blob \{\n\t\tblob-size = <0x20000000 0x00>;\n\t\tpreserved-data = <0x[0-9a-f]+ 0x00>;/);
	t.match(dts, /kexec-metadata \{/);
});

t.test("python3-libfdt reads the handed-over root FDT's values", { skip: pylibfdtSkipReason() }, async (t) => {
	const k = bootMainline();
	const phys = blob(k, "x");
	kho_add_subtree(k, "test-blob", phys, 32);
	const fdt = outFdt(k);
	t.equal(pyGetprop(fdt, "/", "compatible"), Buffer.from("kho-v4\0").toString("hex"));
	t.equal(pyGetprop(fdt, "/test-blob", "preserved-data"), Buffer.from(cpu_to_le64(phys)).toString("hex"));
	t.equal(pyGetprop(fdt, "/test-blob", "blob-size"), Buffer.from(cpu_to_le64(32)).toString("hex"));
});

/** Adds subtrees named `prefix` + a 4-digit number until one fails: how many went in and the errno. */
function fill(k: ReturnType<typeof bootMainline>, prefix: string): { added: number; err: number } {
	let added = 0;
	let err = 0;
	while (added < 1000 && !(err = errnoOf(() => kho_add_subtree(k, `${prefix}${String(added).padStart(4, "0")}`, 0x100000, 1)))) added++;
	return { added, err };
}

t.test("a root page with no room for another node is ENOMEM and stays a valid tree", async (t) => {
	const k = bootMainline();
	const { added, err } = fill(k, "n".repeat(10));
	t.equal(err, ENOMEM);
	t.equal(added, 60);
	t.equal(fdt_check_header(outFdt(k)), 0);
	t.equal(children(outFdt(k)).length, 61, "nothing half-made");
});

t.test("a property that does not fit is the libfdt error's number and, as in the kernel, leaves the node", async (t) => {
	const k = bootMainline();
	const { added, err } = fill(k, "n".repeat(12));
	t.equal(err, ESRCH, "-FDT_ERR_NOSPACE read as an errno");
	const fdt = outFdt(k);
	t.equal(fdt_check_header(fdt), 0);
	t.equal(children(fdt).length, added + 2, "the failed node is there");
	t.equal(u64prop(fdt, `${"n".repeat(12)}${String(added).padStart(4, "0")}`, "blob-size"), null);
});
