/**
 * The LUO ioctl table of every generation, for the support matrix
 * (`luosim syscalls`, docs/support-matrix.md): which commands each
 * generation's dispatcher takes on which file, with the argument and the
 * errnos. The numbers come from the uapi modules; ioctls.test.ts checks
 * that every entry reaches its dispatcher and that nothing else does.
 * The dispatchers themselves are lib/liveupdate/rfc/luo_ioctl.ts and
 * lib/liveupdate/mainline/luo_core.ts, luo_session.ts.
 */
import * as rfc from "./uapi/rfc-v2.ts";
import * as v2 from "./uapi/v2.ts";
import * as mainline from "./uapi/mainline.ts";
import type { AbiGeneration } from "../kernel/kernel.ts";

/** One command of one generation's dispatcher. */
export interface LuoIoctl {
	readonly generation: AbiGeneration;
	/** The file it is issued on. */
	readonly file: "/dev/liveupdate" | "session fd";
	readonly name: string;
	readonly cmd: number;
	/** The argument: a struct, a u64 by pointer, or none. */
	readonly arg: string;
	readonly note: string;
}

const DEV = "/dev/liveupdate";

/** Every LUO ioctl luosim dispatches, by generation. */
export const LUO_IOCTLS: readonly LuoIoctl[] = [
	{ generation: "rfc-v2", file: DEV, name: "LIVEUPDATE_IOCTL_FD_PRESERVE", cmd: rfc.LIVEUPDATE_IOCTL_FD_PRESERVE, arg: "struct liveupdate_fd", note: "the kernel makes the token; EBADF, EBUSY outside NORMAL/UPDATED, ENOENT no handler, EFAULT (then unpreserved, F2)" },
	{ generation: "rfc-v2", file: DEV, name: "LIVEUPDATE_IOCTL_FD_UNPRESERVE", cmd: rfc.LIVEUPDATE_IOCTL_FD_UNPRESERVE, arg: "__u64 token", note: "EBUSY outside NORMAL/UPDATED, ENOENT unknown token; drops the file reference (F3)" },
	{ generation: "rfc-v2", file: DEV, name: "LIVEUPDATE_IOCTL_FD_RESTORE", cmd: rfc.LIVEUPDATE_IOCTL_FD_RESTORE, arg: "struct liveupdate_fd", note: "EBUSY outside UPDATED, EINVAL restored already, ENOENT unknown token" },
	{ generation: "rfc-v2", file: DEV, name: "LIVEUPDATE_IOCTL_GET_STATE", cmd: rfc.LIVEUPDATE_IOCTL_GET_STATE, arg: "enum liveupdate_state", note: "states 0..3 (NORMAL 0)" },
	{ generation: "rfc-v2", file: DEV, name: "LIVEUPDATE_IOCTL_EVENT_PREPARE", cmd: rfc.LIVEUPDATE_IOCTL_EVENT_PREPARE, arg: "none", note: "kho_finalize(): EEXIST when prepared already; a failed prepare leaves nothing (C2)" },
	{ generation: "rfc-v2", file: DEV, name: "LIVEUPDATE_IOCTL_EVENT_FREEZE", cmd: rfc.LIVEUPDATE_IOCTL_EVENT_FREEZE, arg: "none", note: "EINVAL outside PREPARED; a failed freeze rolls back to NORMAL (C7, luosim's choice)" },
	{ generation: "rfc-v2", file: DEV, name: "LIVEUPDATE_IOCTL_EVENT_CANCEL", cmd: rfc.LIVEUPDATE_IOCTL_EVENT_CANCEL, arg: "none", note: "kho_abort(): ENOENT in NORMAL or UPDATED" },
	{ generation: "rfc-v2", file: DEV, name: "LIVEUPDATE_IOCTL_EVENT_FINISH", cmd: rfc.LIVEUPDATE_IOCTL_EVENT_FINISH, arg: "none", note: "EINVAL outside UPDATED; frees the incoming files (F7)" },
	{ generation: "rfc-v2", file: DEV, name: "LIVEUPDATE_IOCTL_SELFTESTS", cmd: rfc.LIVEUPDATE_IOCTL_SELFTESTS, arg: "struct liveupdate_selftest", note: "the selftest module (seed patch 13); EOPNOTSUPP when it is off" },
	{ generation: "v2", file: DEV, name: "LIVEUPDATE_IOCTL_FD_PRESERVE", cmd: v2.LIVEUPDATE_IOCTL_FD_PRESERVE, arg: "struct liveupdate_fd", note: "the user gives the token: EEXIST when taken" },
	{ generation: "v2", file: DEV, name: "LIVEUPDATE_IOCTL_FD_UNPRESERVE", cmd: v2.LIVEUPDATE_IOCTL_FD_UNPRESERVE, arg: "__u64 token", note: "as rfc-v2" },
	{ generation: "v2", file: DEV, name: "LIVEUPDATE_IOCTL_FD_RESTORE", cmd: v2.LIVEUPDATE_IOCTL_FD_RESTORE, arg: "struct liveupdate_fd", note: "as rfc-v2" },
	{ generation: "v2", file: DEV, name: "LIVEUPDATE_IOCTL_GET_STATE", cmd: v2.LIVEUPDATE_IOCTL_GET_STATE, arg: "enum liveupdate_state", note: "states 1..4 (UNDEFINED 0)" },
	{ generation: "v2", file: DEV, name: "LIVEUPDATE_IOCTL_PREPARE", cmd: v2.LIVEUPDATE_IOCTL_PREPARE, arg: "none", note: "as rfc-v2's EVENT_PREPARE; no FREEZE ioctl (the reboot freezes)" },
	{ generation: "v2", file: DEV, name: "LIVEUPDATE_IOCTL_CANCEL", cmd: v2.LIVEUPDATE_IOCTL_CANCEL, arg: "none", note: "as rfc-v2's EVENT_CANCEL" },
	{ generation: "v2", file: DEV, name: "LIVEUPDATE_IOCTL_FINISH", cmd: v2.LIVEUPDATE_IOCTL_FINISH, arg: "none", note: "as rfc-v2's EVENT_FINISH" },
	{ generation: "mainline", file: DEV, name: "LIVEUPDATE_IOCTL_CREATE_SESSION", cmd: mainline.LIVEUPDATE_IOCTL_CREATE_SESSION, arg: "struct liveupdate_ioctl_create_session", note: "a close-on-exec session fd; EINVAL empty or unterminated name, EEXIST outgoing name taken" },
	{ generation: "mainline", file: DEV, name: "LIVEUPDATE_IOCTL_RETRIEVE_SESSION", cmd: mainline.LIVEUPDATE_IOCTL_RETRIEVE_SESSION, arg: "struct liveupdate_ioctl_retrieve_session", note: "ENOENT no such incoming session, EINVAL retrieved already" },
	{ generation: "mainline", file: "session fd", name: "LIVEUPDATE_SESSION_PRESERVE_FD", cmd: mainline.LIVEUPDATE_SESSION_PRESERVE_FD, arg: "struct liveupdate_session_preserve_fd", note: "outgoing only; EEXIST token, EBADF, ENOENT no handler, EBUSY preserved elsewhere" },
	{ generation: "mainline", file: "session fd", name: "LIVEUPDATE_SESSION_RETRIEVE_FD", cmd: mainline.LIVEUPDATE_SESSION_RETRIEVE_FD, arg: "struct liveupdate_session_retrieve_fd", note: "incoming only; ENOENT token; again: a new fd to the same file; errors are sticky" },
	{ generation: "mainline", file: "session fd", name: "LIVEUPDATE_SESSION_FINISH", cmd: mainline.LIVEUPDATE_SESSION_FINISH, arg: "struct liveupdate_session_finish", note: "incoming only; EBUSY when a handler cannot finish yet" },
	{ generation: "mainline", file: "session fd", name: "LIVEUPDATE_SESSION_GET_NAME", cmd: mainline.LIVEUPDATE_SESSION_GET_NAME, arg: "struct liveupdate_session_get_name", note: "both kinds; EINVAL for a non-zero reserved" },
];

/** The generations' dispatch rules for anything else, as the matrix states them. */
export const LUO_IOCTL_OTHERWISE: Readonly<Record<AbiGeneration, string>> = {
	"rfc-v2": "any other command: ENOTTY",
	v2: "any other command: ENOTTY",
	mainline: "nr out of range for the file: EINVAL; then size read (EFAULT), full command compared (ENOTTY), size below the minimum (EINVAL), non-zero unknown tail (E2BIG)",
};
