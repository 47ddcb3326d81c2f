// Label values must come from small sets, or a scrape grows without bound: event fields
// are free text, so they are mapped to a few words here.
import { MAX_COUNTER_LABELS } from '../protocol/server-metrics.js';

const ROLES = new Set(['primary', 'secondary', 'watchdog', 'launcher']);

export function roleLabel(v: unknown): string {
  return typeof v === 'string' && ROLES.has(v) ? v : 'none';
}

/** `detected`/`fenced` causes (crash, hang, memory, link lost, …) and `exited` causes (signal, exit code). */
export function causeLabel(v: unknown): string {
  if (typeof v !== 'string' || v === '') return 'unknown';
  const sig = /^signal (SIG[A-Z0-9]+)$/.exec(v);
  if (sig) return `signal ${sig[1]}`;
  const code = /^exit (\d{1,3})\b/.exec(v);
  if (code) return `exit ${code[1]}`;
  if (/adoption/.test(v)) return 'adoption';
  if (/^link.lost$/.test(v)) return 'link-lost';
  if (/^(crash|hang|memory|duplicate)/.test(v)) return v.split(' ')[0] as string;
  return 'other';
}

/** Keeps at most MAX_COUNTER_LABELS distinct values per metric; later newcomers are `other`. */
export class BoundedLabels {
  private readonly seen = new Set<string>();

  label(v: string): string {
    if (this.seen.has(v)) return v;
    if (this.seen.size >= MAX_COUNTER_LABELS || !/^[\w.:-]{1,64}$/.test(v)) return 'other';
    this.seen.add(v);
    return v;
  }
}
