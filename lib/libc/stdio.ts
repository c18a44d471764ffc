/**
 * <stdio.h>: FILE streams over file descriptors, the printf family, puts,
 * perror, rename/remove.
 *
 * luosim's stdio is unbuffered, every stream like C's stderr: each printf,
 * fputs or fwrite is one write(2) of its whole text (more only if the
 * kernel writes less), visible as such in strace, and input is read a byte
 * at a time. So there is nothing to flush at exit or to duplicate across
 * fork, and fflush() only reports success. Formatting is glibc 2.36's
 * (format.ts); `%m` prints strerror(errno).
 */
import { EINVAL, EISDIR } from "../kernel/errno.ts";
import { vformatResult, type FormatArg } from "./format.ts";
import { call, self, rawSyscall, result, hasSyscall, type Buf } from "./sys.ts";
import { errnoSet } from "./errno-state.ts";
import { write, read, close, unlink, rmdir } from "./unistd.ts";
import { open, O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_EXCL, O_CLOEXEC, AT_FDCWD, type PathArg } from "./fcntl.ts";
import { strerror, memcpy } from "./string.ts";

export { format, vformat, type FormatArg } from "./format.ts";

/** End of file, as getc-style calls return it. */
export const EOF = -1;
export const BUFSIZ = 8192;

/** FILE: a stream over a file descriptor, with its end-of-file and error indicators. */
export class FILE {
	/** Set once a read reached end of file (feof). */
	eof = false;
	/** Set once a call on the stream failed (ferror). */
	error = false;
	constructor(readonly fd: number) {}
}

/** The standard streams: fds 0, 1 and 2. */
export const stdin = new FILE(0);
export const stdout = new FILE(1);
export const stderr = new FILE(2);

const encoder = new TextEncoder();

/** Writes all of `bytes` to `stream` (looping on short writes as glibc does); false with errno set on failure. */
function writeAll(stream: FILE, bytes: Uint8Array): boolean {
	let off = 0;
	while (off < bytes.length) {
		const n = write(stream.fd, bytes.subarray(off), bytes.length - off);
		if (n <= 0) {
			stream.error = true;
			return false;
		}
		off += n;
	}
	return true;
}

/** Formats for the printf family: the UTF-8 bytes, or null with errno EINVAL for a truncated conversion. */
function formatBytes(fmt: string, args: readonly FormatArg[]): { bytes: Uint8Array; error: number } {
	const p = self();
	const r = vformatResult(fmt, args, { errno: p.errno });
	return { bytes: encoder.encode(r.text), error: r.error };
}

/**
 * vfprintf(3): formats and writes in one write(2). Returns the number of
 * bytes written, or -1 with errno (the write's errno, or EINVAL for a
 * format that ends inside a conversion: what precedes it is still written).
 */
export function vfprintf(stream: FILE, fmt: string, args: readonly FormatArg[]): number {
	const { bytes, error } = formatBytes(fmt, args);
	if (!writeAll(stream, bytes)) return -1;
	if (error) return result(self(), -error);
	return bytes.length;
}

/** fprintf(3). */
export function fprintf(stream: FILE, fmt: string, ...args: FormatArg[]): number {
	return vfprintf(stream, fmt, args);
}

/** printf(3): fprintf(stdout, ...). */
export function printf(fmt: string, ...args: FormatArg[]): number {
	return vfprintf(stdout, fmt, args);
}

/** vprintf(3). */
export function vprintf(fmt: string, args: readonly FormatArg[]): number {
	return vfprintf(stdout, fmt, args);
}

/** dprintf(3): printf to a file descriptor. */
export function dprintf(fd: number, fmt: string, ...args: FormatArg[]): number {
	return vfprintf(new FILE(fd), fmt, args);
}

/**
 * vsnprintf(3): formats into `str` (a Uint8Array or user address) at most
 * `size - 1` bytes and a NUL (nothing when `size` is 0); returns the length
 * the whole text has, in bytes, so a result >= `size` means truncation.
 * Storing past the array or to a bad address is SIGSEGV, as in C.
 */
export function vsnprintf(str: Buf | null, size: number, fmt: string, args: readonly FormatArg[]): number {
	const { bytes, error } = formatBytes(fmt, args);
	const p = self();
	if (error) return result(p, -error);
	if (size > 0 && str !== null) {
		const n = Math.min(bytes.length, size - 1);
		const out = new Uint8Array(n + 1);
		out.set(bytes.subarray(0, n));
		memcpy(str, out, out.length);
	}
	return bytes.length;
}

/** snprintf(3). `format(fmt, ...args)` gives the same text as a JS string. */
export function snprintf(str: Buf | null, size: number, fmt: string, ...args: FormatArg[]): number {
	return vsnprintf(str, size, fmt, args);
}

/** fputs(3): writes `s` (no newline); 1 (glibc's nonnegative success value), or EOF. */
export function fputs(s: string, stream: FILE): number {
	return writeAll(stream, encoder.encode(s)) ? 1 : EOF;
}

/** puts(3): `s` and a newline, in one write; returns the bytes written (glibc's count), or EOF. */
export function puts(s: string): number {
	const bytes = encoder.encode(`${s}\n`);
	return writeAll(stdout, bytes) ? bytes.length : EOF;
}

/** fputc(3) / putc(3): one byte; returns it, or EOF. */
export function fputc(c: number, stream: FILE): number {
	return writeAll(stream, Uint8Array.of(c & 0xff)) ? c & 0xff : EOF;
}
export const putc = fputc;

/** putchar(3). */
export function putchar(c: number): number {
	return fputc(c, stdout);
}

/** fwrite(3): `nmemb` items of `size` bytes in one write; returns the items written. */
export function fwrite(ptr: Buf, size: number, nmemb: number, stream: FILE): number {
	const total = size * nmemb;
	if (total === 0) return 0;
	let off = 0;
	while (off < total) {
		const n = write(stream.fd, typeof ptr === "number" ? ptr + off : ptr.subarray(off), total - off);
		if (n <= 0) {
			stream.error = true;
			break;
		}
		off += n;
	}
	return Math.floor(off / size);
}

/** fread(3): reads until `nmemb` items of `size` bytes, end of file or an error; returns the whole items read. */
export function fread(ptr: Buf, size: number, nmemb: number, stream: FILE): number {
	const total = size * nmemb;
	let off = 0;
	while (off < total) {
		const n = read(stream.fd, typeof ptr === "number" ? ptr + off : ptr.subarray(off), total - off);
		if (n === 0) stream.eof = true;
		if (n < 0) stream.error = true;
		if (n <= 0) break;
		off += n;
	}
	return size === 0 ? 0 : Math.floor(off / size);
}

/**
 * fgets(3): reads a line (up to `size - 1` bytes, keeping the newline),
 * stores it with a NUL in `s` if given, and returns it as a string; null at
 * end of file with nothing read, or on an error.
 */
export function fgets(s: Buf | null, size: number, stream: FILE): string | null {
	const bytes: number[] = [];
	const one = new Uint8Array(1);
	while (bytes.length < size - 1) {
		const n = read(stream.fd, one, 1);
		if (n === 0) stream.eof = true;
		if (n < 0) stream.error = true;
		if (n <= 0) break;
		bytes.push(one[0]!);
		if (one[0] === 0x0a) break;
	}
	if (bytes.length === 0 || stream.error) return null;
	const line = Uint8Array.from([...bytes, 0]);
	if (s !== null) memcpy(s, line, line.length);
	return new TextDecoder().decode(line.subarray(0, bytes.length));
}

/** fflush(3): 0, there being no buffer (see the module comment). */
export function fflush(_stream: FILE | null): number {
	return 0;
}

/** fileno(3). */
export function fileno(stream: FILE): number {
	return stream.fd;
}

/** feof(3). */
export function feof(stream: FILE): number {
	return stream.eof ? 1 : 0;
}

/** ferror(3). */
export function ferror(stream: FILE): number {
	return stream.error ? 1 : 0;
}

/** clearerr(3). */
export function clearerr(stream: FILE): void {
	stream.eof = false;
	stream.error = false;
}

/** The open(2) flags of an fopen mode ("r", "w+", "ae", "wx" ...), or -1 for an invalid one. */
function modeFlags(mode: string): number {
	const base: Record<string, number> = { r: O_RDONLY, w: O_WRONLY | O_CREAT | O_TRUNC, a: O_WRONLY | O_CREAT | O_APPEND };
	let flags = base[mode[0] ?? ""];
	if (flags === undefined) return -1;
	for (const c of mode.slice(1)) {
		if (c === "+") flags = (flags & ~(O_WRONLY | O_RDONLY)) | O_RDWR;
		else if (c === "e") flags |= O_CLOEXEC;
		else if (c === "x") flags |= O_EXCL;
		else if (c === "b") continue;
		else break;
	}
	return flags;
}

/** fopen(3): open(path, flags of `mode`, 0666); null with errno (EINVAL for a bad mode). */
export function fopen(path: PathArg, mode: string): FILE | null {
	const flags = modeFlags(mode);
	if (flags < 0) {
		result(self(), -EINVAL);
		return null;
	}
	const fd = open(path, flags, 0o666);
	return fd < 0 ? null : new FILE(fd);
}

/** fdopen(3): a stream over an open fd (the mode is not checked against the fd's, as glibc checks only validity). */
export function fdopen(fd: number, mode: string): FILE | null {
	if (modeFlags(mode) < 0) {
		result(self(), -EINVAL);
		return null;
	}
	return new FILE(fd);
}

/** fclose(3): closes the fd; 0, or EOF with errno. */
export function fclose(stream: FILE): number {
	return close(stream.fd) < 0 ? EOF : 0;
}

/** perror(3): "s: strerror(errno)\n" (or just the text if `s` is empty or null) on stderr, in one write. */
export function perror(s: string | null): void {
	const p = self();
	const err = p.errno;
	const text = s ? `${s}: ${strerror(err)}\n` : `${strerror(err)}\n`;
	writeAll(stderr, encoder.encode(text));
	errnoSet(p, err);
}

/** rename(2). */
export function rename(oldpath: PathArg, newpath: PathArg): number {
	return call((s) => (hasSyscall("rename")
		? rawSyscall(s.p, "rename", [s.str(oldpath), s.str(newpath)])
		: rawSyscall(s.p, "renameat", [AT_FDCWD, s.str(oldpath), AT_FDCWD, s.str(newpath)])));
}

/** remove(3): unlink, or rmdir for a directory. */
export function remove(path: PathArg): number {
	if (unlink(path) === 0) return 0;
	if (self().errno !== EISDIR) return -1;
	return rmdir(path);
}
