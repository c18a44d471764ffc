/**
 * gcc oracle facts for `luosim/uapi/rfc-v2` (seed 000's
 * include/uapi/linux/liveupdate.h and drivers/misc/liveupdate/luo_selftests.h):
 * every struct layout, ioctl number and constant, compiled against the
 * header text below (the host has no such header). Test support, imported
 * by lib/uaccess/abiCheck.test.ts.
 */
import { registerAbiConstant, registerAbiStruct } from "../../uaccess/abiCheck.ts";
import type { Fields, Struct } from "../../uaccess/struct.ts";
import {
	LIVEUPDATE_IOCTL_EVENT_CANCEL, LIVEUPDATE_IOCTL_EVENT_FINISH, LIVEUPDATE_IOCTL_EVENT_FREEZE, LIVEUPDATE_IOCTL_EVENT_PREPARE,
	LIVEUPDATE_IOCTL_FD_PRESERVE, LIVEUPDATE_IOCTL_FD_RESTORE, LIVEUPDATE_IOCTL_FD_UNPRESERVE, LIVEUPDATE_IOCTL_GET_STATE,
	LIVEUPDATE_IOCTL_SELFTESTS, LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_STATE_FROZEN, LIVEUPDATE_STATE_NORMAL, LIVEUPDATE_STATE_PREPARED,
	LIVEUPDATE_STATE_UPDATED, LUO_CMD_SUBSYSTEM_GETDATA, LUO_CMD_SUBSYSTEM_REGISTER, LUO_CMD_SUBSYSTEM_UNREGISTER,
	LUO_MAX_SUBSYSTEMS, LUO_NAME_LENGTH, liveupdate_fd, liveupdate_selftest, luo_arg_subsystem,
} from "./rfc-v2.ts";

/** The declarations of the RFC v2 headers, as seed 000 writes them. */
export const LIVEUPDATE_RFC_V2_H_TEXT = `#include <linux/ioctl.h>
#include <linux/types.h>
enum liveupdate_state {
	LIVEUPDATE_STATE_NORMAL = 0,
	LIVEUPDATE_STATE_PREPARED = 1,
	LIVEUPDATE_STATE_FROZEN = 2,
	LIVEUPDATE_STATE_UPDATED = 3,
};
struct liveupdate_fd {
	int		fd;
	__u32		flags;
	__u64		token;
};
struct liveupdate_selftest {
	__u64		cmd;
	__u64		arg;
};
#define LIVEUPDATE_IOCTL_TYPE		0xBA
#define LIVEUPDATE_IOCTL_FD_PRESERVE	_IOWR(LIVEUPDATE_IOCTL_TYPE, 0x00, struct liveupdate_fd)
#define LIVEUPDATE_IOCTL_FD_UNPRESERVE	_IOW(LIVEUPDATE_IOCTL_TYPE, 0x01, __u64)
#define LIVEUPDATE_IOCTL_FD_RESTORE	_IOWR(LIVEUPDATE_IOCTL_TYPE, 0x02, struct liveupdate_fd)
#define LIVEUPDATE_IOCTL_GET_STATE	_IOR(LIVEUPDATE_IOCTL_TYPE, 0x03, enum liveupdate_state)
#define LIVEUPDATE_IOCTL_EVENT_PREPARE	_IO(LIVEUPDATE_IOCTL_TYPE, 0x04)
#define LIVEUPDATE_IOCTL_EVENT_FREEZE	_IO(LIVEUPDATE_IOCTL_TYPE, 0x05)
#define LIVEUPDATE_IOCTL_EVENT_CANCEL	_IO(LIVEUPDATE_IOCTL_TYPE, 0x06)
#define LIVEUPDATE_IOCTL_EVENT_FINISH	_IO(LIVEUPDATE_IOCTL_TYPE, 0x07)
#define LIVEUPDATE_IOCTL_SELFTESTS	_IOWR(LIVEUPDATE_IOCTL_TYPE, 0x08, struct liveupdate_selftest)
#define LUO_MAX_SUBSYSTEMS		16
#define LUO_NAME_LENGTH			32
#define LUO_CMD_SUBSYSTEM_REGISTER	0
#define LUO_CMD_SUBSYSTEM_UNREGISTER	1
#define LUO_CMD_SUBSYSTEM_GETDATA	2
struct luo_arg_subsystem {
	char		name[LUO_NAME_LENGTH];
	void		*data_page;
};`;

/** Its own program: the enum and struct names clash with the other generations' headers. */
const unit = "liveupdate-rfc-v2";

const structs: [string, Struct<Fields>][] = [
	["struct liveupdate_fd", liveupdate_fd],
	["struct liveupdate_selftest", liveupdate_selftest],
	["struct luo_arg_subsystem", luo_arg_subsystem],
];
for (const [cName, layout] of structs) registerAbiStruct({ cName, layout, cDecl: LIVEUPDATE_RFC_V2_H_TEXT, unit });

const constants: [string, number][] = [
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
	["LIVEUPDATE_IOCTL_EVENT_PREPARE", LIVEUPDATE_IOCTL_EVENT_PREPARE],
	["LIVEUPDATE_IOCTL_EVENT_FREEZE", LIVEUPDATE_IOCTL_EVENT_FREEZE],
	["LIVEUPDATE_IOCTL_EVENT_CANCEL", LIVEUPDATE_IOCTL_EVENT_CANCEL],
	["LIVEUPDATE_IOCTL_EVENT_FINISH", LIVEUPDATE_IOCTL_EVENT_FINISH],
	["LIVEUPDATE_IOCTL_SELFTESTS", LIVEUPDATE_IOCTL_SELFTESTS],
	["LUO_MAX_SUBSYSTEMS", LUO_MAX_SUBSYSTEMS],
	["LUO_NAME_LENGTH", LUO_NAME_LENGTH],
	["LUO_CMD_SUBSYSTEM_REGISTER", LUO_CMD_SUBSYSTEM_REGISTER],
	["LUO_CMD_SUBSYSTEM_UNREGISTER", LUO_CMD_SUBSYSTEM_UNREGISTER],
	["LUO_CMD_SUBSYSTEM_GETDATA", LUO_CMD_SUBSYSTEM_GETDATA],
];
for (const [name, value] of constants) registerAbiConstant({ name, value, cExpr: name, includes: [], cDecl: LIVEUPDATE_RFC_V2_H_TEXT, unit });
