/**
 * Parameters of built-in modules on the kernel command line
 * (kernel/params.c: parse_args, parse_one, param_set_long, param_set_bool;
 * include/linux/moduleparam.h module_param). A module built into the kernel
 * takes `MODULE.PARAM=VALUE`: every occurrence is applied in order, so the
 * last good one wins, and a value the setter refuses changes nothing and is
 * reported as parse_args reports it at boot:
 *
 *     Booting kernel: `VALUE' invalid for parameter `MODULE.PARAM'
 *
 * luosim reads them when the module initializes instead of in start_kernel,
 * so the message comes then.
 */
import { Errno, EINVAL } from "./errno.ts";
import { kstrtobool, kstrtoll } from "./kstrtox.ts";
import type { Kernel } from "./kernel.ts";

/**
 * Applies `set` to each `module.name=` of the command line in order; `set`
 * gets null for a bare `module.name` and throws an Errno to refuse a value.
 */
function parseParam<T>(kernel: Kernel, module: string, name: string, dflt: T, set: (val: string | null) => T): T {
	const key = `${module}.${name}`;
	let value = dflt;
	for (const p of kernel.cmdline.params) {
		if (p.key !== key) continue;
		try {
			value = set(p.value);
		} catch (e) {
			if (!(e instanceof Errno)) throw e;
			kernel.pr_err(`Booting kernel: \`${p.value ?? ""}' invalid for parameter \`${key}'`);
		}
	}
	return value;
}

/**
 * module_param(name, long, ...): param_set_long, kstrtol base 0 (decimal,
 * 0x hex, 0 octal, a sign); a bare `module.name` is invalid (long takes an
 * argument). Values beyond 2^53 lose precision as JS numbers.
 */
export function param_long(kernel: Kernel, module: string, name: string, dflt: number): number {
	return parseParam(kernel, module, name, dflt, (val) => {
		if (val === null) throw new Errno(EINVAL);
		return Number(kstrtoll(val, 0));
	});
}

/** module_param(name, bool, ...): param_set_bool, kstrtobool; a bare `module.name` means true (KERNEL_PARAM_OPS_FL_NOARG). */
export function param_bool(kernel: Kernel, module: string, name: string, dflt: boolean): boolean {
	return parseParam(kernel, module, name, dflt, (val) => (val === null ? true : kstrtobool(val)));
}
