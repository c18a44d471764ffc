/**
 * `luosim`: the simulated machine and kernel, and helpers to run programs
 * on them from scripts and tests. Programs themselves import `luosim/libc`
 * and `luosim/ksft`.
 */
export { Machine, bootKernel, type MachineOptions } from "./kernel/machine.ts";
export {
	Kernel,
	ABI_GENERATIONS,
	DEFAULT_CMDLINE,
	DeadlockError,
	defaultConfig,
	type AbiGeneration,
	type BootOptions,
	type KernelConfig,
	type ProgramMain,
} from "./kernel/kernel.ts";
export { spawnProgram, forkProcess, type SpawnOptions, type ProcessBody } from "./kernel/exec.ts";
export { Process } from "./kernel/process.ts";
export { Errno, errnoName, strerror } from "./kernel/errno.ts";
export { formatDmesgLine, formatKmsgRecord } from "./kernel/printk.ts";
export { enableStrace, disableStrace } from "./kernel/strace.ts";
export { openConsole } from "./fs/console.ts";
export { runProgram, loadProgram, type RunOptions, type RunOutcome } from "./cli/runProgram.ts";
export { writeProgramFile } from "./kernel/binfmt.ts";
export { buildImage, parseImage, type KernelImage } from "./kexec/image.ts";
export { kexecViaFile, bootFromDump } from "./kexec/kexec_dump.ts";
export { register_reboot_notifier, unregister_reboot_notifier } from "./kexec/kexec_core.ts";
export { KernelStopped, KernelStoppedError, type RebootEvent, type RebootKind, type KexecJump, type WaitOutcome } from "./kexec/reboot_event.ts";
export { runProgramKexec, type KexecRunOptions } from "./cli/kexecRun.ts";
