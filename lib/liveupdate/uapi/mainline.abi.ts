/**
 * gcc oracle facts for `luosim/uapi/mainline` (include/uapi/linux/liveupdate.h
 * of mainline): every struct layout and ioctl number, compiled against the
 * header text below (the host has no linux/liveupdate.h). Test support,
 * imported by lib/uaccess/abiCheck.test.ts.
 */
import { registerAbiConstant, registerAbiStruct } from "../../uaccess/abiCheck.ts";
import type { Fields, Struct } from "../../uaccess/struct.ts";
import {
	LIVEUPDATE_IOCTL_CREATE_SESSION, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, LIVEUPDATE_SESSION_FINISH, LIVEUPDATE_SESSION_GET_NAME,
	LIVEUPDATE_SESSION_NAME_LENGTH, LIVEUPDATE_SESSION_PRESERVE_FD, LIVEUPDATE_SESSION_RETRIEVE_FD, liveupdate_ioctl_create_session,
	liveupdate_ioctl_retrieve_session, liveupdate_session_finish, liveupdate_session_get_name, liveupdate_session_preserve_fd,
	liveupdate_session_retrieve_fd,
} from "./mainline.ts";

/** The declarations of the mainline header, as upstream writes them. */
export const LIVEUPDATE_MAINLINE_H_TEXT = `#include <linux/ioctl.h>
#include <linux/types.h>
#define LIVEUPDATE_IOCTL_TYPE		0xBA
#define LIVEUPDATE_SESSION_NAME_LENGTH 64
enum {
	LIVEUPDATE_CMD_BASE = 0x00,
	LIVEUPDATE_CMD_CREATE_SESSION = LIVEUPDATE_CMD_BASE,
	LIVEUPDATE_CMD_RETRIEVE_SESSION = 0x01,
};
enum {
	LIVEUPDATE_CMD_SESSION_BASE = 0x40,
	LIVEUPDATE_CMD_SESSION_PRESERVE_FD = LIVEUPDATE_CMD_SESSION_BASE,
	LIVEUPDATE_CMD_SESSION_RETRIEVE_FD = 0x41,
	LIVEUPDATE_CMD_SESSION_FINISH = 0x42,
	LIVEUPDATE_CMD_SESSION_GET_NAME = 0x43,
};
struct liveupdate_ioctl_create_session {
	__u32		size;
	__s32		fd;
	__u8		name[LIVEUPDATE_SESSION_NAME_LENGTH];
};
#define LIVEUPDATE_IOCTL_CREATE_SESSION _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_CREATE_SESSION)
struct liveupdate_ioctl_retrieve_session {
	__u32		size;
	__s32		fd;
	__u8		name[LIVEUPDATE_SESSION_NAME_LENGTH];
};
#define LIVEUPDATE_IOCTL_RETRIEVE_SESSION _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_RETRIEVE_SESSION)
struct liveupdate_session_preserve_fd {
	__u32		size;
	__s32		fd;
	__aligned_u64	token;
};
#define LIVEUPDATE_SESSION_PRESERVE_FD _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_PRESERVE_FD)
struct liveupdate_session_retrieve_fd {
	__u32		size;
	__s32		fd;
	__aligned_u64	token;
};
#define LIVEUPDATE_SESSION_RETRIEVE_FD _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_RETRIEVE_FD)
struct liveupdate_session_finish {
	__u32		size;
	__u32		reserved;
};
#define LIVEUPDATE_SESSION_FINISH _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_FINISH)
struct liveupdate_session_get_name {
	__u32		size;
	__u32		reserved;
	__u8		name[LIVEUPDATE_SESSION_NAME_LENGTH];
};
#define LIVEUPDATE_SESSION_GET_NAME _IO(LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_CMD_SESSION_GET_NAME)`;

// Its own unit: the seed-era headers define the same struct and macro names differently.
const unit = "liveupdate-mainline";

const structs: [string, Struct<Fields>][] = [
	["struct liveupdate_ioctl_create_session", liveupdate_ioctl_create_session],
	["struct liveupdate_ioctl_retrieve_session", liveupdate_ioctl_retrieve_session],
	["struct liveupdate_session_preserve_fd", liveupdate_session_preserve_fd],
	["struct liveupdate_session_retrieve_fd", liveupdate_session_retrieve_fd],
	["struct liveupdate_session_finish", liveupdate_session_finish],
	["struct liveupdate_session_get_name", liveupdate_session_get_name],
];
for (const [cName, layout] of structs) registerAbiStruct({ cName, layout, cDecl: LIVEUPDATE_MAINLINE_H_TEXT, unit });

const constants: [string, number][] = [
	["LIVEUPDATE_IOCTL_CREATE_SESSION", LIVEUPDATE_IOCTL_CREATE_SESSION],
	["LIVEUPDATE_IOCTL_RETRIEVE_SESSION", LIVEUPDATE_IOCTL_RETRIEVE_SESSION],
	["LIVEUPDATE_SESSION_PRESERVE_FD", LIVEUPDATE_SESSION_PRESERVE_FD],
	["LIVEUPDATE_SESSION_RETRIEVE_FD", LIVEUPDATE_SESSION_RETRIEVE_FD],
	["LIVEUPDATE_SESSION_FINISH", LIVEUPDATE_SESSION_FINISH],
	["LIVEUPDATE_SESSION_GET_NAME", LIVEUPDATE_SESSION_GET_NAME],
	["LIVEUPDATE_SESSION_NAME_LENGTH", LIVEUPDATE_SESSION_NAME_LENGTH],
];
for (const [name, value] of constants) registerAbiConstant({ name, value, cExpr: name, includes: [], cDecl: LIVEUPDATE_MAINLINE_H_TEXT, unit });
