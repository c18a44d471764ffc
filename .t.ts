import { runProgramKexec } from "./lib/cli/kexecRun.ts";
import { main as ss } from "./selftests/liveupdate/luo_stress_sessions.ts";
for (let i = 0; i < 4; i++) {
	const t0 = performance.now();
	let t1 = 0, t2 = 0, out = "";
	const sink = (d: Uint8Array) => { out += new TextDecoder().decode(d); if (!t1 && out.includes("You may now")) t1 = performance.now(); if (!t2 && out.includes("[STAGE 2] Starting")) t2 = performance.now(); };
	const r = await runProgramKexec(ss, { abi: "mainline", argv: ["x"], stdout: sink, stderr: sink });
	const t3 = performance.now();
	console.log(r.exitCode, "stage1", (t1 - t0).toFixed(0), "kexec", (t2 - t1).toFixed(0), "stage2", (t3 - t2).toFixed(0));
}
