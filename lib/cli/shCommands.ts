/**
 * The commands of `luosim sh` (lib/cli/sh.ts), each a small program of the
 * booted kernel written against luosim/libc like its coreutils/util-linux
 * namesake: `ls`, `cat`, `echo`, `stat`, `dmesg`, `kexec`. The shell runs
 * each one as a new process, so permissions, errnos and file contents are
 * exactly what a program would see.
 */
import {
	O_APPEND, O_CREAT, O_RDONLY, O_TRUNC, O_WRONLY, close, errno, open, read, strerror, write, EAGAIN, EINTR,
} from "../libc/mod.ts";
import { chdir } from "../libc/unistd.ts";
import { closedir, opendir, readdir } from "../libc/dirent.ts";
import { Stat, lstat, S_ISBLK, S_ISSOCK } from "../libc/stat.ts";
import { KEXEC_FILE_NO_INITRAMFS, RB_KEXEC, kexec_file_load, reboot } from "../libc/reboot.ts";
import type { ProgramMain } from "../kernel/kernel.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function out(fd: number, s: string): void {
	write(fd, encoder.encode(s), encoder.encode(s).length);
}

/** `name: what: strerror(errno)` on stderr, as coreutils prints it; returns 1. */
function complain(cmd: string, what: string): number {
	out(2, `${cmd}: ${what}: ${strerror(errno)}\n`);
	return 1;
}

/** Reads `fd` to its end (or to EAGAIN: a pseudo-file with nothing more to give). */
function readAll(fd: number): Uint8Array | null {
	const chunks: Uint8Array[] = [];
	const buf = new Uint8Array(65536);
	for (;;) {
		const n = read(fd, buf, buf.length);
		if (n === 0 || (n < 0 && errno === EAGAIN)) break;
		if (n < 0) {
			if (errno === EINTR) continue;
			return null;
		}
		chunks.push(buf.slice(0, n));
	}
	const total = chunks.reduce((a, c) => a + c.length, 0);
	const all = new Uint8Array(total);
	let off = 0;
	for (const c of chunks) {
		all.set(c, off);
		off += c.length;
	}
	return all;
}

const cat: ProgramMain = (argc, argv) => {
	let rc = 0;
	for (const path of argv.slice(1)) {
		const fd = open(path, O_RDONLY);
		if (fd < 0) {
			rc = complain("cat", path);
			continue;
		}
		const data = readAll(fd);
		if (data === null) rc = complain("cat", path);
		else write(1, data, data.length);
		close(fd);
	}
	return rc;
};

/** `echo WORDS [> FILE | >> FILE]`: the shell passes the redirection as argv[1] "-o>" / "-o>>" and argv[2] FILE. */
const echo: ProgramMain = (argc, argv) => {
	let fd = 1;
	let words = argv.slice(1);
	if (words[0] === "-o>" || words[0] === "-o>>") {
		const file = words[1]!;
		fd = open(file, O_WRONLY | O_CREAT | (words[0] === "-o>" ? O_TRUNC : O_APPEND), 0o644);
		if (fd < 0) return complain("sh", file);
		words = words.slice(2);
	}
	const text = encoder.encode(`${words.join(" ")}\n`);
	const n = write(fd, text, text.length);
	const rc = n < 0 ? complain("echo", "write error") : 0;
	if (fd !== 1) close(fd);
	return rc;
};

function typeChar(mode: number): string {
	switch (mode & 0o170000) {
		case 0o040000: return "d";
		case 0o120000: return "l";
		case 0o020000: return "c";
		case 0o010000: return "p";
		default: return S_ISBLK(mode) ? "b" : S_ISSOCK(mode) ? "s" : "-";
	}
}

function modeString(mode: number): string {
	const rwx = (bits: number): string => `${bits & 4 ? "r" : "-"}${bits & 2 ? "w" : "-"}${bits & 1 ? "x" : "-"}`;
	return typeChar(mode) + rwx(mode >> 6) + rwx(mode >> 3) + rwx(mode);
}

const ls: ProgramMain = (argc, argv) => {
	const long = argv[1] === "-l";
	const paths = argv.slice(long ? 2 : 1);
	if (paths.length === 0) paths.push(".");
	let rc = 0;
	for (const path of paths) {
		const st = new Stat();
		if (lstat(path, st) < 0) {
			rc = complain("ls", `cannot access '${path}'`);
			continue;
		}
		let names: string[];
		if ((st.st_mode & 0o170000) === 0o040000) {
			const dir = opendir(path);
			if (!dir) {
				rc = complain("ls", `cannot open directory '${path}'`);
				continue;
			}
			names = [];
			for (let d = readdir(dir); d; d = readdir(dir)) if (!d.d_name.startsWith(".")) names.push(d.d_name);
			closedir(dir);
			names.sort();
			if (paths.length > 1) out(1, `${path}:\n`);
			names = names.map((n) => (path.endsWith("/") ? path + n : `${path}/${n}`));
		} else names = [path];
		for (const full of names) {
			const shown = full.slice(full.lastIndexOf("/") + 1) || full;
			if (!long) {
				out(1, `${names.length === 1 && full === path ? path : shown}\n`);
				continue;
			}
			const s = new Stat();
			if (lstat(full, s) < 0) {
				rc = complain("ls", `cannot access '${full}'`);
				continue;
			}
			out(1, `${modeString(s.st_mode)} ${s.st_nlink} ${s.st_uid} ${s.st_gid} ${String(s.st_size).padStart(8)} ${shown}\n`);
		}
	}
	return rc;
};

const stat: ProgramMain = (argc, argv) => {
	let rc = 0;
	for (const path of argv.slice(1)) {
		const s = new Stat();
		if (lstat(path, s) < 0) {
			rc = complain("stat", `cannot statx '${path}'`);
			continue;
		}
		const kinds: Record<string, string> = { "-": s.st_size === 0 ? "regular empty file" : "regular file", d: "directory", l: "symbolic link", c: "character special file", b: "block special file", p: "fifo", s: "socket" };
		out(1, `  File: ${path}\n`);
		out(1, `  Size: ${String(s.st_size).padEnd(10)}\tBlocks: ${String(s.st_blocks).padEnd(10)} IO Block: ${String(s.st_blksize).padEnd(6)} ${kinds[typeChar(s.st_mode)]}\n`);
		const dev = `${Math.floor(s.st_dev / 256)},${s.st_dev % 256}`;
		out(1, `Device: ${dev}\tInode: ${String(s.st_ino).padEnd(11)} Links: ${s.st_nlink}\n`);
		out(1, `Access: (${(s.st_mode & 0o7777).toString(8).padStart(4, "0")}/${modeString(s.st_mode)})  Uid: (${String(s.st_uid).padStart(5)})   Gid: (${String(s.st_gid).padStart(5)})\n`);
	}
	return rc;
};

/** dmesg(1): reads the /dev/kmsg records and prints `[    S.UUUUUU] text`. */
const dmesg: ProgramMain = () => {
	const fd = open("/dev/kmsg", O_RDONLY);
	if (fd < 0) return complain("dmesg", "read kernel buffer failed");
	const buf = new Uint8Array(8192);
	for (;;) {
		const n = read(fd, buf, buf.length);
		if (n <= 0) break;
		const rec = decoder.decode(buf.subarray(0, n));
		const semi = rec.indexOf(";");
		const usec = Number(rec.slice(0, semi).split(",")[2]);
		const text = rec.slice(semi + 1).replace(/\n$/, "").replace(/\\x([0-9a-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
		const sec = String(Math.floor(usec / 1e6)).padStart(5);
		out(1, `[${sec}.${String(usec % 1e6).padStart(6, "0")}] ${text}\n`);
	}
	close(fd);
	return 0;
};

/**
 * `kexec [CMDLINE...]`: `kexec -s -l /boot/vmlinuz --command-line=CMDLINE
 * && kexec -e`; without CMDLINE the running kernel's (`--reuse-cmdline`).
 */
const kexec: ProgramMain = (argc, argv) => {
	let cmdline = argv.slice(1).join(" ");
	if (argc < 2) {
		const cfd = open("/proc/cmdline", O_RDONLY);
		const cur = cfd < 0 ? null : readAll(cfd);
		if (cur === null) return complain("kexec", "/proc/cmdline");
		close(cfd);
		cmdline = decoder.decode(cur).replace(/\n$/, "");
	}
	const fd = open("/boot/vmlinuz", O_RDONLY);
	if (fd < 0) return complain("kexec", "/boot/vmlinuz");
	if (kexec_file_load(fd, -1, cmdline.length + 1, cmdline, KEXEC_FILE_NO_INITRAMFS) < 0) return complain("kexec", "kexec_file_load failed");
	close(fd);
	if (reboot(RB_KEXEC) < 0) return complain("kexec", "reboot(LINUX_REBOOT_CMD_KEXEC) failed");
	return 0;
};

/** The test behind the shell's built-in `cd DIR`: chdir(2) in a child tells whether the shell may go there. */
export const cdCheck: ProgramMain = (argc, argv) => {
	if (chdir(argv[1]!) < 0) return complain("sh: cd", `can't cd to ${argv[1]!}`);
	return 0;
};

/** The commands by name; each program's argv[0] is its name. */
export const SH_COMMANDS: Readonly<Record<string, ProgramMain>> = { cat, echo, ls, stat, dmesg, kexec };

/** Wraps a command so that it starts in `cwd`, as a child of a shell that did chdir() would. */
export function inDirectory(cwd: string, main: ProgramMain): ProgramMain {
	return (argc, argv) => {
		if (chdir(cwd) < 0) return complain("sh", `cd: ${cwd}`);
		return main(argc, argv);
	};
}
