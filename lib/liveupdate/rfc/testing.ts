/**
 * Test support for the seed-era LUO's tests (not part of the simulated
 * kernel): boot a small machine, open /dev/liveupdate and call its ioctls
 * as root, read the sysfs state, a test-only file handler and subsystem
 * (fixtures standing for memfd or a driver), and a kexec into the next
 * kernel with the live update's command line.
 */
import { Machine } from "../../kernel/machine.ts";
import { O_CREAT, O_RDONLY, O_RDWR } from "../../fs/fcntl.ts";
import { run, type User } from "../../kernel/testing.ts";
import { kexecNow, runOutcome } from "../../kexec/testing.ts";
import { Errno } from "../../kernel/errno.ts";
import type { BootOptions, Kernel } from "../../kernel/kernel.ts";
import type { File } from "../../fs/file.ts";
import type { LiveupdateFilesystem } from "./luo_files.ts";
import type { LiveupdateSubsystem } from "./luo_subsystems.ts";

/** 64 MiB is plenty: the LUO FDT takes 1 MiB, KHO scratch scales with memory. */
export const SMALL_MACHINE = { memBytes: 64 * 1024 * 1024 };

/** A fresh small machine and its first kernel (rfc-v2 unless `boot.abi`). */
export function bootLuo(boot: BootOptions = {}): Kernel {
	return new Machine(SMALL_MACHINE).boot(boot);
}

/** Runs `body` as root in `kernel`; its return value is the exit status, which must be 0. */
export async function asRoot(kernel: Kernel, body: (u: User) => number | void | Promise<number | void>, uid?: number): Promise<number> {
	return (await run(body, { kernel, uid })).status;
}

/** open("/dev/liveupdate", O_RDWR): the fd or -errno. */
export function openLuo(u: User, flags = O_RDWR): number {
	return u.sys("open", "/dev/liveupdate", flags);
}

/** ioctl(fd, cmd, arg): 0 or -errno. */
export function luoIoctl(u: User, fd: number, cmd: number, arg = 0): number {
	return u.sys("ioctl", fd, cmd, arg);
}

/** GET_STATE through the device: the number, or throws with the errno. */
export function getState(u: User, fd: number, cmd: number): number {
	const addr = u.alloc(4);
	const r = luoIoctl(u, fd, cmd, addr);
	if (r < 0) throw new Errno(-r);
	return u.i32(addr);
}

/** The text of /sys/kernel/liveupdate/state, or null when it cannot be opened. */
export function sysfsState(u: User): string | null {
	const fd = u.sys("open", "/sys/kernel/liveupdate/state", O_RDONLY);
	if (fd < 0) return null;
	const buf = u.alloc(64);
	const n = u.sys("read", fd, buf, 64);
	u.sys("close", fd);
	return new TextDecoder().decode(u.read(buf, Math.max(0, n)));
}

/** A tmpfs file the test handler accepts (its path starts with /tmp/luo): the fd. */
export function luoTestFile(u: User, name: string): number {
	return u.sys("open", `/tmp/luo-${name}`, O_RDWR | O_CREAT, 0o600);
}

/** What a test handler was asked to do, in order ("prepare 0x2a", "cancel 0x2a", ...). */
export type CallLog = string[];

/** Options of the test file handler. */
export interface TestFsOptions {
	compatible?: string;
	/** The u64 prepare returns (default 0x1000 + the call's index). */
	data?: (file: File) => bigint;
	/** Errno to throw from prepare / freeze for files whose path ends with this suffix. */
	failPrepare?: { suffix: string; errno: number };
	failFreeze?: { suffix: string; errno: number };
	failRetrieve?: number;
}

/**
 * A test-only `struct liveupdate_filesystem` (a fixture, like a driver a
 * test loads): it preserves /tmp/luo* files, its data is what `data` says,
 * freeze adds 1, and in the next kernel retrieve opens /tmp/restored-DATA.
 * Every call is appended to `log`.
 */
export function testFs(log: CallLog, opts: TestFsOptions = {}): LiveupdateFilesystem {
	let n = 0;
	const name = (f: File | null): string => f?.path?.name ?? "null";
	const hex = (v: bigint): string => `0x${v.toString(16)}`;
	const fails = (f: File, o: { suffix: string; errno: number } | undefined): void => {
		if (o && name(f).endsWith(o.suffix)) throw new Errno(o.errno);
	};
	return {
		compatible: opts.compatible ?? "test-v1",
		can_preserve: (_k, f) => name(f).startsWith("/tmp/luo"),
		prepare(_k, f): bigint {
			fails(f, opts.failPrepare);
			const d = opts.data ? opts.data(f) : 0x1000n + BigInt(n++);
			log.push(`prepare ${name(f)} ${hex(d)}`);
			return d;
		},
		freeze(_k, f, _a, d): bigint {
			fails(f, opts.failFreeze);
			log.push(`freeze ${name(f)} ${hex(d)}`);
			return d + 1n;
		},
		cancel(_k, f, _a, d): void {
			log.push(`cancel ${name(f)} ${hex(d)}`);
		},
		finish(_k, f, _a, d, reclaimed): void {
			log.push(`finish ${name(f)} ${hex(d)} ${reclaimed}`);
		},
		retrieve(k, _a, d): File {
			if (opts.failRetrieve) throw new Errno(opts.failRetrieve);
			log.push(`retrieve ${hex(d)}`);
			return k.vfs.open(null, `/tmp/restored-${hex(d)}`, O_RDWR | O_CREAT, 0o600);
		},
	};
}

/** A test-only subsystem: prepare returns `data`, freeze adds 1; calls go to `log`; `fail` makes one callback throw. */
export function testSubsystem(name: string, log: CallLog, data = 0x42n, fail?: { op: "prepare" | "freeze"; errno: number }): LiveupdateSubsystem {
	const hex = (v: bigint): string => `0x${v.toString(16)}`;
	return {
		name,
		prepare(): bigint {
			if (fail?.op === "prepare") throw new Errno(fail.errno);
			log.push(`${name} prepare`);
			return data;
		},
		freeze(_k, _a, d): bigint {
			if (fail?.op === "freeze") throw new Errno(fail.errno);
			log.push(`${name} freeze ${hex(d)}`);
			return d + 1n;
		},
		cancel(_k, _a, d): void {
			log.push(`${name} cancel ${hex(d)}`);
		},
		finish(_k, _a, d): void {
			log.push(`${name} finish ${hex(d)}`);
		},
	};
}

/**
 * Stage 1 of a live update in `kernel`: runs `body` as root, then loads
 * /boot/vmlinuz with the same command line and reboots into it (kexec);
 * returns the next kernel, or throws with reboot's errno.
 */
export async function liveUpdate(kernel: Kernel, body: (u: User) => void): Promise<Kernel> {
	let err = 0;
	const out = await runOutcome(kernel, (u) => {
		body(u);
		err = kexecNow(u, kernel.cmdline.text);
	});
	if (out.kind !== "stopped") throw new Error(`no kexec: reboot gave ${err}`);
	return out.event.to!;
}
