/**
 * `luosim selftests`: runs the mirrored selftests the way
 * `make -C tools/testing/selftests run_tests` does
 * (tools/testing/selftests/kselftest/runner.sh): per directory a
 * `TAP version 13` / `1..N` block, `# selftests: DIR: NAME`, the program's
 * merged stdout and stderr prefixed with `# `, then `ok`, `ok … # SKIP`,
 * `not ok … # TIMEOUT N seconds` or `not ok … # exit=N`.
 *
 * A directory under selftests/, or one level further down (`liveupdate/rfc-v2`,
 * as kselftest's nested TARGETS), is a target when it holds `tests.json`:
 * `{ "TEST_GEN_PROGS": ["name", …], "abi": ["rfc-v2", …] }` (programs are
 * `name.ts` beside it exporting main), plus the kernel's optional `settings`
 * file (`timeout=N`, default 45 s, counted on the virtual clock).
 * Optional fields: `"cmdline"`, appended to the generation's default
 * command line of every boot of the target (what a VM test's kernel is
 * booted with), and `"kexec": ["name", …]`, programs that run in two
 * stages across a reboot they make themselves (selftestsKexec.ts), and
 * `"do_kexec": ["name", …]`, two-stage programs whose stage 1 exits and
 * leaves the reboot to the operator: they run as `luosim run --kexec`
 * runs them (kexecRun.ts: stage 1, do_kexec.sh's kexec, `name -s 2`).
 */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { loadProgram, runProgram } from "./runProgram.ts";
import { runKexecSelftest } from "./selftestsKexec.ts";
import { runProgramKexec } from "./kexecRun.ts";
import type { AbiGeneration } from "../kernel/kernel.ts";

/** runner.sh's defaults. */
export const KSELFTEST_DEFAULT_TIMEOUT = 45;
const SKIP_RC = 4;
const TIMEOUT_RC = 124;

/** One selftest directory. */
export interface SelftestTarget {
	dir: string;
	progs: string[];
	abi: AbiGeneration[];
	timeoutSec: number;
	cmdline: string;
	kexec: string[];
	doKexec: string[];
}

interface Manifest {
	TEST_GEN_PROGS: string[];
	abi: AbiGeneration[];
	cmdline?: string;
	kexec?: string[];
	do_kexec?: string[];
}

/** Reads `settings` (kselftest format: `field=value` lines, `#` comments). */
function readTimeout(dir: string): number {
	const file = join(dir, "settings");
	if (!existsSync(file)) return KSELFTEST_DEFAULT_TIMEOUT;
	let timeout = KSELFTEST_DEFAULT_TIMEOUT;
	for (const line of readFileSync(file, "utf8").split("\n")) {
		if (line.startsWith("#")) continue;
		const m = /^timeout=(\d+)/.exec(line.trim());
		if (m) timeout = Number(m[1]);
	}
	return timeout;
}

/** The subdirectories of `dir`, by name. */
function subdirs(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

/** Every target under `root`, in directory-name order; a target may nest one level (kselftest's `liveupdate/rfc-v2`-style TARGETS). */
export function findTargets(root: string): SelftestTarget[] {
	const out: SelftestTarget[] = [];
	for (const name of subdirs(root).flatMap((d) => [d, ...subdirs(join(root, d)).map((sub) => `${d}/${sub}`)])) {
		const manifest = join(root, name, "tests.json");
		if (!existsSync(manifest)) continue;
		const m = JSON.parse(readFileSync(manifest, "utf8")) as Manifest;
		out.push({ dir: name, progs: m.TEST_GEN_PROGS, abi: m.abi, timeoutSec: readTimeout(join(root, name)), cmdline: m.cmdline ?? "", kexec: m.kexec ?? [], doKexec: m.do_kexec ?? [] });
	}
	return out;
}

/** Options of one runner invocation. */
export interface SelftestRunOptions {
	root: string;
	abi: AbiGeneration;
	/** Restrict to these: `DIR`, `DIR:NAME` or `NAME`. */
	names?: readonly string[];
	out: (text: string) => void;
}

function selected(names: readonly string[] | undefined, dir: string, prog: string): boolean {
	if (!names || names.length === 0) return true;
	return names.some((n) => n === dir || n === prog || n === `${dir}:${prog}` || n === `${dir}/${prog}` || dir.startsWith(`${n}/`));
}

/** Prefixes every line of a stream with `# ` as prefix.pl does. */
class TapPrefixer {
	private partial = "";
	constructor(private readonly out: (text: string) => void) {}
	write(data: Uint8Array): void {
		const text = this.partial + Buffer.from(data).toString("utf8");
		const lines = text.split("\n");
		this.partial = lines.pop()!;
		for (const l of lines) this.out(`# ${l}\n`);
	}
	end(): void {
		if (this.partial) this.out(`# ${this.partial}\n`);
		this.partial = "";
	}
}

/** Runs the selected programs of one generation; returns how many failed. */
export async function runSelftests(opts: SelftestRunOptions): Promise<number> {
	let failed = 0;
	for (const t of findTargets(opts.root)) {
		if (!t.abi.includes(opts.abi)) continue;
		const progs = t.progs.filter((p) => selected(opts.names, t.dir, p));
		if (progs.length === 0) continue;
		opts.out("TAP version 13\n");
		opts.out(`1..${progs.length}\n`);
		let num = 0;
		for (const prog of progs) {
			num++;
			const hdr = `selftests: ${t.dir}: ${prog}`;
			opts.out(`# ${hdr}\n`);
			const path = join(opts.root, t.dir, `${prog}.ts`);
			if (!existsSync(path)) {
				opts.out(`# Warning: file ${prog} is missing!\n`);
				opts.out(`not ok ${num} ${hdr}\n`);
				failed++;
				continue;
			}
			const prefix = new TapPrefixer(opts.out);
			const sink = (d: Uint8Array): void => prefix.write(d);
			const main = await loadProgram(path);
			const exitCode = t.kexec.includes(prog)
				? await runKexecSelftest(main, { abi: opts.abi, cmdline: t.cmdline, argv0: `./${prog}`, out: sink, timeoutSec: t.timeoutSec })
				: t.doKexec.includes(prog)
				? (await runProgramKexec(main, { abi: opts.abi, cmdline: t.cmdline, argv: [`./${prog}`], stdout: sink, stderr: sink })).exitCode
				: (await runProgram(main, { abi: opts.abi, cmdline: t.cmdline, argv: [`./${prog}`], stdout: sink, stderr: sink, timeoutSec: t.timeoutSec })).exitCode;
			prefix.end();
			if (exitCode === 0) opts.out(`ok ${num} ${hdr}\n`);
			else if (exitCode === SKIP_RC) opts.out(`ok ${num} ${hdr} # SKIP\n`);
			else if (exitCode === TIMEOUT_RC) {
				opts.out("#\n");
				opts.out(`not ok ${num} ${hdr} # TIMEOUT ${t.timeoutSec} seconds\n`);
				failed++;
			} else {
				opts.out(`not ok ${num} ${hdr} # exit=${exitCode}\n`);
				failed++;
			}
		}
	}
	return failed;
}
