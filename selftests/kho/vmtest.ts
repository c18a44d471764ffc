// SPDX-License-Identifier: GPL-2.0
/*
 * vmtest.ts: tools/testing/selftests/kho/vmtest.sh of the KHO-notifier era
 * (2369f056), run inside luosim instead of around QEMU. vmtest.sh builds a
 * kernel with the KHO test module, boots it with `kho=on panic=-1` and an
 * initrd whose /init (init.c) finalizes KHO and kexecs the same kernel;
 * lib/test_kho.c verifies the handed-over data in the second kernel, and
 * the script greps the serial console for `KHO restore succeeded`.
 *
 * Here the machine is luosim's and the script runs in two stages:
 *
 * - stage 1 (no `-s`), in the first kernel: the KTAP header and plan; the
 *   configuration check (the running image's `.ikconfig` for
 *   CONFIG_KEXEC_HANDOVER and its debugfs, /proc/cmdline for
 *   `test_kho.enable=1`, which stands for CONFIG_TEST_KEXEC_HANDOVER=y);
 *   the "initrd" (mkdir /debugfs, /init naming init.ts, or
 *   mainline/init.ts for a mainline image, /boot/vmlinuz
 *   copied to /kernel, and /proc left unmounted for /init to mount); then /init runs and kexecs the machine. If it comes
 *   back instead, the VM has ended: the verdict follows at once.
 * - stage 2 (`-s 2`), in whatever kernel the machine runs next (`luosim
 *   selftests` with tests.json `kexec`, or `luosim run --kexec`): the
 *   verdict, from /dev/kmsg instead of the serial file.
 *
 * The boot command line (vmtest's `console=... kho=on panic=-1`) comes from
 * tests.json. vmtest.sh's -d, -j and -t (build directory, make jobs, cross
 * target) have no counterpart: nothing is built, and luosim is x86_64.
 * As in the shell, the EXIT trap's ktap_finished decides the exit status,
 * so a skip exits 0.
 */
import {
	close, errno, execve, fork, getopt, mkdir, open, optarg, printf, read, umount, waitpid, write,
	EEXIST, EPIPE, O_CREAT, O_NONBLOCK, O_RDONLY, O_TRUNC, O_WRONLY,
} from "luosim/libc";
import { KSFT_FAIL, KSFT_SKIP } from "luosim/ksft";
import { KtapHelpers } from "../kselftest/ktap_helpers.ts";

/* The kernel configuration vmtest.sh insists on, as luosim spells it. */
const KHO_CONFIG = ["CONFIG_KEXEC_HANDOVER=y", "CONFIG_KEXEC_HANDOVER_DEBUGFS=y"];
const KHO_CMDLINE = ["test_kho.enable=1"];

const KERNEL = "/boot/vmlinuz";

/** `exit N` inside the script. The EXIT trap (cleanup) still runs, and its ktap_finished sets the real status. */
class ScriptExit {
	constructor(readonly status: number) {}
}

function usage(argv0: string): void {
	printf("%s [-s stage] [-h]\n", argv0);
	printf("Options:\n");
	printf("\t-s)\tstage: 2 is the part after the kexec\n");
	printf("\t-h)\tdisplay this help\n");
}

/** The whole of a file, or null when it cannot be read. */
function slurp(path: string): Uint8Array | null {
	const fd = open(path, O_RDONLY);
	if (fd < 0) return null;
	const parts: Uint8Array[] = [];
	const buf = new Uint8Array(65536);
	let n: number;
	while ((n = read(fd, buf, buf.length)) > 0) parts.push(buf.slice(0, n));
	close(fd);
	if (n < 0) return null;
	const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
	let off = 0;
	for (const p of parts) {
		out.set(p, off);
		off += p.length;
	}
	return out;
}

/**
 * The init.c that goes with the kernel image: the generation an image
 * names (16 bytes at offset 16) says which KHO it was built with;
 * `mainline` has no finalize, so its /init does not write one.
 */
function initFor(image: Uint8Array | null): string {
	const gen = image ? new TextDecoder().decode(image.subarray(16, 32)).replace(/\0+$/, "") : "";
	return gen === "mainline" ? "./mainline/init.ts" : "./init.ts";
}

/** Writes `data` to a new file `path` with `mode`; false on any failure. */
function spill(path: string, data: Uint8Array, mode: number): boolean {
	const fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0) return false;
	const ok = write(fd, data, data.length) === data.length;
	return close(fd) === 0 && ok;
}

/** grep PATTERN over the kernel log: each /dev/kmsg record's text, read until EAGAIN (no more records). */
function grep_kmsg(pattern: string): boolean {
	const fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0) return false;
	const buf = new Uint8Array(8192);
	let found = false;
	for (;;) {
		const n = read(fd, buf, buf.length);
		if (n < 0 && errno === EPIPE) continue;
		if (n <= 0) break;
		const record = new TextDecoder().decode(buf.subarray(0, n));
		if (record.slice(record.indexOf(";") + 1).includes(pattern)) found = true;
	}
	close(fd);
	return found;
}

export async function main(argc: number, argv: string[]): Promise<number> {
	const ktap = new KtapHelpers();
	let stage = 1;
	let opt: number;

	function skip(msg = ""): never {
		ktap.ktap_test_skip(msg);
		throw new ScriptExit(KSFT_SKIP);
	}

	function fail(msg = ""): never {
		ktap.ktap_test_fail(msg);
		throw new ScriptExit(KSFT_FAIL);
	}

	function build_kernel(): void {
		const image = slurp(KERNEL);
		const cmdline = slurp("/proc/cmdline");
		if (!image || !cmdline) skip();
		const kconfig = new TextDecoder("latin1").decode(image);

		// verify that kernel configuration has all necessary options
		for (const opt of KHO_CONFIG) if (!kconfig.includes(`${opt}\n`)) skip(`${opt} is missing`);
		const params = new TextDecoder().decode(cmdline).trim().split(" ");
		for (const opt of KHO_CMDLINE) if (!params.includes(opt)) skip(`${opt} is missing`);
	}

	function mkinitrd(): void {
		for (const dir of ["/dev", "/debugfs", "/proc"]) if (mkdir(dir, 0o755) < 0 && errno !== EEXIST) skip();
		// luosim's boot has already mounted proc on /proc, where the initrd has an empty directory for /init to mount on.
		if (umount("/proc") < 0) skip();

		const kernel = slurp(KERNEL);
		// vmtest.sh builds the initrd from the kernel's own tree: the init.c of that kernel's KHO (finalize or not).
		const init = new TextEncoder().encode(`#!luosim\n${new URL(initFor(kernel), import.meta.url).href}\n`);
		if (!spill("/init", init, 0o755) || !kernel || !spill("/kernel", kernel, 0o644)) skip();
	}

	async function run_qemu(): Promise<void> {
		const status = new Int32Array(1);
		const pid = fork(async () => {
			await execve("/init", ["/init"], []);
			return 127;
		});
		if (pid < 0) skip();
		await waitpid(pid, status, 0);
	}

	try {
		while ((opt = getopt(argc, argv, "hs:")) !== -1) {
			switch (String.fromCharCode(opt)) {
				case "s":
					stage = Number(optarg);
					break;
				case "h":
					usage(argv[0]!);
					throw new ScriptExit(0);
				default:
					printf("Unknown argument %c\n", opt);
					usage(argv[0]!);
					throw new ScriptExit(1);
			}
		}

		if (stage !== 2) {
			ktap.ktap_print_header();
			ktap.ktap_set_plan(1);

			build_kernel();
			mkinitrd();
			// The kexec ends this kernel here; coming back means /init failed and the VM is over.
			await run_qemu();
		} else {
			// Stage 1 printed the plan before the kexec.
			ktap.KSFT_NUM_TESTS = 1;
		}

		if (!grep_kmsg("KHO restore succeeded")) fail("KHO failed");

		ktap.ktap_test_pass("KHO succeeded");
	} catch (e) {
		if (!(e instanceof ScriptExit)) throw e;
	}
	// trap cleanup EXIT
	return ktap.ktap_finished();
}
