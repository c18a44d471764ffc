/**
 * kexec_file_load(2) (kernel/kexec_file.c SYSCALL_DEFINE5(kexec_file_load),
 * kimage_file_prepare_segments, fs/kernel_read_file.c, the x86 bzImage64
 * loader's probe and load, kernel/kexec_handover.c kho_fill_kimage).
 *
 * Checks, in Linux's order:
 * - EPERM without CAP_SYS_BOOT (kexec_load_permitted);
 * - EINVAL for a flag outside KEXEC_FILE_FLAGS;
 * - KEXEC_FILE_UNLOAD: the loaded image (of the kind ON_CRASH picks) is
 *   dropped and the call succeeds, whatever the other arguments;
 * - the kernel file: EBADF for an fd that is not open or not open for
 *   reading, EINVAL for a file that is not regular or is empty;
 * - ENOEXEC when it is not a luosim kernel image (lib/kexec/image.ts);
 * - without KEXEC_FILE_NO_INITRAMFS the initrd fd, checked the same way
 *   (its contents are not looked at: luosim boots no initramfs);
 * - the command line: `cmdline_len` counts its NUL; ENOMEM past
 *   KMALLOC_MAX_SIZE (memdup_user), EFAULT for a bad pointer, EINVAL if
 *   the last byte is not NUL, then EINVAL past COMMAND_LINE_SIZE (the
 *   bzImage's cmdline_size, checked by the loader). A zero length is an
 *   empty command line;
 * - KEXEC_FILE_ON_CRASH: luosim reserves no crashkernel= memory, so the
 *   crash kernel finds no room, EADDRNOTAVAIL, as Linux without
 *   crashkernel=; an unload with ON_CRASH succeeds (nothing is loaded);
 * - kho_fill_kimage: with KHO on, the handover node's address is taken
 *   now (ENOMEM if no frame is left for it).
 * Nothing changes on failure: a loaded image stays loaded. On success the
 * image replaces any loaded one. KEXEC_FILE_DEBUG only adds dmesg lines.
 */
import { Errno, EADDRNOTAVAIL, EBADF, EINVAL, ENOMEM, EPERM } from "../kernel/errno.ts";
import { CAP_SYS_BOOT } from "../kernel/cred.ts";
import { registerSyscall } from "../kernel/syscallTable.ts";
import { S_IFMT, S_IFREG } from "../fs/inode.ts";
import { FMODE_READ, type File } from "../fs/file.ts";
import { khoHandoverAddress } from "../kho/kho_handover.ts";
import { kexecState, makeKexecJump } from "./kexec_core.ts";
import { parseImage } from "./image.ts";
import type { Process } from "../kernel/process.ts";

/** KEXEC_FILE_UNLOAD: unload the loaded kernel. */
export const KEXEC_FILE_UNLOAD = 0x00000001;
/** KEXEC_FILE_ON_CRASH: load (or unload) the crash kernel. */
export const KEXEC_FILE_ON_CRASH = 0x00000002;
/** KEXEC_FILE_NO_INITRAMFS: there is no initrd; initrd_fd is ignored. */
export const KEXEC_FILE_NO_INITRAMFS = 0x00000004;
/** KEXEC_FILE_DEBUG: print the loader's debug messages. */
export const KEXEC_FILE_DEBUG = 0x00000008;
/** KEXEC_FILE_FLAGS: every flag this kernel (6.15) knows. */
export const KEXEC_FILE_FLAGS = KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH | KEXEC_FILE_NO_INITRAMFS | KEXEC_FILE_DEBUG;
/** COMMAND_LINE_SIZE on x86_64: the longest command line, NUL included. */
export const COMMAND_LINE_SIZE = 2048;
/** KMALLOC_MAX_SIZE: the most memdup_user() can allocate (4 KiB << MAX_PAGE_ORDER). */
export const KMALLOC_MAX_SIZE = 4096 << 10;

/** kernel_read_file_from_fd(): the whole file, for the loader. */
function kernelReadFileFromFd(p: Process, fd: number): Uint8Array {
	if (!p.files.has(fd)) throw new Errno(EBADF);
	const f: File = p.files.get(fd);
	if (!(f.f_mode & FMODE_READ)) throw new Errno(EBADF);
	if ((f.inode.mode & S_IFMT) !== S_IFREG) throw new Errno(EINVAL);
	const size = f.inode.size;
	if (size <= 0) throw new Errno(EINVAL);
	const out = new Uint8Array(size);
	let got = 0;
	while (got < size) {
		const chunk = p.kernel.vfs.kernelRead(f, size - got, got);
		if (chunk.length === 0) break;
		out.set(chunk, got);
		got += chunk.length;
	}
	return out.subarray(0, got);
}

/** memdup_user() of the command line and its checks; the text without its NUL. */
function copyCmdline(p: Process, addr: number, len: number): string {
	if (len === 0) return "";
	if (!Number.isSafeInteger(len) || len < 0 || len > KMALLOC_MAX_SIZE) throw new Errno(ENOMEM);
	const buf = p.mm.copyFromUser(addr, len);
	if (buf[len - 1] !== 0) throw new Errno(EINVAL);
	if (len > COMMAND_LINE_SIZE) throw new Errno(EINVAL);
	const nul = buf.indexOf(0);
	return new TextDecoder().decode(buf.subarray(0, nul));
}

/** kexec_file_load(kernel_fd, initrd_fd, cmdline_len, cmdline_ptr, flags). */
export function sysKexecFileLoad(p: Process, args: number[]): number {
	const kernelFd = args[0]! | 0;
	const initrdFd = args[1]! | 0;
	const cmdlineLen = args[2]!;
	const cmdlinePtr = args[3]!;
	const flags = args[4]!;
	const k = p.kernel;
	if (!p.cred.capable(CAP_SYS_BOOT)) throw new Errno(EPERM);
	if (!Number.isSafeInteger(flags) || flags < 0 || (flags & ~KEXEC_FILE_FLAGS) !== 0) throw new Errno(EINVAL);
	const st = kexecState(k);
	const crash = (flags & KEXEC_FILE_ON_CRASH) !== 0;
	if (flags & KEXEC_FILE_UNLOAD) {
		if (!crash) st.image = null;
		return 0;
	}
	const image = kernelReadFileFromFd(p, kernelFd);
	const debug = (flags & KEXEC_FILE_DEBUG) !== 0;
	// The probe comes first (arch_kexec_kernel_image_probe): ENOEXEC before the initrd is read.
	const parsed = parseImage(image);
	if (!(flags & KEXEC_FILE_NO_INITRAMFS)) kernelReadFileFromFd(p, initrdFd);
	const cmdline = copyCmdline(p, cmdlinePtr, cmdlineLen);
	if (crash) throw new Errno(EADDRNOTAVAIL);
	const jump = makeKexecJump(image, cmdline, khoHandoverAddress(k), parsed);
	if (debug) k.pr_info(`kexec_file: kernel: ${image.length} bytes, command line: ${cmdline}`);
	st.image = jump;
	return 0;
}

registerSyscall({
	nr: 320, name: "kexec_file_load", args: ["fd", "fd", "size", "str", "kexec_flags"], status: "partial",
	note: "Loads a luosim kernel image (ENOEXEC for anything else; /boot/vmlinuz is the running one) with its command line (cmdline_len counts the NUL); EPERM without CAP_SYS_BOOT; KEXEC_FILE_UNLOAD; the initrd is checked but not used; no crashkernel= memory, so KEXEC_FILE_ON_CRASH loads are EADDRNOTAVAIL; no signature checks.",
	impl: sysKexecFileLoad,
});
