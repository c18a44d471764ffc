/**
 * Test support, not part of the simulated libc: compiles a small C program
 * with the host's gcc so that tests can compare luosim's libc with the real
 * glibc (Debian 12: glibc 2.36) byte for byte.
 *
 * Oracle tests skip when gcc is missing, except under CI (`CI=true`), where
 * a missing compiler must fail the run instead of silently skipping.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One run of a compiled program. */
export interface CRun {
	stdout: Buffer;
	stderr: Buffer;
	status: number | null;
}

/** A compiled C program in a private temporary directory. */
export interface CProgram {
	/** Runs it with `args`; `argv0` replaces argv[0] and `env` the whole environment. */
	run(args: readonly string[], opts?: { argv0?: string; env?: NodeJS.ProcessEnv }): CRun;
	/** Removes the temporary directory. */
	dispose(): void;
}

/** True when `gcc` runs on this machine. */
export function ccAvailable(): boolean {
	return spawnSync("gcc", ["--version"]).status === 0;
}

/**
 * Why an oracle test should be skipped ("gcc not installed"), or false to
 * run it; under CI a missing gcc is not a reason, so the test runs and fails.
 */
export function ccSkipReason(): string | false {
	if (ccAvailable() || process.env.CI === "true") return false;
	return "gcc not installed";
}

/** Compiles `source` (C11, warnings off: the tests pass odd formats on purpose); throws with gcc's diagnostics on failure. */
export function compileC(source: string): CProgram {
	const dir = mkdtempSync(join(tmpdir(), "luosim-cc-"));
	const src = join(dir, "prog.c");
	const exe = join(dir, "prog");
	writeFileSync(src, source);
	const cc = spawnSync("gcc", ["-std=gnu11", "-w", "-O0", "-o", exe, src], { encoding: "utf8" });
	if (cc.error !== undefined || cc.status !== 0) {
		rmSync(dir, { recursive: true, force: true });
		throw new Error(`gcc failed: ${cc.error?.message ?? cc.stderr}`);
	}
	return {
		run(args, opts = {}): CRun {
			const r = spawnSync(exe, [...args], { argv0: opts.argv0, env: opts.env ?? {}, maxBuffer: 64 << 20 });
			return { stdout: r.stdout, stderr: r.stderr, status: r.status };
		},
		dispose(): void {
			rmSync(dir, { recursive: true, force: true });
		},
	};
}

/** A C string literal for `s` (UTF-8 bytes; octal escapes for anything unusual). */
export function cString(s: string): string {
	let out = '"';
	for (const b of Buffer.from(s, "utf8")) {
		if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
		else if (b >= 0x20 && b < 0x7f && b !== 0x3f) out += String.fromCharCode(b);
		else out += `\\${b.toString(8).padStart(3, "0")}`;
	}
	return `${out}"`;
}
