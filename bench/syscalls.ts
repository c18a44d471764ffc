/**
 * Syscall cost: ns per call of the simulated kernel against Node's real
 * filesystem calls, measured in one run and printed with their ratios.
 * Goal (issue 3): open+read+close of a simulated sysfs attribute at least
 * 3x faster than the same through Node's fs on the host's real sysfs.
 * A benchmark, not a test: it prints, it asserts nothing.
 *
 * Every case gets WARMUP untimed calls first (V8 optimizes the whole path),
 * then ROUNDS timed rounds of ITER calls, and its fastest round counts. The
 * rounds of all cases take turns (simulated, then real, then simulated …),
 * all from inside the simulated process, so a host that is busy for a while
 * slows both sides of a ratio alike instead of the one measured then.
 */
import { openSync, readSync, closeSync, writeFileSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootKernel } from "../lib/kernel/machine.ts";
import { spawnProgram } from "../lib/kernel/exec.ts";
import { kernelKobj, sysfsCreateFile, kobjAttrRO } from "../lib/fs/sysfs.ts";
import { open, read, write, close, getpid, O_RDONLY, O_WRONLY, O_CREAT } from "../lib/libc/mod.ts";

/** Timed calls per round (BENCH_ITER overrides). */
const ITER = Number(process.env.BENCH_ITER ?? 20000);
/** Untimed calls first, so that V8 has optimized the whole path (BENCH_WARMUP overrides). */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 30000);
/** Timed rounds; the best one counts (BENCH_ROUNDS overrides). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

/** ns per call of each case: its fastest of ROUNDS interleaved rounds, after its warm-up. */
function measureAll(cases: ReadonlyMap<string, () => void>): Map<string, number> {
	const best = new Map<string, number>();
	for (const [name, fn] of cases) {
		for (let i = 0; i < WARMUP; i++) fn();
		best.set(name, Infinity);
	}
	for (let r = 0; r < ROUNDS; r++) {
		for (const [name, fn] of cases) {
			const t0 = process.hrtime.bigint();
			for (let i = 0; i < ITER; i++) fn();
			best.set(name, Math.min(best.get(name)!, Number(process.hrtime.bigint() - t0) / ITER));
		}
	}
	return best;
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

/** open+read+close of `path` through Node's fs into `buf`. */
function hostCase(path: string, buf: Buffer): () => void {
	return () => {
		const f = openSync(path, "r");
		readSync(f, buf, 0, buf.length, null);
		closeSync(f);
	};
}

async function main(): Promise<void> {
	const k = bootKernel();
	sysfsCreateFile(kernelKobj(k), kobjAttrRO("bench", () => "normal\n"));
	const dir = mkdtempSync(join(tmpdir(), "luosim-bench-"));
	const file = join(dir, "bench");
	writeFileSync(file, "hello real\n");
	const sys = hostSysfsFile();
	const hostSys = `node fs open+read+close (${sys})`;
	let results = new Map<string, number>();
	const p = spawnProgram(k, () => {
		const buf = new Uint8Array(64);
		const hbuf = Buffer.alloc(64);
		const fd = open("/tmp/bench", O_WRONLY | O_CREAT, 0o644);
		write(fd, new TextEncoder().encode("hello tmpfs\n"), 12);
		close(fd);
		const cases = new Map<string, () => void>([
			["sim getpid", () => void getpid()],
			["node getpid (process.pid)", () => void process.pid],
			["sim sysfs open+read+close", () => {
				const f = open("/sys/kernel/bench", O_RDONLY);
				read(f, buf, buf.length);
				close(f);
			}],
			["sim tmpfs open+read+close", () => {
				const f = open("/tmp/bench", O_RDONLY);
				read(f, buf, buf.length);
				close(f);
			}],
			["node fs open+read+close (file)", hostCase(file, hbuf)],
		]);
		if (sys) cases.set(hostSys, hostCase(sys, hbuf));
		results = measureAll(cases);
		return 0;
	});
	try {
		await k.waitFor(p);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}

	for (const [name, ns] of results) console.log(`${name.padEnd(60)} ${ns.toFixed(0).padStart(8)} ns/call`);
	const simSys = results.get("sim sysfs open+read+close")!;
	const simTmp = results.get("sim tmpfs open+read+close")!;
	const realFile = results.get("node fs open+read+close (file)")!;
	console.log(`ratio real file / sim tmpfs: ${(realFile / simTmp).toFixed(2)}x`);
	if (sys) {
		const ratio = results.get(hostSys)! / simSys;
		console.log(`ratio real sysfs / sim sysfs: ${ratio.toFixed(2)}x (goal: >= 3x) ${ratio >= 3 ? "MET" : "NOT MET"}`);
	} else {
		console.log(`no readable host sysfs file${existsSync("/sys") ? "" : " (/sys is not mounted)"}: sysfs ratio not measured`);
	}
}

await main();
