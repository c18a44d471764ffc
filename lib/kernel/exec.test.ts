import t from "tap";
import { bootKernel } from "./machine.ts";
import { forkProcess, spawnProgram } from "./exec.ts";
import { current } from "./current.ts";
import { CAP_SYS_ADMIN } from "./cred.ts";
import { W_EXITCODE } from "./signal.ts";
import { openConsole } from "../fs/console.ts";

t.test("spawnProgram: a child of init with argv, comm, its own process group and the given credentials", async (t) => {
	const k = bootKernel();
	let args: [number, string[]] | null = null;
	const p = spawnProgram(k, (argc, argv) => {
		args = [argc, argv];
		return argc;
	}, { argv: ["/usr/bin/a-rather-long-name", "x"], uid: 1000, gid: 100 });
	t.equal(p.parent, k.init);
	t.equal(p.comm, "a-rather-long-n");
	t.equal(p.pgid, p.pid);
	t.equal(p.sid, 1);
	t.same([p.cred.uid, p.cred.euid, p.cred.gid, p.cred.egid], [1000, 1000, 100, 100]);
	t.notOk(p.cred.capable(CAP_SYS_ADMIN));
	t.equal(await k.waitFor(p), W_EXITCODE(2));
	t.same(args, [2, ["/usr/bin/a-rather-long-name", "x"]]);
	const root = spawnProgram(k, () => 0);
	t.ok(root.cred.capable(CAP_SYS_ADMIN), "root has every capability");
	t.same(root.argv, ["program"]);
	t.equal(root.cred.gid, 0, "gid defaults to the uid");
	await k.waitFor(root);
});

t.test("spawnProgram: stdio files get a reference each; missing ones stay closed; a parent's group is kept", async (t) => {
	const k = bootKernel();
	const con = openConsole(k, {});
	let fds: number[] = [];
	const parent = spawnProgram(k, async () => {
		const me = current();
		const child = spawnProgram(k, () => void (fds = current().files.fds()), { parent: me, stdio: [null, con[1], con[2]] });
		t.equal(child.pgid, me.pgid, "a spawned child of a process stays in its group");
		t.equal(child.parent, me);
		await k.sched.waitEvent(me, [me.childExit], () => child.exited, null);
	});
	t.equal(con[1].refcount, 1);
	await k.waitFor(parent);
	t.same(fds, [1, 2]);
	for (const f of con) t.equal(f.refcount, 1);
});

t.test("forkProcess: pids count up, children inherit argv and run in creation order", async (t) => {
	const k = bootKernel();
	const order: number[] = [];
	const parent = spawnProgram(k, async () => {
		const me = current();
		const kids = [0, 1, 2].map(() => forkProcess(me, () => void order.push(current().pid)));
		t.same(kids.map((c) => c.pid), [me.pid + 1, me.pid + 2, me.pid + 3]);
		t.same(kids[0]!.argv, ["prog", "-v"]);
		await k.sched.waitEvent(me, [me.childExit], () => kids.every((c) => c.exited), null);
	}, { argv: ["prog", "-v"] });
	await k.waitFor(parent);
	t.same(order, [3, 4, 5]);
});

t.test("an async body's resolved value is its exit status", async (t) => {
	const k = bootKernel();
	const p = spawnProgram(k, async () => {
		await k.sched.yield(current());
		return 17;
	});
	t.equal(await k.waitFor(p), W_EXITCODE(17));
});
