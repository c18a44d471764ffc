/**
 * lib/test_kho.c of mainline (pr_fmt "test_kho: "), the KHO test module as
 * it is written against KHO without finalize: the text of commit 136114e0
 * with the newest API deltas (digest-selftests §6.4):
 * kho_add_subtree(name, blob, fdt_totalsize(blob)) and
 * kho_retrieve_subtree(name, &phys, NULL). It runs on `mainline` kernels;
 * lib/test_kho/test_kho.ts is the notifier-era module of the seed
 * generations.
 *
 * First boot (no incoming `kho_test` subtree): folios of random orders
 * until `max_mem` bytes, random bytes, one csum_partial() over them; the
 * FDT folio is preserved at once, `folios_info` (phys | order per folio)
 * lives in a vmalloc array preserved with kho_preserve_vmalloc(), each
 * folio is preserved, and the FDT is added as subtree `kho_test`:
 *
 *     / {
 *             compatible = "kho-test-v1";
 *             magic = <u32 0x4b484f21>;
 *             data {
 *                     nr_folios = <u32 N>;
 *                     folios_info = <struct kho_vmalloc, 16 bytes>;
 *                     csum = <u32 __wsum>;
 *             };
 *     };
 *
 * A boot that finds the subtree restores the vmalloc array and every
 * folio, sums them again and prints `KHO restore succeeded` (pr_info) or
 * `KHO restore failed` (pr_err).
 *
 * Where luosim differs, as for the seed-era module: it runs only with
 * `test_kho.enable=1` on the command line (luosim builds nothing), and
 * after a restore it saves again so kexecs chain. module_exit never runs.
 */
import type { Kernel } from "../kernel/kernel.ts";
import { EINVAL, ENOENT, ENOMEM, errnoReturn } from "../kernel/errno.ts";
import { csum_partial } from "../kernel/checksum.ts";
import { param_bool, param_long } from "../kernel/params.ts";
import { folio_address, folio_alloc, folio_order, folio_pfn, folio_put, type Folio } from "../mm/folio.ts";
import { PAGE_ALIGN, PAGE_SIZE, PFN_PHYS, get_order } from "../mm/physmem.ts";
import { vfree, vmalloc, vmalloc_read, vmalloc_write, type VmallocArea } from "../mm/vmalloc.ts";
import {
	cpu_to_le32,
	fdt_begin_node,
	fdt_create,
	fdt_end_node,
	fdt_finish,
	fdt_finish_reservemap,
	fdt_getprop,
	fdt_node_check_compatible,
	fdt_path_offset,
	fdt_property,
	fdt_totalsize,
	le32_ld,
	le64_ld,
} from "../fdt/libfdt.ts";
import {
	kho_add_subtree,
	kho_is_enabled,
	kho_preserve_folio,
	kho_preserve_vmalloc,
	kho_restore_folio,
	kho_restore_vmalloc,
	kho_retrieve_subtree,
	kho_unpreserve_folio,
	kho_unpreserve_vmalloc,
	kho_vmalloc_decode,
	kho_vmalloc_encode,
	KHO_VMALLOC_DESC_SIZE,
	type KhoVmalloc,
} from "../kho/mainline/kho.ts";
import { khoReadFdt } from "../kho/kho_state.ts";
import { KHO_TEST_COMPAT, KHO_TEST_FDT, KHO_TEST_MAGIC, KHO_TEST_MAX_MEM, kho_test_generate_data } from "./test_kho.ts";

/** KBUILD_MODNAME, which also names the module parameters. */
const MODNAME = "test_kho";
/** sizeof(phys_addr_t). */
const PHYS_ADDR_SIZE = 8;
/** ~PAGE_MASK: where folios_info keeps the order. */
const ORDER_MASK = BigInt(PAGE_SIZE - 1);

/** struct kho_test_state. */
interface KhoTestState {
	nr_folios: number;
	folios: Folio[];
	folios_info: VmallocArea | null;
	folios_info_phys: KhoVmalloc | null;
	nr_folios_preserved: number;
	fdt: Folio | null;
	csum: number;
}

function kho_test_unpreserve_data(kernel: Kernel, state: KhoTestState): void {
	for (let i = 0; i < state.nr_folios_preserved; i++) kho_unpreserve_folio(kernel, state.folios[i]!);

	kho_unpreserve_vmalloc(kernel, state.folios_info_phys!);
	vfree(state.folios_info!);
}

function kho_test_preserve_data(kernel: Kernel, state: KhoTestState): number {
	let folios_info_phys: KhoVmalloc | null = null;

	const folios_info = vmalloc(kernel.buddy, state.nr_folios * PHYS_ADDR_SIZE);
	if (!folios_info) return -ENOMEM;

	let err = errnoReturn(() => {
		folios_info_phys = kho_preserve_vmalloc(kernel, folios_info);
	});
	if (err) {
		vfree(folios_info);
		return err;
	}

	state.folios_info_phys = folios_info_phys;
	state.folios_info = folios_info;

	for (let i = 0; i < state.nr_folios; i++) {
		const folio = state.folios[i]!;
		const order = folio_order(folio);
		const info = new Uint8Array(PHYS_ADDR_SIZE);

		// phys is page aligned: adding the order is the C's `|` without JS's 32-bit one.
		new DataView(info.buffer).setBigUint64(0, BigInt(PFN_PHYS(folio_pfn(folio)) + order), true);
		vmalloc_write(folios_info, i * PHYS_ADDR_SIZE, info);
		err = errnoReturn(() => kho_preserve_folio(kernel, folio));
		if (err) {
			kho_test_unpreserve_data(kernel, state);
			return err;
		}
		state.nr_folios_preserved++;
	}

	return 0;
}

function kho_test_prepare_fdt(state: KhoTestState, fdt_size: number): number {
	const compatible = new TextEncoder().encode(`${KHO_TEST_COMPAT}\0`);
	const fdt = folio_address(state.fdt!);
	let err: number;

	err = fdt_create(fdt, fdt_size);
	err |= fdt_finish_reservemap(fdt);
	err |= fdt_begin_node(fdt, "");
	err |= fdt_property(fdt, "compatible", compatible);
	err |= fdt_property(fdt, "magic", cpu_to_le32(KHO_TEST_MAGIC));

	err |= fdt_begin_node(fdt, "data");
	err |= fdt_property(fdt, "nr_folios", cpu_to_le32(state.nr_folios));
	err |= fdt_property(fdt, "folios_info", kho_vmalloc_encode(state.folios_info_phys!));
	err |= fdt_property(fdt, "csum", cpu_to_le32(state.csum));
	err |= fdt_end_node(fdt);

	err |= fdt_end_node(fdt);
	err |= fdt_finish(fdt);

	return err;
}

function kho_test_preserve(kernel: Kernel, state: KhoTestState): number {
	const fdt_size = state.nr_folios * PHYS_ADDR_SIZE + PAGE_SIZE;
	let err: number;

	state.fdt = folio_alloc(kernel.buddy, get_order(fdt_size));
	if (!state.fdt) return -ENOMEM;
	const fdt = state.fdt;

	err = errnoReturn(() => kho_preserve_folio(kernel, fdt));
	if (err) {
		folio_put(fdt);
		return err;
	}

	err = kho_test_preserve_data(kernel, state);
	if (!err) {
		err = kho_test_prepare_fdt(state, fdt_size);
		if (!err) err = errnoReturn(() => kho_add_subtree(kernel, KHO_TEST_FDT, PFN_PHYS(folio_pfn(fdt)), fdt_totalsize(folio_address(fdt))));
		if (!err) return 0;
		kho_test_unpreserve_data(kernel, state);
	}
	kho_unpreserve_folio(kernel, fdt);
	folio_put(fdt);
	return err;
}

function kho_test_save(kernel: Kernel): number {
	const state: KhoTestState = { nr_folios: 0, folios: [], folios_info: null, folios_info_phys: null, nr_folios_preserved: 0, fdt: null, csum: 0 };
	const max_mem = PAGE_ALIGN(param_long(kernel, MODNAME, "max_mem", KHO_TEST_MAX_MEM));

	// kvmalloc_array(max_mem >> PAGE_SHIFT, ...) of a negative count, an enormous unsigned long, fails.
	if (max_mem < 0) return -ENOMEM;

	const err = kho_test_generate_data(kernel, state, max_mem);
	if (err) return err;

	return kho_test_preserve(kernel, state);
}

function kho_test_restore_data(kernel: Kernel, fdt: Uint8Array): number {
	const len = [0];
	let csum = 0;

	const node = fdt_path_offset(fdt, "/data");

	const nr_folios = fdt_getprop(fdt, node, "nr_folios", len);
	if (!nr_folios || len[0] !== 4) return -EINVAL;

	const old_csum = fdt_getprop(fdt, node, "csum", len);
	if (!old_csum || len[0] !== 4) return -EINVAL;

	const desc_len = [0];
	const folios_info_phys = fdt_getprop(fdt, node, "folios_info", desc_len);
	if (!folios_info_phys || desc_len[0] !== KHO_VMALLOC_DESC_SIZE) return -EINVAL;

	const folios_info = kho_restore_vmalloc(kernel, kho_vmalloc_decode(folios_info_phys));
	if (!folios_info) return -EINVAL;

	const n = le32_ld(nr_folios);
	// The C indexes the array past its end if nr_folios claims more; luosim stops at the end instead.
	const infos = vmalloc_read(folios_info, 0, Math.min(n * PHYS_ADDR_SIZE, folios_info.size));
	for (let i = 0; i < n && (i + 1) * PHYS_ADDR_SIZE <= infos.length; i++) {
		const info = le64_ld(infos, i * PHYS_ADDR_SIZE);
		const order = Number(info & ORDER_MASK);
		const phys = Number(info & ~ORDER_MASK);

		const folio = kho_restore_folio(kernel, phys);
		if (!folio) break;

		if (folio_order(folio) !== order) break;

		csum = csum_partial(folio_address(folio), PAGE_SIZE * 2 ** order, csum);
		folio_put(folio);
	}

	vfree(folios_info);

	if (csum !== le32_ld(old_csum)) return -EINVAL;

	return 0;
}

function kho_test_restore(kernel: Kernel, fdt_phys: number): number {
	const fdt = khoReadFdt(kernel, fdt_phys);
	const len = [0];

	const node = fdt_path_offset(fdt, "/");
	if (node < 0) return -EINVAL;

	if (fdt_node_check_compatible(fdt, node, KHO_TEST_COMPAT)) return -EINVAL;

	const magic = fdt_getprop(fdt, node, "magic", len);
	if (!magic || len[0] !== 4) return -EINVAL;

	if (le32_ld(magic) !== KHO_TEST_MAGIC) return -EINVAL;

	return kho_test_restore_data(kernel, fdt);
}

/**
 * kho_test_init() (module_init; a late initcall in luosim's boot) of a
 * mainline kernel: restore and verify what the previous kernel handed
 * over, else generate and preserve; then (luosim) save again after a
 * restore. 0 at once on a kernel of another generation, without KHO, or
 * without `test_kho.enable=1`. Returns 0 or -errno, which the boot ignores.
 */
export function kho_test_init_mainline(kernel: Kernel): number {
	if (kernel.abi !== "mainline" || !param_bool(kernel, MODNAME, "enable", false)) return 0;
	if (!kho_is_enabled(kernel)) return 0;

	let fdt_phys = 0;
	let err = errnoReturn(() => {
		fdt_phys = kho_retrieve_subtree(kernel, KHO_TEST_FDT).phys;
	});
	if (!err) {
		err = kho_test_restore(kernel, fdt_phys);
		if (err) kernel.pr_err(`${MODNAME}: KHO restore failed`);
		else kernel.pr_info(`${MODNAME}: KHO restore succeeded`);

		const saved = kho_test_save(kernel);
		return err || saved;
	}

	if (err !== -ENOENT) {
		kernel.pr_warn(`${MODNAME}: failed to retrieve ${KHO_TEST_FDT} FDT: ${err}`);
		return err;
	}

	return kho_test_save(kernel);
}
