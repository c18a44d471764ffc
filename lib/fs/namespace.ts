/**
 * The mount table of luosim's single mount namespace (fs/namespace.c:
 * lookup_mnt, attach_recursive_mnt, umount_tree). A mount covers one
 * directory of its parent mount; mounting again on the same place stacks
 * the new mount on top of the old one's root, as Linux does.
 */
import { Mount } from "./mount.ts";
import type { Inode } from "./inode.ts";
import type { Path } from "./mount.ts";

/** The mounts of one kernel, their tree and their order. */
export class MountTable {
	/** The root mount ("/"); null before fsBoot. */
	root: Mount | null = null;
	/** parent mount → covered directory → the mount on it. */
	private readonly children = new Map<Mount, Map<Inode, Mount>>();
	/**
	 * How many mounts sit on each covered directory (in any parent mount):
	 * a walk asks at every step, and nearly every answer is "none", which
	 * this gives in one lookup (d_mountpoint's DCACHE_MOUNTED flag).
	 */
	private readonly covered = new Map<Inode, number>();
	/** Attached mounts in mount order (/proc/mounts order). */
	private readonly attached = new Set<Mount>();
	/** Counts changes of the tree (attach, detach): paths printed at one generation hold while it lasts. */
	gen = 0;

	/** lookup_mnt(): the mount sitting on `inode` of `mnt`, if any. */
	lookupMnt(mnt: Mount, inode: Inode): Mount | undefined {
		if (!this.covered.has(inode)) return undefined;
		return this.children.get(mnt)?.get(inode);
	}

	/** follow_mount(): descends through every mount stacked on `path`. */
	followDown(path: Path): Path {
		let cur = path;
		for (let m = this.lookupMnt(cur.mnt, cur.inode); m; m = this.lookupMnt(cur.mnt, cur.inode)) cur = { mnt: m, inode: m.root };
		return cur;
	}

	/** True while `mnt` is part of the tree (not yet unmounted or detached). */
	isAttached(mnt: Mount): boolean {
		return this.attached.has(mnt);
	}

	/** The mount `mnt` sits on, while both are attached; null for the root or a detached mount. */
	parentOf(mnt: Mount): Mount | null {
		return mnt.parent && this.attached.has(mnt) && this.attached.has(mnt.parent) ? mnt.parent : null;
	}

	/** True when some mount covers `inode` of `mnt` (d_mountpoint for that mount). */
	isMountpoint(mnt: Mount, inode: Inode): boolean {
		return this.lookupMnt(mnt, inode) !== undefined;
	}

	/** Mounts directly on `mnt`. */
	childrenOf(mnt: Mount): Mount[] {
		return [...(this.children.get(mnt)?.values() ?? [])];
	}

	/** attach_mnt(): puts `mnt` into the tree (the root mount when it has no parent). */
	attach(mnt: Mount): void {
		this.gen++;
		if (mnt.parent === null) this.root = mnt;
		else {
			let m = this.children.get(mnt.parent);
			if (!m) this.children.set(mnt.parent, (m = new Map()));
			const mp = mnt.mountpoint!;
			const old = m.get(mp);
			if (old !== undefined) this.uncover(old);
			m.set(mp, mnt);
			this.covered.set(mp, (this.covered.get(mp) ?? 0) + 1);
		}
		this.attached.add(mnt);
	}

	/** umount_tree(): takes `mnt` and every mount below it out of the tree; returns them, deepest last. */
	detach(mnt: Mount): Mount[] {
		this.gen++;
		const out: Mount[] = [];
		const visit = (m: Mount): void => {
			out.push(m);
			for (const c of this.childrenOf(m)) visit(c);
		};
		visit(mnt);
		for (const m of out) if (m.parent && m.mountpoint && this.children.get(m.parent)?.get(m.mountpoint) === m) this.uncover(m);
		for (const m of out) {
			this.attached.delete(m);
			this.children.delete(m);
		}
		if (mnt.parent) this.children.get(mnt.parent)?.delete(mnt.mountpoint!);
		if (this.root === mnt) this.root = null;
		return out;
	}

	/** `m` no longer sits on its mountpoint. */
	private uncover(m: Mount): void {
		const mp = m.mountpoint;
		if (mp === null) return;
		const n = (this.covered.get(mp) ?? 0) - 1;
		if (n > 0) this.covered.set(mp, n);
		else this.covered.delete(mp);
	}

	/** The attached mounts in mount order. */
	list(): Mount[] {
		return [...this.attached];
	}
}
