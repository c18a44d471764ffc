/**
 * /proc/PID/maps and /proc/PID/pagemap (fs/proc/task_mmu.c).
 *
 * maps: one line per VMA as show_map_vma() prints it, e.g.
 * `7f0000000000-7f0000001000 rw-s 00000000 00:01 1234` padded to 72
 * columns, a space, then `/memfd:NAME (deleted)`; anonymous mappings end
 * after the inode number and its space.
 *
 * pagemap: a u64 per virtual page (PM_PRESENT bit 63, PM_FILE bit 61,
 * PFN in bits 0-54 only for a reader with CAP_SYS_ADMIN, as Linux since
 * 4.2), read at 8-byte-aligned offsets in multiples of 8 (EINVAL
 * otherwise). A shmem page is present when the page cache holds it
 * (Linux reports it only once this process has faulted it in); a page a
 * MAP_PRIVATE mapping copied is present and anonymous, with PFN 0: luosim
 * keeps private pages outside the physical frames. Soft-dirty and
 * exclusive-mapping bits are not reported.
 */
import { Errno, EINVAL } from "../kernel/errno.ts";
import { CAP_SYS_ADMIN } from "../kernel/cred.ts";
import { AnonShmem, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE, type Vma } from "../uaccess/addressSpace.ts";
import { ShmemMapping, SHMEM_DEV } from "../mm/shmem.ts";
import { major, minor } from "./inode.ts";
import type { File, FileOperations } from "./file.ts";
import type { Process } from "../kernel/process.ts";

/** Bytes per pagemap entry (PM_ENTRY_BYTES). */
export const PM_ENTRY_BYTES = 8;
/** The PFN field: bits 0-54 (PM_PFRAME_MASK). */
export const PM_PFRAME_MASK = (1n << 55n) - 1n;
/** A page of a file or of shared anonymous memory. */
export const PM_FILE = 1n << 61n;
/** Swapped out (never here: no swap). */
export const PM_SWAP = 1n << 62n;
/** The page is present. */
export const PM_PRESENT = 1n << 63n;

/** What show_map_vma pads the fields to before the name: 25 + sizeof(void *) * 6 - 1. */
const MAPS_NAME_COLUMN = 72;

function hex(n: number, width: number): string {
	return n.toString(16).padStart(width, "0");
}

/** The device, inode and name a VMA shows. */
function vmaFile(v: Vma): { dev: number; ino: number; name: string } {
	const b = v.backing;
	if (b instanceof ShmemMapping) return { dev: b.inode.sb.dev, ino: b.inode.ino, name: b.name };
	// Shared anonymous memory is a shmem object in Linux too; luosim's has no inode number.
	if (b instanceof AnonShmem) return { dev: SHMEM_DEV, ino: 0, name: b.name };
	return { dev: 0, ino: 0, name: b?.name ?? "" };
}

/** show_map_vma(): one line. */
export function mapsLine(v: Vma): string {
	const f = vmaFile(v);
	const perms = `${v.prot & PROT_READ ? "r" : "-"}${v.prot & PROT_WRITE ? "w" : "-"}${v.prot & PROT_EXEC ? "x" : "-"}${v.shared ? "s" : "p"}`;
	const pgoff = v.backing === undefined ? 0 : v.pgoff * PAGE_SIZE;
	const head = `${hex(v.start, 8)}-${hex(v.end, 8)} ${perms} ${hex(pgoff, 8)} ${hex(major(f.dev), 2)}:${hex(minor(f.dev), 2)} ${f.ino} `;
	if (f.name === "") return `${head}\n`;
	// seq_file_path() escapes a newline in the name.
	return `${head.padEnd(MAPS_NAME_COLUMN)} ${f.name.replace(/\n/g, "\\012")}\n`;
}

/** The text of /proc/PID/maps: `p`'s VMAs in address order (nothing once it has exited). */
export function mapsText(p: Process): string {
	return p.exited ? "" : p.mm.vmas().map(mapsLine).join("");
}

/** pte_to_pagemap_entry() for page `idx` of `v`. */
function pagemapEntry(v: Vma, idx: number, showPfn: boolean): bigint {
	if (!v.shared && v.pages.has(idx)) return PM_PRESENT;
	const pfn = v.backing instanceof ShmemMapping ? v.backing.pfn(v.pgoff + idx) : null;
	if (pfn === null) return 0n;
	return PM_PRESENT | PM_FILE | (showPfn ? BigInt(pfn) & PM_PFRAME_MASK : 0n);
}

/** The entries for `n` pages from virtual page `vpn` of `p`. */
export function pagemapRead(p: Process, vpn: number, n: number, showPfn: boolean): Uint8Array {
	const out = new Uint8Array(n * PM_ENTRY_BYTES);
	const dv = new DataView(out.buffer);
	const start = vpn * PAGE_SIZE;
	const end = start + n * PAGE_SIZE;
	for (const v of p.mm.vmas()) {
		if (v.end <= start) continue;
		if (v.start >= end) break;
		for (let addr = Math.max(v.start, start); addr < Math.min(v.end, end); addr += PAGE_SIZE) {
			const e = pagemapEntry(v, (addr - v.start) / PAGE_SIZE, showPfn);
			if (e !== 0n) dv.setBigUint64((addr - start) / PAGE_SIZE * PM_ENTRY_BYTES, e, true);
		}
	}
	return out;
}

/**
 * The file operations of /proc/PID/pagemap. `task(file)` gives the
 * process (throwing Errno as /proc does: EACCES without ptrace access,
 * ESRCH once reaped). Open decides, from the opener's credentials, whether
 * reads show PFNs. lseek takes SEEK_SET and SEEK_CUR (mem_lseek).
 */
export function pagemapFops(task: (file: File) => Process): FileOperations {
	const showPfn = new WeakMap<File, boolean>();
	return {
		open: (_inode, file) => {
			task(file);
			showPfn.set(file, file.opener ? file.opener.cred.capable(CAP_SYS_ADMIN) : true);
		},
		read: (file, count, ppos) => {
			if (ppos.pos % PM_ENTRY_BYTES !== 0 || count % PM_ENTRY_BYTES !== 0) throw new Errno(EINVAL);
			const p = task(file);
			const vpn = ppos.pos / PM_ENTRY_BYTES;
			const n = p.exited ? 0 : Math.max(0, Math.min(count / PM_ENTRY_BYTES, TASK_SIZE / PAGE_SIZE - vpn));
			if (n === 0) return new Uint8Array(0);
			ppos.pos += n * PM_ENTRY_BYTES;
			return pagemapRead(p, vpn, n, showPfn.get(file) ?? false);
		},
		llseek: (file, offset, whence) => {
			const pos = whence === 0 ? offset : whence === 1 ? file.f_pos + offset : -1;
			if (!Number.isSafeInteger(pos) || pos < 0) throw new Errno(EINVAL);
			file.f_pos = pos;
			return pos;
		},
	};
}
