/**
 * Misc character devices, major 10 (drivers/char/misc.c), as in Linux 6.15:
 * misc_init() owns every minor of major 10; misc_open() finds the device
 * by minor (ENODEV when none) and hands the file to its fops with
 * `file.private_data` set to the MiscDevice.
 *
 * Minor numbers follow 6.15's misc_minor_alloc(): a MISC_DYNAMIC_MINOR
 * request takes the lowest free id of an IDA over 0..DYNAMIC_MINORS-1 and
 * becomes minor DYNAMIC_MINORS-1-id, so dynamic minors go 127, 126, … 0,
 * then 256 upwards once those are used. A fixed minor is EBUSY when a
 * device has it; a fixed minor below 128 (or above 255) also reserves its
 * slot so no dynamic device takes it later. (Linux 6.17 moved dynamic
 * minors to 256 and up only; luosim follows the 6.15 it reports.)
 *
 * Registering creates /dev/NAME (or `nodename`) with `mode` (0600 when 0 or
 * absent, devtmpfs's default). A second device with the same name is
 * EEXIST, as device_create() fails on the duplicate sysfs name. The sysfs
 * `misc` class (/sys/class/misc) is not modelled; /proc/misc is.
 */
import { Errno, EBUSY, EEXIST, EINVAL, ENODEV } from "../kernel/errno.ts";
import { makedev, minor as devMinor } from "./inode.ts";
import { MINORMASK, devnodeCreate, devnodeRemove, registerChrdev } from "./chrdev.ts";
import type { File, FileOperations } from "./file.ts";
import type { Inode } from "./inode.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** MISC_MAJOR (include/uapi/linux/major.h). */
export const MISC_MAJOR = 10;
/** Ask for a dynamic minor (include/linux/miscdevice.h). */
export const MISC_DYNAMIC_MINOR = 255;
/** DYNAMIC_MINORS in 6.15's misc.c. */
export const DYNAMIC_MINORS = 128;

/** struct miscdevice: what a driver registers. */
export interface MiscDevice {
	readonly name: string;
	/** A fixed minor, or MISC_DYNAMIC_MINOR. */
	readonly minor: number;
	readonly fops: FileOperations;
	/** Node permission bits; 0 or absent means 0600. */
	readonly mode?: number;
	/** Node path under /dev when it is not `name` (e.g. "net/tun"). */
	readonly nodename?: string;
}

/** A registered device: `minor` is the one it got. */
export interface MiscEntry {
	readonly dev: MiscDevice;
	readonly minor: number;
}

interface MiscState {
	/** Newest first, as misc_register adds at the head. */
	list: MiscEntry[];
	/** misc_minors_ida. */
	ida: Set<number>;
}

const states = new WeakMap<Kernel, MiscState>();

function miscState(kernel: Kernel): MiscState {
	let st = states.get(kernel);
	if (!st) {
		st = { list: [], ida: new Set() };
		states.set(kernel, st);
		registerChrdev(kernel, MISC_MAJOR, 0, "misc", miscFops(st), { count: MINORMASK + 1 });
	}
	return st;
}

function miscFops(st: MiscState): FileOperations {
	return {
		open: (inode: Inode, file: File): void => {
			const c = st.list.find((e) => e.minor === devMinor(inode.rdev));
			if (!c) throw new Errno(ENODEV);
			file.private_data = c.dev;
			file.f_op = c.dev.fops;
			c.dev.fops.open?.(inode, file);
		},
		llseek: (file: File): number => file.f_pos,
	};
}

/** misc_init(): claims major 10. Idempotent; devtmpfsMount calls it at boot. */
export function miscInit(kernel: Kernel): void {
	miscState(kernel);
}

function idaAllocRange(ida: Set<number>, min: number, max: number): number {
	for (let i = min; i <= max; i++) {
		if (!ida.has(i)) {
			ida.add(i);
			return i;
		}
	}
	return -1;
}

/** misc_minor_alloc() of 6.15: the minor, or -1 when none is free. */
function minorAlloc(ida: Set<number>, minor: number): number {
	if (minor === MISC_DYNAMIC_MINOR) {
		const id = idaAllocRange(ida, 0, DYNAMIC_MINORS - 1);
		return id >= 0 ? DYNAMIC_MINORS - id - 1 : idaAllocRange(ida, MISC_DYNAMIC_MINOR + 1, MINORMASK);
	}
	if (minor < DYNAMIC_MINORS) return idaAllocRange(ida, DYNAMIC_MINORS - minor - 1, DYNAMIC_MINORS - minor - 1) >= 0 ? minor : -1;
	if (minor > MISC_DYNAMIC_MINOR) return idaAllocRange(ida, minor, minor);
	return minor;
}

/** misc_minor_free(). */
function minorFree(ida: Set<number>, minor: number): void {
	if (minor < DYNAMIC_MINORS) ida.delete(DYNAMIC_MINORS - minor - 1);
	else if (minor > MISC_DYNAMIC_MINOR) ida.delete(minor);
}

/**
 * misc_register(): returns the minor the device got. EBUSY when a fixed
 * minor is taken or no dynamic minor is left, EEXIST for a name already
 * registered, EINVAL for a minor outside 0..MINORMASK.
 */
export function miscRegister(kernel: Kernel, misc: MiscDevice): number {
	const st = miscState(kernel);
	if (!Number.isInteger(misc.minor) || misc.minor < 0 || misc.minor > MINORMASK) throw new Errno(EINVAL);
	if (misc.minor !== MISC_DYNAMIC_MINOR && st.list.some((e) => e.minor === misc.minor)) throw new Errno(EBUSY);
	const minor = minorAlloc(st.ida, misc.minor);
	if (minor < 0) throw new Errno(EBUSY);
	if (st.list.some((e) => e.dev.name === misc.name)) {
		minorFree(st.ida, minor);
		throw new Errno(EEXIST);
	}
	try {
		devnodeCreate(kernel, misc.nodename ?? misc.name, misc.mode || 0o600, makedev(MISC_MAJOR, minor));
	} catch (e) {
		// device_add() ignores devtmpfs failures (e.g. userspace already made /dev/NAME).
		if (!(e instanceof Errno)) throw e;
	}
	st.list.unshift({ dev: misc, minor });
	return minor;
}

/** misc_deregister(): removes the device with `minor` and its node and frees the minor. Open files keep working. */
export function miscDeregister(kernel: Kernel, minor: number): void {
	const st = miscState(kernel);
	const i = st.list.findIndex((e) => e.minor === minor);
	if (i < 0) return;
	const [e] = st.list.splice(i, 1);
	devnodeRemove(kernel, e!.dev.nodename ?? e!.dev.name);
	minorFree(st.ida, minor);
}

/** The registered devices, newest first: /proc/misc ("%3i %s\n" per device). */
export function miscDevices(kernel: Kernel): readonly MiscEntry[] {
	return miscState(kernel).list;
}
