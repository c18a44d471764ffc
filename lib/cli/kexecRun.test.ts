import t from "tap";
import { fileURLToPath } from "node:url";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliMain, type CliIo } from "./main.ts";
import { stage2Args } from "./kexecRun.ts";

const PROGRAM = fileURLToPath(new URL("./testdata/two-stage.ts", import.meta.url));
const SELF_KEXEC = fileURLToPath(new URL("./testdata/self-kexec.ts", import.meta.url));

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
	let out = "";
	let err = "";
	const dec = (d: string | Uint8Array): string => (typeof d === "string" ? d : new TextDecoder().decode(d));
	const io: CliIo = { stdout: (d) => (out += dec(d)), stderr: (d) => (err += dec(d)) };
	const code = await cliMain(args, io);
	return { code, out, err };
}

// A temporary directory of this file's own: other test files make and remove
// kexec dumps in the system one at the same time.
const ownTmp = mkdtempSync(join(tmpdir(), "luosim-kexecrun-test-"));
process.env.TMPDIR = ownTmp;
t.teardown(() => rmSync(ownTmp, { recursive: true, force: true }));

function kexecDumpDirs(): string[] {
	return readdirSync(tmpdir()).filter((n) => n.startsWith("luosim-kexec-") && !n.includes("test"));
}

t.test("stage 2's arguments: any -s N replaced by -s 2 at the end", async (t) => {
	t.same(stage2Args([]), ["-s", "2"]);
	t.same(stage2Args(["-s", "1", "x"]), ["x", "-s", "2"]);
	t.same(stage2Args(["a", "-s1", "b", "-s", "3"]), ["a", "b", "-s", "2"]);
	t.same(stage2Args(["--stage", "1"]), ["--stage", "1", "-s", "2"], "only -s is the stage option");
});

t.test("run --kexec: stage 2 runs in the kexec'd kernel with -s 2 and luo_stage=2", async (t) => {
	const r = await cli(["run", "--kexec", "--cmdline", "foo=bar", PROGRAM, "-s", "1", "--exit2", "3"]);
	t.equal(r.code, 3, "stage 2's status");
	t.equal(r.err, "");
	t.match(r.out, /^stage 1 done\n/);
	t.match(r.out, /stage 2 argv: --exit2 3 -s 2\n/);
	t.match(r.out, /stage 2 pid: 2\n/, "a new kernel: pids start again");
	t.match(r.out, /stage 2 cmdline: kho=on liveupdate=on foo=bar luo_stage=2\n/);
	t.match(r.out, /stage 2 \/run\/stage1: gone\n/, "nothing of the old kernel's tmpfs");
	t.match(r.out, new RegExp(`stage 2 host pid: ${process.pid}\\n`), "in this host process");
});

t.test("run --kexec: a failing stage 1 stops the run with its status", async (t) => {
	const r = await cli(["run", "--kexec", PROGRAM, "--exit1", "5"]);
	t.equal(r.code, 5);
	t.equal(r.out, "stage 1 done\n");
});

t.test("run --kexec --dmesg prints the new kernel's log", async (t) => {
	const r = await cli(["run", "--kexec", "--dmesg", PROGRAM]);
	t.equal(r.code, 0);
	t.match(r.out, /\] Command line: kho=on liveupdate=on luo_stage=2\n/);
	t.notMatch(r.out, /Starting new kernel/, "the old kernel's log died with it");
});

t.test("run --kexec --via-file: stage 2 boots from the dump in another process", async (t) => {
	const before = kexecDumpDirs();
	const r = await cli(["run", "--kexec", "--via-file", "--abi", "v2", PROGRAM, "--exit2", "4"]);
	t.equal(r.code, 4, "stage 2's status, through the child's exit code");
	t.equal(r.err, "");
	t.match(r.out, /stage 2 argv: --exit2 4 -s 2\n/);
	t.match(r.out, /stage 2 cmdline: kho=on liveupdate=on luo_stage=2\n/);
	const pid = /stage 2 host pid: (\d+)\n/.exec(r.out);
	t.ok(pid, "stage 2 ran");
	t.not(Number(pid![1]), process.pid, "in another host process");
	t.same(kexecDumpDirs(), before, "the dump is removed afterwards");
});

t.test("run --kexec --via-file: a program that kexecs itself in stage 1 goes through the file too", async (t) => {
	const before = kexecDumpDirs();
	const r = await cli(["run", "--kexec", "--via-file", SELF_KEXEC]);
	t.equal(r.code, 0);
	t.equal(r.err, "");
	t.match(r.out, /stage 2 cmdline: kho=on liveupdate=on selfkexec=1\n/, "the program's own kexec, not the CLI's");
	const pid = /stage 2 host pid: (\d+)\n/.exec(r.out);
	t.ok(pid, "stage 2 ran");
	t.not(Number(pid![1]), process.pid, "in another host process");
	t.same(kexecDumpDirs(), before, "the dump is removed afterwards");
});

t.test("run --kexec without --via-file: a program's own kexec boots stage 2 in this process", async (t) => {
	const r = await cli(["run", "--kexec", SELF_KEXEC]);
	t.equal(r.code, 0);
	t.match(r.out, /stage 2 cmdline: kho=on liveupdate=on selfkexec=1\n/);
	t.match(r.out, new RegExp(`stage 2 host pid: ${process.pid}\\n`));
});

t.test("--via-file needs --kexec", async (t) => {
	const r = await cli(["run", "--via-file", PROGRAM]);
	t.equal(r.code, 2);
	t.match(r.err, /--via-file needs --kexec/);
});

t.test("a panic: its line on the console and a non-zero exit, with or without panic=-1", async (t) => {
	for (const extra of [[], ["--cmdline", "panic=-1"]]) {
		const r = await cli(["run", "--kexec", ...extra, PROGRAM, "--panic"]);
		t.equal(r.code, 1);
		t.match(r.out, /Kernel panic - not syncing: stage 2 asked for it\n/);
	}
	const v = await cli(["run", "--kexec", "--via-file", PROGRAM, "--panic"]);
	t.equal(v.code, 1, "also in the stage-2 process");
	t.match(v.out, /Kernel panic - not syncing: stage 2 asked for it\n---\[ end Kernel panic/);
});

t.test("plain run: a panic ends the run with 1 and its line on the console", async (t) => {
	const r = await cli(["run", PROGRAM, "-s", "2", "--panic"]);
	t.equal(r.code, 1);
	t.match(r.out, /Kernel panic - not syncing: stage 2 asked for it\n---\[ end Kernel panic - not syncing: stage 2 asked for it \]---\n$/);
});
