import t from "tap";
import { bootKernel, spawnProgram, runProgram, ABI_GENERATIONS } from "luosim";
import { getpid, printf } from "luosim/libc";

t.test("the package entry point boots a kernel and runs a process", async (t) => {
	const k = bootKernel({ abi: "v2" });
	let pid = 0;
	const p = spawnProgram(k, () => {
		pid = getpid();
		return 7;
	});
	const status = await k.waitFor(p);
	t.equal(pid, p.pid);
	t.equal((status >> 8) & 0xff, 7);
	t.equal(k.abi, "v2");
});

t.test("runProgram captures stdout and reports the exit code", async (t) => {
	let out = "";
	const r = await runProgram(() => {
		printf("hello %s\n", "luosim");
		return 3;
	}, { stdout: (d) => (out += Buffer.from(d).toString()) });
	t.equal(out, "hello luosim\n");
	t.equal(r.exitCode, 3);
	t.same(ABI_GENERATIONS, ["rfc-v2", "v2", "mainline"]);
});
