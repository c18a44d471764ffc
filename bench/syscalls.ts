/**
 * Syscall cost: ns per call of the simulated kernel against Node's real
 * filesystem calls, measured in one run and printed with their ratios.
 * Goal (issue 3): open+read+close of a simulated sysfs attribute at least
 * 3x faster than the same through Node's fs on the host's real sysfs.
 * A benchmark, not a test: it prints, it asserts nothing.
 */
import { openSync, readSync, closeSync, writeFileSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootKernel } from "../lib/kernel/machine.ts";
import { spawnProgram } from "../lib/kernel/exec.ts";
import { kernelKobj, sysfsCreateFile, kobjAttrRO } from "../lib/fs/sysfs.ts";
import { open, read, write, close, getpid, O_RDONLY, O_WRONLY, O_CREAT } from "../lib/libc/mod.ts";

const ITER = Number(process.env.BENCH_ITER ?? 20000);

/** ns per iteration of `fn`, after a warm-up. */
function measure(fn: () => void, iter = ITER): number {
	for (let i = 0; i < Math.min(1000, iter); i++) fn();
	const t0 = process.hrtime.bigint();
	for (let i = 0; i < iter; i++) fn();
	return Number(process.hrtime.bigint() - t0) / iter;
}

/** A real sysfs file this host can read, if any. */
function hostSysfsFile(): string | null {
	for (const f of ["/sys/kernel/mm/transparent_hugepage/enabled", "/sys/kernel/uevent_seqnum", "/sys/kernel/profiling", "/sys/devices/system/cpu/online"]) {
		try {
			closeSync(openSync(f, "r"));
			return f;
		} catch {
			continue;
		}
	}
	return null;
}

async function main(): Promise<void> {
	const k = bootKernel();
	sysfsCreateFile(kernelKobj(k), kobjAttrRO("bench", () => "normal\n"));
	const results: Record<string, number> = {};
	const p = spawnProgram(k, () => {
		const buf = new Uint8Array(64);
		const fd = open("/tmp/bench", O_WRONLY | O_CREAT, 0o644);
		write(fd, new TextEncoder().encode("hello tmpfs\n"), 12);
		close(fd);
		results["sim getpid"] = measure(() => void getpid());
		results["sim sysfs open+read+close"] = measure(() => {
			const f = open("/sys/kernel/bench", O_RDONLY);
			read(f, buf, buf.length);
			close(f);
		});
		results["sim tmpfs open+read+close"] = measure(() => {
			const f = open("/tmp/bench", O_RDONLY);
			read(f, buf, buf.length);
			close(f);
		});
		return 0;
	});
	await k.waitFor(p);

	const dir = mkdtempSync(join(tmpdir(), "luosim-bench-"));
	const file = join(dir, "bench");
	writeFileSync(file, "hello real\n");
	const hbuf = Buffer.alloc(64);
	results["node getpid (process.pid)"] = measure(() => void process.pid);
	results["node fs open+read+close (file)"] = measure(() => {
		const f = openSync(file, "r");
		readSync(f, hbuf, 0, hbuf.length, null);
		closeSync(f);
	});
	const sys = hostSysfsFile();
	if (sys) {
		results[`node fs open+read+close (${sys})`] = measure(() => {
			const f = openSync(sys, "r");
			readSync(f, hbuf, 0, hbuf.length, null);
			closeSync(f);
		});
	}
	rmSync(dir, { recursive: true, force: true });

	for (const [name, ns] of Object.entries(results)) console.log(`${name.padEnd(60)} ${ns.toFixed(0).padStart(8)} ns/call`);
	const simSys = results["sim sysfs open+read+close"]!;
	const simTmp = results["sim tmpfs open+read+close"]!;
	const realFile = results["node fs open+read+close (file)"]!;
	console.log(`ratio real file / sim tmpfs: ${(realFile / simTmp).toFixed(2)}x`);
	if (sys) {
		const realSys = results[`node fs open+read+close (${sys})`]!;
		const ratio = realSys / simSys;
		console.log(`ratio real sysfs / sim sysfs: ${ratio.toFixed(2)}x (goal: >= 3x) ${ratio >= 3 ? "MET" : "NOT MET"}`);
	} else {
		console.log(`no readable host sysfs file${existsSync("/sys") ? "" : " (/sys is not mounted)"}: sysfs ratio not measured`);
	}
}

await main();
