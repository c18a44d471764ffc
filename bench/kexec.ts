/**
 * Kexec cost (issue 4): the time from reboot(LINUX_REBOOT_CMD_KEXEC) to the
 * next kernel ready (kernel_kexec: the reboot notifiers, the new Kernel's
 * boot, KHO deserializing the preserved-memory map and poisoning the rest)
 * with nothing, 4 MiB and 1 GiB of preserved folios, and the ratios. Goal:
 * 1 GiB / 4 MiB <= 16 (256 times the bytes: the cost must follow the
 * metadata). Then the host RSS a 1 GiB memfd with one page touched adds
 * over a baseline run, each measured in a fresh Node process after two
 * garbage collections (--expose-gc), as the median of BENCH_RSS_RUNS such
 * pairs. Goal: under 16 MiB. A benchmark, not a test: it prints, it
 * asserts nothing.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { bootKernel } from "../lib/kernel/machine.ts";
import { spawnProgram } from "../lib/kernel/exec.ts";
import { folio_alloc, folio_pfn } from "../lib/mm/folio.ts";
import { MAX_PAGE_ORDER, PAGE_SIZE, PFN_PHYS } from "../lib/mm/physmem.ts";
import { khoHandoverAddress, kho_finalize, kho_preserve_folio } from "../lib/kho/kho.ts";
import { bootKho } from "../lib/kho/testing.ts";
import { buildImage } from "../lib/kexec/image.ts";
import { kernel_kexec, kexecState, makeKexecJump } from "../lib/kexec/kexec_core.ts";
import { memfd_create, ftruncate, pwrite } from "../lib/libc/mod.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
/** Child processes per RSS reading (BENCH_RSS_RUNS overrides): the median counts. */
const RSS_RUNS = Number(process.env.BENCH_RSS_RUNS ?? 5);

/** ms of one kexec with `bytes` preserved in order-10 folios (what is set up before is not timed). */
function kexecOnce(bytes: number): number {
	const k = bootKho();
	const folioBytes = PAGE_SIZE << MAX_PAGE_ORDER;
	let first = -1;
	for (let i = 0; i < bytes / folioBytes; i++) {
		const f = folio_alloc(k.buddy, MAX_PAGE_ORDER);
		if (!f) throw new Error("bench: out of memory");
		if (first < 0) first = PFN_PHYS(folio_pfn(f));
		kho_preserve_folio(k, f);
	}
	if (first >= 0) k.machine.physmem.write(first, new TextEncoder().encode("kept"));
	kho_finalize(k);
	kexecState(k).image = makeKexecJump(buildImage(k), k.cmdline.text, khoHandoverAddress(k));
	// The machines of earlier runs are garbage by now: collected here, not inside the timing.
	collect();
	const t0 = process.hrtime.bigint();
	const ev = kernel_kexec(k);
	const ms = Number(process.hrtime.bigint() - t0) / 1e6;
	if (!ev.to) throw new Error("bench: the next kernel did not boot");
	if (first >= 0 && new TextDecoder().decode(k.machine.physmem.read(first, 4)) !== "kept") throw new Error("bench: a preserved folio was lost");
	return ms;
}

/** A full garbage collection (main() makes sure the process has --expose-gc). */
function collect(): void {
	const gc = (globalThis as { gc?: () => void }).gc;
	if (!gc) throw new Error("bench: run with node --expose-gc");
	gc();
}

function median(xs: number[]): number {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.floor(s.length / 2)]!;
}

/** In a child process: boot, optionally make the memfd, collect garbage, print the RSS. */
async function rssChild(withMemfd: boolean): Promise<void> {
	const k = bootKernel();
	const p = spawnProgram(k, () => {
		if (!withMemfd) return 0;
		const fd = memfd_create("bench", 0);
		if (fd < 0 || ftruncate(fd, GiB) < 0) return 1;
		return pwrite(fd, new Uint8Array(PAGE_SIZE).fill(1), PAGE_SIZE, 0) === PAGE_SIZE ? 0 : 1;
	});
	const status = await k.waitFor(p);
	// Twice, a turn of the event loop apart, so that what the first pass freed is given back too.
	collect();
	await new Promise((resolve) => setImmediate(resolve));
	collect();
	console.log(JSON.stringify({ status, rss: process.memoryUsage().rss, kernel: k.processes.size }));
}

function rssOf(mode: string): number {
	const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), "--rss", mode], { encoding: "utf8" });
	const line = r.stdout.trim().split("\n").pop() ?? "";
	const out = JSON.parse(line) as { status: number; rss: number };
	if (out.status !== 0) throw new Error(`bench: the ${mode} run failed`);
	return out.rss;
}

async function main(): Promise<void> {
	if (!("gc" in globalThis)) {
		// `npm run bench:kexec` starts plain tsx: run again with the collector exposed.
		const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
		process.exitCode = r.status ?? 1;
		return;
	}
	const rss = process.argv.indexOf("--rss");
	if (rss >= 0) return rssChild(process.argv[rss + 1] === "memfd");
	const sizes: [string, number][] = [["none", 0], ["4 MiB", 4 * MiB], ["1 GiB", GiB]];
	for (const [, bytes] of sizes) kexecOnce(bytes);
	// The sizes take turns, so that a host busy for a while slows each of them alike.
	const samples = new Map<string, number[]>(sizes.map(([name]) => [name, []]));
	for (let i = 0; i < RUNS; i++) for (const [name, bytes] of sizes) samples.get(name)!.push(kexecOnce(bytes));
	const times: Record<string, number> = {};
	for (const [name] of sizes) {
		times[name] = median(samples.get(name)!);
		console.log(`kexec with ${name.padEnd(6)} preserved: ${times[name]!.toFixed(2).padStart(9)} ms (median of ${RUNS})`);
	}
	const ratio = times["1 GiB"]! / times["4 MiB"]!;
	console.log(`ratio 4 MiB / none: ${(times["4 MiB"]! / times.none!).toFixed(2)}x`);
	console.log(`ratio 1 GiB / 4 MiB: ${ratio.toFixed(2)}x (goal: <= 16) ${ratio <= 16 ? "MET" : "NOT MET"}`);
	// Baseline and memfd runs alternate, so a host that gets busier part-way hits both alike.
	const bases: number[] = [];
	const memfds: number[] = [];
	for (let i = 0; i < RSS_RUNS; i++) {
		bases.push(rssOf("baseline"));
		memfds.push(rssOf("memfd"));
	}
	const base = median(bases);
	const memfd = median(memfds);
	const growth = (memfd - base) / MiB;
	const diffs = memfds.map((m, i) => (m - bases[i]!) / MiB);
	console.log(`RSS baseline ${(base / MiB).toFixed(1)} MiB, with a 1 GiB memfd (one page touched) ${(memfd / MiB).toFixed(1)} MiB (medians of ${RSS_RUNS} processes each)`);
	console.log(`RSS growth: ${growth.toFixed(1)} MiB, pairs from ${Math.min(...diffs).toFixed(1)} to ${Math.max(...diffs).toFixed(1)} MiB (goal: < 16 MiB) ${growth < 16 ? "MET" : "NOT MET"}`);
}

await main();
