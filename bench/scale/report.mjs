// What the scale sections share: medians, /proc readings of a process, and the way a figure
// is printed with its goal.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export function median(xs) {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Resident set size of a process, in bytes (VmRSS). */
export function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time (user + system) a process has used so far, in ms. */
export function cpuMsOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
}

export const MB = (b) => `${(b / 1e6).toFixed(1)} MB`;
export const fixed = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');

/** One figure with its goal: `  label  value   goal …  met`. */
export function goalLine(label, value, goal, met) {
  const verdict = met === null ? 'no goal checked' : met ? 'met' : 'NOT MET';
  console.log(`  ${label.padEnd(44)} ${String(value).padStart(14)}   goal ${goal.padEnd(22)} ${verdict}`);
}

/** The table of the issue: every figure beside Redis, with its goal. */
export function printSummary(rows) {
  if (rows.length === 0) return;
  console.log('\n== summary (medians)');
  const head = ['figure', 'Redis', 'osps', 'ratio', 'goal', ''];
  const body = rows.map((r) => [r.figure, r.redis ?? '—', r.osps ?? '—', r.ratio ?? '—', r.goal ?? '—', r.met === true ? 'met' : r.met === false ? 'NOT MET' : ''].map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const b of body) console.log(line(b));
}
