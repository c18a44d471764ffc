/**
 * The file syscalls: importing this module registers them in the syscall
 * table (lib/fs/boot.ts does, so every booted kernel has them).
 */
import "./readWrite.ts";
import "./open.ts";
import "./fd.ts";
import "./stat.ts";
import "./namei.ts";
import "./readdir.ts";
import "./mount.ts";
import "../falloc.ts";
import "../memfd.ts";
