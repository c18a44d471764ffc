/**
 * The console a program's stdio is attached to, and the tty nodes of major
 * 5 (drivers/tty/tty_io.c tty_init: /dev/tty 5,0 and /dev/console 5,1).
 *
 * `openConsole` stands for the terminal `luosim run` (or a test) puts on
 * fds 0, 1 and 2: three open files of /dev/console, each O_RDWR like a
 * tty's. Reads take the given stdin bytes, shared by the three files, then
 * return EOF; writes go to the stdout sink (the stderr sink for the third
 * file) at once; poll is always ready; lseek and pread/pwrite are ESPIPE.
 * It is not a real tty: there is no line discipline, termios or job
 * control, so every ioctl (TCGETS included, hence isatty() is false) is
 * ENOTTY.
 *
 * Opening /dev/console by path gives a file on the most recent
 * `openConsole` terminal of that kernel, or ENODEV when none was opened (no
 * console driver). Opening /dev/tty is ENXIO: no process has a controlling
 * terminal.
 */
import { Errno, ENODEV, ENXIO, ESPIPE, fail } from "../kernel/errno.ts";
import { makedev } from "./inode.ts";
import { File, FMODE_LSEEK, FMODE_PREAD, FMODE_PWRITE, FMODE_READ, FMODE_WRITE } from "./file.ts";
import { devnodeCreate, registerChrdev } from "./chrdev.ts";
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from "./poll.ts";
import { O_RDWR } from "./fcntl.ts";
import type { FileOperations } from "./file.ts";
import type { Inode } from "./inode.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** TTYAUX_MAJOR (include/uapi/linux/major.h): /dev/tty, /dev/console. */
export const TTYAUX_MAJOR = 5;

/** Where the console's bytes come from and go to. */
export interface ConsoleSinks {
	/** Everything fd 0 will read, then EOF (empty when absent). */
	stdin?: Uint8Array;
	/** Receives each write to fds 0 and 1 (discarded when absent). */
	stdout?: (data: Uint8Array) => void;
	/** Receives each write to fd 2 (discarded when absent). */
	stderr?: (data: Uint8Array) => void;
}

/** One terminal: its unread input is shared by every file open on it. */
interface Terminal {
	readonly input: Uint8Array;
	pos: number;
	readonly sinks: ConsoleSinks;
}

interface TtyState {
	/** The /dev/console inode every console file points at. */
	readonly node: Inode;
	/** The terminal /dev/console opens reach. */
	attached: Terminal | null;
}

const states = new WeakMap<Kernel, TtyState>();

function consoleFops(term: Terminal, sink: ((data: Uint8Array) => void) | undefined): FileOperations {
	return {
		read: (_file, count) => {
			const out = term.input.slice(term.pos, term.pos + count);
			term.pos += out.length;
			return out;
		},
		write: (_file, data) => {
			sink?.(data.slice());
			return data.length;
		},
		llseek: () => {
			throw new Errno(ESPIPE);
		},
		poll: () => POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM,
	};
}

function ttyState(kernel: Kernel): TtyState {
	let st = states.get(kernel);
	if (st) return st;
	registerChrdev(kernel, TTYAUX_MAJOR, 0, "/dev/tty", { open: () => fail(ENXIO) }, { devnode: false });
	const dev = makedev(TTYAUX_MAJOR, 1);
	const consoleOpen: FileOperations = {
		open: (_inode, file) => {
			const term = st!.attached;
			if (!term) throw new Errno(ENODEV);
			file.f_op = consoleFops(term, term.sinks.stdout);
			nonseekable(file);
		},
	};
	registerChrdev(kernel, TTYAUX_MAJOR, 1, "/dev/console", consoleOpen, { devnode: false });
	devnodeCreate(kernel, "tty", 0o666, makedev(TTYAUX_MAJOR, 0));
	st = { node: devnodeCreate(kernel, "console", 0o600, dev), attached: null };
	states.set(kernel, st);
	return st;
}

/** nonseekable_open(): lseek, pread and pwrite are ESPIPE. */
function nonseekable(file: File): void {
	file.f_mode &= ~(FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE);
}

/** tty_init()'s device nodes: /dev/tty and /dev/console. Idempotent; devtmpfsMount calls it at boot. */
export function ttyInit(kernel: Kernel): void {
	ttyState(kernel);
}

/**
 * A new terminal with `sinks`, as the three files for fds 0, 1 and 2 (each
 * holding one reference for the caller to put). It also becomes the
 * terminal /dev/console reaches.
 */
export function openConsole(kernel: Kernel, sinks: ConsoleSinks): [File, File, File] {
	const st = ttyState(kernel);
	const term: Terminal = { input: sinks.stdin ?? new Uint8Array(0), pos: 0, sinks };
	st.attached = term;
	const open = (sink: ((data: Uint8Array) => void) | undefined): File =>
		new File({ f_op: consoleFops(term, sink), inode: st.node, path: { inode: st.node, name: "/dev/console" }, f_flags: O_RDWR, f_mode: FMODE_READ | FMODE_WRITE });
	return [open(sinks.stdout), open(sinks.stdout), open(sinks.stderr)];
}

/**
 * The console driver's write for kernel messages (what printk sends to
 * the console; luosim sends only panic lines): bytes go to the stdout sink
 * of the terminal /dev/console reaches, or nowhere when none is attached.
 */
export function consoleWrite(kernel: Kernel, data: Uint8Array): void {
	states.get(kernel)?.attached?.sinks.stdout?.(data.slice());
}
