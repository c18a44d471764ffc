/**
 * panic() (kernel/panic.c) as far as luosim goes: the message goes to the
 * log at KERN_EMERG and to the console, the kernel stops, and the Machine
 * either stays stopped or, with `panic=N` (N != 0) on the command line,
 * does an emergency restart: a cold boot, memory not kept (Linux waits N
 * seconds first when N > 0; luosim's clocks die with the kernel, so it
 * restarts at once). `panic=0`, the default (CONFIG_PANIC_TIMEOUT=0),
 * leaves the machine stopped after the `---[ end Kernel panic ... ]---`
 * line. There is no stack dump: no CPU registers to show.
 *
 * A panic while a kernel boots (e.g. LUO finding corrupt incoming data)
 * stops that boot; the Machine then restarts or stays stopped the same way
 * (see Machine.panic).
 */
import { KERN_EMERG } from "../kernel/printk.ts";
import { kstrtoint } from "../kernel/kstrtox.ts";
import { currentOrNull } from "../kernel/current.ts";
import { consoleWrite } from "../fs/console.ts";
import { KernelStopped } from "./reboot_event.ts";
import type { Kernel } from "../kernel/kernel.ts";

const encoder = new TextEncoder();

/** panic_timeout: `panic=` read as core_param(panic, int) does; unparsable or absent is 0. */
export function panicTimeout(kernel: Kernel): number {
	const v = kernel.cmdline.get("panic");
	if (v === undefined || v === null) return 0;
	try {
		return kstrtoint(v);
	} catch {
		return 0;
	}
}

/** A console message: the machine's serial console if it has one, else the kernel's /dev/console terminal. */
function emerg(kernel: Kernel, line: string): void {
	kernel.printk(KERN_EMERG, line);
	const bytes = encoder.encode(`${line}\n`);
	const serial = kernel.machine.serialConsole;
	if (serial) serial(bytes);
	else consoleWrite(kernel, bytes);
}

/** The pid whose stack a stop unwinds: the running process if it belongs to `kernel`, else 0. */
export function unwindPid(kernel: Kernel): number {
	const cur = currentOrNull();
	return cur !== null && cur.kernel === kernel ? cur.pid : 0;
}

/** panic(fmt): never returns; throws KernelStopped to unwind whatever called it. */
export function kernelPanic(kernel: Kernel, msg: string): never {
	const done = kernel.stopped;
	if (done) throw new KernelStopped(unwindPid(kernel), done);
	const timeout = panicTimeout(kernel);
	emerg(kernel, `Kernel panic - not syncing: ${msg}`);
	if (timeout > 0) emerg(kernel, `Rebooting in ${timeout} seconds..`);
	else if (timeout === 0) emerg(kernel, `---[ end Kernel panic - not syncing: ${msg} ]---`);
	const event = kernel.machine.panic(kernel, msg, timeout !== 0);
	throw new KernelStopped(unwindPid(kernel), event);
}
