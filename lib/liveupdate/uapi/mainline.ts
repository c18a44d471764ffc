/**
 * `include/uapi/linux/liveupdate.h` of the mainline generation: the
 * session-based uAPI of /dev/liveupdate (ioctl numbers, command enums,
 * size-first struct layouts, LIVEUPDATE_* constants). Programs import it
 * as `luosim/uapi/mainline`; the kernel side (lib/liveupdate/mainline/)
 * uses the same layouts.
 *
 * Every request is a plain `_IO(0xBA, nr)`: no direction or size bits; the
 * first u32 of every argument is its size. The kernel accepts a larger
 * struct whose unknown tail is zero (else E2BIG) and a smaller one down to
 * the offsetofend() of the last field it needs (else EINVAL).
 *
 * C declares the name fields `__u8 name[64]`; here they are `char(64)` so
 * that a program can pass a string (the bytes, sizes and offsets are the
 * same, which mainline.abi.ts checks against gcc).
 */
import { _IO } from "../../uaccess/ioctl.ts";
import { __aligned_u64, __s32, __u32, char, struct } from "../../uaccess/struct.ts";

/** The ioctl type, documented in ioctl-number.rst. */
export const LIVEUPDATE_IOCTL_TYPE = 0xba;

/** The maximum length of a session name including the terminating NUL (63 usable characters). */
export const LIVEUPDATE_SESSION_NAME_LENGTH = 64;

/** First command number of /dev/liveupdate. */
export const LIVEUPDATE_CMD_BASE = 0x00;
/** Command number of CREATE_SESSION. */
export const LIVEUPDATE_CMD_CREATE_SESSION = LIVEUPDATE_CMD_BASE;
/** Command number of RETRIEVE_SESSION. */
export const LIVEUPDATE_CMD_RETRIEVE_SESSION = 0x01;

/** First command number of a session fd. */
export const LIVEUPDATE_CMD_SESSION_BASE = 0x40;
/** Command number of SESSION_PRESERVE_FD. */
export const LIVEUPDATE_CMD_SESSION_PRESERVE_FD = LIVEUPDATE_CMD_SESSION_BASE;
/** Command number of SESSION_RETRIEVE_FD. */
export const LIVEUPDATE_CMD_SESSION_RETRIEVE_FD = 0x41;
/** Command number of SESSION_FINISH. */
export const LIVEUPDATE_CMD_SESSION_FINISH = 0x42;
/** Command number of SESSION_GET_NAME. */
export const LIVEUPDATE_CMD_SESSION_GET_NAME = 0x43;

/**
 * struct liveupdate_ioctl_create_session: `size` (in), `fd` (out: the new
 * close-on-exec session fd), `name` (in: NUL-terminated within 64 bytes). 72 bytes.
 */
export const liveupdate_ioctl_create_session = struct("liveupdate_ioctl_create_session", {
	size: __u32,
	fd: __s32,
	name: char(LIVEUPDATE_SESSION_NAME_LENGTH),
});

/** Creates an outgoing session (/dev/liveupdate): 0x0000BA00. */
export const LIVEUPDATE_IOCTL_CREATE_SESSION = _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_CREATE_SESSION);

/** struct liveupdate_ioctl_retrieve_session: `size` (in), `fd` (out), `name` (in). 72 bytes. */
export const liveupdate_ioctl_retrieve_session = struct("liveupdate_ioctl_retrieve_session", {
	size: __u32,
	fd: __s32,
	name: char(LIVEUPDATE_SESSION_NAME_LENGTH),
});

/** Retrieves an incoming session by name (/dev/liveupdate): 0x0000BA01. */
export const LIVEUPDATE_IOCTL_RETRIEVE_SESSION = _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_RETRIEVE_SESSION);

/** struct liveupdate_session_preserve_fd: `size` (in), `fd` (in: the fd to preserve), `token` (in: unique in the session). 16 bytes. */
export const liveupdate_session_preserve_fd = struct("liveupdate_session_preserve_fd", {
	size: __u32,
	fd: __s32,
	token: __aligned_u64,
});

/** Preserves an fd in an outgoing session (session fd): 0x0000BA40. */
export const LIVEUPDATE_SESSION_PRESERVE_FD = _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_PRESERVE_FD);

/** struct liveupdate_session_retrieve_fd: `size` (in), `fd` (out: a new close-on-exec fd), `token` (in). 16 bytes. */
export const liveupdate_session_retrieve_fd = struct("liveupdate_session_retrieve_fd", {
	size: __u32,
	fd: __s32,
	token: __aligned_u64,
});

/** Retrieves a preserved fd from an incoming session (session fd): 0x0000BA41. */
export const LIVEUPDATE_SESSION_RETRIEVE_FD = _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_RETRIEVE_FD);

/** struct liveupdate_session_finish: `size` (in), `reserved` (not checked by the kernel). 8 bytes. */
export const liveupdate_session_finish = struct("liveupdate_session_finish", {
	size: __u32,
	reserved: __u32,
});

/** Finishes an incoming session: every file's finish(), EBUSY if one cannot (session fd): 0x0000BA42. */
export const LIVEUPDATE_SESSION_FINISH = _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_FINISH);

/** struct liveupdate_session_get_name: `size` (in), `reserved` (in, must be 0), `name` (out). 72 bytes. */
export const liveupdate_session_get_name = struct("liveupdate_session_get_name", {
	size: __u32,
	reserved: __u32,
	name: char(LIVEUPDATE_SESSION_NAME_LENGTH),
});

/** Returns the session's full name (session fd, either direction): 0x0000BA43. */
export const LIVEUPDATE_SESSION_GET_NAME = _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_GET_NAME);
