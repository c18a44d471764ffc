/**
 * Two-stage selftest programs for `luosim selftests` (tests.json `kexec`):
 * programs that reboot the machine themselves, as kho/vmtest's /init does
 * with its kexec, and whose result comes from the kernel that runs next,
 * as vmtest.sh reads the VM's serial console once QEMU has exited.
 *
 * Stage 1 runs `NAME` on a fresh machine. If it exits, its status is the
 * result. If its kernel ends instead (a kexec, or a restart: RB_AUTOBOOT,
 * a panic with `panic=N`), `NAME -s 2` runs in the kernel the machine runs
 * next and its status is the result; when nothing runs next (halt, power
 * off, a panic that stops the machine) the result is 1, since the verdict
 * never came. The runner's timeout applies to each stage, on that stage's
 * virtual clock (124 when it fires). A panic's lines go to the output.
 *
 * Unlike `luosim run --kexec` (do_kexec.sh: the runner kexecs after a
 * stage 1 that exited 0), a stage 1 that exits is final here, and a restart
 * still leads to stage 2 (whose verdict then fails), never to a silent pass.
 */
import { Machine } from "../kernel/machine.ts";
import { spawnProgram } from "../kernel/exec.ts";
import { openConsole } from "../fs/console.ts";
import { killAfter, shellStatus } from "./runProgram.ts";
import type { AbiGeneration, Kernel, ProgramMain } from "../kernel/kernel.ts";

/** How to run a two-stage selftest. */
export interface KexecSelftestOptions {
	abi: AbiGeneration;
	/** Appended to the generation's default command line of the first boot. */
	cmdline?: string;
	/** argv[0] of both stages. */
	argv0: string;
	/** Where stdout, stderr and the console's panic lines go. */
	out: (data: Uint8Array) => void;
	timeoutSec?: number;
	/** The machine to boot (a fresh one by default); tests use it to act between the boots. */
	machine?: Machine;
}

/** What one stage came to: its exit code, or how its kernel ended first. */
interface Stage {
	exitCode: number;
	stopped: boolean;
}

async function runStage(kernel: Kernel, main: ProgramMain, argv: string[], opts: KexecSelftestOptions): Promise<Stage> {
	const con = openConsole(kernel, { stdout: opts.out, stderr: opts.out });
	const p = spawnProgram(kernel, main, { argv, stdio: con });
	for (const f of con) f.put();
	const timedOut = killAfter(p, opts.timeoutSec);
	const r = await kernel.waitForOutcome(p);
	if (r.kind === "stopped") return { exitCode: 0, stopped: true };
	return { exitCode: timedOut() ? 124 : shellStatus(r.status), stopped: false };
}

/** Runs `main` as a two-stage selftest (see above); resolves to the exit code the runner reports. */
export async function runKexecSelftest(main: ProgramMain, opts: KexecSelftestOptions): Promise<number> {
	const machine = opts.machine ?? new Machine();
	machine.serialConsole = opts.out;
	const k1 = machine.boot({ abi: opts.abi, cmdline: opts.cmdline });
	const s1 = await runStage(k1, main, [opts.argv0], opts);
	if (!s1.stopped) return s1.exitCode;
	const k2 = machine.kernel;
	if (!k2) return 1;
	const s2 = await runStage(k2, main, [opts.argv0, "-s", "2"], opts);
	return s2.stopped ? (machine.lastReboot?.kind === "panic" ? 1 : 0) : s2.exitCode;
}
