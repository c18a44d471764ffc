/**
 * The versions check of seed 002 ("list all file handler versions in
 * vmlinux section"): every kernel image carries `.liveupdate_versions`, the
 * serialization formats it understands (LUO's ABI, "luo-v5", and each
 * built-in file handler's compatible, "memfd-v2"; lib/kexec/image.ts builds
 * and parses it). Before a live update the formats the outgoing kernel
 * will hand over must all be in the next kernel's list.
 *
 * Seed 002 leaves the check to userspace tooling and the question of
 * mandatory against optional handlers open. luosim's policy (docs/
 * liveupdate-mainline.md, "The versions check and its policy"): every
 * handler with preserved files is mandatory. kexec_file_load() of any
 * image succeeds (files may still be preserved or unpreserved after the
 * load), and liveupdate_reboot() refuses the kexec with ENOEXEC, before
 * anything is serialized, when the loaded image lacks LUO's ABI or the
 * compatible of a handler that has files in an outgoing session; each
 * missing one gets a pr_err naming it. The reason: mainline's next kernel
 * fails the deserialization of *every* session when one file's compatible
 * has no handler (ENOENT, then EIO on each open of /dev/liveupdate), so an
 * "optional" handler would take all preserved data down with it; refusing
 * keeps the sessions intact and lets userspace close the offending ones or
 * load another kernel. Nothing preserved: nothing to check.
 *
 * `luo_versions_compare` is the library function tools use
 * (`luosim versions IMAGE...`); `luo_versions_check` is the kernel's.
 */
import { Errno, ENOEXEC } from "../../kernel/errno.ts";
import { LUO_ABI_COMPATIBLE } from "./luo_abi.ts";
import { luo_outgoing_compatibles } from "./luo_file.ts";
import { kexec_image } from "../../kexec/kexec_core.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** What an image's list says about a set of required versions. */
export interface LuoVersionsComparison {
	/** The versions that must be understood, sorted. */
	readonly required: readonly string[];
	/** The image's `.liveupdate_versions`; null when it has none (a kernel without CONFIG_LIVEUPDATE). */
	readonly listed: readonly string[] | null;
	/** Required versions the image does not list, sorted. */
	readonly missing: readonly string[];
	/** Listed versions that are not required, in the image's order. */
	readonly extra: readonly string[];
}

/**
 * Compares `required` (the versions one kernel writes, or all it knows)
 * with an image's list: exact string matches, as the next kernel matches
 * compatibles with strcmp.
 */
export function luo_versions_compare(required: Iterable<string>, listed: readonly string[] | null): LuoVersionsComparison {
	const req = [...new Set(required)].sort();
	const have = new Set(listed ?? []);
	return {
		required: req,
		listed,
		missing: req.filter((v) => !have.has(v)),
		extra: (listed ?? []).filter((v) => !req.includes(v)),
	};
}

/**
 * The versions a kexec of `kernel` now would hand over: LUO's ABI and the
 * compatible of each handler with files in an outgoing session; none when
 * no file is preserved.
 */
export function luo_versions_required(kernel: Kernel): string[] {
	const handlers = [...luo_outgoing_compatibles(kernel)];
	return handlers.length === 0 ? [] : [LUO_ABI_COMPATIBLE, ...handlers];
}

/**
 * The check liveupdate_reboot() makes before serializing anything: throws
 * ENOEXEC, with a pr_err for each version the loaded image lacks, when a
 * required version is missing (see the policy above). Nothing to check
 * without a loaded image (kernel_kexec() has already refused that).
 */
export function luo_versions_check(kernel: Kernel): void {
	const image = kexec_image(kernel)?.parsed;
	if (!image) return;
	const cmp = luo_versions_compare(luo_versions_required(kernel), image.liveupdateVersions);
	if (cmp.missing.length === 0) return;
	for (const v of cmp.missing) {
		const what = v === LUO_ABI_COMPATIBLE ? "LUO ABI" : "file handler";
		kernel.pr_err(`luo: ${what} '${v}' has preserved state but the loaded kernel (${image.release}) does not list it in .liveupdate_versions`);
	}
	kernel.pr_err("luo: live update refused: the next kernel could not restore the preserved files");
	throw new Errno(ENOEXEC);
}
