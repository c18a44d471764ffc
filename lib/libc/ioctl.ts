/**
 * <sys/ioctl.h>: ioctl(2).
 */
import { call, rawSyscall, type Buf } from "./sys.ts";

/**
 * ioctl(2). `arg` is what C passes as the third argument: a `Uint8Array`
 * holding the struct (copied into user memory, the call made with its
 * address, and copied back afterwards, so the array shows whatever the
 * driver wrote, as C's struct would), a user address, or a plain integer.
 * ENOTTY when the file has no such command, EBADF, EFAULT, EINVAL.
 */
export function ioctl(fd: number, request: number, arg: Buf = 0): number {
	return call((s) => {
		const cmd = request >>> 0;
		if (typeof arg === "number") return rawSyscall(s.p, "ioctl", [fd, cmd, arg]);
		const addr = s.buf(arg, arg.length);
		const ret = rawSyscall(s.p, "ioctl", [fd, cmd, addr]);
		s.copyBack(arg, addr, arg.length);
		return ret;
	});
}

/** The ioctl number macros of <asm-generic/ioctl.h> (which <sys/ioctl.h> includes). */
export {
	_IOC, _IO, _IOR, _IOW, _IOWR, _IOC_DIR, _IOC_TYPE, _IOC_NR, _IOC_SIZE, _IOC_NONE, _IOC_READ, _IOC_WRITE,
	_IOC_NRBITS, _IOC_TYPEBITS, _IOC_SIZEBITS, _IOC_DIRBITS, _IOC_NRSHIFT, _IOC_TYPESHIFT, _IOC_SIZESHIFT, _IOC_DIRSHIFT,
	_IOC_NRMASK, _IOC_TYPEMASK, _IOC_SIZEMASK, _IOC_DIRMASK, IOC_IN, IOC_OUT, IOC_INOUT, IOCSIZE_MASK, IOCSIZE_SHIFT,
} from "../uaccess/ioctl.ts";
