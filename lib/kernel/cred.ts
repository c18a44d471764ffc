/**
 * Credentials and capabilities (include/linux/cred.h,
 * include/uapi/linux/capability.h, kernel/sys.c setuid rules).
 */

/** Capability numbers used by luosim's checks. */
export const CAP_CHOWN = 0;
export const CAP_DAC_OVERRIDE = 1;
export const CAP_DAC_READ_SEARCH = 2;
export const CAP_FOWNER = 3;
export const CAP_KILL = 5;
export const CAP_SETGID = 6;
export const CAP_SETUID = 7;
export const CAP_SYS_RESOURCE = 24;
export const CAP_SYS_BOOT = 22;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYS_RAWIO = 17;
export const CAP_LAST_CAP = 40;

/** Every capability bit up to CAP_LAST_CAP: what root starts with. */
export const CAP_FULL_SET = (1n << BigInt(CAP_LAST_CAP + 1)) - 1n;

/** struct cred: real, effective, saved and filesystem ids and the capability sets. */
export class Cred {
	uid: number;
	euid: number;
	suid: number;
	fsuid: number;
	gid: number;
	egid: number;
	sgid: number;
	fsgid: number;
	capEffective: bigint;
	capPermitted: bigint;

	constructor(uid = 0, gid = 0) {
		this.uid = this.euid = this.suid = this.fsuid = uid;
		this.gid = this.egid = this.sgid = this.fsgid = gid;
		this.capEffective = this.capPermitted = uid === 0 ? CAP_FULL_SET : 0n;
	}

	/** prepare_creds(): a copy for fork. */
	clone(): Cred {
		const c = new Cred(this.uid, this.gid);
		Object.assign(c, this);
		return c;
	}

	/** capable(cap) against the effective set. */
	capable(cap: number): boolean {
		return (this.capEffective & (1n << BigInt(cap))) !== 0n;
	}
}
