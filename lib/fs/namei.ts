/**
 * The path walk (fs/namei.c: link_path_walk, walk_component,
 * follow_dotdot, pick_link, path_lookupat) and the names the walk learns
 * (the part of the dcache that d_path needs: which name an inode was
 * found under, in which directory).
 *
 * Limits as in Linux: PATH_MAX 4096 bytes with the NUL, NAME_MAX 255
 * bytes per component (ENAMETOOLONG), at most 40 symlinks per walk
 * (ELOOP). Every directory walked through needs search permission
 * (EACCES); a non-directory in the middle, or a trailing slash after a
 * non-directory, is ENOTDIR; the empty path is ENOENT.
 */
import { Errno, EACCES, EINVAL, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR } from "../kernel/errno.ts";
import { S_ISDIR, S_ISLNK } from "./inode.ts";
import { genericPermission, MAY_EXEC } from "./permission.ts";
import type { Cred } from "../kernel/cred.ts";
import type { Inode } from "./inode.ts";
import type { Path } from "./mount.ts";
import type { MountTable } from "./namespace.ts";

/** PATH_MAX, with the terminating NUL (include/uapi/linux/limits.h). */
export const PATH_MAX = 4096;
/** NAME_MAX: bytes in one path component. */
export const NAME_MAX = 255;
/** MAXSYMLINKS: symlinks one walk may follow (include/linux/namei.h). */
export const MAXSYMLINKS = 40;

const encoder = new TextEncoder();

/** Byte length of a name as the kernel counts it (UTF-8). */
export function byteLength(s: string): number {
	// Pure ASCII is the common case and needs no encoding.
	for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return encoder.encode(s).length;
	return s.length;
}

/** Where an inode was last seen: its directory and its name there (a dentry's d_parent and d_name). */
interface DentryName {
	parent: Inode;
	name: string;
}

/** The names the VFS has seen, so it can print paths (d_path) without asking filesystems. */
export class Dcache {
	private readonly names = new WeakMap<Inode, DentryName>();
	/** Counts changes of the names: a d_path computed at one generation holds while it lasts. */
	gen = 0;
	/** Counts names found through readdir rather than the cache (such a d_path is not kept). */
	readdirs = 0;

	/** d_add(): `child` is `name` in `parent`. */
	add(child: Inode, parent: Inode, name: string): void {
		const d = this.names.get(child);
		// Every walk adds every name it passes: most of them are known already.
		if (d !== undefined && d.parent === parent && d.name === name) return;
		this.names.set(child, { parent, name });
		this.gen++;
	}

	/** d_delete(): forgets `child`'s name if it is `name` in `parent`. */
	drop(child: Inode, parent: Inode, name: string): void {
		const d = this.names.get(child);
		if (d && d.parent === parent && d.name === name) {
			this.names.delete(child);
			this.gen++;
		}
	}

	/** The name of `inode`, asking its parent directory's readdir when the walk never saw it. */
	nameOf(inode: Inode): DentryName | undefined {
		const d = this.names.get(inode);
		if (d) return d;
		const parent = inode.parent;
		if (!parent || parent === inode) return undefined;
		this.readdirs++;
		const e = parent.op.readdir?.(parent).find((x) => x.ino === inode.ino);
		return e ? { parent, name: e.name } : undefined;
	}
}

/** What a walk needs besides the path: the table, the credentials, the root and the symlink budget. */
export interface NameiContext {
	readonly mounts: MountTable;
	readonly dcache: Dcache;
	readonly cred: Cred;
	/** The walker's root: "/" and the limit of "..". */
	readonly root: Path;
	/** Symlinks followed so far in this walk (nd->total_link_count). */
	links: number;
}

/** The kind of the last component (LAST_NORM, LAST_DOT, LAST_DOTDOT, LAST_ROOT). */
export type LastType = "norm" | "dot" | "dotdot" | "root";

/** Where link_path_walk stops: the directory holding the last component, and that component. */
export interface Nameidata {
	readonly dir: Path;
	readonly last: string;
	readonly type: LastType;
	/** The path ended in "/" after the last component. */
	readonly trailing: boolean;
}

/** ENAMETOOLONG for a path of PATH_MAX bytes or more (getname's check, for kernel callers). */
export function checkPathLength(name: string): void {
	// A UTF-16 unit is at most 3 UTF-8 bytes: most paths need no counting.
	if (name.length * 3 >= PATH_MAX && byteLength(name) >= PATH_MAX) throw new Errno(ENAMETOOLONG);
}

/**
 * lookup_one: `name` in the directory `dir` (never "." or ".."), without
 * crossing mounts; null when absent. ENAMETOOLONG over NAME_MAX, ENOENT in
 * a removed directory, ENOTDIR when the inode cannot be searched.
 */
export function lookupChild(ctx: NameiContext, dir: Path, name: string): Inode | null {
	// A UTF-16 unit is at most 3 UTF-8 bytes: short names need no counting.
	if (name.length * 3 > NAME_MAX && byteLength(name) > NAME_MAX) throw new Errno(ENAMETOOLONG);
	const d = dir.inode;
	if (!d.op.lookup) throw new Errno(ENOTDIR);
	if (d.nlink === 0) throw new Errno(ENOENT);
	const child = d.op.lookup(d, name);
	if (child) ctx.dcache.add(child, d, name);
	return child;
}

/** follow_dotdot(): up one directory, out of mount roots to their mountpoints, never above the walker's root. */
export function dotdot(ctx: NameiContext, path: Path): Path {
	let cur = path;
	for (;;) {
		if (cur.mnt === ctx.root.mnt && cur.inode === ctx.root.inode) return cur;
		if (cur.inode !== cur.mnt.root) break;
		const parent = ctx.mounts.parentOf(cur.mnt);
		if (!parent) return cur;
		cur = { mnt: parent, inode: cur.mnt.mountpoint! };
	}
	return ctx.mounts.followDown({ mnt: cur.mnt, inode: cur.inode.parent ?? cur.inode });
}

/** The target text of a symlink inode (EINVAL when the filesystem cannot read it). */
export function readlinkInode(inode: Inode): string {
	if (!inode.op.readlink) throw new Errno(EINVAL);
	return inode.op.readlink(inode);
}

const magicLinks = new WeakMap<Inode, () => Path>();

/**
 * Makes `inode` a "magic" symlink (nd_jump_link): following it goes
 * straight to the Path `jump` returns, not through its text, as
 * /proc/PID/fd/N does, so a deleted or anonymous file can be reopened.
 * `jump` throws Errno to refuse (EACCES without ptrace access, ENOENT
 * once the fd is closed).
 */
export function setMagicLink(inode: Inode, jump: () => Path): void {
	magicLinks.set(inode, jump);
}

/** pick_link(): follows the symlink `link`, found in `dir`, to what it names. */
export function followLink(ctx: NameiContext, dir: Path, link: Path): Path {
	if (++ctx.links > MAXSYMLINKS) throw new Errno(ELOOP);
	const jump = magicLinks.get(link.inode);
	if (jump) return jump();
	const target = readlinkInode(link.inode);
	if (target === "") throw new Errno(ENOENT);
	return pathLookup(ctx, dir, target, true);
}

/** walk_component() for a component in the middle: always follows symlinks. */
function step(ctx: NameiContext, cur: Path, name: string): Path {
	if (name === ".") return cur;
	if (name === "..") return dotdot(ctx, cur);
	const child = lookupChild(ctx, cur, name);
	if (!child) throw new Errno(ENOENT);
	const next = ctx.mounts.followDown({ mnt: cur.mnt, inode: child });
	return S_ISLNK(next.inode.mode) ? followLink(ctx, cur, next) : next;
}

/** A path cut into its components (a run of "/" is one separator), and whether it ends in "/". */
interface SplitPath {
	readonly parts: readonly string[];
	readonly trailing: boolean;
}

/** Paths longer than this are split afresh each time. */
const SPLIT_MAX_LEN = 1024;
/** Entries the split cache holds before it starts over. */
const SPLIT_ENTRIES = 256;
/**
 * Recently split paths. Programs open the same paths again and again, and
 * getname hands back the same string for the same bytes; its components
 * then are the same strings too, whose hashes the directory lookups have
 * computed already.
 */
const splits = new Map<string, SplitPath>();

function splitPath(name: string): SplitPath {
	let sp = splits.get(name);
	if (sp !== undefined) return sp;
	sp = { parts: name.split("/").filter((s) => s !== ""), trailing: name.charCodeAt(name.length - 1) === 0x2f };
	if (name.length > SPLIT_MAX_LEN) return sp;
	if (splits.size >= SPLIT_ENTRIES) splits.clear();
	splits.set(name, sp);
	return sp;
}

/**
 * link_path_walk(): walks every component but the last, checking search
 * permission on each directory, including the one holding the last
 * component. `start` is where a relative path begins.
 */
export function linkPathWalk(ctx: NameiContext, start: Path, name: string): Nameidata {
	checkPathLength(name);
	if (name === "") throw new Errno(ENOENT);
	let cur = name.charCodeAt(0) === 0x2f ? ctx.root : start;
	const { parts, trailing } = splitPath(name);
	if (parts.length === 0) return { dir: cur, last: "", type: "root", trailing: false };
	for (let i = 0; ; i++) {
		if (!S_ISDIR(cur.inode.mode)) throw new Errno(ENOTDIR);
		if (!genericPermission(ctx.cred, cur.inode, MAY_EXEC)) throw new Errno(EACCES);
		if (i === parts.length - 1) break;
		cur = step(ctx, cur, parts[i]!);
	}
	const last = parts[parts.length - 1]!;
	return { dir: cur, last, type: last === "." ? "dot" : last === ".." ? "dotdot" : "norm", trailing };
}

/** lookup_last(): the last component, following a final symlink when `follow` (or a trailing slash) says so. */
export function walkLast(ctx: NameiContext, nd: Nameidata, follow: boolean): Path {
	if (nd.type === "root" || nd.type === "dot") return nd.dir;
	if (nd.type === "dotdot") return dotdot(ctx, nd.dir);
	const child = lookupChild(ctx, nd.dir, nd.last);
	if (!child) throw new Errno(ENOENT);
	let next = ctx.mounts.followDown({ mnt: nd.dir.mnt, inode: child });
	if (S_ISLNK(next.inode.mode) && (follow || nd.trailing)) next = followLink(ctx, nd.dir, next);
	if (nd.trailing && !S_ISDIR(next.inode.mode)) throw new Errno(ENOTDIR);
	return next;
}

/** path_lookupat(): the whole walk. */
export function pathLookup(ctx: NameiContext, start: Path, name: string, follow: boolean): Path {
	return walkLast(ctx, linkPathWalk(ctx, start, name), follow);
}

/**
 * d_path() / prepend_path(): `path` as text from `root` ("/" … ), and
 * whether `root` was reached (getcwd reports "(unreachable)" otherwise).
 */
export function dPath(mounts: MountTable, dcache: Dcache, path: Path, root: Path | null): { name: string; reachable: boolean } {
	const parts: string[] = [];
	let cur = path;
	for (let guard = 0; guard < PATH_MAX; guard++) {
		if (root && cur.mnt === root.mnt && cur.inode === root.inode) return { name: `/${parts.join("/")}`, reachable: true };
		if (cur.inode === cur.mnt.root) {
			const parent = mounts.parentOf(cur.mnt);
			if (!parent) break;
			cur = { mnt: parent, inode: cur.mnt.mountpoint! };
			continue;
		}
		const d = dcache.nameOf(cur.inode);
		if (!d) break;
		parts.unshift(d.name);
		cur = { mnt: cur.mnt, inode: d.parent };
	}
	const reachable = root === null && cur.mnt === mounts.root && cur.inode === cur.mnt.root;
	return { name: `/${parts.join("/")}`, reachable };
}
