import t from "tap";
import { fileURLToPath, pathToFileURL } from "node:url";
import { BINPRM_BUF_SIZE, LUOSIM_MAGIC, loadProgramModule, parseProgramFile, programFileBytes, writeProgramFile } from "./binfmt.ts";
import { bootKernel } from "./machine.ts";
import { Errno, ENOENT, ENOEXEC } from "./errno.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const PROBE = fileURLToPath(new URL("./syscalls/testdata/exec-probe.ts", import.meta.url));

async function errnoOf(p: Promise<unknown>): Promise<number> {
	try {
		await p;
		return 0;
	} catch (e) {
		if (e instanceof Errno) return e.errno;
		throw e;
	}
}

t.test("a program file is #!luosim and an absolute path or file: URL", async (t) => {
	t.equal(LUOSIM_MAGIC, "#!luosim");
	t.equal(parseProgramFile(enc("#!luosim\n/a/b.ts\n")), "file:///a/b.ts");
	t.equal(parseProgramFile(enc("#!luosim\n/a/b.ts")), "file:///a/b.ts", "the final newline is optional");
	t.equal(parseProgramFile(enc("#!luosim\n/a b/c.ts\nrest\n")), "file:///a%20b/c.ts", "later lines are ignored");
	t.equal(parseProgramFile(enc("#!luosim\nfile:///x/y.js\n")), "file:///x/y.js");
});

t.test("anything else is not a program file", async (t) => {
	for (const text of ["", "#!luosim", "#!luosim\n", "#!luosim \n/a.ts\n", "#!/bin/sh\n/a.ts\n", "#!luosim\nb.ts\n", "#!luosim\n /a.ts\n", "#!luosim\n/a.ts\r\n", "#!luosim\nfile://%zz:bad\n"]) {
		t.equal(parseProgramFile(enc(text)), null, JSON.stringify(text));
	}
	t.equal(parseProgramFile(enc(`#!luosim\n/${"a".repeat(BINPRM_BUF_SIZE)}`).subarray(0, BINPRM_BUF_SIZE)), null, "a specifier cut by the buffer");
});

t.test("programFileBytes and parseProgramFile agree", async (t) => {
	t.equal(parseProgramFile(programFileBytes("/p/q.ts")), "file:///p/q.ts");
	t.equal(parseProgramFile(programFileBytes(pathToFileURL(PROBE))), pathToFileURL(PROBE).href);
});

t.test("writeProgramFile creates an executable root-owned file, or truncates an existing one", async (t) => {
	const k = bootKernel();
	writeProgramFile(k, "/tmp/p", PROBE);
	const path = k.vfs.lookup(null, "/tmp/p");
	t.equal(path.inode.mode & 0o7777, 0o755);
	t.equal(path.inode.uid, 0);
	const f = k.vfs.open(null, "/tmp/p", 0, 0);
	t.equal(parseProgramFile(k.vfs.kernelRead(f, BINPRM_BUF_SIZE, 0)), pathToFileURL(PROBE).href);
	f.put();
	writeProgramFile(k, "/tmp/p", "/short.ts", 0o700);
	t.equal(path.inode.size, "#!luosim\n/short.ts\n".length);
	t.equal(path.inode.mode & 0o7777, 0o755, "an existing file keeps its mode");
});

t.test("loadProgramModule: main of a module; ENOENT for a missing file; ENOEXEC without main", async (t) => {
	const k = bootKernel();
	const main = await loadProgramModule(k, pathToFileURL(PROBE).href);
	t.equal(typeof main, "function");
	t.equal(await errnoOf(loadProgramModule(k, "file:///nonexistent/x.ts")), ENOENT);
	t.equal(await errnoOf(loadProgramModule(k, new URL("./syscalls/testdata/exec-nomain.ts", import.meta.url).href)), ENOEXEC);
	t.equal(await errnoOf(loadProgramModule(k, "file://host/x.ts")), ENOEXEC, "not a local file URL");
	t.match(k.log.all().at(-1)!.text, /^binfmt_luosim: .*exec-nomain\.ts: no main\(argc, argv\) export$/);
});
