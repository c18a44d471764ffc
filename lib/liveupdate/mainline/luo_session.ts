/**
 * LUO sessions of mainline (kernel/liveupdate/luo_session.c): named
 * containers of preserved files, each an anonymous-inode file
 * "[luo_session] NAME" whose only operations are ioctl and release.
 *
 * Two lists: outgoing (created in this kernel, serialized at reboot, in
 * creation order) and incoming (deserialized from the previous kernel at
 * the first open of /dev/liveupdate). Names are unique within a list only.
 * Closing an outgoing session unpreserves its files; closing a retrieved
 * one finishes it (if that fails the session stays, and cannot be
 * retrieved again).
 *
 * `luo_session_serialize_rwsem`: every create, retrieve, release and
 * session ioctl takes it for read, the reboot's serialization for write
 * and, on success, never releases it: the kernel is about to go away. A
 * process that then calls one of those, or reboots again, sleeps for good
 * (uninterruptibly; only a fatal signal ends it). That state is reachable
 * here only when a reboot notifier vetoes the kexec after LUO serialized
 * (lib/kexec/kexec_core.ts); mainline's notifiers cannot veto. The one
 * difference: release is reached from close() and exit, which luosim
 * cannot suspend, so a release after a successful serialization returns
 * at once and changes nothing (what the next kernel would receive is the
 * same either way).
 */
import { Errno, EEXIST, EINVAL, ENOENT, ENOIOCTLCMD, ENOSPC, errnoName } from "../../kernel/errno.ts";
import { TaskExit } from "../../kernel/sched.ts";
import { current, currentOrNull } from "../../kernel/current.ts";
import { anonInodeGetFile } from "../../fs/anon_inodes.ts";
import { O_RDWR } from "../../fs/fcntl.ts";
import { reserveFd } from "../../fs/syscalls/util.ts";
import { _IOC_NR } from "../../uaccess/ioctl.ts";
import {
	LIVEUPDATE_CMD_SESSION_BASE, LIVEUPDATE_SESSION_FINISH, LIVEUPDATE_SESSION_GET_NAME, LIVEUPDATE_SESSION_NAME_LENGTH,
	LIVEUPDATE_SESSION_PRESERVE_FD, LIVEUPDATE_SESSION_RETRIEVE_FD, liveupdate_session_finish, liveupdate_session_get_name,
	liveupdate_session_preserve_fd, liveupdate_session_retrieve_fd,
} from "../uapi/mainline.ts";
import { luo_session_ser } from "./luo_abi.ts";
import {
	KhoBlockSetIt, kho_block_set_destroy, kho_block_set_grow, kho_block_set_head_pa, kho_block_set_init, kho_block_set_restore,
	kho_block_set_shrink, type KhoBlockSet,
} from "./kho_block.ts";
import {
	luo_file_deserialize, luo_file_finish, luo_file_freeze, luo_file_set_init, luo_file_unfreeze, luo_file_unpreserve_files,
	luo_preserve_file, luo_retrieve_file, type LuoFileSet,
} from "./luo_file.ts";
import { bytesToName, cmdView, copy_struct_from_user, luo_ucmd_respond, nameForDisplay, nameToBytes, strnlen, type LuoUcmd } from "./luo_internal.ts";
import type { File, FileOperations } from "../../fs/file.ts";
import type { Inode } from "../../fs/inode.ts";
import type { Kernel } from "../../kernel/kernel.ts";

/** struct luo_session. */
interface LuoSession {
	/** The name's bytes, one character per byte (luo_internal.ts bytesToName). */
	readonly name: string;
	readonly file_set: LuoFileSet;
	/** Only incoming sessions are ever retrieved. */
	retrieved: boolean;
	readonly incoming: boolean;
}

/** struct luo_session_header. */
interface LuoSessionHeader {
	readonly list: LuoSession[];
	readonly block_set: KhoBlockSet;
	/** Set up (outgoing) or handed sessions by the previous kernel (incoming). */
	active: boolean;
}

/** struct luo_session_global, with the rwsem and the deserialization result. */
interface LuoSessionGlobal {
	readonly incoming: LuoSessionHeader;
	readonly outgoing: LuoSessionHeader;
	/** Where luo_ser.sessions_pa of the outgoing luo_ser is. */
	sessions_pa: ((pa: number) => void) | null;
	/** luo_session_serialize_rwsem is held for write for good. */
	frozen: boolean;
	deserialized: boolean;
	/** -errno of the deserialization, returned by every later call. */
	saved_err: number;
}

const globals = new WeakMap<Kernel, LuoSessionGlobal>();

function luoSessionGlobal(kernel: Kernel): LuoSessionGlobal {
	let g = globals.get(kernel);
	if (!g) {
		const header = (): LuoSessionHeader => ({ list: [], block_set: kho_block_set_init(kernel, luo_session_ser.size), active: false });
		g = { incoming: header(), outgoing: header(), sessions_pa: null, frozen: false, deserialized: false, saved_err: 0 };
		globals.set(kernel, g);
	}
	return g;
}

/**
 * down_read(&luo_session_serialize_rwsem) (and down_write): after a
 * successful serialization the caller sleeps for good, uninterruptibly.
 */
function serialize_down_read(kernel: Kernel): void {
	if (!luoSessionGlobal(kernel).frozen) return;
	const p = currentOrNull();
	if (!p) throw new Error("luosim: luo_session_serialize_rwsem taken for good outside a process");
	p.state = "blocked";
	p.resumeFn = null;
	throw new TaskExit(p.pid);
}

function luo_session_alloc(kernel: Kernel, name: string, incoming: boolean): LuoSession {
	return { name, file_set: luo_file_set_init(kernel), retrieved: false, incoming };
}

/** luo_session_insert(): outgoing grows its block set first (ENOMEM/ENOSPC); EEXIST for a name in the list. */
function luo_session_insert(sh: LuoSessionHeader, s: LuoSession): void {
	if (!s.incoming) kho_block_set_grow(sh.block_set, sh.list.length + 1);
	if (sh.list.some((it) => it.name === s.name)) throw new Errno(EEXIST);
	sh.list.push(s);
}

function luo_session_remove(sh: LuoSessionHeader, s: LuoSession): void {
	const i = sh.list.indexOf(s);
	if (i >= 0) sh.list.splice(i, 1);
	if (!s.incoming) kho_block_set_shrink(sh.block_set, sh.list.length);
}

function luo_session_release(kernel: Kernel, s: LuoSession): void {
	const g = luoSessionGlobal(kernel);
	if (g.frozen) return;
	if (s.retrieved) {
		try {
			luo_file_finish(s.file_set);
		} catch (e) {
			if (!(e instanceof Errno)) throw e;
			kernel.pr_warn(`luo: Unable to finish session [${nameForDisplay(s.name)}] on release`);
			return;
		}
		luo_session_remove(g.incoming, s);
	} else {
		luo_file_unpreserve_files(s.file_set);
		luo_session_remove(g.outgoing, s);
	}
}

function luo_session_preserve_fd(s: LuoSession, ucmd: LuoUcmd): void {
	const v = cmdView(ucmd.cmd);
	luo_preserve_file(s.file_set, v.getBigUint64(8, true), v.getInt32(4, true));
	try {
		luo_ucmd_respond(ucmd, liveupdate_session_preserve_fd.size);
	} catch (e) {
		ucmd.p.kernel.pr_warn("luo: The file was successfully preserved, but response to user failed");
		throw e;
	}
}

function luo_session_retrieve_fd(s: LuoSession, ucmd: LuoUcmd): void {
	const p = ucmd.p;
	reserveFd(p);
	const v = cmdView(ucmd.cmd);
	v.setInt32(4, p.files.lowestFree(), true);
	const file = luo_retrieve_file(s.file_set, v.getBigUint64(8, true));
	try {
		luo_ucmd_respond(ucmd, liveupdate_session_retrieve_fd.size);
	} catch (e) {
		file.put();
		throw e;
	}
	p.files.install(file, p.nofile, true);
}

function luo_session_finish(s: LuoSession, ucmd: LuoUcmd): void {
	luo_file_finish(s.file_set);
	luo_ucmd_respond(ucmd, liveupdate_session_finish.size);
}

function luo_session_get_name(s: LuoSession, ucmd: LuoUcmd): void {
	const v = cmdView(ucmd.cmd);
	if (v.getUint32(4, true) !== 0) throw new Errno(EINVAL);
	const off = liveupdate_session_get_name.offsetOf("name");
	ucmd.cmd.fill(0, off, off + LIVEUPDATE_SESSION_NAME_LENGTH);
	ucmd.cmd.set(nameToBytes(s.name), off);
	luo_ucmd_respond(ucmd, liveupdate_session_get_name.size);
}

/** enum luo_ioctl_type: which sessions an ioctl applies to. */
type LuoIoctlType = "incoming" | "outgoing" | "all";

interface LuoSessionIoctlOp {
	readonly size: number;
	readonly min_size: number;
	readonly ioctl_num: number;
	readonly type: LuoIoctlType;
	execute(s: LuoSession, ucmd: LuoUcmd): void;
}

/** luo_session_ioctl_ops[], indexed by nr - LIVEUPDATE_CMD_SESSION_BASE; min_size is offsetofend of the last field. */
const luo_session_ioctl_ops: readonly LuoSessionIoctlOp[] = [
	{ size: liveupdate_session_preserve_fd.size, min_size: 16, ioctl_num: LIVEUPDATE_SESSION_PRESERVE_FD, type: "outgoing", execute: luo_session_preserve_fd },
	{ size: liveupdate_session_retrieve_fd.size, min_size: 16, ioctl_num: LIVEUPDATE_SESSION_RETRIEVE_FD, type: "incoming", execute: luo_session_retrieve_fd },
	{ size: liveupdate_session_finish.size, min_size: 8, ioctl_num: LIVEUPDATE_SESSION_FINISH, type: "incoming", execute: luo_session_finish },
	{ size: liveupdate_session_get_name.size, min_size: 72, ioctl_num: LIVEUPDATE_SESSION_GET_NAME, type: "all", execute: luo_session_get_name },
];

function luo_ioctl_type_valid(s: LuoSession, op: LuoSessionIoctlOp): boolean {
	if (op.type === "incoming") return s.retrieved;
	if (op.type === "outgoing") return !s.retrieved;
	return true;
}

/**
 * luo_session_ioctl(): EINVAL for a number outside 0x40..0x43, EFAULT when
 * the size cannot be read, ENOTTY (ENOIOCTLCMD) when the full command
 * differs, EINVAL for an ioctl of the other direction or a size below the
 * minimum, E2BIG for a non-zero unknown tail, then the command.
 */
function luo_session_ioctl(file: File, cmd: number, arg: number): number {
	const s = file.private_data as LuoSession;
	const p = current();
	const nr = _IOC_NR(cmd);
	if (nr < LIVEUPDATE_CMD_SESSION_BASE || nr - LIVEUPDATE_CMD_SESSION_BASE >= luo_session_ioctl_ops.length) throw new Errno(EINVAL);
	const user_size = p.mm.getUser(arg, 4);
	const op = luo_session_ioctl_ops[nr - LIVEUPDATE_CMD_SESSION_BASE]!;
	if (op.ioctl_num !== cmd >>> 0) throw new Errno(ENOIOCTLCMD);
	if (!luo_ioctl_type_valid(s, op)) throw new Errno(EINVAL);
	if (user_size < op.min_size) throw new Errno(EINVAL);
	const ucmd: LuoUcmd = { p, ubuffer: arg, user_size, cmd: copy_struct_from_user(p, op.size, arg, user_size) };
	serialize_down_read(p.kernel);
	op.execute(s, ucmd);
	return 0;
}

function sessionFops(kernel: Kernel): FileOperations {
	return {
		ioctl: luo_session_ioctl,
		release: (_inode: Inode, file: File): void => luo_session_release(kernel, file.private_data as LuoSession),
	};
}

function luo_session_getfile(kernel: Kernel, s: LuoSession): File {
	return anonInodeGetFile(kernel, `[luo_session] ${nameForDisplay(s.name)}`, sessionFops(kernel), s, O_RDWR);
}

/**
 * luo_session_create(): a new outgoing session and its file (the caller's
 * reference). EINVAL for an empty name or one without a NUL in its 64
 * bytes, EEXIST for an outgoing session of that name, ENOMEM/ENOSPC when
 * the session blocks cannot grow.
 */
export function luo_session_create(kernel: Kernel, name: Uint8Array): File {
	const len = strnlen(name.subarray(0, LIVEUPDATE_SESSION_NAME_LENGTH));
	if (len === 0 || len > LIVEUPDATE_SESSION_NAME_LENGTH - 1) throw new Errno(EINVAL);
	const s = luo_session_alloc(kernel, bytesToName(name), false);
	serialize_down_read(kernel);
	luo_session_insert(luoSessionGlobal(kernel).outgoing, s);
	return luo_session_getfile(kernel, s);
}

/**
 * luo_session_retrieve(): the incoming session called `name` and a new
 * file for it. ENOENT when there is none (a cold boot, or finished and
 * closed), EINVAL when it was retrieved already.
 */
export function luo_session_retrieve(kernel: Kernel, name: Uint8Array): File {
	serialize_down_read(kernel);
	const want = bytesToName(name.subarray(0, LIVEUPDATE_SESSION_NAME_LENGTH));
	const s = luoSessionGlobal(kernel).incoming.list.find((it) => it.name === want);
	if (!s) throw new Errno(ENOENT);
	if (s.retrieved) throw new Errno(EINVAL);
	const file = luo_session_getfile(kernel, s);
	s.retrieved = true;
	return file;
}

/** luo_session_setup_outgoing(): `set` stores the head of the session blocks into the outgoing luo_ser. */
export function luo_session_setup_outgoing(kernel: Kernel, set: (sessions_pa: number) => void): void {
	const g = luoSessionGlobal(kernel);
	g.sessions_pa = set;
	g.outgoing.active = true;
}

/** luo_session_setup_incoming(): takes the previous kernel's session blocks (0: none); EINVAL for a corrupted chain. */
export function luo_session_setup_incoming(kernel: Kernel, sessions_pa: number): void {
	if (!sessions_pa) return;
	const sh = luoSessionGlobal(kernel).incoming;
	kho_block_set_restore(sh.block_set, sessions_pa);
	sh.active = true;
}

function luo_session_deserialize_one(kernel: Kernel, sh: LuoSessionHeader, e: Uint8Array): void {
	const ser = luo_session_ser.decode(e);
	// strscpy() into the 64-byte name keeps at most 63 bytes.
	const s = luo_session_alloc(kernel, bytesToName(e.subarray(0, LIVEUPDATE_SESSION_NAME_LENGTH - 1)), true);
	try {
		luo_session_insert(sh, s);
	} catch (err) {
		if (err instanceof Errno) kernel.pr_warn(`luo: Failed to insert session [${nameForDisplay(s.name)}] -${errnoName(err.errno)}`);
		throw err;
	}
	try {
		luo_file_deserialize(s.file_set, Number(ser.file_set_ser.files), ser.file_set_ser.count);
	} catch (err) {
		if (err instanceof Errno) kernel.pr_warn(`luo: Failed to deserialize files for session [${nameForDisplay(s.name)}] -${errnoName(err.errno)}`);
		throw err;
	}
}

/**
 * luo_session_deserialize(): builds the incoming list once; 0 or the
 * -errno of that one attempt on every call. A failure leaves what was
 * rebuilt before it in place (upstream leaks it on purpose: a reboot is
 * the way out).
 */
export function luo_session_deserialize(kernel: Kernel): number {
	const g = luoSessionGlobal(kernel);
	if (g.deserialized) return g.saved_err;
	g.deserialized = true;
	const sh = g.incoming;
	if (!sh.active) return 0;
	try {
		const it = new KhoBlockSetIt(sh.block_set);
		for (let e = it.read_entry(); e; e = it.read_entry()) luo_session_deserialize_one(kernel, sh, e);
	} catch (err) {
		if (!(err instanceof Errno)) throw err;
		g.saved_err = -err.errno;
	}
	kho_block_set_destroy(sh.block_set);
	return g.saved_err;
}

/**
 * luo_session_serialize() (liveupdate_reboot): takes the rwsem for write,
 * then for each outgoing session in creation order freezes its files and
 * writes its `luo_session_ser`; the head goes to luo_ser.sessions_pa (0
 * with no sessions). On success the rwsem stays held. On failure the
 * sessions already frozen are unfrozen, last first, their records
 * cleared, the rwsem released, and the error thrown.
 */
export function luo_session_serialize(kernel: Kernel): void {
	const g = luoSessionGlobal(kernel);
	const sh = g.outgoing;
	// down_write() of a rwsem held for good: a second reboot after one that serialized sleeps too.
	serialize_down_read(kernel);
	g.frozen = true;
	g.sessions_pa?.(0);
	const it = new KhoBlockSetIt(sh.block_set);
	let i = 0;
	try {
		for (; i < sh.list.length; i++) {
			const s = sh.list[i]!;
			const ser = it.reserve_entry();
			if (!ser) throw new Errno(ENOSPC);
			let set: { files: number; count: number };
			try {
				set = luo_file_freeze(s.file_set);
			} catch (e) {
				it.prev();
				throw e;
			}
			ser.set(luo_session_ser.encode({ name: nameToBytes(s.name), file_set_ser: { files: set.files, count: set.count } }));
		}
	} catch (e) {
		for (let j = i - 1; j >= 0; j--) {
			const ser = it.prev()!;
			luo_file_unfreeze(sh.list[j]!.file_set);
			ser.fill(0);
		}
		g.frozen = false;
		throw e;
	}
	if (sh.list.length > 0) g.sessions_pa?.(kho_block_set_head_pa(sh.block_set));
}
