/**
 * The per-process file descriptor table (fs/file.c: struct files_struct,
 * alloc_fd, fd_install, close_fd, dup_fd). Numbers are the lowest free ones,
 * bounded by RLIMIT_NOFILE; each slot holds a reference on its File.
 */
import { Errno, EBADF, EMFILE } from "./errno.ts";
import type { File } from "../fs/file.ts";

interface FdSlot {
	file: File;
	cloexec: boolean;
}

/** struct files_struct. */
export class FdTable {
	private slots: (FdSlot | undefined)[] = [];
	private count = 0;

	/** alloc_fd + fd_install: the lowest free fd >= `minFd` below `limit`, holding the caller's reference on `file`. */
	install(file: File, limit: number, cloexec: boolean, minFd = 0): number {
		let fd = minFd;
		while (fd < this.slots.length && this.slots[fd]) fd++;
		if (fd >= limit) throw new Errno(EMFILE);
		this.slots[fd] = { file, cloexec };
		this.count++;
		return fd;
	}

	/** Puts `file` at exactly `fd`, closing what was there (dup2/dup3); EBADF beyond `limit`. Returns the replaced file, not yet put. */
	replace(fd: number, file: File, limit: number, cloexec: boolean): File | undefined {
		if (fd < 0 || fd >= limit) throw new Errno(EBADF);
		const old = this.slots[fd];
		if (!old) this.count++;
		this.slots[fd] = { file, cloexec };
		return old?.file;
	}

	/** fget() without taking a reference: the File at `fd` or EBADF. */
	get(fd: number): File {
		const slot = Number.isInteger(fd) && fd >= 0 ? this.slots[fd] : undefined;
		if (!slot) throw new Errno(EBADF);
		return slot.file;
	}

	/** True when `fd` is open. */
	has(fd: number): boolean {
		return fd >= 0 && this.slots[fd] !== undefined;
	}

	/** close_fd(): removes the slot and returns its File for the caller to put; EBADF if not open. */
	remove(fd: number): File {
		const slot = fd >= 0 ? this.slots[fd] : undefined;
		if (!slot) throw new Errno(EBADF);
		this.slots[fd] = undefined;
		this.count--;
		while (this.slots.length > 0 && this.slots[this.slots.length - 1] === undefined) this.slots.pop();
		return slot.file;
	}

	/** FD_CLOEXEC state of `fd` (F_GETFD). */
	getCloexec(fd: number): boolean {
		const slot = fd >= 0 ? this.slots[fd] : undefined;
		if (!slot) throw new Errno(EBADF);
		return slot.cloexec;
	}

	/** F_SETFD. */
	setCloexec(fd: number, on: boolean): void {
		const slot = fd >= 0 ? this.slots[fd] : undefined;
		if (!slot) throw new Errno(EBADF);
		slot.cloexec = on;
	}

	/** The lowest fd not open (get_unused_fd's answer when below the limit). */
	lowestFree(): number {
		// Without holes the table is full up to its length.
		if (this.count === this.slots.length) return this.count;
		let fd = 0;
		while (this.slots[fd]) fd++;
		return fd;
	}

	/** Number of open fds. */
	size(): number {
		return this.count;
	}

	/** Open fds in ascending order. */
	fds(): number[] {
		const out: number[] = [];
		for (let i = 0; i < this.slots.length; i++) if (this.slots[i]) out.push(i);
		return out;
	}

	/** dup_fd() for fork: the child shares every open file description. */
	fork(): FdTable {
		const t = new FdTable();
		t.slots = this.slots.map((s) => (s ? { file: s.file.get(), cloexec: s.cloexec } : undefined));
		t.count = this.count;
		return t;
	}

	/** do_close_on_exec(): removes the close-on-exec slots and returns their files to put. */
	takeCloseOnExec(): File[] {
		const out: File[] = [];
		for (const fd of this.fds()) if (this.slots[fd]!.cloexec) out.push(this.remove(fd));
		return out;
	}

	/** Removes every slot (exit_files) and returns the files to put, lowest fd first. */
	takeAll(): File[] {
		const out: File[] = [];
		for (const fd of this.fds()) out.push(this.remove(fd));
		return out;
	}
}
