import t from "tap";
import { fileURLToPath } from "node:url";
import { runKexecSelftest } from "./selftestsKexec.ts";
import { runSelftests } from "./selftests.ts";
import { loadProgram } from "./runProgram.ts";

const ROOT = fileURLToPath(new URL("./testdata/selftests-kexec", import.meta.url));
const main = await loadProgram(fileURLToPath(new URL("./testdata/selftests-kexec/kx/reboots.ts", import.meta.url)));

async function run(cmdline: string, timeoutSec?: number): Promise<{ code: number; out: string }> {
	let out = "";
	const code = await runKexecSelftest(main, { abi: "rfc-v2", cmdline, argv0: "./reboots", out: (d) => (out += new TextDecoder().decode(d)), timeoutSec });
	return { code, out };
}

t.test("a stage 1 that kexecs: stage 2 runs with -s 2 in the kexec'd kernel, its status is the result", async (t) => {
	const r = await run("kx.mode=kexec");
	t.equal(r.code, 5);
	t.equal(r.out, "argv: ./reboots\nargv: ./reboots -s 2\nstage 2 in a kexec'd kernel\n");
});

t.test("a stage 1 that exits: its status is the result, no second stage", async (t) => {
	const r = await run("kx.mode=exit3");
	t.equal(r.code, 3);
	t.equal(r.out, "argv: ./reboots\n");
});

t.test("a restart, or a panic with panic=-1: stage 2 runs in the cold-booted kernel", async (t) => {
	for (const cmdline of ["kx.mode=restart", "kx.mode=panic panic=-1"]) {
		const r = await run(cmdline);
		t.equal(r.code, 5, cmdline);
		t.match(r.out, /argv: \.\/reboots -s 2\nstage 2 in a cold-booted kernel\n$/);
	}
});

t.test("nothing runs next (halt, a panic that stops the machine): the verdict never came, 1", async (t) => {
	const halt = await run("kx.mode=halt");
	t.equal(halt.code, 1);
	t.equal(halt.out, "argv: ./reboots\n");
	const panic = await run("kx.mode=panic");
	t.equal(panic.code, 1);
	t.match(panic.out, /Kernel panic - not syncing: kx asked for it\n/, "the console's panic lines are in the output");
});

t.test("the timeout applies to each stage: 124", async (t) => {
	t.equal((await run("kx.mode=hang", 5)).code, 124, "stage 1");
	t.equal((await run("kx.mode=kexec kx.hang2", 5)).code, 124, "stage 2");
});

t.test("tests.json: `kexec` programs run in two stages, `cmdline` reaches every boot of the target", async (t) => {
	let out = "";
	t.equal(await runSelftests({ root: ROOT, abi: "rfc-v2", out: (s) => (out += s) }), 1);
	t.equal(
		out,
		[
			"TAP version 13",
			"1..2",
			"# selftests: kx: reboots",
			"# argv: ./reboots",
			"# argv: ./reboots -s 2",
			"# stage 2 in a kexec'd kernel",
			"not ok 1 selftests: kx: reboots # exit=5",
			"# selftests: kx: plain",
			"# cmdline: kho=on liveupdate=on kx.mode=kexec",
			"ok 2 selftests: kx: plain",
			"",
		].join("\n"),
	);
});
