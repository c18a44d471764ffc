/**
 * /proc/meminfo (fs/proc/meminfo.c)
 * from the boot's buddy allocator: MemTotal is every frame not reserved
 * (totalram_pages), MemFree the frames on the free lists, Shmem the
 * frames in shmem page caches (memfds), which also count in Cached and,
 * being swap-backed, on the inactive anon list. luosim has no swap,
 * reclaimable caches or watermarks, so MemAvailable equals MemFree; the
 * counters of things it does not model (slab, page tables, private
 * anonymous pages, which live outside the frames) read 0. The x86
 * DirectMap lines are left out, and there are no HugePages lines: luosim
 * is a kernel without CONFIG_HUGETLB_PAGE (see lib/fs/memfd.ts).
 */
import { PAGE_SHIFT } from "../mm/physmem.ts";
import { shmem_nr_pages } from "../mm/shmem.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** VMALLOC_TOTAL >> 10 with 4-level page tables (32 TiB). */
const VMALLOC_TOTAL_KB = 34359738367;

/** show_val_kb(): a 16-column label, the pages in kB right-aligned in 8 columns. */
function valKb(label: string, pages: number): string {
	return `${label.padEnd(16)}${String(pages * 2 ** (PAGE_SHIFT - 10)).padStart(8)} kB\n`;
}

/** The text of /proc/meminfo for `kernel`. */
export function meminfoText(kernel: Kernel): string {
	const buddy = kernel.buddy;
	const totalram = buddy.nr_pages - buddy.nr_reserved_pages();
	const free = buddy.nr_free_pages();
	const shmem = shmem_nr_pages(kernel);
	const kb = (label: string, value: number): string => `${label.padEnd(16)}${String(value).padStart(8)} kB\n`;
	return [
		valKb("MemTotal:", totalram), valKb("MemFree:", free), valKb("MemAvailable:", free), valKb("Buffers:", 0),
		valKb("Cached:", shmem), valKb("SwapCached:", 0), valKb("Active:", 0), valKb("Inactive:", shmem),
		valKb("Active(anon):", 0), valKb("Inactive(anon):", shmem), valKb("Active(file):", 0), valKb("Inactive(file):", 0),
		valKb("Unevictable:", 0), valKb("Mlocked:", 0), valKb("SwapTotal:", 0), valKb("SwapFree:", 0), valKb("Dirty:", 0),
		valKb("Writeback:", 0), valKb("AnonPages:", 0), valKb("Mapped:", 0), valKb("Shmem:", shmem),
		valKb("KReclaimable:", 0), valKb("Slab:", 0), valKb("SReclaimable:", 0), valKb("SUnreclaim:", 0),
		kb("KernelStack:", 0), valKb("PageTables:", 0), valKb("SecPageTables:", 0), valKb("NFS_Unstable:", 0),
		valKb("Bounce:", 0), valKb("WritebackTmp:", 0),
		// vm_commit_limit(): vm.overcommit_ratio 50 of RAM, no swap.
		valKb("CommitLimit:", Math.floor(totalram / 2)), valKb("Committed_AS:", 0), kb("VmallocTotal:", VMALLOC_TOTAL_KB),
		valKb("VmallocUsed:", 0), valKb("VmallocChunk:", 0), valKb("Percpu:", 0), `HardwareCorrupted: ${"0".padStart(5)} kB\n`,
		valKb("AnonHugePages:", 0), valKb("ShmemHugePages:", 0), valKb("ShmemPmdMapped:", 0), valKb("FileHugePages:", 0),
		valKb("FilePmdMapped:", 0),
	].join("");
}
