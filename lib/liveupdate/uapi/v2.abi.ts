/**
 * gcc oracle facts for `luosim/uapi/v2` (seed 001's
 * include/uapi/linux/liveupdate.h): every struct layout, ioctl number and
 * state value, compiled against the header text below. Test support,
 * imported by lib/uaccess/abiCheck.test.ts.
 */
import { registerAbiConstant, registerAbiStruct } from "../../uaccess/abiCheck.ts";
import {
	LIVEUPDATE_IOCTL_CANCEL, LIVEUPDATE_IOCTL_FD_PRESERVE, LIVEUPDATE_IOCTL_FD_RESTORE, LIVEUPDATE_IOCTL_FD_UNPRESERVE,
	LIVEUPDATE_IOCTL_FINISH, LIVEUPDATE_IOCTL_GET_STATE, LIVEUPDATE_IOCTL_PREPARE, LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_STATE_FROZEN,
	LIVEUPDATE_STATE_NORMAL, LIVEUPDATE_STATE_PREPARED, LIVEUPDATE_STATE_UNDEFINED, LIVEUPDATE_STATE_UPDATED, liveupdate_fd,
} from "./v2.ts";

/** The declarations of the v2 header, as seed 001 writes them. */
export const LIVEUPDATE_V2_H_TEXT = `#include <linux/ioctl.h>
#include <linux/types.h>
enum liveupdate_state {
	LIVEUPDATE_STATE_UNDEFINED = 0,
	LIVEUPDATE_STATE_NORMAL = 1,
	LIVEUPDATE_STATE_PREPARED = 2,
	LIVEUPDATE_STATE_FROZEN = 3,
	LIVEUPDATE_STATE_UPDATED = 4,
};
struct liveupdate_fd {
	int		fd;
	__u32		flags;
	__aligned_u64	token;
};
#define LIVEUPDATE_IOCTL_TYPE		0xBA
#define LIVEUPDATE_IOCTL_FD_PRESERVE	_IOW(LIVEUPDATE_IOCTL_TYPE, 0x00, struct liveupdate_fd)
#define LIVEUPDATE_IOCTL_FD_UNPRESERVE	_IOW(LIVEUPDATE_IOCTL_TYPE, 0x01, __u64)
#define LIVEUPDATE_IOCTL_FD_RESTORE	_IOWR(LIVEUPDATE_IOCTL_TYPE, 0x02, struct liveupdate_fd)
#define LIVEUPDATE_IOCTL_GET_STATE	_IOR(LIVEUPDATE_IOCTL_TYPE, 0x03, enum liveupdate_state)
#define LIVEUPDATE_IOCTL_PREPARE	_IO(LIVEUPDATE_IOCTL_TYPE, 0x04)
#define LIVEUPDATE_IOCTL_CANCEL		_IO(LIVEUPDATE_IOCTL_TYPE, 0x06)
#define LIVEUPDATE_IOCTL_FINISH		_IO(LIVEUPDATE_IOCTL_TYPE, 0x07)`;

/** Its own program: the enum and struct names clash with the other generations' headers. */
const unit = "liveupdate-v2";

registerAbiStruct({ cName: "struct liveupdate_fd", layout: liveupdate_fd, cDecl: LIVEUPDATE_V2_H_TEXT, unit });

const constants: [string, number][] = [
	["LIVEUPDATE_STATE_UNDEFINED", LIVEUPDATE_STATE_UNDEFINED],
	["LIVEUPDATE_STATE_NORMAL", LIVEUPDATE_STATE_NORMAL],
	["LIVEUPDATE_STATE_PREPARED", LIVEUPDATE_STATE_PREPARED],
	["LIVEUPDATE_STATE_FROZEN", LIVEUPDATE_STATE_FROZEN],
	["LIVEUPDATE_STATE_UPDATED", LIVEUPDATE_STATE_UPDATED],
	["sizeof(enum liveupdate_state)", 4],
	["LIVEUPDATE_IOCTL_TYPE", LIVEUPDATE_IOCTL_TYPE],
	["LIVEUPDATE_IOCTL_FD_PRESERVE", LIVEUPDATE_IOCTL_FD_PRESERVE],
	["LIVEUPDATE_IOCTL_FD_UNPRESERVE", LIVEUPDATE_IOCTL_FD_UNPRESERVE],
	["LIVEUPDATE_IOCTL_FD_RESTORE", LIVEUPDATE_IOCTL_FD_RESTORE],
	["LIVEUPDATE_IOCTL_GET_STATE", LIVEUPDATE_IOCTL_GET_STATE],
	["LIVEUPDATE_IOCTL_PREPARE", LIVEUPDATE_IOCTL_PREPARE],
	["LIVEUPDATE_IOCTL_CANCEL", LIVEUPDATE_IOCTL_CANCEL],
	["LIVEUPDATE_IOCTL_FINISH", LIVEUPDATE_IOCTL_FINISH],
];
for (const [name, value] of constants) registerAbiConstant({ name, value, cExpr: name, includes: [], cDecl: LIVEUPDATE_V2_H_TEXT, unit });
