/**
 * The Linux x86_64 errno table: numbers from include/uapi/asm-generic/errno-base.h
 * and errno.h, strerror() texts as glibc prints them.
 *
 * Kernel convention (docs/errors.md): a failing kernel function throws
 * `new Errno(EINVAL)`; the syscall layer catches it and returns `-EINVAL`,
 * which libc turns into -1 and `errno`. Nothing else crosses to a program.
 *
 * Numbers and texts were taken from glibc (Python's os.strerror on Debian 12).
 */

/** Operation not permitted */
export const EPERM = 1;
/** No such file or directory */
export const ENOENT = 2;
/** No such process */
export const ESRCH = 3;
/** Interrupted system call */
export const EINTR = 4;
/** Input/output error */
export const EIO = 5;
/** No such device or address */
export const ENXIO = 6;
/** Argument list too long */
export const E2BIG = 7;
/** Exec format error */
export const ENOEXEC = 8;
/** Bad file descriptor */
export const EBADF = 9;
/** No child processes */
export const ECHILD = 10;
/** Resource temporarily unavailable */
export const EAGAIN = 11;
/** Resource temporarily unavailable */
export const EWOULDBLOCK = 11;
/** Cannot allocate memory */
export const ENOMEM = 12;
/** Permission denied */
export const EACCES = 13;
/** Bad address */
export const EFAULT = 14;
/** Block device required */
export const ENOTBLK = 15;
/** Device or resource busy */
export const EBUSY = 16;
/** File exists */
export const EEXIST = 17;
/** Invalid cross-device link */
export const EXDEV = 18;
/** No such device */
export const ENODEV = 19;
/** Not a directory */
export const ENOTDIR = 20;
/** Is a directory */
export const EISDIR = 21;
/** Invalid argument */
export const EINVAL = 22;
/** Too many open files in system */
export const ENFILE = 23;
/** Too many open files */
export const EMFILE = 24;
/** Inappropriate ioctl for device */
export const ENOTTY = 25;
/** Text file busy */
export const ETXTBSY = 26;
/** File too large */
export const EFBIG = 27;
/** No space left on device */
export const ENOSPC = 28;
/** Illegal seek */
export const ESPIPE = 29;
/** Read-only file system */
export const EROFS = 30;
/** Too many links */
export const EMLINK = 31;
/** Broken pipe */
export const EPIPE = 32;
/** Numerical argument out of domain */
export const EDOM = 33;
/** Numerical result out of range */
export const ERANGE = 34;
/** Resource deadlock avoided */
export const EDEADLK = 35;
/** Resource deadlock avoided */
export const EDEADLOCK = 35;
/** File name too long */
export const ENAMETOOLONG = 36;
/** No locks available */
export const ENOLCK = 37;
/** Function not implemented */
export const ENOSYS = 38;
/** Directory not empty */
export const ENOTEMPTY = 39;
/** Too many levels of symbolic links */
export const ELOOP = 40;
/** No message of desired type */
export const ENOMSG = 42;
/** Identifier removed */
export const EIDRM = 43;
/** Channel number out of range */
export const ECHRNG = 44;
/** Level 2 not synchronized */
export const EL2NSYNC = 45;
/** Level 3 halted */
export const EL3HLT = 46;
/** Level 3 reset */
export const EL3RST = 47;
/** Link number out of range */
export const ELNRNG = 48;
/** Protocol driver not attached */
export const EUNATCH = 49;
/** No CSI structure available */
export const ENOCSI = 50;
/** Level 2 halted */
export const EL2HLT = 51;
/** Invalid exchange */
export const EBADE = 52;
/** Invalid request descriptor */
export const EBADR = 53;
/** Exchange full */
export const EXFULL = 54;
/** No anode */
export const ENOANO = 55;
/** Invalid request code */
export const EBADRQC = 56;
/** Invalid slot */
export const EBADSLT = 57;
/** Bad font file format */
export const EBFONT = 59;
/** Device not a stream */
export const ENOSTR = 60;
/** No data available */
export const ENODATA = 61;
/** Timer expired */
export const ETIME = 62;
/** Out of streams resources */
export const ENOSR = 63;
/** Machine is not on the network */
export const ENONET = 64;
/** Package not installed */
export const ENOPKG = 65;
/** Object is remote */
export const EREMOTE = 66;
/** Link has been severed */
export const ENOLINK = 67;
/** Advertise error */
export const EADV = 68;
/** Srmount error */
export const ESRMNT = 69;
/** Communication error on send */
export const ECOMM = 70;
/** Protocol error */
export const EPROTO = 71;
/** Multihop attempted */
export const EMULTIHOP = 72;
/** RFS specific error */
export const EDOTDOT = 73;
/** Bad message */
export const EBADMSG = 74;
/** Value too large for defined data type */
export const EOVERFLOW = 75;
/** Name not unique on network */
export const ENOTUNIQ = 76;
/** File descriptor in bad state */
export const EBADFD = 77;
/** Remote address changed */
export const EREMCHG = 78;
/** Can not access a needed shared library */
export const ELIBACC = 79;
/** Accessing a corrupted shared library */
export const ELIBBAD = 80;
/** .lib section in a.out corrupted */
export const ELIBSCN = 81;
/** Attempting to link in too many shared libraries */
export const ELIBMAX = 82;
/** Cannot exec a shared library directly */
export const ELIBEXEC = 83;
/** Invalid or incomplete multibyte or wide character */
export const EILSEQ = 84;
/** Interrupted system call should be restarted */
export const ERESTART = 85;
/** Streams pipe error */
export const ESTRPIPE = 86;
/** Too many users */
export const EUSERS = 87;
/** Socket operation on non-socket */
export const ENOTSOCK = 88;
/** Destination address required */
export const EDESTADDRREQ = 89;
/** Message too long */
export const EMSGSIZE = 90;
/** Protocol wrong type for socket */
export const EPROTOTYPE = 91;
/** Protocol not available */
export const ENOPROTOOPT = 92;
/** Protocol not supported */
export const EPROTONOSUPPORT = 93;
/** Socket type not supported */
export const ESOCKTNOSUPPORT = 94;
/** Operation not supported */
export const EOPNOTSUPP = 95;
/** Operation not supported */
export const ENOTSUP = 95;
/** Protocol family not supported */
export const EPFNOSUPPORT = 96;
/** Address family not supported by protocol */
export const EAFNOSUPPORT = 97;
/** Address already in use */
export const EADDRINUSE = 98;
/** Cannot assign requested address */
export const EADDRNOTAVAIL = 99;
/** Network is down */
export const ENETDOWN = 100;
/** Network is unreachable */
export const ENETUNREACH = 101;
/** Network dropped connection on reset */
export const ENETRESET = 102;
/** Software caused connection abort */
export const ECONNABORTED = 103;
/** Connection reset by peer */
export const ECONNRESET = 104;
/** No buffer space available */
export const ENOBUFS = 105;
/** Transport endpoint is already connected */
export const EISCONN = 106;
/** Transport endpoint is not connected */
export const ENOTCONN = 107;
/** Cannot send after transport endpoint shutdown */
export const ESHUTDOWN = 108;
/** Too many references: cannot splice */
export const ETOOMANYREFS = 109;
/** Connection timed out */
export const ETIMEDOUT = 110;
/** Connection refused */
export const ECONNREFUSED = 111;
/** Host is down */
export const EHOSTDOWN = 112;
/** No route to host */
export const EHOSTUNREACH = 113;
/** Operation already in progress */
export const EALREADY = 114;
/** Operation now in progress */
export const EINPROGRESS = 115;
/** Stale file handle */
export const ESTALE = 116;
/** Structure needs cleaning */
export const EUCLEAN = 117;
/** Not a XENIX named type file */
export const ENOTNAM = 118;
/** No XENIX semaphores available */
export const ENAVAIL = 119;
/** Is a named type file */
export const EISNAM = 120;
/** Remote I/O error */
export const EREMOTEIO = 121;
/** Disk quota exceeded */
export const EDQUOT = 122;
/** No medium found */
export const ENOMEDIUM = 123;
/** Wrong medium type */
export const EMEDIUMTYPE = 124;
/** Operation canceled */
export const ECANCELED = 125;
/** Required key not available */
export const ENOKEY = 126;
/** Key has expired */
export const EKEYEXPIRED = 127;
/** Key has been revoked */
export const EKEYREVOKED = 128;
/** Key was rejected by service */
export const EKEYREJECTED = 129;
/** Owner died */
export const EOWNERDEAD = 130;
/** State not recoverable */
export const ENOTRECOVERABLE = 131;
/** Operation not possible due to RF-kill */
export const ERFKILL = 132;
/** Memory page has hardware error */
export const EHWPOISON = 133;

/** Kernel-internal: a driver has no such ioctl (include/linux/errno.h); becomes ENOTTY. */
export const ENOIOCTLCMD = 515;
/** Kernel-internal: restart the call after a signal (include/linux/errno.h). */
export const ERESTARTSYS = 512;

const ERRNO_NAMES: ReadonlyMap<number, string> = new Map([
	[1, "EPERM"],
	[2, "ENOENT"],
	[3, "ESRCH"],
	[4, "EINTR"],
	[5, "EIO"],
	[6, "ENXIO"],
	[7, "E2BIG"],
	[8, "ENOEXEC"],
	[9, "EBADF"],
	[10, "ECHILD"],
	[11, "EAGAIN"],
	[12, "ENOMEM"],
	[13, "EACCES"],
	[14, "EFAULT"],
	[15, "ENOTBLK"],
	[16, "EBUSY"],
	[17, "EEXIST"],
	[18, "EXDEV"],
	[19, "ENODEV"],
	[20, "ENOTDIR"],
	[21, "EISDIR"],
	[22, "EINVAL"],
	[23, "ENFILE"],
	[24, "EMFILE"],
	[25, "ENOTTY"],
	[26, "ETXTBSY"],
	[27, "EFBIG"],
	[28, "ENOSPC"],
	[29, "ESPIPE"],
	[30, "EROFS"],
	[31, "EMLINK"],
	[32, "EPIPE"],
	[33, "EDOM"],
	[34, "ERANGE"],
	[35, "EDEADLK"],
	[36, "ENAMETOOLONG"],
	[37, "ENOLCK"],
	[38, "ENOSYS"],
	[39, "ENOTEMPTY"],
	[40, "ELOOP"],
	[42, "ENOMSG"],
	[43, "EIDRM"],
	[44, "ECHRNG"],
	[45, "EL2NSYNC"],
	[46, "EL3HLT"],
	[47, "EL3RST"],
	[48, "ELNRNG"],
	[49, "EUNATCH"],
	[50, "ENOCSI"],
	[51, "EL2HLT"],
	[52, "EBADE"],
	[53, "EBADR"],
	[54, "EXFULL"],
	[55, "ENOANO"],
	[56, "EBADRQC"],
	[57, "EBADSLT"],
	[59, "EBFONT"],
	[60, "ENOSTR"],
	[61, "ENODATA"],
	[62, "ETIME"],
	[63, "ENOSR"],
	[64, "ENONET"],
	[65, "ENOPKG"],
	[66, "EREMOTE"],
	[67, "ENOLINK"],
	[68, "EADV"],
	[69, "ESRMNT"],
	[70, "ECOMM"],
	[71, "EPROTO"],
	[72, "EMULTIHOP"],
	[73, "EDOTDOT"],
	[74, "EBADMSG"],
	[75, "EOVERFLOW"],
	[76, "ENOTUNIQ"],
	[77, "EBADFD"],
	[78, "EREMCHG"],
	[79, "ELIBACC"],
	[80, "ELIBBAD"],
	[81, "ELIBSCN"],
	[82, "ELIBMAX"],
	[83, "ELIBEXEC"],
	[84, "EILSEQ"],
	[85, "ERESTART"],
	[86, "ESTRPIPE"],
	[87, "EUSERS"],
	[88, "ENOTSOCK"],
	[89, "EDESTADDRREQ"],
	[90, "EMSGSIZE"],
	[91, "EPROTOTYPE"],
	[92, "ENOPROTOOPT"],
	[93, "EPROTONOSUPPORT"],
	[94, "ESOCKTNOSUPPORT"],
	[95, "EOPNOTSUPP"],
	[96, "EPFNOSUPPORT"],
	[97, "EAFNOSUPPORT"],
	[98, "EADDRINUSE"],
	[99, "EADDRNOTAVAIL"],
	[100, "ENETDOWN"],
	[101, "ENETUNREACH"],
	[102, "ENETRESET"],
	[103, "ECONNABORTED"],
	[104, "ECONNRESET"],
	[105, "ENOBUFS"],
	[106, "EISCONN"],
	[107, "ENOTCONN"],
	[108, "ESHUTDOWN"],
	[109, "ETOOMANYREFS"],
	[110, "ETIMEDOUT"],
	[111, "ECONNREFUSED"],
	[112, "EHOSTDOWN"],
	[113, "EHOSTUNREACH"],
	[114, "EALREADY"],
	[115, "EINPROGRESS"],
	[116, "ESTALE"],
	[117, "EUCLEAN"],
	[118, "ENOTNAM"],
	[119, "ENAVAIL"],
	[120, "EISNAM"],
	[121, "EREMOTEIO"],
	[122, "EDQUOT"],
	[123, "ENOMEDIUM"],
	[124, "EMEDIUMTYPE"],
	[125, "ECANCELED"],
	[126, "ENOKEY"],
	[127, "EKEYEXPIRED"],
	[128, "EKEYREVOKED"],
	[129, "EKEYREJECTED"],
	[130, "EOWNERDEAD"],
	[131, "ENOTRECOVERABLE"],
	[132, "ERFKILL"],
	[133, "EHWPOISON"],
	[512, "ERESTARTSYS"],
	[515, "ENOIOCTLCMD"],
]);

const ERRNO_TEXTS: ReadonlyMap<number, string> = new Map([
	[1, "Operation not permitted"],
	[2, "No such file or directory"],
	[3, "No such process"],
	[4, "Interrupted system call"],
	[5, "Input/output error"],
	[6, "No such device or address"],
	[7, "Argument list too long"],
	[8, "Exec format error"],
	[9, "Bad file descriptor"],
	[10, "No child processes"],
	[11, "Resource temporarily unavailable"],
	[12, "Cannot allocate memory"],
	[13, "Permission denied"],
	[14, "Bad address"],
	[15, "Block device required"],
	[16, "Device or resource busy"],
	[17, "File exists"],
	[18, "Invalid cross-device link"],
	[19, "No such device"],
	[20, "Not a directory"],
	[21, "Is a directory"],
	[22, "Invalid argument"],
	[23, "Too many open files in system"],
	[24, "Too many open files"],
	[25, "Inappropriate ioctl for device"],
	[26, "Text file busy"],
	[27, "File too large"],
	[28, "No space left on device"],
	[29, "Illegal seek"],
	[30, "Read-only file system"],
	[31, "Too many links"],
	[32, "Broken pipe"],
	[33, "Numerical argument out of domain"],
	[34, "Numerical result out of range"],
	[35, "Resource deadlock avoided"],
	[36, "File name too long"],
	[37, "No locks available"],
	[38, "Function not implemented"],
	[39, "Directory not empty"],
	[40, "Too many levels of symbolic links"],
	[42, "No message of desired type"],
	[43, "Identifier removed"],
	[44, "Channel number out of range"],
	[45, "Level 2 not synchronized"],
	[46, "Level 3 halted"],
	[47, "Level 3 reset"],
	[48, "Link number out of range"],
	[49, "Protocol driver not attached"],
	[50, "No CSI structure available"],
	[51, "Level 2 halted"],
	[52, "Invalid exchange"],
	[53, "Invalid request descriptor"],
	[54, "Exchange full"],
	[55, "No anode"],
	[56, "Invalid request code"],
	[57, "Invalid slot"],
	[59, "Bad font file format"],
	[60, "Device not a stream"],
	[61, "No data available"],
	[62, "Timer expired"],
	[63, "Out of streams resources"],
	[64, "Machine is not on the network"],
	[65, "Package not installed"],
	[66, "Object is remote"],
	[67, "Link has been severed"],
	[68, "Advertise error"],
	[69, "Srmount error"],
	[70, "Communication error on send"],
	[71, "Protocol error"],
	[72, "Multihop attempted"],
	[73, "RFS specific error"],
	[74, "Bad message"],
	[75, "Value too large for defined data type"],
	[76, "Name not unique on network"],
	[77, "File descriptor in bad state"],
	[78, "Remote address changed"],
	[79, "Can not access a needed shared library"],
	[80, "Accessing a corrupted shared library"],
	[81, ".lib section in a.out corrupted"],
	[82, "Attempting to link in too many shared libraries"],
	[83, "Cannot exec a shared library directly"],
	[84, "Invalid or incomplete multibyte or wide character"],
	[85, "Interrupted system call should be restarted"],
	[86, "Streams pipe error"],
	[87, "Too many users"],
	[88, "Socket operation on non-socket"],
	[89, "Destination address required"],
	[90, "Message too long"],
	[91, "Protocol wrong type for socket"],
	[92, "Protocol not available"],
	[93, "Protocol not supported"],
	[94, "Socket type not supported"],
	[95, "Operation not supported"],
	[96, "Protocol family not supported"],
	[97, "Address family not supported by protocol"],
	[98, "Address already in use"],
	[99, "Cannot assign requested address"],
	[100, "Network is down"],
	[101, "Network is unreachable"],
	[102, "Network dropped connection on reset"],
	[103, "Software caused connection abort"],
	[104, "Connection reset by peer"],
	[105, "No buffer space available"],
	[106, "Transport endpoint is already connected"],
	[107, "Transport endpoint is not connected"],
	[108, "Cannot send after transport endpoint shutdown"],
	[109, "Too many references: cannot splice"],
	[110, "Connection timed out"],
	[111, "Connection refused"],
	[112, "Host is down"],
	[113, "No route to host"],
	[114, "Operation already in progress"],
	[115, "Operation now in progress"],
	[116, "Stale file handle"],
	[117, "Structure needs cleaning"],
	[118, "Not a XENIX named type file"],
	[119, "No XENIX semaphores available"],
	[120, "Is a named type file"],
	[121, "Remote I/O error"],
	[122, "Disk quota exceeded"],
	[123, "No medium found"],
	[124, "Wrong medium type"],
	[125, "Operation canceled"],
	[126, "Required key not available"],
	[127, "Key has expired"],
	[128, "Key has been revoked"],
	[129, "Key was rejected by service"],
	[130, "Owner died"],
	[131, "State not recoverable"],
	[132, "Operation not possible due to RF-kill"],
	[133, "Memory page has hardware error"],
]);

/** The symbolic name of an errno ("EINVAL"), as strace prints it; "E<n>" style fallback for unknown values. */
export function errnoName(err: number): string {
	return ERRNO_NAMES.get(err) ?? `${err}`;
}

/** The number of an errno name ("EINVAL" -> 22), or undefined. */
export function errnoByName(name: string): number | undefined {
	for (const [n, s] of ERRNO_NAMES) if (s === name) return n;
	return ALIASES.get(name);
}

const ALIASES: ReadonlyMap<string, number> = new Map([
	["EWOULDBLOCK", 11],
	["EDEADLOCK", 35],
	["ENOTSUP", 95],
]);

/** glibc's strerror(): the text for an errno, "Unknown error N" otherwise. */
export function strerror(err: number): string {
	if (err === 0) return "Success";
	return ERRNO_TEXTS.get(err) ?? `Unknown error ${err}`;
}

/**
 * A kernel error carrying a positive Linux errno. Kernel code throws it; the
 * syscall entry converts it to a negative return value.
 */
export class Errno extends Error {
	/** The positive errno value (EINVAL = 22). */
	readonly errno: number;

	constructor(err: number) {
		super(errnoName(err));
		this.errno = err;
	}
}

/**
 * Runs kernel code that throws `Errno` and gives what a C caller gets back
 * from the same call: 0, or -errno (any other exception goes on).
 */
export function errnoReturn(fn: () => void): number {
	try {
		fn();
		return 0;
	} catch (e) {
		if (e instanceof Errno) return -e.errno;
		throw e;
	}
}

/** Throws `Errno(err)`; reads like the kernel's `return -EINVAL;`. */
export function fail(err: number): never {
	throw new Errno(err);
}
