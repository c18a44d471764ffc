import t from "tap";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { abiPrograms, abiResults, abiConstants, abiStructs, gccSkipReason, runAbiProgram } from "./abiCheck.ts";
import { struct, u8, u32 } from "./struct.ts";

const libDir = join(dirname(fileURLToPath(import.meta.url)), "..");

// Every `*.abi.ts` under lib/ registers its facts when imported.
for (const f of readdirSync(libDir, { recursive: true, encoding: "utf8" }).filter((n) => n.endsWith(".abi.ts")).sort()) {
	await import(pathToFileURL(join(libDir, f)).href);
}

const skip = gccSkipReason();

t.test("every registered ABI fact matches gcc", { skip }, async (t) => {
	t.ok(abiStructs.length >= 5 && abiConstants.length >= 7, "the built-in facts are registered");
	for (const program of abiPrograms()) {
		for (const { check, actual } of abiResults(program, runAbiProgram(program))) {
			t.equal(actual, BigInt(check.expected), `${check.fact}: ${check.what}`);
		}
	}
});

t.test("the checks cover sizeof, _Alignof, every offsetof and nested members", async (t) => {
	const whats = abiPrograms().flatMap((p) => p.checks.map((c) => c.what));
	for (const w of [
		"sizeof(struct stat)",
		"_Alignof(struct stat)",
		"offsetof(struct stat, st_atim.tv_nsec)",
		"sizeof(((struct stat *)0)->__glibc_reserved)",
		"offsetof(struct linux_dirent64, d_name)",
		"FS_IOC_GETFLAGS (FS_IOC_GETFLAGS)",
		"_IOWR(0xba, 0, 16) (_IOWR(0xBA, 0, char[16]))",
		"_IOWR(0xba, 0, int) (_IOWR(0xBA, 0, 16))",
	]) {
		t.ok(whats.includes(w), w);
	}
	t.notOk(whats.includes("sizeof(((struct linux_dirent64 *)0)->d_name)"), "no sizeof of a flexible array member");
});

t.test("a layout or constant that disagrees with C is caught", { skip }, async (t) => {
	const wrong = struct("wrong", { a: u8, b: u32 }, { packed: true });
	const [program] = abiPrograms(
		[{ cName: "struct wrong", layout: wrong, cDecl: "struct wrong { unsigned char a; unsigned int b; };" }],
		[{ name: "BAD", value: 1, cExpr: "2", includes: [] }],
	);
	const bad = abiResults(program!, runAbiProgram(program!)).filter((r) => r.actual !== BigInt(r.check.expected)).map((r) => r.check.what);
	t.same(bad.sort(), ["BAD (2)", "_Alignof(struct wrong)", "offsetof(struct wrong, b)", "sizeof(struct wrong)"].sort());
});

t.test("a C declaration gcc rejects fails with gcc's message", { skip }, async (t) => {
	const [program] = abiPrograms([{ cName: "struct nope", layout: struct("nope", { a: u8 }), cDecl: "" }], []);
	t.throws(() => runAbiProgram(program!), /gcc failed for ABI unit "main":.*nope/s);
});

t.test("negative constants round-trip through the C program", { skip }, async (t) => {
	const [program] = abiPrograms([], [{ name: "M", value: -1, cExpr: "-1", includes: [] }, { name: "U", value: 2n ** 64n - 1n, cExpr: "~0ULL", includes: [] }]);
	t.same(abiResults(program!, runAbiProgram(program!)).map((r) => r.actual), [-1n, 2n ** 64n - 1n]);
});

t.test("units compile as separate programs; declarations are emitted once", async (t) => {
	const s = struct("x", { a: u8 });
	const progs = abiPrograms(
		[
			{ cName: "struct x", layout: s, cDecl: "struct x { unsigned char a; };" },
			{ cName: "struct x", layout: s, cDecl: "struct x { unsigned char a; };", unit: "other" },
		],
		[{ name: "A", value: 1, cExpr: "A", includes: ["<linux/fs.h>"], cDecl: "#define A 1" }],
	);
	t.same(progs.map((p) => p.unit), ["main", "other"]);
	t.equal(progs[0]!.source.split("struct x {").length, 2, "one definition in main");
	t.match(progs[0]!.source, /#include <linux\/fs\.h>\n#define A 1\n/);
	t.equal(progs[1]!.source.includes("#define A"), false);
});

t.test("abiResults reports missing output lines as null", async (t) => {
	const [p] = abiPrograms([], [{ name: "A", value: 1, cExpr: "1", includes: [] }, { name: "B", value: 2, cExpr: "2", includes: [] }]);
	t.same(abiResults(p!, "1\n").map((r) => r.actual), [1n, null]);
});

t.test("without gcc the check is skipped, except under CI where it must run (and fail)", async (t) => {
	t.match(gccSkipReason({ PATH: "/nonexistent" }), /gcc not installed/);
	t.equal(gccSkipReason({ PATH: "/nonexistent", CI: "true" }), false);
	t.equal(gccSkipReason({ PATH: "/nonexistent", CI: "1" }) !== false, true, "only CI=true counts");
});
