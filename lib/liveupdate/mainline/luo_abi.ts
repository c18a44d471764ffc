/**
 * The LUO handover ABI of mainline (include/linux/kho/abi/luo.h, "luo-v5";
 * include/linux/kho/abi/block.h for the block header): the packed records
 * one kernel writes into preserved memory and the next reads. Values are
 * CPU-native (little-endian on x86_64).
 *
 *     KHO subtree "LUO" → struct luo_ser (32 bytes)
 *         sessions_pa → kho_block chain of struct luo_session_ser (80 bytes, 51 a block)
 *             file_set_ser.files → kho_block chain of struct luo_file_ser (64 bytes, 63 a block)
 *         flbs_pa → the FLB page (lib/liveupdate/mainline/luo_flb.ts)
 */
import { LIVEUPDATE_SESSION_NAME_LENGTH } from "../uapi/mainline.ts";
import { char, struct, u64 } from "../../uaccess/struct.ts";

/** LUO_KHO_ENTRY_NAME: the KHO subtree that holds struct luo_ser. */
export const LUO_KHO_ENTRY_NAME = "LUO";
/** LUO_ABI_COMPATIBLE: the version of every record below. */
export const LUO_ABI_COMPATIBLE = "luo-v5";
/** LUO_ABI_COMPAT_LEN: ALIGN(sizeof(LUO_ABI_COMPATIBLE), 8). */
export const LUO_ABI_COMPAT_LEN = 8;
/** LIVEUPDATE_HNDL_COMPAT_LENGTH (include/linux/liveupdate.h): a handler's compatible with its NUL. */
export const LIVEUPDATE_HNDL_COMPAT_LENGTH = 48;

/** struct luo_ser: @0 compatible[8], @8 liveupdate_num, @16 sessions_pa, @24 flbs_pa. 32 bytes, packed. */
export const luo_ser = struct("luo_ser", {
	compatible: char(LUO_ABI_COMPAT_LEN),
	liveupdate_num: u64,
	sessions_pa: u64,
	flbs_pa: u64,
}, { packed: true });

/** struct luo_file_set_ser: @0 files (phys of the first file block, 0: none), @8 count. 16 bytes. */
export const luo_file_set_ser = struct("luo_file_set_ser", {
	files: u64,
	count: u64,
}, { packed: true });

/** struct luo_session_ser: @0 name[64], @64 file_set_ser. 80 bytes, packed. */
export const luo_session_ser = struct("luo_session_ser", {
	name: char(LIVEUPDATE_SESSION_NAME_LENGTH),
	file_set_ser: luo_file_set_ser,
}, { packed: true });

/** struct luo_file_ser: @0 compatible[48], @48 data (the handler's u64), @56 token. 64 bytes, packed. */
export const luo_file_ser = struct("luo_file_ser", {
	compatible: char(LIVEUPDATE_HNDL_COMPAT_LENGTH),
	data: u64,
	token: u64,
}, { packed: true });

/** struct kho_block_header_ser (include/linux/kho/abi/block.h): @0 next (phys, 0: last), @8 count. 16 bytes. */
export const kho_block_header_ser = struct("kho_block_header_ser", {
	next: u64,
	count: u64,
}, { packed: true });
