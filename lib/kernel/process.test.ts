import t from "tap";
import { bootKernel } from "./machine.ts";
import { forkProcess, spawnProgram } from "./exec.ts";
import { current } from "./current.ts";
import { NR_OPEN, RLIMIT_NOFILE, RLIMIT_STACK, RLIM_INFINITY, copyProcess, doExit, exitCurrent, initRlimits, sendSignal } from "./process.ts";
import { SIGABRT, SIGCHLD, SIGKILL, SIGSEGV, SIGSTOP, SIGTERM, W_EXITCODE, W_SIGNALED, defaultAction, signalName, strsignal } from "./signal.ts";
import { WaitQueue } from "./waitqueue.ts";
import { openConsole } from "../fs/console.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from "../uaccess/addressSpace.ts";
import type { Process } from "./process.ts";

const sleep = (p: Process, ns: number): Promise<boolean> => p.kernel.sched.waitEvent(p, [], () => false, ns);

t.test("wait statuses: a returned value, exit(), a fatal signal", async (t) => {
	const k = bootKernel();
	const a = spawnProgram(k, () => 3);
	const b = spawnProgram(k, () => exitCurrent(current(), 0x1ff));
	const c = spawnProgram(k, () => sendSignal(current(), SIGTERM));
	const d = spawnProgram(k, async () => "not a number" as unknown as number);
	t.equal(await k.waitFor(a), W_EXITCODE(3));
	t.equal(await k.waitFor(b), W_EXITCODE(0xff));
	t.equal(await k.waitFor(c), W_SIGNALED(SIGTERM));
	t.equal(await k.waitFor(d), 0);
	t.equal(W_EXITCODE(3), 0x300);
	t.equal(W_SIGNALED(SIGKILL), 9);
});

t.test("SIGKILL of a sleeping process ends it where it sleeps: timer and wait queue entries go", async (t) => {
	const k = bootKernel();
	const q = new WaitQueue();
	let resumed = false;
	const sleeper = spawnProgram(k, async () => {
		await k.sched.waitEvent(current(), [q], () => false, 100e9);
		resumed = true;
	});
	const killer = spawnProgram(k, () => sendSignal(sleeper, SIGKILL));
	await k.waitFor(killer);
	t.equal(await k.waitFor(sleeper), W_SIGNALED(SIGKILL));
	t.equal(resumed, false);
	t.notOk(q.active());
	t.notOk(k.clock.hasTimers(), "the sleep's timer was cancelled");
	t.equal(k.clock.nowNs(), 0);
});

t.test("an uncaught exception kills the process with SIGABRT and prints the stack on its stderr", async (t) => {
	const k = bootKernel();
	let err = "";
	const con = openConsole(k, { stderr: (d) => (err += new TextDecoder().decode(d)) });
	const p = spawnProgram(k, function brokenProgram() {
		throw new TypeError("boom");
	}, { stdio: con });
	for (const f of con) f.put();
	t.equal(await k.waitFor(p), W_SIGNALED(SIGABRT));
	t.match(err, /^TypeError: boom\n\s+at brokenProgram /);
	const q = spawnProgram(k, () => {
		throw "a string";
	});
	t.equal(await k.waitFor(q), W_SIGNALED(SIGABRT), "no stderr: nothing printed, still SIGABRT");
});

t.test("orphans are reparented to init, which reaps them when they exit", async (t) => {
	const k = bootKernel();
	let orphan: Process | null = null;
	const parent = spawnProgram(k, () => {
		orphan = forkProcess(current(), async () => void (await sleep(current(), 1e9)));
		return 0;
	});
	await k.waitFor(parent);
	t.equal(parent.state, "reaped", "a child of init is reaped at once");
	t.equal(orphan!.parent, k.init);
	t.equal(orphan!.ppid, 1);
	t.ok(k.init.children.has(orphan!));
	t.equal(await k.waitFor(orphan!), W_EXITCODE(0));
	t.equal(orphan!.state, "reaped");
	t.notOk(k.processes.has(orphan!.pid));
	t.notOk(k.init.children.has(orphan!));
});

t.test("a zombie child is reaped when its parent exits; a parent is woken and sent SIGCHLD (ignored)", async (t) => {
	const k = bootKernel();
	let child: Process | null = null;
	let woken = false;
	const parent = spawnProgram(k, async () => {
		const p = current();
		child = forkProcess(p, () => 4);
		woken = await k.sched.waitEvent(p, [p.childExit], () => child!.state === "zombie", null);
	});
	await k.waitFor(parent);
	t.equal(woken, true);
	t.equal(child!.exitStatus, W_EXITCODE(4));
	t.equal(child!.state, "reaped");
	t.equal(parent.exitStatus, 0, "SIGCHLD did not kill the parent");
});

t.test("exit closes the files, runs the exit hooks, drops the memory and tells onExit listeners", async (t) => {
	const k = bootKernel();
	const events: string[] = [];
	k.onExit((p) => events.push(`exit ${p.pid} ${p.state}`));
	const con = openConsole(k, {});
	const p = spawnProgram(k, () => {
		const me = current();
		me.exitHooks.push((q) => events.push(`hook ${q.pid} fds=${q.files.size()}`));
		me.mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	}, { stdio: con });
	t.equal(con[0].refcount, 2);
	await k.waitFor(p);
	t.equal(con[0].refcount, 1, "the process's reference was put");
	t.same(events, [`hook ${p.pid} fds=0`, `exit ${p.pid} zombie`]);
	t.equal(p.mm.vmas().length, 0);
	doExit(p, 0);
	t.equal(events.length, 2, "a second exit does nothing");
});

t.test("signals: ignored, stop and continue signals do nothing; init cannot be killed", async (t) => {
	const k = bootKernel();
	const p = spawnProgram(k, async () => void (await sleep(current(), 1e9)));
	await k.sched.run(() => p.state === "blocked");
	for (const sig of [0, SIGCHLD, SIGSTOP, 18]) sendSignal(p, sig);
	t.notOk(p.exited);
	sendSignal(k.init, SIGKILL);
	t.notOk(k.init.exited);
	sendSignal(p, SIGSEGV);
	t.equal(p.exitStatus, W_SIGNALED(SIGSEGV));
	sendSignal(p, SIGKILL);
	t.equal(p.exitStatus, W_SIGNALED(SIGSEGV), "a dead process stays as it died");
	t.same([SIGCHLD, SIGSTOP, 18, SIGABRT, SIGTERM].map(defaultAction), ["ign", "stop", "cont", "core", "term"]);
	t.equal(signalName(SIGKILL), "SIGKILL");
	t.equal(signalName(35), "SIGRT_1");
	t.equal(strsignal(SIGSEGV), "Segmentation fault");
	t.equal(strsignal(99), "Unknown signal 99");
});

t.test("fork copies credentials, limits and private memory; shares files and MAP_SHARED memory", async (t) => {
	const k = bootKernel();
	const con = openConsole(k, {});
	const parent = spawnProgram(k, () => {
		const p = current();
		const priv = p.mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
		const shared = p.mm.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
		const c = copyProcess(p, 99);
		t.equal(c.parent, p);
		t.ok(p.children.has(c));
		t.equal(con[1].refcount, 3, "the child's table holds its own reference");
		c.cred.uid = 5;
		t.equal(p.cred.uid, 0);
		c.rlimits[RLIMIT_NOFILE]!.cur = 10n;
		t.equal(p.nofile, 1024);
		c.mm.copyToUser(priv, Uint8Array.of(1));
		c.mm.copyToUser(shared, Uint8Array.of(2));
		t.same([...p.mm.copyFromUser(priv, 1)], [0], "private pages are copied");
		t.same([...p.mm.copyFromUser(shared, 1)], [2], "shared pages are shared");
		t.equal(c.sid, p.sid);
		t.equal(c.pgid, p.pgid);
		p.children.delete(c);
		for (const f of c.files.takeAll()) f.put();
	}, { stdio: con });
	await k.waitFor(parent);
	t.equal(parent.exitStatus, 0);
});

t.test("limits: init's defaults and the fd limit as a number capped at NR_OPEN", async (t) => {
	const r = initRlimits();
	t.same(r[RLIMIT_NOFILE], { cur: 1024n, max: 4096n });
	t.same(r[RLIMIT_STACK], { cur: 8n << 20n, max: RLIM_INFINITY });
	const k = bootKernel();
	const p = spawnProgram(k, () => 0);
	t.equal(p.nofile, 1024);
	p.rlimits[RLIMIT_NOFILE] = { cur: RLIM_INFINITY, max: RLIM_INFINITY };
	t.equal(p.nofile, NR_OPEN);
	await k.waitFor(p);
});
