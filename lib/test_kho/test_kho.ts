/**
 * lib/test_kho.c, the KHO test module `test_kho` (pr_fmt "test_kho: "), as
 * a module built into luosim's kernel. This is the KHO-notifier era text:
 * blob fe8504e3407b, "kho: add test for kexec handover" (b753522bed0b)
 * with "lib/test_kho: fixes for error handling". The next change (the
 * 3407cacc text) keeps the notifier but moves `folios_info` into
 * kho_preserve_vmalloc(), which the seed's KHO does not have; the FDT
 * below is the one the seed-era KHO can carry.
 *
 * First boot (no incoming `kho_test` subtree): folios of random orders
 * (0..MAX_PAGE_ORDER) until `max_mem` bytes, filled with get_random_bytes()
 * and summed with csum_partial(), each preserved at once; a FDT describing
 * them in a folio of its own; a KHO notifier that, at KEXEC_KHO_FINALIZE,
 * preserves that folio and adds it as subtree `kho_test`. A boot that finds
 * the subtree checks it, restores every folio, sums them again and prints
 * `test_kho: KHO restore succeeded` when the sums match. On failure this C
 * prints nothing (the initcall's error goes nowhere): the line is missing.
 *
 * The sub-FDT, values in CPU (little-endian) byte order as the C copies
 * its variables into the properties:
 *
 *     / {
 *             compatible = "kho-test-v1";
 *             magic = <u32 0x4b484f21>;             ("KHO!")
 *             data {
 *                     nr_folios = <u32 N>;
 *                     folios_info = <N x u64: phys | order>;
 *                     csum = <u32 __wsum>;
 *             };
 *     };
 *
 * Where luosim differs:
 * - Enabling. The C is built in with CONFIG_TEST_KEXEC_HANDOVER=y and has
 *   no on/off parameter. luosim builds nothing, so the module runs when the
 *   command line has `test_kho.enable=1` (a bool module parameter that only
 *   luosim has; the command line is what a kexec carries on). The C's own
 *   parameter `test_kho.max_mem=` (long, 8 MiB by default) works as in
 *   Linux. Like its Kconfig entry, the module needs CONFIG_KEXEC_HANDOVER.
 * - Chaining. After a restore the C returns; here the module then saves
 *   again, so each boot hands fresh data to the next and kexecs chain.
 * - It is built in, so module_exit (unregister, put everything) never runs.
 */
import type { Kernel } from "../kernel/kernel.ts";
import { EINVAL, ENOENT, ENOMEM, errnoReturn } from "../kernel/errno.ts";
import { csum_partial } from "../kernel/checksum.ts";
import { param_bool, param_long } from "../kernel/params.ts";
import { getRandomBytes } from "../fs/memdev.ts";
import { folio_address, folio_alloc, folio_order, folio_pfn, folio_put, type Folio } from "../mm/folio.ts";
import { NR_PAGE_ORDERS } from "../mm/buddy.ts";
import { MAX_PAGE_ORDER, PAGE_ALIGN, PAGE_SIZE, PFN_PHYS, get_order } from "../mm/physmem.ts";
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
	fdt_property_placeholder,
	le32_ld,
	le64_ld,
} from "../fdt/libfdt.ts";
import {
	KEXEC_KHO_ABORT,
	KEXEC_KHO_FINALIZE,
	NOTIFY_BAD,
	NOTIFY_DONE,
	kho_add_subtree,
	kho_preserve_folio,
	kho_restore_folio,
	kho_retrieve_subtree,
	register_kho_notifier,
	type KhoNotifierBlock,
} from "../kho/kho.ts";
import { khoReadFdt } from "../kho/kho_state.ts";

/** KHO_TEST_MAGIC: "KHO!". */
export const KHO_TEST_MAGIC = 0x4b484f21;
/** KHO_TEST_FDT: the subtree's name. */
export const KHO_TEST_FDT = "kho_test";
/** KHO_TEST_COMPAT. */
export const KHO_TEST_COMPAT = "kho-test-v1";
/** The default of module_param max_mem: (PAGE_SIZE << MAX_PAGE_ORDER) * 2, 8 MiB. */
export const KHO_TEST_MAX_MEM = PAGE_SIZE * 2 ** MAX_PAGE_ORDER * 2;

/** KBUILD_MODNAME, which also names the module parameters. */
const MODNAME = "test_kho";
/** sizeof(phys_addr_t). */
const PHYS_ADDR_SIZE = 8;
/** ~PAGE_MASK: where folios_info keeps the order. */
const ORDER_MASK = BigInt(PAGE_SIZE - 1);

/** struct kho_test_state: one per kernel, reachable from its notifier. */
interface KhoTestState {
	nr_folios: number;
	folios: Folio[];
	fdt: Folio | null;
	csum: number;
}

/** get_random_u32(): four bytes of the kernel's random stream. */
function get_random_u32(kernel: Kernel): number {
	const b = getRandomBytes(kernel, 4);
	return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

function kho_test_notifier(kernel: Kernel, state: KhoTestState): KhoNotifierBlock {
	return {
		notifier_call(_self, cmd, v): number {
			switch (cmd) {
				case KEXEC_KHO_ABORT:
					return NOTIFY_DONE;
				case KEXEC_KHO_FINALIZE:
					/* Handled below */
					break;
				default:
					return NOTIFY_BAD;
			}
			const fdt = state.fdt!;
			let err = 0;
			err |= errnoReturn(() => kho_preserve_folio(kernel, fdt));
			err |= errnoReturn(() => kho_add_subtree(v!, KHO_TEST_FDT, PFN_PHYS(folio_pfn(fdt))));
			return err ? NOTIFY_BAD : NOTIFY_DONE;
		},
	};
}

function kho_test_save_data(kernel: Kernel, state: KhoTestState, fdt: Uint8Array): number {
	const folios_info: (Uint8Array | null)[] = [null];
	let err = 0;

	err |= fdt_begin_node(fdt, "data");
	err |= fdt_property(fdt, "nr_folios", cpu_to_le32(state.nr_folios));
	err |= fdt_property_placeholder(fdt, "folios_info", state.nr_folios * PHYS_ADDR_SIZE, folios_info);
	err |= fdt_property(fdt, "csum", cpu_to_le32(state.csum));
	err |= fdt_end_node(fdt);

	if (err) return err;

	const info = new DataView(folios_info[0]!.buffer, folios_info[0]!.byteOffset, folios_info[0]!.byteLength);
	for (let i = 0; i < state.nr_folios; i++) {
		const folio = state.folios[i]!;
		const order = folio_order(folio);

		// phys is page aligned: adding the order is the C's `|` without JS's 32-bit one.
		info.setBigUint64(i * PHYS_ADDR_SIZE, BigInt(PFN_PHYS(folio_pfn(folio)) + order), true);

		err = errnoReturn(() => kho_preserve_folio(kernel, folio));
		if (err) break;
	}

	return err;
}

function kho_test_prepare_fdt(kernel: Kernel, state: KhoTestState): number {
	const compatible = new TextEncoder().encode(`${KHO_TEST_COMPAT}\0`);
	const fdt_size = state.nr_folios * PHYS_ADDR_SIZE + PAGE_SIZE;
	let err = 0;

	state.fdt = folio_alloc(kernel.buddy, get_order(fdt_size));
	if (!state.fdt) return -ENOMEM;

	const fdt = folio_address(state.fdt);

	err |= fdt_create(fdt, fdt_size);
	err |= fdt_finish_reservemap(fdt);

	err |= fdt_begin_node(fdt, "");
	err |= fdt_property(fdt, "compatible", compatible);
	err |= fdt_property(fdt, "magic", cpu_to_le32(KHO_TEST_MAGIC));
	err |= kho_test_save_data(kernel, state, fdt);
	err |= fdt_end_node(fdt);

	err |= fdt_finish(fdt);

	if (err) folio_put(state.fdt);

	return err;
}

/** The test data of both test_kho.c versions: random folios and their checksum. */
export interface KhoTestData {
	nr_folios: number;
	folios: Folio[];
	csum: number;
}

/**
 * kho_test_generate_data(): random folios of random orders up to `max_mem`
 * bytes and their checksum (the same function in both test_kho.c versions);
 * -ENOMEM, with nothing kept, when memory runs out.
 */
export function kho_test_generate_data(kernel: Kernel, state: KhoTestData, max_mem: number): number {
	let alloc_size = 0;
	let csum = 0;

	while (alloc_size < max_mem) {
		let order = get_random_u32(kernel) % NR_PAGE_ORDERS;

		/*
		 * Since get_order() rounds up, make sure that actual
		 * allocation is smaller so that we won't exceed max_mem
		 */
		if (alloc_size + PAGE_SIZE * 2 ** order > max_mem) {
			order = get_order(max_mem - alloc_size);
			if (order) order--;
		}
		const size = PAGE_SIZE * 2 ** order;

		const folio = folio_alloc(kernel.buddy, order);
		if (!folio) {
			for (let i = 0; i < state.nr_folios; i++) folio_put(state.folios[i]!);
			state.nr_folios = 0;
			return -ENOMEM;
		}

		state.folios[state.nr_folios++] = folio;
		const addr = folio_address(folio);
		addr.set(getRandomBytes(kernel, size));
		csum = csum_partial(addr, size, csum);
		alloc_size += size;
	}

	state.csum = csum;
	return 0;
}

function kho_test_save(kernel: Kernel): number {
	const state: KhoTestState = { nr_folios: 0, folios: [], fdt: null, csum: 0 };
	const max_mem = PAGE_ALIGN(param_long(kernel, MODNAME, "max_mem", KHO_TEST_MAX_MEM));
	let err: number;

	// kvmalloc_array(max_mem >> PAGE_SHIFT, ...) of a negative count, an enormous unsigned long, fails.
	if (max_mem < 0) return -ENOMEM;

	err = kho_test_generate_data(kernel, state, max_mem);
	if (err) return err;

	err = kho_test_prepare_fdt(kernel, state);
	if (err) return err;

	err = errnoReturn(() => register_kho_notifier(kernel, kho_test_notifier(kernel, state)));
	if (err) {
		folio_put(state.fdt!);
		return err;
	}

	return 0;
}

function kho_test_restore_data(kernel: Kernel, fdt: Uint8Array, node: number): number {
	const len = [0];
	let csum = 0;

	node = fdt_path_offset(fdt, "/data");

	const nr_folios = fdt_getprop(fdt, node, "nr_folios", len);
	if (!nr_folios || len[0] !== 4) return -EINVAL;

	const old_csum = fdt_getprop(fdt, node, "csum", len);
	if (!old_csum || len[0] !== 4) return -EINVAL;

	const folios_info = fdt_getprop(fdt, node, "folios_info", len);
	if (!folios_info || len[0] !== PHYS_ADDR_SIZE * le32_ld(nr_folios)) return -EINVAL;

	for (let i = 0; i < le32_ld(nr_folios); i++) {
		const info = le64_ld(folios_info, i * PHYS_ADDR_SIZE);
		const order = Number(info & ORDER_MASK);
		const phys = Number(info & ~ORDER_MASK);

		const folio = kho_restore_folio(kernel, phys);
		if (!folio) break;

		if (folio_order(folio) !== order) break;

		csum = csum_partial(folio_address(folio), PAGE_SIZE * 2 ** order, csum);
		folio_put(folio);
	}

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

	const err = kho_test_restore_data(kernel, fdt, node);
	if (err) return err;

	kernel.pr_info(`${MODNAME}: KHO restore succeeded`);
	return 0;
}

/**
 * kho_test_init() (module_init; a late initcall in luosim's boot): restore
 * and verify what the previous kernel handed over, else generate, preserve
 * and register for finalize; then (luosim) save again after a restore.
 * Returns 0 or -errno, which the boot ignores as do_one_initcall does.
 */
export function kho_test_init(kernel: Kernel): number {
	// The mainline generation runs test_kho_mainline.ts instead.
	if (kernel.abi === "mainline") return 0;
	if (!kernel.config.KEXEC_HANDOVER || !param_bool(kernel, MODNAME, "enable", false)) return 0;

	let fdt_phys = 0;
	const err = errnoReturn(() => {
		fdt_phys = kho_retrieve_subtree(kernel, KHO_TEST_FDT);
	});
	if (!err) {
		const restored = kho_test_restore(kernel, fdt_phys);
		const saved = kho_test_save(kernel);
		return restored || saved;
	}

	if (err !== -ENOENT) {
		kernel.pr_warn(`${MODNAME}: failed to retrieve ${KHO_TEST_FDT} FDT: ${err}`);
		return err;
	}

	return kho_test_save(kernel);
}
