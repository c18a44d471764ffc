/**
 * `include/uapi/linux/liveupdate.h` of the `v2` generation (seed 001,
 * "[PATCH v2 16/32] liveupdate: luo_ioctl: add ioctl interface").
 * Programs import it as `luosim/uapi/v2`; the kernel side
 * (lib/liveupdate/rfc/luo_ioctl.ts) uses the same layouts.
 *
 * Against rfc-v2 (digest-later-seeds.md §1.5): the state enum gains
 * UNDEFINED = 0, so every state is one higher; FD_PRESERVE takes the token
 * from the caller (`_IOW`, 0x4010BA00); the events lose their EVENT_ prefix
 * (same numbers); there is no FREEZE command (0x05 is a gap: freezing
 * happens only in reboot()) and no SELFTESTS command.
 */
import { _IO, _IOR, _IOW, _IOWR } from "../../uaccess/ioctl.ts";
import { __aligned_u64, __u32, __u64, int, struct } from "../../uaccess/struct.ts";

/** State has not yet been initialized (before LUO starts). */
export const LIVEUPDATE_STATE_UNDEFINED = 0;
/** Default state, no live update in progress. */
export const LIVEUPDATE_STATE_NORMAL = 1;
/** PREPARE callbacks done; KHO finalized. */
export const LIVEUPDATE_STATE_PREPARED = 2;
/** The LIVEUPDATE_FREEZE event has been sent (in reboot()): the blackout window. */
export const LIVEUPDATE_STATE_FROZEN = 3;
/** The new kernel after a live update, until FINISH. */
export const LIVEUPDATE_STATE_UPDATED = 4;

/** `enum liveupdate_state`, as a C type (4 bytes). */
export const liveupdate_state = int;

/**
 * struct liveupdate_fd: `fd` (PRESERVE: in; RESTORE: out, a new
 * close-on-exec fd), `flags` (reserved, 0; never checked), `token` (in for
 * both: chosen by the caller at PRESERVE, unique). 16 bytes.
 */
export const liveupdate_fd = struct("liveupdate_fd", {
	fd: int,
	flags: __u32,
	token: __aligned_u64,
});

/** The ioctl type, documented in ioctl-number.rst. */
export const LIVEUPDATE_IOCTL_TYPE = 0xba;

/** Marks an fd for preservation under the caller's token: 0x4010BA00. */
export const LIVEUPDATE_IOCTL_FD_PRESERVE = _IOW(LIVEUPDATE_IOCTL_TYPE, 0x00, liveupdate_fd);
/** Removes a preserved fd by token (argument: a pointer to the `__u64` token): 0x4008BA01. */
export const LIVEUPDATE_IOCTL_FD_UNPRESERVE = _IOW(LIVEUPDATE_IOCTL_TYPE, 0x01, __u64);
/** Restores a preserved fd by token in the new kernel: 0xC010BA02. */
export const LIVEUPDATE_IOCTL_FD_RESTORE = _IOWR(LIVEUPDATE_IOCTL_TYPE, 0x02, liveupdate_fd);
/** Writes the current `enum liveupdate_state`: 0x8004BA03. */
export const LIVEUPDATE_IOCTL_GET_STATE = _IOR(LIVEUPDATE_IOCTL_TYPE, 0x03, liveupdate_state);
/** NORMAL → PREPARED (KHO finalize): 0x0000BA04. */
export const LIVEUPDATE_IOCTL_PREPARE = _IO(LIVEUPDATE_IOCTL_TYPE, 0x04);
/** PREPARED or FROZEN → NORMAL (KHO abort): 0x0000BA06. */
export const LIVEUPDATE_IOCTL_CANCEL = _IO(LIVEUPDATE_IOCTL_TYPE, 0x06);
/** UPDATED → NORMAL: 0x0000BA07. */
export const LIVEUPDATE_IOCTL_FINISH = _IO(LIVEUPDATE_IOCTL_TYPE, 0x07);
