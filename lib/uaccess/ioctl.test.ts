import t from "tap";
import {
	_IO, _IOC, _IOC_DIR, _IOC_DIRBITS, _IOC_DIRSHIFT, _IOC_NONE, _IOC_NR, _IOC_NRBITS, _IOC_NRSHIFT, _IOC_READ, _IOC_SIZE,
	_IOC_SIZEBITS, _IOC_SIZESHIFT, _IOC_TYPE, _IOC_TYPEBITS, _IOC_TYPESHIFT, _IOC_WRITE, _IOR, _IOW, _IOWR, IOC_IN, IOC_INOUT,
	IOC_OUT, IOCSIZE_MASK, IOCSIZE_SHIFT,
} from "./ioctl.ts";
import { int, long, size_t, struct, u64, s32 } from "./struct.ts";
import { BLKGETSIZE64, FIONREAD, FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, RNDGETENTCNT } from "./abi.ts";

t.test("the field layout of include/uapi/asm-generic/ioctl.h", async (t) => {
	t.same([_IOC_NRBITS, _IOC_TYPEBITS, _IOC_SIZEBITS, _IOC_DIRBITS], [8, 8, 14, 2]);
	t.same([_IOC_NRSHIFT, _IOC_TYPESHIFT, _IOC_SIZESHIFT, _IOC_DIRSHIFT], [0, 8, 16, 30]);
	t.same([_IOC_NONE, _IOC_WRITE, _IOC_READ], [0, 1, 2]);
	t.same([IOC_IN, IOC_OUT, IOC_INOUT, IOCSIZE_MASK, IOCSIZE_SHIFT], [0x40000000, 0x80000000, 0xc0000000, 0x3fff0000, 16]);
});

t.test("command numbers are unsigned 32-bit", async (t) => {
	t.equal(_IOWR(0xba, 0, 16), 0xc010ba00);
	t.equal(_IOWR(0xba, 8, 16), 0xc010ba08);
	t.equal(_IOW(0xba, 0, 16), 0x4010ba00);
	t.equal(_IOR(0xba, 1, 4), 0x8004ba01);
	t.equal(_IO(0xba, 2), 0x0000ba02);
	t.ok(_IOR(0xff, 0xff, 0x3fff) > 0, "never negative");
	t.equal(_IOC(3, 0xff, 0xff, 0x3fff), 0xffffffff);
});

t.test("the size may be a struct layout or a C type, the type a character", async (t) => {
	const liveupdate_fd = struct("liveupdate_fd", { fd: s32, flags: s32, token: u64 });
	t.equal(_IOWR(0xba, 0, liveupdate_fd), 0xc010ba00);
	t.equal(_IOR("f", 1, long), FS_IOC_GETFLAGS);
	t.equal(FS_IOC_GETFLAGS, 0x80086601);
	t.equal(FS_IOC_SETFLAGS, 0x40086602);
	t.equal(BLKGETSIZE64, _IOR(0x12, 114, size_t));
	t.equal(BLKGETSIZE64, 0x80081272);
	t.equal(RNDGETENTCNT, 0x80045200);
	t.equal(_IOR("R", 0, int), _IOR(0x52, 0, 4));
	t.equal(FIONREAD, 0x541b);
});

t.test("decoding takes a command apart again", async (t) => {
	const cmd = _IOWR(0xba, 0x08, 16);
	t.same([_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), _IOC_SIZE(cmd)], [_IOC_READ | _IOC_WRITE, 0xba, 8, 16]);
	t.same([_IOC_DIR(FIONREAD), _IOC_TYPE(FIONREAD), _IOC_NR(FIONREAD), _IOC_SIZE(FIONREAD)], [0, 0x54, 0x1b, 0]);
	t.equal(_IOC_DIR(0xffffffff), 3);
	t.equal(_IOC_SIZE(-1), 0x3fff, "a sign-extended number decodes like its u32");
});

t.test("a field that does not fit is a programming error (C's _IOC_TYPECHECK)", async (t) => {
	t.throws(() => _IOR(0xba, 0, 1 << 14), /ioctl size 16384 does not fit in 14 bits/);
	t.throws(() => _IOR(0x100, 0, 4), /ioctl type 256/);
	t.throws(() => _IOR(0xba, 256, 4), /ioctl nr 256/);
	t.throws(() => _IOC(4, 0xba, 0, 4), /ioctl dir 4/);
	t.throws(() => _IOR("ff", 0, 4), /not one character/);
	t.throws(() => _IOR(0xba, -1, 4), RangeError);
	t.throws(() => _IOR(0xba, 1.5, 4), RangeError);
});
