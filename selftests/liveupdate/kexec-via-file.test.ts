import t from "tap";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { LUOSIM_BIN } from "../../lib/cli/kexecRun.ts";
import { checkOutput, programs } from "./testing.ts";

/** Runs `luosim ARGS` in a new Node process; its exit code and merged output. */
function luosim(args: string[]): Promise<{ code: number | null; out: string }> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [LUOSIM_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
		let out = "";
		child.stdout.on("data", (d: Buffer) => (out += d.toString()));
		child.stderr.on("data", (d: Buffer) => (out += d.toString()));
		child.on("error", reject);
		child.on("close", (code) => resolve({ code, out }));
	});
}

// Eight Node processes (two per program: stage 1, then stage 2 booted from
// the dump) that each load tsx: seconds each, more on a loaded machine.
t.test("each program passes with --via-file: stage 2 boots from the dumped machine in a new Node process", { timeout: 115_000 }, async (t) => {
	const runs = await Promise.all(programs.map((p) =>
		luosim(["run", "--abi", "mainline", "--kexec", "--via-file", fileURLToPath(new URL(`./${p.name}.ts`, import.meta.url))])));
	programs.forEach((p, i) => {
		t.equal(runs[i]!.code, 0, `${p.name} exits 0`);
		checkOutput(t, runs[i]!.out, p);
	});
});
