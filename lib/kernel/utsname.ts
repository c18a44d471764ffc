/** utsname fields of every luosim kernel (include/linux/utsname.h; uname -r / -v). */
export const UTS_RELEASE = "6.15.0-luosim";
export const UTS_VERSION = "#1 SMP PREEMPT_DYNAMIC luosim";
