import t from "tap";
import { runShell, splitWords } from "./sh.ts";
import { cliMain } from "./main.ts";

async function* from(lines: readonly string[]): AsyncIterable<string> {
	yield* lines;
}

async function sh(lines: readonly string[], opts: { uid?: number; cmdline?: string } = {}): Promise<{ rc: number; out: string; err: string }> {
	let out = "";
	let err = "";
	const rc = await runShell({ ...opts, lines: from(lines), stdout: (s) => void (out += s), stderr: (s) => void (err += s) });
	return { rc, out, err };
}

t.test("splitWords splits on blanks and keeps quoted blanks", async (t) => {
	t.same(splitWords(` echo  'a  b' "c"d  `), ["echo", "a  b", "cd"]);
	t.same(splitWords(`echo ''`), ["echo", ""]);
	t.equal(splitWords(`echo 'open`), null);
});

t.test("cat prints /proc/cmdline of the booted kernel", async (t) => {
	const r = await sh(["cat /proc/cmdline"], { cmdline: "foo=1" });
	t.equal(r.out, "kho=on liveupdate=on foo=1\n");
	t.equal(r.rc, 0);
});

t.test("cat of a missing file prints coreutils' message and fails with 1", async (t) => {
	const r = await sh(["cat /nope"]);
	t.equal(r.err, "cat: /nope: No such file or directory\n");
	t.equal(r.rc, 1);
});

t.test("echo > FILE writes and >> appends", async (t) => {
	const r = await sh(["echo one > /tmp/f", "echo two >> /tmp/f", "cat /tmp/f"]);
	t.equal(r.out, "one\ntwo\n");
});

t.test("echo cannot create a file in sysfs (EACCES)", async (t) => {
	const r = await sh(["echo 1 > /sys/kernel/nope"]);
	t.equal(r.err, "sh: /sys/kernel/nope: Permission denied\n");
	t.equal(r.rc, 1);
});

t.test("echo into /proc/cmdline opens as root but the write fails with EIO", async (t) => {
	const r = await sh(["echo x > /proc/cmdline", "cat /proc/cmdline"]);
	t.equal(r.err, "echo: write error: Input/output error\n");
	t.equal(r.out, "kho=on liveupdate=on\n");
});

t.test("an unprivileged shell cannot list debugfs (mount mode 0700)", async (t) => {
	const r = await sh(["ls /sys/kernel/debug"], { uid: 1000 });
	t.equal(r.err, "ls: cannot open directory '/sys/kernel/debug': Permission denied\n");
	t.equal(r.rc, 1);
});

t.test("ls -l shows the mode, links, owner and size", async (t) => {
	const r = await sh(["echo hello > /tmp/a", "ls -l /tmp"]);
	t.equal(r.out, "-rw-r--r-- 1 0 0        6 a\n");
});

t.test("cd changes the directory later commands start in; a bad cd leaves it", async (t) => {
	const r = await sh(["cd /sys/kernel", "cd nowhere", "pwd", "ls"]);
	t.equal(r.err, "sh: cd: can't cd to /sys/kernel/nowhere: No such file or directory\n");
	t.match(r.out, /^\/sys\/kernel\n/);
	t.match(r.out, /\ndebug\n/);
});

t.test("stat prints the file's size, links and mode", async (t) => {
	const r = await sh(["echo abc > /tmp/s", "stat /tmp/s"]);
	t.match(r.out, /^  File: \/tmp\/s\n  Size: 4 /);
	t.match(r.out, /Links: 1\nAccess: \(0644\/-rw-r--r--\)/);
});

t.test("dmesg prints the kernel log with timestamps", async (t) => {
	const r = await sh(["dmesg"]);
	t.match(r.out, /^\[    0\.\d{6}\] Linux version /);
});

t.test("an unknown command is 127 and exit N ends with N", async (t) => {
	t.equal((await sh(["frob"])).rc, 127);
	t.equal((await sh(["frob"])).err, "sh: frob: not found\n");
	const r = await sh(["exit 7", "echo not reached"]);
	t.equal(r.rc, 7);
	t.equal(r.out, "");
});

t.test("kexec boots the next kernel with the given command line and the shell goes on there", async (t) => {
	const r = await sh(["echo before > /tmp/k", "kexec kho=on liveupdate=on luo_stage=2", "cat /proc/cmdline", "cat /tmp/k"]);
	t.equal(r.out, "kho=on liveupdate=on luo_stage=2\n");
	t.equal(r.err, "cat: /tmp/k: No such file or directory\n");
});

t.test("kexec without arguments reuses the running command line", async (t) => {
	const r = await sh(["kexec", "cat /proc/cmdline"], { cmdline: "foo=2" });
	t.equal(r.out, "kho=on liveupdate=on foo=2\n");
});

t.test("kexec as an unprivileged user fails with EPERM and nothing changes", async (t) => {
	const r = await sh(["kexec", "cat /proc/cmdline"], { uid: 1000, cmdline: "foo=3" });
	t.equal(r.err, "kexec: kexec_file_load failed: Operation not permitted\n");
	t.equal(r.out, "kho=on liveupdate=on foo=3\n");
});

t.test("luosim sh reads its lines from stdin", async (t) => {
	let out = "";
	const rc = await cliMain(["sh", "--cmdline", "x=1"], { stdout: (s) => void (out += String(s)), stderr: () => {}, stdin: new TextEncoder().encode("cat /proc/cmdline\n") });
	t.equal(rc, 0);
	t.equal(out, "kho=on liveupdate=on x=1\n");
});

t.test("luosim sh rejects an unknown option with usage", async (t) => {
	let err = "";
	t.equal(await cliMain(["sh", "--bogus"], { stdout: () => {}, stderr: (s) => void (err += String(s)) }), 2);
	t.match(err, /unknown option '--bogus'/);
});
