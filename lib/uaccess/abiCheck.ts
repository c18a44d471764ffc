/**
 * The gcc oracle's registry: ABI facts (struct layouts and constants such
 * as ioctl numbers) that abiCheck.test.ts compiles into a small C program
 * and compares with the real compiler's `sizeof`, `_Alignof`, `offsetof`
 * and values. Test support: nothing in the simulated kernel uses it.
 *
 * To register facts from another module, create a file named `*.abi.ts`
 * anywhere under lib/ (the test imports every one of them):
 *
 *     // lib/liveupdate/uapi/rfc-v2.abi.ts
 *     import { registerAbiStruct, registerAbiConstant } from "../../uaccess/abiCheck.ts";
 *     registerAbiStruct({ cName: "struct liveupdate_fd", layout: liveupdate_fd, cDecl: LIVEUPDATE_H_TEXT });
 *     registerAbiConstant({ name: "LIVEUPDATE_IOCTL_FD_PRESERVE", value: LIVEUPDATE_IOCTL_FD_PRESERVE,
 *         cExpr: "LIVEUPDATE_IOCTL_FD_PRESERVE", includes: ["<linux/ioctl.h>"], cDecl: LIVEUPDATE_H_TEXT });
 *
 * A `cDecl` is C text (an `#include` line or the struct's definition as the
 * header has it, for headers the host does not ship); identical texts are
 * emitted once. Facts whose headers clash with others can name their own
 * `unit`, compiled as a separate program.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Struct, int, type AnyCType, type Fields } from "./struct.ts";
import { _IOWR } from "./ioctl.ts";
import {
	BLKGETSIZE64, FIONREAD, FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, RNDGETENTCNT, struct_linux_dirent64, struct_pollfd,
	struct_rlimit, struct_stat, struct_timespec,
} from "./abi.ts";

/** A struct whose TS layout must match C's. */
export interface StructFact {
	/** The C type as C spells it: "struct stat". */
	cName: string;
	layout: Struct<Fields>;
	/** C text that declares it: `#include <sys/stat.h>`, or the definition itself. */
	cDecl: string;
	/** Program to compile it in (default "main"). */
	unit?: string;
}

/** A constant (an ioctl number, a flag) whose TS value must equal a C expression. */
export interface ConstFact {
	/** Name in messages, usually the C macro's. */
	name: string;
	value: number | bigint;
	/** The C expression, e.g. "FS_IOC_GETFLAGS" or "_IOWR(0xBA, 0, 16)". */
	cExpr: string;
	/** Headers, as `#include` takes them: "<linux/fs.h>". */
	includes: readonly string[];
	/** Extra C text the expression needs (a definition the host headers lack). */
	cDecl?: string;
	unit?: string;
}

/** One comparison: what C prints for `cExpr` must equal `expected`. */
export interface AbiCheck {
	/** The fact it belongs to, for messages ("struct stat"). */
	fact: string;
	/** What is compared, as C text ("offsetof(struct stat, st_atim.tv_nsec)"). */
	what: string;
	cExpr: string;
	expected: number | bigint;
}

/** One C program: its source and its checks, in the order it prints them (one integer per line). */
export interface AbiProgram {
	unit: string;
	source: string;
	checks: AbiCheck[];
}

/** The registered struct facts (append with registerAbiStruct). */
export const abiStructs: StructFact[] = [];
/** The registered constant facts (append with registerAbiConstant). */
export const abiConstants: ConstFact[] = [];

/** Registers a struct layout for the gcc check. */
export function registerAbiStruct(fact: StructFact): void {
	abiStructs.push(fact);
}

/** Registers a constant for the gcc check. */
export function registerAbiConstant(fact: ConstFact): void {
	abiConstants.push(fact);
}

/** sizeof, _Alignof, and offsetof and sizeof of every member, nested struct members as "a.b". */
function structChecks(f: StructFact): AbiCheck[] {
	const checks: AbiCheck[] = [
		{ fact: f.cName, what: `sizeof(${f.cName})`, cExpr: `sizeof(${f.cName})`, expected: f.layout.size },
		{ fact: f.cName, what: `_Alignof(${f.cName})`, cExpr: `_Alignof(${f.cName})`, expected: f.layout.align },
	];
	const walk = (layout: Struct<Fields>, prefix: string, base: number): void => {
		for (const m of layout.members) {
			const path = prefix + m.name;
			const what = `offsetof(${f.cName}, ${path})`;
			checks.push({ fact: f.cName, what, cExpr: what, expected: base + m.offset });
			// sizeof of a flexible array member is not C.
			if (m.type.size > 0) {
				const sz = `sizeof(((${f.cName} *)0)->${path})`;
				checks.push({ fact: f.cName, what: sz, cExpr: sz, expected: m.type.size });
			}
			if (isStruct(m.type)) walk(m.type, `${path}.`, base + m.offset);
		}
	};
	walk(f.layout, "", 0);
	return checks;
}

function isStruct(t: AnyCType): t is Struct<Fields> {
	return t instanceof Struct;
}

/**
 * The C programs that check `structs` and `constants` (the registry by
 * default), one per unit. Each prints one integer per check, in order.
 */
export function abiPrograms(structs: readonly StructFact[] = abiStructs, constants: readonly ConstFact[] = abiConstants): AbiProgram[] {
	const units = new Map<string, { decls: string[]; checks: AbiCheck[] }>();
	const unit = (name: string | undefined): { decls: string[]; checks: AbiCheck[] } => {
		const key = name ?? "main";
		let u = units.get(key);
		if (u === undefined) units.set(key, (u = { decls: [], checks: [] }));
		return u;
	};
	const addDecl = (decls: string[], text: string): void => {
		if (!decls.includes(text)) decls.push(text);
	};
	for (const c of constants) {
		const u = unit(c.unit);
		for (const h of c.includes) addDecl(u.decls, `#include ${h}`);
		if (c.cDecl !== undefined) addDecl(u.decls, c.cDecl);
		u.checks.push({ fact: c.name, what: `${c.name} (${c.cExpr})`, cExpr: c.cExpr, expected: c.value });
	}
	for (const s of structs) {
		const u = unit(s.unit);
		addDecl(u.decls, s.cDecl);
		u.checks.push(...structChecks(s));
	}
	return [...units].map(([name, u]) => ({
		unit: name,
		checks: u.checks,
		source: [
			"#include <stdio.h>",
			"#include <stddef.h>",
			...u.decls,
			'#define P(e) do { if ((e) < 0) printf("%lld\\n", (long long)(e)); else printf("%llu\\n", (unsigned long long)(e)); } while (0)',
			"int main(void)",
			"{",
			...u.checks.map((c) => `\tP(${c.cExpr});`),
			"\treturn 0;",
			"}",
			"",
		].join("\n"),
	}));
}

/** Pairs each check of `program` with the value the C program printed for it (null when it printed too few lines). */
export function abiResults(program: AbiProgram, stdout: string): { check: AbiCheck; actual: bigint | null }[] {
	const lines = stdout.split("\n").filter((l) => l !== "");
	return program.checks.map((check, i) => ({ check, actual: lines[i] === undefined ? null : BigInt(lines[i]!) }));
}

/**
 * Why the gcc check cannot run (gcc is missing), or false to run it. Under
 * CI (`CI=true`) a missing gcc is no reason: the check runs and fails.
 */
export function gccSkipReason(env: NodeJS.ProcessEnv = process.env): string | false {
	if (env.CI === "true" || spawnSync("gcc", ["--version"], { env }).status === 0) return false;
	return "gcc not installed (with CI=true this is a failure)";
}

/** Compiles `program` with gcc in a temporary directory and runs it; its stdout. Throws with gcc's diagnostics. */
export function runAbiProgram(program: AbiProgram): string {
	const dir = mkdtempSync(join(tmpdir(), "luosim-abi-"));
	try {
		const src = join(dir, "abi.c");
		const exe = join(dir, "abi");
		writeFileSync(src, program.source);
		const cc = spawnSync("gcc", ["-std=gnu11", "-w", "-o", exe, src], { encoding: "utf8" });
		if (cc.error !== undefined || cc.status !== 0) {
			throw new Error(`gcc failed for ABI unit "${program.unit}": ${cc.error?.message ?? cc.stderr}\n${program.source}`);
		}
		const run = spawnSync(exe, [], { encoding: "utf8" });
		if (run.status !== 0) throw new Error(`ABI unit "${program.unit}" exited with ${String(run.status)}`);
		return run.stdout;
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

registerAbiStruct({ cName: "struct pollfd", layout: struct_pollfd, cDecl: "#include <poll.h>" });
registerAbiStruct({ cName: "struct timespec", layout: struct_timespec, cDecl: "#include <time.h>" });
registerAbiStruct({ cName: "struct rlimit", layout: struct_rlimit, cDecl: "#include <sys/resource.h>" });
registerAbiStruct({ cName: "struct stat", layout: struct_stat, cDecl: "#include <sys/stat.h>" });
registerAbiStruct({
	cName: "struct linux_dirent64",
	layout: struct_linux_dirent64,
	// include/linux/dirent.h is not a uAPI header.
	cDecl: [
		"#include <stdint.h>",
		"struct linux_dirent64 {",
		"\tuint64_t d_ino;",
		"\tint64_t d_off;",
		"\tunsigned short d_reclen;",
		"\tunsigned char d_type;",
		"\tchar d_name[];",
		"};",
	].join("\n"),
});
registerAbiConstant({ name: "FIONREAD", value: FIONREAD, cExpr: "FIONREAD", includes: ["<sys/ioctl.h>"] });
registerAbiConstant({ name: "FS_IOC_GETFLAGS", value: FS_IOC_GETFLAGS, cExpr: "FS_IOC_GETFLAGS", includes: ["<linux/fs.h>"] });
registerAbiConstant({ name: "FS_IOC_SETFLAGS", value: FS_IOC_SETFLAGS, cExpr: "FS_IOC_SETFLAGS", includes: ["<linux/fs.h>"] });
registerAbiConstant({ name: "BLKGETSIZE64", value: BLKGETSIZE64, cExpr: "BLKGETSIZE64", includes: ["<linux/fs.h>"] });
registerAbiConstant({ name: "RNDGETENTCNT", value: RNDGETENTCNT, cExpr: "RNDGETENTCNT", includes: ["<linux/random.h>"] });
// The made-up 16-byte command, and the trap it hides: C's third argument is a type, so
// `_IOWR(0xBA, 0, 16)` in C is sizeof(int) = 4, while a TS number is a byte count.
registerAbiConstant({ name: "_IOWR(0xba, 0, 16)", value: _IOWR(0xba, 0, 16), cExpr: "_IOWR(0xBA, 0, char[16])", includes: ["<linux/ioctl.h>"] });
registerAbiConstant({ name: "_IOWR(0xba, 0, int)", value: _IOWR(0xba, 0, int), cExpr: "_IOWR(0xBA, 0, 16)", includes: ["<linux/ioctl.h>"] });
