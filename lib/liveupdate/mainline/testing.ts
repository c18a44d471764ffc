/**
 * Test support for the mainline LUO tests (not part of the simulated
 * kernel): booting a mainline kernel, the /dev/liveupdate and session
 * ioctls as raw calls of a test process, a kexec into the next kernel, and
 * a small file handler fixture ("luo-test-v1") whose files are anonymous
 * files made by the test, so that LUO can be tested on its own. The
 * fixture records every op it is called with and can be told to fail.
 */
import { bootKernel } from "../../kernel/machine.ts";
import { Errno } from "../../kernel/errno.ts";
import { anonInodeGetFile } from "../../fs/anon_inodes.ts";
import { O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from "../../fs/fcntl.ts";
import { User } from "../../kernel/testing.ts";
import { rebootCmd, runOutcome } from "../../kexec/testing.ts";
import { buildImage, liveupdateVersionsOf } from "../../kexec/image.ts";
import { KEXEC_FILE_NO_INITRAMFS } from "../../kexec/kexec_file.ts";
import { LINUX_REBOOT_CMD_KEXEC } from "../../kexec/reboot.ts";
import {
	LIVEUPDATE_IOCTL_CREATE_SESSION, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, LIVEUPDATE_SESSION_FINISH, LIVEUPDATE_SESSION_GET_NAME,
	LIVEUPDATE_SESSION_PRESERVE_FD, LIVEUPDATE_SESSION_RETRIEVE_FD, liveupdate_ioctl_create_session, liveupdate_session_finish,
	liveupdate_session_get_name, liveupdate_session_preserve_fd, liveupdate_session_retrieve_fd,
} from "../uapi/mainline.ts";
import { khoMainline } from "../../kho/mainline/kho_state.ts";
import { kho_radix_walk_tree } from "../../kho/mainline/kho_radix.ts";
import type { File } from "../../fs/file.ts";
import type { Kernel } from "../../kernel/kernel.ts";
import type { LiveupdateFileHandler, LiveupdateFileOpArgs } from "./luo_file.ts";

/** A fresh mainline kernel (its default command line has liveupdate=on), `cmdline` appended. */
export function bootMainline(cmdline = ""): Kernel {
	return bootKernel({ abi: "mainline", cmdline });
}

/** open("/dev/liveupdate", O_RDWR): the fd or -errno. */
export function openLuo(u: User): number {
	return u.sys("open", "/dev/liveupdate", O_RDWR);
}

/** A 64-byte name field: the string's bytes, NUL padded (or exactly 64 bytes with no NUL). */
export function nameBytes(name: string): Uint8Array {
	const b = new Uint8Array(64);
	b.set(new TextEncoder().encode(name).subarray(0, 64));
	return b;
}

/** An ioctl on a struct in fresh user memory: the return value and the struct's bytes afterwards. */
export function ioctlStruct(u: User, fd: number, cmd: number, arg: Uint8Array): { ret: number; out: Uint8Array } {
	const addr = u.bytes(arg);
	const ret = u.sys("ioctl", fd, cmd, addr);
	return { ret, out: u.read(addr, arg.length) };
}

function sessionIoctl(u: User, luoFd: number, cmd: number, name: string): number {
	const arg = liveupdate_ioctl_create_session.encode({ size: 72, fd: -1 });
	arg.set(nameBytes(name), 8);
	const { ret, out } = ioctlStruct(u, luoFd, cmd, arg);
	return ret < 0 ? ret : new DataView(out.buffer).getInt32(4, true);
}

/** CREATE_SESSION: the session fd or -errno. */
export function createSession(u: User, luoFd: number, name: string): number {
	return sessionIoctl(u, luoFd, LIVEUPDATE_IOCTL_CREATE_SESSION, name);
}

/** RETRIEVE_SESSION: the session fd or -errno. */
export function retrieveSession(u: User, luoFd: number, name: string): number {
	return sessionIoctl(u, luoFd, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, name);
}

/** PRESERVE_FD: 0 or -errno. */
export function preserveFd(u: User, sfd: number, fd: number, token: bigint): number {
	return ioctlStruct(u, sfd, LIVEUPDATE_SESSION_PRESERVE_FD, liveupdate_session_preserve_fd.encode({ size: 16, fd, token })).ret;
}

/** RETRIEVE_FD: the new fd or -errno. */
export function retrieveFd(u: User, sfd: number, token: bigint): number {
	const { ret, out } = ioctlStruct(u, sfd, LIVEUPDATE_SESSION_RETRIEVE_FD, liveupdate_session_retrieve_fd.encode({ size: 16, fd: -1, token }));
	return ret < 0 ? ret : liveupdate_session_retrieve_fd.decode(out).fd;
}

/** FINISH: 0 or -errno. */
export function finishSession(u: User, sfd: number): number {
	return ioctlStruct(u, sfd, LIVEUPDATE_SESSION_FINISH, liveupdate_session_finish.encode({ size: 8 })).ret;
}

/** GET_NAME: the name or -errno. */
export function getName(u: User, sfd: number): string | number {
	const { ret, out } = ioctlStruct(u, sfd, LIVEUPDATE_SESSION_GET_NAME, liveupdate_session_get_name.encode({ size: 72 }));
	return ret < 0 ? ret : liveupdate_session_get_name.decode(out).name;
}

/** What the fixture's files carry. */
export interface TestFileData {
	readonly luoTest: true;
	/** The value preserve() hands over, or what retrieve() got. */
	readonly value: bigint;
}

/** Failure switches of the fixture (errno values; 0 or absent: succeed). */
export interface TestHandlerFaults {
	preserve?: number;
	/** Fail freeze() of the file with this value. */
	freezeValue?: bigint;
	freezeErr?: number;
	retrieve?: number;
	/** can_finish() answers false. */
	cannotFinish?: boolean;
}

/** The fixture handler with its call log and faults. */
export interface TestHandler extends LiveupdateFileHandler {
	readonly log: string[];
	readonly faults: TestHandlerFaults;
}

/** TEST_HANDLER_COMPATIBLE: the fixture's compatible. */
export const TEST_HANDLER_COMPATIBLE = "luo-test-v1";

function dataOf(file: File | null): TestFileData | null {
	const d = file?.private_data as Partial<TestFileData> | undefined;
	return d?.luoTest === true ? (d as TestFileData) : null;
}

/**
 * The fixture: it accepts files made by testFile(); preserve() hands over
 * the file's value as serialized_data, freeze() adds 0x1000 to it (so a
 * test sees freeze ran), retrieve() makes a new test file with the data
 * it got. Every op is logged as "op:value".
 */
export function testHandler(faults: TestHandlerFaults = {}, compatible = TEST_HANDLER_COMPATIBLE): TestHandler {
	const log: string[] = [];
	const fail = (err: number | undefined): void => {
		if (err) throw new Errno(err);
	};
	const h: TestHandler = {
		compatible,
		log,
		faults,
		ops: {
			can_preserve: (_k, _h, file) => dataOf(file) !== null,
			preserve: (a: LiveupdateFileOpArgs) => {
				fail(faults.preserve);
				a.serialized_data = dataOf(a.file)!.value;
				a.private_data = `priv-${a.serialized_data}`;
				log.push(`preserve:${a.serialized_data}`);
			},
			unpreserve: (a) => void log.push(`unpreserve:${a.serialized_data}:${String(a.private_data)}`),
			freeze: (a) => {
				if (faults.freezeValue === a.serialized_data) fail(faults.freezeErr);
				log.push(`freeze:${a.serialized_data}`);
				a.serialized_data += 0x1000n;
			},
			unfreeze: (a) => void log.push(`unfreeze:${a.serialized_data}`),
			retrieve: (a) => {
				log.push(`retrieve:${a.serialized_data}`);
				fail(faults.retrieve);
				a.file = newTestFile(a.kernel, a.serialized_data);
			},
			can_finish: (a) => {
				log.push(`can_finish:${a.serialized_data}:${a.retrieve_status}`);
				return faults.cannotFinish !== true;
			},
			finish: (a) => void log.push(`finish:${a.serialized_data}:${a.retrieve_status}`),
		},
	};
	return h;
}

function newTestFile(kernel: Kernel, value: bigint): File {
	const data: TestFileData = { luoTest: true, value };
	return anonInodeGetFile(kernel, "[luo_test]", {}, data, O_RDWR);
}

/** A file the fixture accepts, installed in the test process: its fd. */
export function testFile(u: User, value: bigint): number {
	return u.p.files.install(newTestFile(u.kernel, value), u.p.nofile, false);
}

/** The fixture value of the file at `fd`, or null when it is not a fixture file. */
export function testFileValue(u: User, fd: number): bigint | null {
	return dataOf(u.p.files.get(fd))?.value ?? null;
}

/** Where kexecTest() finds the next kernel's image. */
export const TEST_IMAGE_PATH = "/boot/vmlinuz-luo-test";

/**
 * Writes the running kernel's image to TEST_IMAGE_PATH with the fixture's
 * compatible added to its `.liveupdate_versions`, as a kernel built with
 * the fixture would have it (luo_versions.ts refuses a kexec into an image
 * that lacks the compatible of a handler with preserved files).
 */
export function installTestImage(kernel: Kernel): void {
	const f = kernel.vfs.open(null, TEST_IMAGE_PATH, O_WRONLY | O_CREAT | O_TRUNC, 0o644);
	try {
		kernel.vfs.kernelWrite(f, buildImage(kernel, [...liveupdateVersionsOf(kernel.abi, kernel.config), TEST_HANDLER_COMPATIBLE]), 0);
	} finally {
		f.put();
	}
}

/** kexec_file_load of the test image with the kernel's own command line, then reboot(KEXEC): -errno when either fails. */
export function kexecTest(u: User): number {
	installTestImage(u.kernel);
	const cmdline = u.kernel.cmdline.text;
	const fd = u.sys("open", TEST_IMAGE_PATH, O_RDONLY);
	const r = u.sys("kexec_file_load", fd, -1, new TextEncoder().encode(cmdline).length + 1, cmdline, KEXEC_FILE_NO_INITRAMFS);
	u.sys("close", fd);
	return r < 0 ? r : rebootCmd(u, LINUX_REBOOT_CMD_KEXEC);
}

/**
 * Runs `stage1` in a process of `kernel`; when it returns, that process
 * (still holding its fds) kexecs with kexecTest(). Returns the next
 * kernel; throws when the kexec did not happen.
 */
export async function kexecAfter(kernel: Kernel, stage1: (u: User) => void): Promise<Kernel> {
	const out = await runOutcome(kernel, (u) => {
		stage1(u);
		const r = kexecTest(u);
		throw new Error(`kexec failed: ${r}`);
	});
	if (out.kind !== "stopped" || out.event.to === null) throw new Error(`no kexec: ${JSON.stringify(out)}`);
	return out.event.to;
}

/** Every block KHO's radix map holds for the next kernel, as "pfn:order" (empty before the first preservation). */
export function preservedBlocks(kernel: Kernel): string[] {
	const tree = khoMainline(kernel).tree;
	const out: string[] = [];
	if (tree) kho_radix_walk_tree(kernel.buddy.pm, tree.root, (pfn, order) => out.push(`${pfn}:${order}`));
	return out;
}
