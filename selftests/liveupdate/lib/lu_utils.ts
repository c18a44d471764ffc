// SPDX-License-Identifier: GPL-2.0-only
/*
 * lu_utils.ts: tools/testing/selftests/liveupdate/lib/lu_utils.c (67f8bc84)
 * together with its header lib/include/libliveupdate.h (7b24dd46): the
 * helpers of the LUO selftests. The ioctl wrappers return -errno on
 * failure; the memfd helpers build the one-page memfds the kexec tests
 * preserve; the state session carries the stage number across the kexec;
 * daemonize_and_wait() leaves a child holding the session fds; luo_test()
 * drives a two-stage program.
 *
 * Where the TS differs from the C, and why:
 * - fail_exit() takes `__func__` and `__LINE__` from the caller's stack
 *   frame (through the source map), as luosim/ksft's asserts do;
 * - C passes a `char *` where a string is wanted; cstr() reads the C string
 *   out of a buffer or out of user memory (a mapping) for that;
 * - `int *stage` is an Int32Array(1);
 * - the ioctl structs are Uint8Arrays laid out by the uapi's struct layouts;
 *   tokens are `number | bigint` (C converts an int to the __u64 silently).
 */
import {
	chdir, close, errno, exit, fork, ftruncate, getopt, getpagesize, getrlimit, ioctl, memfd_create, mmap, munmap,
	open, optarg, peek, read, set_optind, setrlimit, setsid, sleep, snprintf, strerror, strlen, strncpy, atoi,
	EXIT_FAILURE, EXIT_SUCCESS, EINVAL, ENOENT, MAP_FAILED, MAP_SHARED, NULL, O_RDWR, PROT_READ, PROT_WRITE,
	RLIMIT_NOFILE, STDERR_FILENO, STDIN_FILENO, STDOUT_FILENO,
	type Buf, type FormatArg, type Rlimit,
} from "luosim/libc";
import { ksft_exit_fail_msg, ksft_exit_skip, ksft_print_msg } from "luosim/ksft";
import {
	LIVEUPDATE_IOCTL_CREATE_SESSION, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, LIVEUPDATE_SESSION_FINISH,
	LIVEUPDATE_SESSION_GET_NAME, LIVEUPDATE_SESSION_NAME_LENGTH, LIVEUPDATE_SESSION_PRESERVE_FD,
	LIVEUPDATE_SESSION_RETRIEVE_FD, liveupdate_ioctl_create_session, liveupdate_ioctl_retrieve_session,
	liveupdate_session_finish, liveupdate_session_get_name, liveupdate_session_preserve_fd,
	liveupdate_session_retrieve_fd,
} from "luosim/uapi/mainline";
import { callerSite } from "../../../lib/ksft/callsite.ts";

/* ---- lib/include/libliveupdate.h ---- */

/** `LUO_DEVICE`: the LUO misc device. */
export const LUO_DEVICE = "/dev/liveupdate";

/** `luo_test_stage1_fn`: stage 1, given the /dev/liveupdate fd. */
export type luo_test_stage1_fn = (luo_fd: number) => void;
/** `luo_test_stage2_fn`: stage 2, given the /dev/liveupdate fd and the retrieved state session. */
export type luo_test_stage2_fn = (luo_fd: number, state_session_fd: number) => void;

/** `__func__` of the function `depth` frames above the caller of this one. */
function callerFunc(depth: number): string {
	const prepare = Error.prepareStackTrace;
	Error.prepareStackTrace = (_err, sites): NodeJS.CallSite[] => sites;
	try {
		const holder: { stack?: unknown } = {};
		Error.captureStackTrace(holder, callerFunc);
		const sites = (holder.stack as NodeJS.CallSite[] | undefined) ?? [];
		return sites[depth]?.getFunctionName() ?? "<anonymous>";
	} finally {
		Error.prepareStackTrace = prepare;
	}
}

/**
 * `fail_exit(fmt, ...)`: `ksft_exit_fail_msg("[%s:%d] " fmt " (errno: %s)\n",
 * __func__, __LINE__, ..., strerror(errno))`, so it prints
 * `Bail out! [func:line] msg (errno: <strerror>)` and the Totals line, and exits 1.
 */
export function fail_exit(fmt: string, ...args: FormatArg[]): never {
	const err = errno;
	const site = callerSite(1);
	return ksft_exit_fail_msg(`[%s:%d] ${fmt} (errno: %s)\n`, callerFunc(1), site.line, ...args, strerror(err));
}

/** The C string in `s` (a buffer, or a user address such as a mapping), up to its NUL. */
export function cstr(s: Buf): string {
	const len = strlen(s);
	return new TextDecoder().decode(typeof s === "number" ? peek(s, len) : s.subarray(0, len));
}

/* ---- lib/lu_utils.c ---- */

/** luo_open_device(): open(LUO_DEVICE, O_RDWR). */
export function luo_open_device(): number {
	return open(LUO_DEVICE, O_RDWR);
}

/**
 * luo_ensure_nofile_limit(): raises RLIMIT_NOFILE's soft limit to
 * `min_limit` + 32 (the test's own files) if it is lower, and the hard
 * limit with it when needed; 0 or -errno (-EPERM when the hard limit
 * cannot be raised).
 */
export function luo_ensure_nofile_limit(min_limit: number): number {
	const hl: Rlimit = { rlim_cur: 0n, rlim_max: 0n };

	/* Allow to extra files to be used by test itself */
	min_limit += 32;

	if (getrlimit(RLIMIT_NOFILE, hl) < 0)
		return -errno;

	if (hl.rlim_cur >= BigInt(min_limit))
		return 0;

	hl.rlim_cur = BigInt(min_limit);
	if (hl.rlim_cur > hl.rlim_max)
		hl.rlim_max = hl.rlim_cur;

	if (setrlimit(RLIMIT_NOFILE, hl) < 0)
		return -errno;

	return 0;
}

/** luo_create_session(): LIVEUPDATE_IOCTL_CREATE_SESSION (name cut to 63 bytes); the session fd or -errno. */
export function luo_create_session(luo_fd: number, name: string): number {
	const arg = liveupdate_ioctl_create_session.encode({ size: liveupdate_ioctl_create_session.size });

	snprintf(arg.subarray(liveupdate_ioctl_create_session.offsetOf("name")), LIVEUPDATE_SESSION_NAME_LENGTH, "%.*s",
		 LIVEUPDATE_SESSION_NAME_LENGTH - 1, name);

	if (ioctl(luo_fd, LIVEUPDATE_IOCTL_CREATE_SESSION, arg))
		return -errno;

	return liveupdate_ioctl_create_session.decode(arg).fd;
}

/** luo_retrieve_session(): LIVEUPDATE_IOCTL_RETRIEVE_SESSION; the session fd or -errno. */
export function luo_retrieve_session(luo_fd: number, name: string): number {
	const arg = liveupdate_ioctl_retrieve_session.encode({ size: liveupdate_ioctl_retrieve_session.size });

	snprintf(arg.subarray(liveupdate_ioctl_retrieve_session.offsetOf("name")), LIVEUPDATE_SESSION_NAME_LENGTH, "%.*s",
		 LIVEUPDATE_SESSION_NAME_LENGTH - 1, name);

	if (ioctl(luo_fd, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, arg))
		return -errno;

	return liveupdate_ioctl_retrieve_session.decode(arg).fd;
}

/** luo_session_preserve_fd(): LIVEUPDATE_SESSION_PRESERVE_FD; 0 or -errno. */
export function luo_session_preserve_fd(session_fd: number, fd: number, token: number | bigint): number {
	const arg = liveupdate_session_preserve_fd.encode({
		size: liveupdate_session_preserve_fd.size,
		fd: fd,
		token: token,
	});

	if (ioctl(session_fd, LIVEUPDATE_SESSION_PRESERVE_FD, arg))
		return -errno;

	return 0;
}

/** luo_session_retrieve_fd(): LIVEUPDATE_SESSION_RETRIEVE_FD; the new fd or -errno. */
export function luo_session_retrieve_fd(session_fd: number, token: number | bigint): number {
	const arg = liveupdate_session_retrieve_fd.encode({
		size: liveupdate_session_retrieve_fd.size,
		token: token,
	});

	if (ioctl(session_fd, LIVEUPDATE_SESSION_RETRIEVE_FD, arg))
		return -errno;

	return liveupdate_session_retrieve_fd.decode(arg).fd;
}

/* Helper function to get a session name via ioctl. */
/** luo_get_session_name(): LIVEUPDATE_SESSION_GET_NAME into `name` (NUL-terminated within `name_len`); 0 or -errno. */
export function luo_get_session_name(session_fd: number, name: Uint8Array, name_len: number): number {
	const args = liveupdate_session_get_name.encode();

	liveupdate_session_get_name.view(args).set("size", liveupdate_session_get_name.size);

	if (ioctl(session_fd, LIVEUPDATE_SESSION_GET_NAME, args))
		return -errno;

	strncpy(name, liveupdate_session_get_name.decode(args).name, name_len - 1);
	name[name_len - 1] = 0;

	return 0;
}

/**
 * create_and_preserve_memfd(): a one-page memfd holding `data` (and its
 * NUL), written through a shared mapping, preserved under `token`, and
 * closed in every case (the session keeps it); 0 or a negative errno.
 */
export function create_and_preserve_memfd(session_fd: number, token: number, data: string): number {
	const page_size = getpagesize();
	let map = MAP_FAILED;
	let mfd = -1, ret = -1;

	mfd = memfd_create("test_mfd", 0);
	if (mfd < 0)
		return -errno;

	out: {
		if (ftruncate(mfd, page_size) != 0)
			break out;

		map = mmap(NULL, page_size, PROT_WRITE, MAP_SHARED, mfd, 0);
		if (map == MAP_FAILED)
			break out;

		snprintf(map, page_size, "%s", data);
		munmap(map, page_size);

		ret = luo_session_preserve_fd(session_fd, mfd, token);
		if (ret)
			break out;

		ret = 0;
	}
	if (ret != 0 && errno != 0)
		ret = -errno;
	if (mfd >= 0)
		close(mfd);
	return ret;
}

/**
 * restore_and_verify_memfd(): RETRIEVE_FD of `token`, then a read-only
 * shared mapping of its first page compared with `expected_data` (unless
 * NULL); the fd (the caller closes it), or a negative errno (-EINVAL and
 * `# Data mismatch! ...` when the contents differ).
 */
export function restore_and_verify_memfd(session_fd: number, token: number, expected_data: string | null): number {
	const page_size = getpagesize();
	let map = MAP_FAILED;
	let mfd = -1, ret = -1;

	mfd = luo_session_retrieve_fd(session_fd, token);
	if (mfd < 0)
		return mfd;

	out: {
		map = mmap(NULL, page_size, PROT_READ, MAP_SHARED, mfd, 0);
		if (map == MAP_FAILED)
			break out;

		out_munmap: {
			if (expected_data !== null && expected_data !== cstr(map)) {
				ksft_print_msg("Data mismatch! Expected '%s', Got '%s'\n",
					       expected_data, cstr(map));
				ret = -EINVAL;
				break out_munmap;
			}

			ret = mfd;
		}
		munmap(map, page_size);
	}
	if (ret < 0 && errno != 0)
		ret = -errno;
	if (ret < 0 && mfd >= 0)
		close(mfd);
	return ret;
}

/** luo_session_finish(): LIVEUPDATE_SESSION_FINISH; 0 or -errno. */
export function luo_session_finish(session_fd: number): number {
	const arg = liveupdate_session_finish.encode({ size: liveupdate_session_finish.size });

	if (ioctl(session_fd, LIVEUPDATE_SESSION_FINISH, arg) < 0)
		return -errno;

	return 0;
}

/**
 * create_state_file(): the state session `session_name` with a memfd
 * holding `next_stage` under `token`. Its fd stays open: closing it
 * would unpreserve the session. Any failure is a fail_exit().
 */
export function create_state_file(luo_fd: number, session_name: string, token: number, next_stage: number): void {
	const buf = new Uint8Array(32);
	let state_session_fd: number;

	state_session_fd = luo_create_session(luo_fd, session_name);
	if (state_session_fd < 0)
		fail_exit("luo_create_session for state tracking");

	snprintf(buf, buf.length, "%d", next_stage);
	if (create_and_preserve_memfd(state_session_fd, token, cstr(buf)) < 0)
		fail_exit("create_and_preserve_memfd for state tracking");

	/*
	 * DO NOT close session FD, otherwise it is going to be unpreserved
	 */
}

/** restore_and_read_stage(): the number in the state memfd of `token`, into `stage[0]`; fail_exit() on failure. */
export function restore_and_read_stage(state_session_fd: number, token: number, stage: Int32Array): void {
	const buf = new Uint8Array(32);
	let mfd: number;

	mfd = restore_and_verify_memfd(state_session_fd, token, null);
	if (mfd < 0)
		fail_exit("failed to restore state memfd");

	if (read(mfd, buf, buf.length - 1) < 0)
		fail_exit("failed to read state mfd");

	stage[0] = atoi(cstr(buf));

	close(mfd);
}

/**
 * daemonize_and_wait(): forks a child that detaches (setsid, stdio closed,
 * chdir /) and sleeps for ever holding every session fd; the parent
 * prints where things stand and exits 0. Never returns.
 */
export function daemonize_and_wait(): never {
	let pid: number;

	ksft_print_msg("[STAGE 1] Forking persistent child to hold sessions...\n");

	/* The child's code, named so that its fail_exit() shows C's __func__. */
	pid = fork(async function daemonize_and_wait(): Promise<void> {
		/* Detach from terminal so closing the window doesn't kill us */
		if (setsid() < 0)
			fail_exit("setsid failed");

		close(STDIN_FILENO);
		close(STDOUT_FILENO);
		close(STDERR_FILENO);

		/* Change dir to root to avoid locking filesystems */
		if (chdir("/") < 0)
			exit(EXIT_FAILURE);

		while (1)
			await sleep(60);
	});
	if (pid < 0)
		fail_exit("fork failed");

	ksft_print_msg("[STAGE 1] Child PID: %d. Resources are pinned.\n", pid);
	ksft_print_msg("[STAGE 1] You may now perform kexec reboot.\n");
	return exit(EXIT_SUCCESS);
}

function parse_stage_args(argc: number, argv: string[]): number {
	let stage = 1;
	let opt: number;

	set_optind(1);
	while ((opt = getopt(argc, argv, "s:")) != -1) {
		switch (opt) {
		case "s".charCodeAt(0):
			stage = atoi(optarg ?? "");
			if (stage != 1 && stage != 2)
				fail_exit("Invalid stage argument");
			break;
		default:
			fail_exit("Unknown argument");
		}
	}

	return stage;
}

/**
 * luo_test(): the driver of a two-stage program. `-s N` asks for stage N
 * (1 by default); the stage the system is really in is 2 when the state
 * session `state_session_name` can be retrieved, 1 when it is ENOENT. A
 * mismatch bails out; no /dev/liveupdate skips. Runs `stage1(luo_fd)` or
 * `stage2(luo_fd, state_session_fd)` and returns 0.
 */
export function luo_test(argc: number, argv: string[],
			 state_session_name: string,
			 stage1: luo_test_stage1_fn,
			 stage2: luo_test_stage2_fn): number {
	const target_stage = parse_stage_args(argc, argv);
	const luo_fd = luo_open_device();
	let state_session_fd: number;
	let detected_stage = 0;

	if (luo_fd < 0) {
		ksft_exit_skip("Failed to open %s. Is the luo module loaded?\n",
			       LUO_DEVICE);
	}

	state_session_fd = luo_retrieve_session(luo_fd, state_session_name);
	if (state_session_fd == -ENOENT)
		detected_stage = 1;
	else if (state_session_fd >= 0)
		detected_stage = 2;
	else
		fail_exit("Failed to check for state session");

	if (target_stage != detected_stage) {
		ksft_exit_fail_msg("Stage mismatch Requested stage %d, but system is in stage %d.\n" +
				   "(State session %s: %s)\n",
				   target_stage, detected_stage, state_session_name,
				   (detected_stage == 2) ? "EXISTS" : "MISSING");
	}

	if (target_stage == 1)
		stage1(luo_fd);
	else
		stage2(luo_fd, state_session_fd);

	return 0;
}
