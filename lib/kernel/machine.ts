/**
 * The Machine: what outlives a kernel. It owns physical memory (a later
 * module) and boots kernels over it; a kexec boots the next kernel on the
 * same Machine.
 *
 * The end of a kernel (lib/kexec: reboot(2), kexec, panic) goes through
 * `kexec`, `restart`, `halt` and `panic` here: the old kernel stops for
 * good (Kernel.stop), the machine boots what comes next, and every
 * listener of `onReboot` hears a RebootEvent saying what ended and what
 * runs now (`machine.kernel`, null when nothing does).
 */
import { Kernel, type BootOptions } from "./kernel.ts";
import { PhysicalMemory } from "../mm/physmem.ts";
import { KernelStopped, type KexecJump, type RebootEvent, type RebootKind } from "../kexec/reboot_event.ts";

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
	/** What the firmware boots on a restart: the options of the last `boot`. */
	firmwareBoot: BootOptions = {};
	/**
	 * When set, the next kexec does not boot here: the jump goes to this
	 * function (kexec through a file dumps the memory and boots in another
	 * host process) and the machine is left without a kernel. Used once.
	 */
	kexecHandoff: ((jump: KexecJump) => void) | null = null;
	/** The last kernel end, once one has happened. */
	lastReboot: RebootEvent | null = null;
	/**
	 * The serial console: where kernel console messages (a panic) go, from
	 * every kernel this machine boots. When unset, a kernel's messages go to
	 * the terminal its /dev/console reaches, if any.
	 */
	serialConsole: ((data: Uint8Array) => void) | null = null;
	private readonly rebootListeners = new Set<(ev: RebootEvent) => void>();
	/** A kernel has run on this memory (a cold boot must clear it). */
	private used = false;
	/** Boots in progress (a panic inside one is finished by `bootGuarded`). */
	private booting = 0;
	private bootPanic: { event: RebootEvent; restart: boolean } | null = null;

	constructor(opts: MachineOptions = {}) {
		this.physmem = opts.physmem ?? new PhysicalMemory(opts.memBytes ?? 4 * 1024 * 1024 * 1024);
		this.memBytes = this.physmem.sizeBytes;
	}

	/**
	 * Cold-boots a kernel: memory contents are not kept (a power cycle).
	 * The options become the firmware's for later restarts. A kernel that
	 * panics while booting leaves the machine stopped and throws its
	 * KernelStopped (a restart would panic the same way).
	 */
	boot(opts: BootOptions = {}): Kernel {
		this.firmwareBoot = opts;
		const k = this.bootGuarded(() => this.coldBoot(opts), false);
		if (!k) throw new KernelStopped(0, this.lastReboot!);
		return k;
	}

	private coldBoot(opts: BootOptions): Kernel {
		if (this.used) this.physmem = new PhysicalMemory(this.memBytes);
		this.used = true;
		this.kernel = null;
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
		this.used = true;
		this.kernel = null;
		// Nothing was handed over: every old frame is garbage before the new kernel touches one.
		if (handoverPhys === null) this.physmem.poisonAllExcept([]);
		const kernel = new Kernel(this, { ...opts, handoverPhys });
		this.kernel = kernel;
		return kernel;
	}

	/** Calls `fn` after each kernel end; returns a function that unregisters it. */
	onReboot(fn: (ev: RebootEvent) => void): () => void {
		this.rebootListeners.add(fn);
		return () => this.rebootListeners.delete(fn);
	}

	/** The next kernel end. */
	nextReboot(): Promise<RebootEvent> {
		return new Promise((resolve) => {
			const off = this.onReboot((ev) => {
				off();
				resolve(ev);
			});
		});
	}

	/**
	 * machine_kexec(): `from` stops and the loaded kernel warm-boots over
	 * the same memory with the KHO handover (or the jump goes to
	 * `kexecHandoff`). The new kernel is `event.to`.
	 */
	kexec(from: Kernel, jump: KexecJump): RebootEvent {
		const ev = this.stop(from, "kexec", null, jump);
		const handoff = this.kexecHandoff;
		this.kexecHandoff = null;
		if (handoff) handoff(jump);
		else ev.to = this.bootJump(jump);
		return this.emit(ev);
	}

	/**
	 * Warm-boots what a kexec jumps to (here, or from a kexec dump in a new
	 * host process): the kernel running afterwards, or null if it panicked
	 * while booting and the machine stayed stopped.
	 */
	bootJump(jump: KexecJump): Kernel | null {
		return this.bootGuarded(() => this.kexecBoot(jump.boot, jump.handoverPhys), true);
	}

	/** machine_restart(): `from` stops and the firmware cold-boots its kernel (memory not kept). */
	restart(from: Kernel, message: string | null): RebootEvent {
		const ev = this.stop(from, "restart", message, null);
		ev.to = this.bootGuarded(() => this.coldBoot(this.firmwareBoot), false);
		return this.emit(ev);
	}

	/** machine_halt() / machine_power_off(): `from` stops and nothing runs. */
	halt(from: Kernel, kind: "halt" | "power_off"): RebootEvent {
		return this.emit(this.stop(from, kind, null, null));
	}

	/**
	 * panic()'s machine half: `from` stops; with `restart` (panic=N) an
	 * emergency_restart() cold-boots the firmware's kernel. A panic during
	 * a boot is finished when that boot unwinds (bootGuarded).
	 */
	panic(from: Kernel, message: string, restart: boolean): RebootEvent {
		const ev = this.stop(from, "panic", message, null);
		if (this.booting > 0) {
			this.bootPanic = { event: ev, restart };
			return ev;
		}
		if (restart) ev.to = this.bootGuarded(() => this.coldBoot(this.firmwareBoot), false);
		return this.emit(ev);
	}

	private stop(from: Kernel, kind: RebootKind, message: string | null, jump: KexecJump | null): RebootEvent {
		const ev: RebootEvent = { kind, from, to: null, message, jump };
		from.stop(ev);
		if (this.kernel === from) this.kernel = null;
		return ev;
	}

	private emit(ev: RebootEvent): RebootEvent {
		this.lastReboot = ev;
		for (const fn of [...this.rebootListeners]) fn(ev);
		return ev;
	}

	/**
	 * Runs a boot. If the new kernel panics while booting, the panic is
	 * finished here: with panic=N and `mayRestart` the firmware's kernel
	 * cold-boots (once: a cold boot that panics at boot would do so
	 * forever, so it stays stopped); the result is the kernel running
	 * afterwards, or null.
	 */
	private bootGuarded(boot: () => Kernel, mayRestart: boolean): Kernel | null {
		this.booting++;
		try {
			return boot();
		} catch (e) {
			if (!(e instanceof KernelStopped)) throw e;
		} finally {
			this.booting--;
		}
		const p = this.bootPanic;
		this.bootPanic = null;
		if (p) {
			if (p.restart && mayRestart) p.event.to = this.bootGuarded(() => this.coldBoot(this.firmwareBoot), false);
			this.emit(p.event);
		}
		return this.kernel;
	}
}

/** Boots a fresh Machine and Kernel: the usual start of a test. */
export function bootKernel(opts: BootOptions = {}): Kernel {
	return new Machine().boot(opts);
}
