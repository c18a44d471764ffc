/**
 * `include/uapi/linux/liveupdate.h` of the `rfc-v2` generation (seed 000,
 * "[RFC v2 10/16] luo: luo_ioctl: add ioctl interface" and patch 13's
 * SELFTESTS addition), plus the selftest module's own header
 * drivers/misc/liveupdate/luo_selftests.h, which the RFC v2 selftest
 * includes by relative path. Programs import it as `luosim/uapi/rfc-v2`;
 * the kernel side (lib/liveupdate/rfc/luo_ioctl.ts) uses the same layouts.
 *
 * The state machine is global; FD_PRESERVE makes the token itself and
 * writes it back (hence `_IOWR`); the events are separate `_IO` commands.
 */
import { _IO, _IOR, _IOW, _IOWR } from "../../uaccess/ioctl.ts";
import { __u32, __u64, char, int, ptr, struct } from "../../uaccess/struct.ts";

/**
 * enum liveupdate_state of RFC v2: NORMAL is 0. (The review's C1 fix adds
 * an UNDEFINED state that only exists before LUO starts; /dev/liveupdate
 * appears after that, so GET_STATE never reports it here.)
 */
export const LIVEUPDATE_STATE_NORMAL = 0;
/** PREPARE callbacks done; KHO finalized. */
export const LIVEUPDATE_STATE_PREPARED = 1;
/** FREEZE callbacks done: the blackout window before kexec. */
export const LIVEUPDATE_STATE_FROZEN = 2;
/** The new kernel after a live update, until FINISH. */
export const LIVEUPDATE_STATE_UPDATED = 3;

/** `enum liveupdate_state`, as a C type (4 bytes). */
export const liveupdate_state = int;

/**
 * struct liveupdate_fd: `fd` (PRESERVE: in; RESTORE: out, a new
 * close-on-exec fd), `flags` (reserved, 0; never checked), `token`
 * (PRESERVE: out, made by the kernel; RESTORE: in). 16 bytes.
 */
export const liveupdate_fd = struct("liveupdate_fd", {
	fd: int,
	flags: __u32,
	token: __u64,
});

/** struct liveupdate_selftest (patch 13): `cmd` a LUO_CMD_*, `arg` a user pointer to its argument. 16 bytes. */
export const liveupdate_selftest = struct("liveupdate_selftest", {
	cmd: __u64,
	arg: __u64,
});

/** The ioctl type, documented in ioctl-number.rst. */
export const LIVEUPDATE_IOCTL_TYPE = 0xba;

/** Marks an fd for preservation; the kernel writes the token back: 0xC010BA00. */
export const LIVEUPDATE_IOCTL_FD_PRESERVE = _IOWR(LIVEUPDATE_IOCTL_TYPE, 0x00, liveupdate_fd);
/** Removes a preserved fd by token (argument: a pointer to the `__u64` token): 0x4008BA01. */
export const LIVEUPDATE_IOCTL_FD_UNPRESERVE = _IOW(LIVEUPDATE_IOCTL_TYPE, 0x01, __u64);
/** Restores a preserved fd by token in the new kernel: 0xC010BA02. */
export const LIVEUPDATE_IOCTL_FD_RESTORE = _IOWR(LIVEUPDATE_IOCTL_TYPE, 0x02, liveupdate_fd);
/** Writes the current `enum liveupdate_state`: 0x8004BA03. */
export const LIVEUPDATE_IOCTL_GET_STATE = _IOR(LIVEUPDATE_IOCTL_TYPE, 0x03, liveupdate_state);
/** NORMAL → PREPARED (KHO finalize): 0x0000BA04. */
export const LIVEUPDATE_IOCTL_EVENT_PREPARE = _IO(LIVEUPDATE_IOCTL_TYPE, 0x04);
/** PREPARED → FROZEN: 0x0000BA05. */
export const LIVEUPDATE_IOCTL_EVENT_FREEZE = _IO(LIVEUPDATE_IOCTL_TYPE, 0x05);
/** PREPARED or FROZEN → NORMAL (KHO abort): 0x0000BA06. */
export const LIVEUPDATE_IOCTL_EVENT_CANCEL = _IO(LIVEUPDATE_IOCTL_TYPE, 0x06);
/** UPDATED → NORMAL: 0x0000BA07. */
export const LIVEUPDATE_IOCTL_EVENT_FINISH = _IO(LIVEUPDATE_IOCTL_TYPE, 0x07);
/** The selftest module's commands (CONFIG_LIVEUPDATE_SELFTESTS, else EOPNOTSUPP): 0xC010BA08. */
export const LIVEUPDATE_IOCTL_SELFTESTS = _IOWR(LIVEUPDATE_IOCTL_TYPE, 0x08, liveupdate_selftest);

/** luo_selftests.h: how many test subsystems the module can hold. */
export const LUO_MAX_SUBSYSTEMS = 16;
/** luo_selftests.h: the size of a test subsystem's name, NUL included. */
export const LUO_NAME_LENGTH = 32;
/** luo_selftests.h: register a test subsystem whose data page is copied from `data_page`. */
export const LUO_CMD_SUBSYSTEM_REGISTER = 0;
/** luo_selftests.h: unregister the test subsystem `name`. */
export const LUO_CMD_SUBSYSTEM_UNREGISTER = 1;
/** luo_selftests.h: copy the test subsystem's data page to `data_page`. */
export const LUO_CMD_SUBSYSTEM_GETDATA = 2;

/** struct luo_arg_subsystem (luo_selftests.h): `char name[32]; void *data_page;`. 40 bytes. */
export const luo_arg_subsystem = struct("luo_arg_subsystem", {
	name: char(LUO_NAME_LENGTH),
	data_page: ptr,
});
