import t from "tap";
import {
	LIVEUPDATE_IOCTL_CREATE_SESSION, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, LIVEUPDATE_IOCTL_TYPE, LIVEUPDATE_SESSION_FINISH,
	LIVEUPDATE_SESSION_GET_NAME, LIVEUPDATE_SESSION_NAME_LENGTH, LIVEUPDATE_SESSION_PRESERVE_FD, LIVEUPDATE_SESSION_RETRIEVE_FD,
	liveupdate_ioctl_create_session, liveupdate_ioctl_retrieve_session, liveupdate_session_finish, liveupdate_session_get_name,
	liveupdate_session_preserve_fd, liveupdate_session_retrieve_fd,
} from "./mainline.ts";

t.test("every request is a plain _IO(0xBA, nr) with no direction or size bits", async (t) => {
	t.equal(LIVEUPDATE_IOCTL_TYPE, 0xba);
	t.same(
		[LIVEUPDATE_IOCTL_CREATE_SESSION, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, LIVEUPDATE_SESSION_PRESERVE_FD, LIVEUPDATE_SESSION_RETRIEVE_FD, LIVEUPDATE_SESSION_FINISH, LIVEUPDATE_SESSION_GET_NAME],
		[0xba00, 0xba01, 0xba40, 0xba41, 0xba42, 0xba43],
	);
});

t.test("structs put the size first and have upstream's sizes", async (t) => {
	for (const s of [liveupdate_ioctl_create_session, liveupdate_ioctl_retrieve_session, liveupdate_session_preserve_fd, liveupdate_session_retrieve_fd, liveupdate_session_finish, liveupdate_session_get_name]) {
		t.equal(s.offsetOf("size"), 0, `${s.cName}.size at 0`);
	}
	t.same(
		[liveupdate_ioctl_create_session.size, liveupdate_ioctl_retrieve_session.size, liveupdate_session_preserve_fd.size, liveupdate_session_retrieve_fd.size, liveupdate_session_finish.size, liveupdate_session_get_name.size],
		[72, 72, 16, 16, 8, 72],
	);
	t.equal(liveupdate_session_preserve_fd.offsetOf("token"), 8);
	t.equal(liveupdate_session_get_name.offsetOf("name"), 8);
});

t.test("a session name holds 63 characters and the NUL", async (t) => {
	t.equal(LIVEUPDATE_SESSION_NAME_LENGTH, 64);
	const b = liveupdate_ioctl_create_session.encode({ size: 72, name: "A".repeat(63) });
	t.equal(b[8 + 62], 0x41);
	t.equal(b[8 + 63], 0);
});
