import t from "tap";
import { runTest } from "./testing.ts";
import {
	errno, set_errno, printf, fprintf, dprintf, snprintf, puts, fputs, fputc, putchar, fwrite, fflush, perror,
	fopen, fdopen, fclose, fgets, fread, feof, ferror, fileno, rename, remove, format, stdout, stderr, stdin,
	open, close, malloc, peek, mkdir, stat, Stat,
	O_WRONLY, EBADF, ENOSPC, ENOENT, EINVAL, EISDIR, EEXIST,
} from "./mod.ts";

const dec = new TextDecoder();

t.test("printf is one write(2) of the formatted text and returns its byte count", async (t) => {
	const r = await runTest(() => {
		t.equal(printf("%d %s %5.2f|%-4x|\n", 42, "héllo", 3.14159, 255), 22);
		t.equal(printf(""), 0);
		t.equal(puts("line"), 5, "glibc returns the bytes written");
		t.equal(fputs("no newline", stdout), 1);
		t.equal(putchar(0x21), 0x21);
	});
	t.equal(r.status, 0);
	t.same(r.stdoutWrites, ["42 héllo  3.14|ff  |\n", "line\n", "no newline", "!"], "one write each, none for empty output");
});

t.test("fprintf(stderr), dprintf, perror", async (t) => {
	const r = await runTest(() => {
		t.equal(fprintf(stderr, "err %d\n", 1), 6);
		t.equal(dprintf(1, "fd %s\n", "one"), 7);
		set_errno(ENOENT);
		perror("open");
		t.equal(errno, ENOENT, "perror leaves errno");
		perror(null);
		set_errno(EINVAL);
		printf("%m\n");
	});
	t.equal(r.status, 0);
	t.equal(r.stderr, "err 1\nopen: No such file or directory\nNo such file or directory\n");
	t.equal(r.stdout, "fd one\nInvalid argument\n");
});

t.test("printf fails like write: EBADF with stdout closed, ENOSPC on /dev/full; EINVAL for a cut-off format", async (t) => {
	const r = await runTest(() => {
		t.equal(close(1), 0);
		t.equal(printf("x\n"), -1);
		t.equal(errno, EBADF);
		t.equal(ferror(stdout), 1);
		const fd = open("/dev/full", O_WRONLY);
		t.equal(fd, 1);
		t.equal(printf("x\n"), -1);
		t.equal(errno, ENOSPC);
		t.equal(dprintf(2, "abc%"), -1);
		t.equal(errno, EINVAL);
	});
	t.equal(r.status, 0);
	t.equal(r.stderr, "abc", "the text before the bad conversion is written");
});

t.test("snprintf: C truncation and return value, into an array or user memory", async (t) => {
	const r = await runTest(() => {
		const b = new Uint8Array(8).fill(0xff);
		t.equal(snprintf(b, 8, "%s-%d", "abcdef", 123), 10, "the length it would have had");
		t.same(b, new TextEncoder().encode("abcdef-\0"), "size - 1 bytes and a NUL");
		t.equal(snprintf(null, 0, "%d", 12345), 5, "size 0 writes nothing");
		b.fill(0xff);
		t.equal(snprintf(b, 0, "x"), 1);
		t.equal(b[0], 0xff);
		const a = malloc(16);
		t.equal(snprintf(a, 16, "%05d", 42), 5);
		t.equal(dec.decode(peek(a, 6)), "00042\0");
		t.equal(format("%x", 255), "ff");
	});
	t.equal(r.status, 0);
});

t.test("fopen, fgets, fread, fwrite, fclose; fopen errors", async (t) => {
	const r = await runTest(() => {
		const w = fopen("/tmp/f", "w");
		t.ok(w);
		t.equal(fileno(w!), 3);
		t.equal(fprintf(w!, "one\ntwo\n"), 8);
		t.equal(fwrite(new TextEncoder().encode("three"), 1, 5, w!), 5);
		t.equal(fclose(w!), 0);
		const f = fopen("/tmp/f", "r")!;
		const buf = new Uint8Array(16);
		t.equal(fgets(buf, 16, f), "one\n");
		t.equal(dec.decode(buf.subarray(0, 5)), "one\n\0");
		t.equal(fgets(null, 3, f), "tw", "size - 1 bytes");
		t.equal(fgets(null, 16, f), "o\n");
		const rest = new Uint8Array(10);
		t.equal(fread(rest, 1, 10, f), 5);
		t.equal(feof(f), 1);
		t.equal(fgets(null, 16, f), null);
		t.equal(fclose(f), 0);
		t.equal(fclose(f), -1);
		t.equal(errno, EBADF);
		t.equal(fopen("/nope/x", "r"), null);
		t.equal(errno, ENOENT);
		t.equal(fopen("/tmp/f", "q"), null);
		t.equal(errno, EINVAL);
		t.equal(fopen("/tmp/f", "wx"), null);
		t.equal(errno, EEXIST);
		t.ok(fdopen(0, "r"));
		t.equal(fflush(stdout), 0);
		t.equal(fputc(0x41, stdin), 0x41, "fd 0 is the console, open for writing too");
	});
	t.equal(r.status, 0);
});

t.test("fgets reads stdin", async (t) => {
	const r = await runTest(() => {
		t.equal(fgets(null, 100, stdin), "first line\n");
		t.equal(fgets(null, 100, stdin), "second");
		t.equal(fgets(null, 100, stdin), null);
		t.equal(feof(stdin), 1);
	}, { stdin: "first line\nsecond" });
	t.equal(r.status, 0);
});

t.test("rename and remove", async (t) => {
	const r = await runTest(() => {
		t.equal(close(open("/tmp/a", O_WRONLY | 0o100, 0o644)), 0);
		t.equal(rename("/tmp/a", "/tmp/b"), 0);
		const st = new Stat();
		t.equal(stat("/tmp/a", st), -1);
		t.equal(errno, ENOENT);
		t.equal(stat("/tmp/b", st), 0);
		t.equal(rename("/tmp/none", "/tmp/c"), -1);
		t.equal(errno, ENOENT);
		t.equal(mkdir("/tmp/d", 0o755), 0);
		t.equal(rename("/tmp/b", "/tmp/d"), -1);
		t.equal(errno, EISDIR);
		t.equal(remove("/tmp/b"), 0);
		t.equal(remove("/tmp/d"), 0, "a directory too");
		t.equal(remove("/tmp/d"), -1);
		t.equal(errno, ENOENT);
	});
	t.equal(r.status, 0);
});
