/**
 * The Machine: what outlives a kernel. It owns physical memory (a later
 * module) and boots kernels over it; a kexec boots the next kernel on the
 * same Machine.
 */
import { Kernel, type BootOptions } from "./kernel.ts";
import { PhysicalMemory } from "../mm/physmem.ts";
import { khoInit } from "../kho/kho.ts";

/** Options for a new machine. */
export interface MachineOptions {
	/** Physical memory size in bytes (the `mem=` default is 4 GiB). */
	memBytes?: number;
	/** Existing physical memory (a machine rebuilt from a dump). */
	physmem?: PhysicalMemory;
}

/** A simulated computer. */
export class Machine {
	readonly memBytes: number;
	/** The RAM: the only thing that outlives a kernel. */
	physmem: PhysicalMemory;
	/** The kernel running now, if booted. */
	kernel: Kernel | null = null;

	constructor(opts: MachineOptions = {}) {
		this.physmem = opts.physmem ?? new PhysicalMemory(opts.memBytes ?? 4 * 1024 * 1024 * 1024);
		this.memBytes = this.physmem.sizeBytes;
	}

	/** Cold-boots a kernel: memory contents are not kept (a power cycle). */
	boot(opts: BootOptions = {}): Kernel {
		if (this.kernel) this.physmem = new PhysicalMemory(this.memBytes);
		this.kernel = new Kernel(this, opts);
		return this.kernel;
	}

	/**
	 * Warm-boots the next kernel, as kexec does: physical memory stays as it
	 * is and the running kernel, if any, is dropped (a machine rebuilt from
	 * a dump has none). `handoverPhys` is what the previous kernel's
	 * khoHandoverAddress() returned, or null for a kexec without KHO. KHO
	 * then reads the handover from memory and poisons every frame it did not
	 * keep; without a handover every old frame is poisoned here.
	 */
	kexecBoot(opts: BootOptions, handoverPhys: number | null): Kernel {
		this.kernel = null;
		const kernel = new Kernel(this, opts);
		this.kernel = kernel;
		// Until Kernel boot calls khoInit itself (right after building its buddy allocator).
		khoInit(kernel, handoverPhys);
		if (handoverPhys === null) this.physmem.poisonAllExcept(kernel.buddy.usedRanges());
		return kernel;
	}
}

/** Boots a fresh Machine and Kernel: the usual start of a test. */
export function bootKernel(opts: BootOptions = {}): Kernel {
	return new Machine().boot(opts);
}
