import t from "tap";
import { fileURLToPath } from "node:url";
import { cliMain, type CliIo } from "./main.ts";
import { runSelftests } from "./selftests.ts";

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const EXIT3 = here("./testdata/exit3.ts");
const ROOT = here("./testdata/selftests");

function capture(): CliIo & { out: () => string; err: () => string } {
	let out = "";
	let err = "";
	const text = (d: string | Uint8Array): string => (typeof d === "string" ? d : Buffer.from(d).toString());
	return {
		stdout: (d) => void (out += text(d)),
		stderr: (d) => void (err += text(d)),
		out: () => out,
		err: () => err,
	};
}

t.test("run: exits with the program's status and passes its arguments", async (t) => {
	const io = capture();
	t.equal(await cliMain(["run", EXIT3, "first"], io), 3);
	t.equal(io.out(), "argc=2 argv1=first uid=0\n");
});

t.test("run --uid runs the program as that user", async (t) => {
	const io = capture();
	await cliMain(["run", "--uid", "1000", EXIT3], io);
	t.equal(io.out(), "argc=1 argv1=(none) uid=1000\n");
});

t.test("run --strace prints the program's syscalls on stderr", async (t) => {
	const io = capture();
	await cliMain(["run", "--strace", EXIT3], io);
	t.match(io.err(), /getuid\(\) = 0\n/);
	t.match(io.err(), /write\(1, "argc=1 argv1=\(none\) uid=0\\n", 26\) = 26\n/);
	t.match(io.err(), /\+\+\+ exited with 3 \+\+\+/);
});

t.test("run --dmesg prints the kernel log with its command line", async (t) => {
	const io = capture();
	await cliMain(["run", "--dmesg", "--cmdline", "liveupdate=off quiet", EXIT3], io);
	t.match(io.out(), /^\[    0\.000000\] Command line: kho=on liveupdate=on liveupdate=off quiet$/m);
});

t.test("usage errors exit 2 with a message and the usage", async (t) => {
	for (const [argv, msg] of [
		[["run", "--abi", "v9", EXIT3], "unknown ABI generation 'v9'"],
		[["run", "--uid", "x", EXIT3], "option --uid needs a user id"],
		[["run", "--bogus", EXIT3], "unknown option '--bogus'"],
		[["run"], "run needs a PROGRAM"],
		[["frobnicate"], "unknown command 'frobnicate'"],
		[[], "missing command"],
		[["selftests", "--abi"], "option --abi needs a value"],
	] as const) {
		const io = capture();
		t.equal(await cliMain([...argv], io), 2, argv.join(" "));
		t.match(io.err(), `luosim: ${msg}`);
		t.match(io.err(), /^usage: luosim run/m);
		t.equal(io.out(), "");
	}
});

t.test("run of a missing program file is an error, not a crash", async (t) => {
	const io = capture();
	t.equal(await cliMain(["run", "/nonexistent/prog.ts"], io), 2);
	t.equal(io.err(), "luosim: /nonexistent/prog.ts: No such file or directory\n");
});

t.test("selftests prints runner.sh's KTAP: ok, SKIP, exit=N, missing, TIMEOUT", async (t) => {
	let out = "";
	const failed = await runSelftests({ root: ROOT, abi: "rfc-v2", out: (s) => (out += s) });
	t.equal(failed, 3);
	t.equal(
		out,
		[
			"TAP version 13",
			"1..4",
			"# selftests: alpha: pass",
			"# TAP version 13",
			"# 1..1",
			"# ok 1 works",
			"ok 1 selftests: alpha: pass",
			"# selftests: alpha: skip",
			"# 1..0 # SKIP nothing to do",
			"ok 2 selftests: alpha: skip # SKIP",
			"# selftests: alpha: fail",
			"# broken",
			"not ok 3 selftests: alpha: fail # exit=2",
			"# selftests: alpha: missing",
			"# Warning: file missing is missing!",
			"not ok 4 selftests: alpha: missing",
			"TAP version 13",
			"1..1",
			"# selftests: beta: sleepy",
			"# going to sleep",
			"#",
			"not ok 1 selftests: beta: sleepy # TIMEOUT 2 seconds",
			"",
		].join("\n"),
	);
});

t.test("selftests runs only the targets of the chosen generation and NAMEs", async (t) => {
	let out = "";
	t.equal(await runSelftests({ root: ROOT, abi: "v2", out: (s) => (out += s) }), 0);
	t.equal(out, "TAP version 13\n1..1\n# selftests: gamma: pass\n# TAP version 13\n# 1..1\n# ok 1 works\nok 1 selftests: gamma: pass\n");
	out = "";
	t.equal(await runSelftests({ root: ROOT, abi: "mainline", names: ["alpha:pass"], out: (s) => (out += s) }), 0);
	t.match(out, /^TAP version 13\n1\.\.1\n# selftests: alpha: pass\n/);
});

t.test("selftests NAME runs that directory and exits 0 when it passes", async (t) => {
	const io = capture();
	t.equal(await cliMain(["selftests", "--abi", "rfc-v2", "demo"], io), 0);
	t.match(io.out(), /^ok 1 selftests: demo: devices$/m);
});
