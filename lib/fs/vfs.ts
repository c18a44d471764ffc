/**
 * The VFS of one kernel: the mount table, path lookup, open, and the
 * kernel-internal helpers other modules use (docs/internals/contracts.md).
 * The syscalls in lib/fs/syscalls/ are thin layers over these methods.
 *
 * Kernel callers pass `p = null` and act as the kernel: root credentials
 * with every capability, the namespace root as "/" and cwd.
 */
import { Errno, EBADF, EBUSY, EINVAL, ENOENT, ENOTDIR, EPERM } from "../kernel/errno.ts";
import { Cred, CAP_SYS_ADMIN } from "../kernel/cred.ts";
import { S_ISDIR } from "./inode.ts";
import { Mount } from "./mount.ts";
import { MountTable } from "./namespace.ts";
import { Dcache, dPath, linkPathWalk, pathLookup } from "./namei.ts";
import { AT_FDCWD } from "./fcntl.ts";
import { doFilpOpen, dentryOpen, FMODE_PATH } from "./open.ts";
import { vfsRead, vfsWrite } from "./readWrite.ts";
import { vfsMkdir } from "./dirops.ts";
import type { File } from "./file.ts";
import type { Inode, SuperBlock } from "./inode.ts";
import type { Path } from "./mount.ts";
import type { NameiContext, Nameidata } from "./namei.ts";
import type { Process } from "../kernel/process.ts";
import type { Kernel } from "../kernel/kernel.ts";

/** FMODE_PATH: an O_PATH file, usable only as a place (defined in open.ts). */
export { FMODE_PATH };

/** MNT_* flags of umount2(2) (include/linux/fs.h). */
export const MNT_FORCE = 1;
export const MNT_DETACH = 2;
export const MNT_EXPIRE = 4;
export const UMOUNT_NOFOLLOW = 8;


/** Options of `Vfs.lookup`. */
export interface LookupOptions {
	/** Follow a final symlink (default true). */
	follow?: boolean;
	/** Where a relative path starts: an fd of `p`, or AT_FDCWD (default). */
	dirfd?: number;
}

/** struct vfs: one kernel's mount namespace and path walker. */
export class Vfs {
	readonly kernel: Kernel;
	readonly mounts = new MountTable();
	readonly dcache = new Dcache();
	/** The kernel's own credentials (init_cred). */
	readonly kernelCred = new Cred(0, 0);
	/** Internal mounts of superblocks outside the tree, made on demand by fileJumpPath. */
	private readonly internalMounts = new WeakMap<SuperBlock, Mount>();
	/** d_dname() of inodes on internal mounts: the name their files carry. */
	private readonly pseudoNames = new WeakMap<Inode, string>();
	/**
	 * The last d_path printed for each inode, with the mount it was
	 * printed through and the dcache and mount-tree generations it holds
	 * for: every open names its file, and most opens are of paths already
	 * printed, unchanged since.
	 */
	private readonly dPaths = new WeakMap<Inode, { mnt: Mount; dgen: number; mgen: number; name: string }>();

	constructor(kernel: Kernel) {
		this.kernel = kernel;
	}

	/** The namespace root "/"; throws before fsBoot has mounted it. */
	rootPath(): Path {
		const m = this.mounts.root;
		if (!m) throw new Error("luosim: no root filesystem mounted yet");
		return { mnt: m, inode: m.root };
	}

	/** The credentials a call acts with. */
	credOf(p: Process | null): Cred {
		return p ? p.cred : this.kernelCred;
	}

	/** A fresh walk context for `p` (or the kernel). */
	context(p: Process | null, cred: Cred = this.credOf(p)): NameiContext {
		return { mounts: this.mounts, dcache: this.dcache, cred, root: p ? p.root : this.rootPath(), links: 0 };
	}

	/** Where a path relative to `dirfd` starts (path_init): the cwd, or the directory open at `dirfd` (EBADF, ENOTDIR). */
	startAt(p: Process | null, dirfd: number, name: string): Path {
		if (name.charCodeAt(0) === 0x2f) return p ? p.root : this.rootPath();
		if (dirfd === AT_FDCWD || p === null) return p ? p.cwd : this.rootPath();
		const path = this.filePath(p.files.get(dirfd));
		if (!path || !S_ISDIR(path.inode.mode)) throw new Errno(ENOTDIR);
		return path;
	}

	/**
	 * Resolves `name` to a Path (path_lookupat): ENOENT, ENOTDIR, EACCES,
	 * ELOOP, ENAMETOOLONG as the walk finds them.
	 */
	lookup(p: Process | null, name: string, opts: LookupOptions = {}): Path {
		return pathLookup(this.context(p), this.startAt(p, opts.dirfd ?? AT_FDCWD, name), name, opts.follow ?? true);
	}

	/** filename_parentat(): the directory holding the last component of `name`, and that component. */
	lookupParent(p: Process | null, name: string, dirfd: number = AT_FDCWD, ctx: NameiContext = this.context(p)): Nameidata {
		return linkPathWalk(ctx, this.startAt(p, dirfd, name), name);
	}

	/**
	 * do_filp_open(): opens `name` with open(2) `flags` and, with O_CREAT,
	 * `mode` (less the umask). The File holds one reference; the caller
	 * installs it in an fd table or puts it.
	 */
	open(p: Process | null, name: string, flags: number, mode = 0, dirfd: number = AT_FDCWD): File {
		return doFilpOpen(this, p, name, flags, mode, dirfd);
	}

	/** dentry_open(): opens an already looked-up path, with the permission checks open(2) makes. */
	openPath(p: Process | null, path: Path, flags: number): File {
		return dentryOpen(this, p, path, flags);
	}

	/** Records the mount a new File was opened through (called by open). */
	setFileMount(file: File, mnt: Mount): void {
		file.mnt = mnt;
	}

	/** file->f_path: where a VFS-opened file lives; null for pipes and anonymous files. */
	filePath(file: File): Path | null {
		const mnt = file.mnt;
		return mnt ? { mnt, inode: file.inode } : null;
	}

	/**
	 * The Path a magic link jumps to for `file` (f_path): where it was
	 * opened, or for a file opened through no mount (a pipe, an anonymous
	 * or memfd file) its inode on the superblock's internal mount
	 * (kern_mount), which d_path prints as the file's own name.
	 */
	fileJumpPath(file: File): Path {
		const path = this.filePath(file);
		if (path) return path;
		const sb = file.inode.sb;
		let mnt = this.internalMounts.get(sb);
		if (!mnt) this.internalMounts.set(sb, (mnt = new Mount({ sb, parent: null, mountpoint: null, flags: 0, source: sb.fsType })));
		if (file.path) this.pseudoNames.set(file.inode, file.path.name);
		return { mnt, inode: file.inode };
	}

	/** d_path(): the absolute path of `path` as /proc and getcwd print it. */
	dPath(path: Path): string {
		if (this.internalMounts.get(path.mnt.sb) === path.mnt) return this.pseudoNames.get(path.inode) ?? `${path.mnt.sb.fsType}:[${path.inode.ino}]`;
		const dcache = this.dcache;
		const memo = this.dPaths.get(path.inode);
		if (memo !== undefined && memo.mnt === path.mnt && memo.dgen === dcache.gen && memo.mgen === this.mounts.gen) return memo.name;
		const readdirs = dcache.readdirs;
		const name = dPath(this.mounts, dcache, path, null).name;
		// A name found through readdir may change without the dcache knowing: not kept.
		if (dcache.readdirs === readdirs) this.dPaths.set(path.inode, { mnt: path.mnt, dgen: dcache.gen, mgen: this.mounts.gen, name });
		return name;
	}

	/** getcwd(): the cwd of `p` from its root; ENOENT once the directory was removed. */
	getcwd(p: Process): string {
		if (p.cwd.inode.nlink === 0) throw new Errno(ENOENT);
		const r = dPath(this.mounts, this.dcache, p.cwd, p.root);
		return r.reachable ? r.name : `(unreachable)${r.name}`;
	}

	/**
	 * do_new_mount()/graft_tree(): mounts `sb` on the directory `target`
	 * (a path or a looked-up Path). The first mount of a kernel, on "/",
	 * becomes the root. EPERM without CAP_SYS_ADMIN, ENOTDIR for a
	 * non-directory, EBUSY to mount a superblock on its own root again.
	 */
	mount(p: Process | null, target: string | Path, sb: SuperBlock, flags: number, source: string): Mount {
		if (p && !p.cred.capable(CAP_SYS_ADMIN)) throw new Errno(EPERM);
		if (!this.mounts.root) {
			if (target !== "/") throw new Error("luosim: the first mount must be the root");
			const root = new Mount({ sb, parent: null, mountpoint: null, flags, source });
			this.mounts.attach(root);
			return root;
		}
		const at = typeof target === "string" ? this.lookup(p, target) : this.mounts.followDown(target);
		if (!S_ISDIR(at.inode.mode) || !S_ISDIR(sb.root.mode)) throw new Errno(ENOTDIR);
		if (at.mnt.sb === sb && at.inode === at.mnt.root) throw new Errno(EBUSY);
		const mnt = new Mount({ sb, parent: at.mnt, mountpoint: at.inode, flags, source });
		this.mounts.attach(mnt);
		return mnt;
	}

	/**
	 * do_umount(): unmounts the mount whose root `target` names. EINVAL for
	 * a bad flag or a path that is not a mount root, EPERM without
	 * CAP_SYS_ADMIN, EBUSY while a process has a file, cwd or root in it or
	 * something is mounted on it, unless MNT_DETACH (which takes it out of
	 * the tree now; open files keep working).
	 */
	umount(p: Process | null, target: string, flags: number): void {
		if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) throw new Errno(EINVAL);
		if (p && !p.cred.capable(CAP_SYS_ADMIN)) throw new Errno(EPERM);
		if (flags & MNT_EXPIRE && flags & (MNT_FORCE | MNT_DETACH)) throw new Errno(EINVAL);
		const path = this.lookup(p, target, { follow: !(flags & UMOUNT_NOFOLLOW) });
		if (path.inode !== path.mnt.root || !this.mounts.isAttached(path.mnt)) throw new Errno(EINVAL);
		if (path.mnt === this.mounts.root) throw new Errno(EBUSY);
		if (!(flags & MNT_DETACH) && this.mountBusy(path.mnt)) throw new Errno(EBUSY);
		this.mounts.detach(path.mnt);
	}

	/** propagate_mount_busy(): something mounted on it, or a process using it (open file, cwd, root). */
	private mountBusy(mnt: Mount): boolean {
		if (this.mounts.childrenOf(mnt).length > 0) return true;
		for (const q of this.kernel.processes.values()) {
			if (q.exited) continue;
			if (q.cwd.mnt === mnt || q.root.mnt === mnt) return true;
			for (const fd of q.files.fds()) if (q.files.get(fd).mnt === mnt) return true;
		}
		return false;
	}

	/**
	 * kernel_read(): up to `count` bytes at `pos` (the file position is
	 * left alone) or, without `pos`, at the file position (advanced).
	 */
	kernelRead(file: File, count: number, pos?: number): Uint8Array {
		const ppos = { pos: pos ?? file.f_pos };
		const data = vfsRead(file, count, ppos);
		if (pos === undefined) file.f_pos = ppos.pos;
		return data;
	}

	/** kernel_write(): writes `data` at `pos`, or at (and advancing) the file position. */
	kernelWrite(file: File, data: Uint8Array, pos?: number): number {
		const ppos = { pos: pos ?? file.f_pos };
		const n = vfsWrite(file, data, ppos);
		if (pos === undefined) file.f_pos = ppos.pos;
		return n;
	}

	/**
	 * init_mkdir() for every missing component of the absolute `path`, with
	 * exactly `mode` (no umask), as the kernel at boot; returns the Path.
	 * ENOTDIR if a component exists and is not a directory.
	 */
	mkdirP(path: string, mode = 0o755): Path {
		let cur = this.rootPath();
		let sofar = "";
		for (const part of path.split("/").filter((s) => s !== "")) {
			sofar += `/${part}`;
			try {
				cur = this.lookup(null, sofar);
			} catch (e) {
				if (!(e instanceof Errno) || e.errno !== ENOENT) throw e;
				vfsMkdir(this, null, sofar, mode, AT_FDCWD, 0);
				cur = this.lookup(null, sofar);
			}
			if (!S_ISDIR(cur.inode.mode)) throw new Errno(ENOTDIR);
		}
		return cur;
	}

	/** fdget(): the File at `fd` for calls an O_PATH file cannot serve; EBADF for a closed or O_PATH fd. */
	fdget(p: Process, fd: number): File {
		const f = p.files.get(fd);
		if (f.f_mode & FMODE_PATH) throw new Errno(EBADF);
		return f;
	}
}
