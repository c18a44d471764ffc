/**
 * printk and the log ring buffer (kernel/printk/printk.c). Records carry a
 * level, a sequence number and a virtual-clock timestamp; `dmesg` and
 * /dev/kmsg read them in the kernel's own formats.
 */

export const KERN_EMERG = 0;
export const KERN_ALERT = 1;
export const KERN_CRIT = 2;
export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;
export const KERN_DEBUG = 7;
/** LOGLEVEL_DEFAULT: a message without a level. */
export const DEFAULT_MESSAGE_LOGLEVEL = KERN_WARNING;

/** One record of the log (struct printk_info). */
export interface LogRecord {
	readonly seq: number;
	readonly level: number;
	/** Syslog facility: 0 for the kernel, 1 (LOG_USER) for /dev/kmsg writers. */
	readonly facility: number;
	readonly tsNs: number;
	readonly text: string;
}

/** CONFIG_LOG_BUF_SHIFT 17: 128 KiB of text. */
export const LOG_BUF_LEN = 1 << 17;

/** The printk ring buffer of one kernel. */
export class LogBuffer {
	private records: LogRecord[] = [];
	private bytes = 0;
	private nextSeq = 0;
	private readonly listeners: ((r: LogRecord) => void)[] = [];

	constructor(private readonly now: () => number, private readonly capacity = LOG_BUF_LEN) {}

	/**
	 * Appends one record (a trailing newline is dropped; inner newlines stay
	 * in the record, as vprintk_store keeps them), dropping the oldest
	 * records past the capacity.
	 */
	log(level: number, text: string, facility = 0): void {
		const line = text.endsWith("\n") ? text.slice(0, -1) : text;
		const r: LogRecord = { seq: this.nextSeq++, level, facility, tsNs: this.now(), text: line };
		this.records.push(r);
		this.bytes += line.length + 16;
		while (this.bytes > this.capacity && this.records.length > 1) this.bytes -= this.records.shift()!.text.length + 16;
		for (const fn of this.listeners) fn(r);
	}

	/** Called for each new record (the console, /dev/kmsg readers). */
	onRecord(fn: (r: LogRecord) => void): void {
		this.listeners.push(fn);
	}

	/** Records still in the buffer, oldest first. */
	all(): readonly LogRecord[] {
		return this.records;
	}

	/** The first record with sequence >= seq, and whether some were lost before it. */
	from(seq: number): { record: LogRecord | undefined; dropped: boolean } {
		const first = this.records[0];
		if (first && seq < first.seq) return { record: first, dropped: true };
		return { record: this.records.find((r) => r.seq >= seq), dropped: false };
	}

	/** Sequence number the next record will get. */
	get next(): number {
		return this.nextSeq;
	}

	/** Clears the buffer (dmesg -C / SYSLOG_ACTION_CLEAR keeps seq numbers running). */
	clear(): void {
		this.records = [];
		this.bytes = 0;
	}
}

/**
 * `[    1.234567] text`: a record as `dmesg` prints it; each line of a
 * multi-line record gets the prefix (record_print_text).
 */
export function formatDmesgLine(r: LogRecord): string {
	const us = Math.floor(r.tsNs / 1000);
	const sec = Math.floor(us / 1_000_000);
	const frac = String(us % 1_000_000).padStart(6, "0");
	const prefix = `[${String(sec).padStart(5, " ")}.${frac}] `;
	return r.text.split("\n").map((l) => prefix + l).join("\n");
}

/**
 * `<prio>,<seq>,<usec>,-;text\n`: one /dev/kmsg record
 * (Documentation/ABI/testing/dev-kmsg). Bytes below 0x20, from 0x7f up and
 * the backslash are escaped as \xNN (msg_add_ext_text).
 */
export function formatKmsgRecord(r: LogRecord): string {
	const prio = (r.facility << 3) | r.level;
	const bytes = new TextEncoder().encode(r.text);
	let text = "";
	for (const b of bytes) text += b < 0x20 || b >= 0x7f || b === 0x5c ? `\\x${b.toString(16).padStart(2, "0")}` : String.fromCharCode(b);
	return `${prio},${r.seq},${Math.floor(r.tsNs / 1000)},-;${text}\n`;
}
