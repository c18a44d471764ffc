import t from "tap";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootKernel } from "../../lib/kernel/machine.ts";
import { spawnProgram } from "../../lib/kernel/exec.ts";
import { openConsole } from "../../lib/fs/console.ts";
import { ccSkipReason } from "../../lib/libc/cc-oracle.ts";
import { main } from "./devices.ts";

const here = new URL(".", import.meta.url).pathname;
const expected = readFileSync(join(here, "devices.expected"), "utf8");

t.test("devices.ts prints what devices.c prints on Linux", async (t) => {
	const k = bootKernel();
	let out = "";
	let err = "";
	const dec = new TextDecoder();
	const con = openConsole(k, { stdout: (d) => (out += dec.decode(d)), stderr: (d) => (err += dec.decode(d)) });
	const p = spawnProgram(k, main, { argv: ["devices"], stdio: con });
	for (const f of con) f.put();
	t.equal(await k.waitFor(p), 0, "exit status 0");
	t.equal(err, "");
	t.equal(out, expected);
});

// Keeps devices.expected honest: the C twin, run as `luosim run` runs a
// program (fds 0-2 only, RLIMIT_NOFILE 1024/4096), prints exactly that.
t.test("devices.c on this Linux prints devices.expected", { skip: ccSkipReason() || (spawnSync("prlimit", ["--version"]).status === 0 ? false : "prlimit not installed") }, async (t) => {
	const dir = mkdtempSync(join(tmpdir(), "luosim-devices-"));
	try {
		const exe = join(dir, "devices");
		const cc = spawnSync("gcc", ["-Wall", "-o", exe, join(here, "devices.c")], { encoding: "utf8" });
		t.equal(cc.status, 0, cc.stderr);
		const script = 'for f in /proc/$$/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec prlimit --nofile=1024:4096 "$0"';
		const run = spawnSync("bash", ["-c", script, exe], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
		t.equal(run.status, 0, run.stderr);
		t.equal(run.stdout, expected);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});
