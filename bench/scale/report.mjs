// What the scale sections share: medians, /proc readings of a process, a tree started for a
// measurement, the server log lines it read, and the way a figure is printed with its goal.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Tree } from '../../dist/harness/tree.js';
import { freePort } from '../tree.mjs';
import * as F from './fill.mjs';
import { hasCommand } from '../redis-pair.mjs';

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

/** A tree for one measurement, its own name and dirs; `env` reaches every process of it. */
export async function scaleTree(label, args = []) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-bench-scale-'));
  const port = await freePort();
  const tree = new Tree({
    name: `scale-${label}-${process.pid}`,
    runtimeRoot: path.join(tmp, 'run'),
    dataDir: path.join(tmp, 'data'),
    endpoint: `tcp://127.0.0.1:${port}`,
    args,
    env: { OSPS_VERBOSE: '1' },
  });
  return {
    tree,
    tmp,
    port,
    endpoint: tree.opts.endpoint,
    dataDir: tree.opts.dataDir,
    async close() {
      if ((await tree.stop(30_000)) === null) await tree.kill();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * Runs one section's osps side, then its Redis side (when redis-server is here), with the
 * runner's options: --quick works at 10⁵ keys, as the other sections do.
 */
export async function bothSides(opts, ospsRuns, redisRuns) {
  const keys = opts.keys ?? Number(process.env.SCALE_KEYS ?? (opts.quick ? 100_000 : 1_000_000));
  const valueBytes = opts.valueBytes ?? 16;
  const runs = opts.runs ?? Number(process.env.BENCH_RUNS ?? 3);
  const withRedis = opts.redis ?? hasCommand('redis-server');
  const osps = await ospsRuns(keys, valueBytes, runs);
  const redis = withRedis ? await redisRuns(keys, valueBytes, runs) : [];
  return { keys, valueBytes, runs, withRedis, osps, redis, m: (xs, f) => median(xs.map(f)) };
}

/**
 * A scale tree started and filled with `keys` keys, handed to `fn`; its last log lines are
 * printed when `fn` throws, and the tree is stopped and removed whatever happens.
 */
export async function withFilledTree(label, { keys, valueBytes }, fn) {
  const t = await scaleTree(label);
  try {
    await t.tree.start({ readyTimeoutMs: 60_000 });
    const f0 = performance.now();
    await F.fillOsps(t.endpoint, { keys, valueBytes });
    return await fn(t, performance.now() - f0);
  } catch (err) {
    process.stderr.write(t.tree.tails());
    throw err;
  } finally {
    await t.close();
  }
}

/** Resolves once something accepts TCP connections on `port` (polled every 2 ms). */
export async function listening(port, timeoutMs = 120_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
    await sleep(2);
  }
}

/** The last server log line `event` in the tree's stderr, as its fields. */
export function lastLogLine(tree, event) {
  const lines = tree.stderr.split('\n').filter((l) => l.includes(` ${event} `) || l.endsWith(` ${event}`));
  const line = lines.at(-1);
  if (!line) return null;
  const fields = Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map(([, k, v]) => [k, Number.isNaN(Number(v)) ? v : Number(v)]));
  return { ts: line.split(' ')[0], ...fields };
}

export const fmt = (x, unit = '') => (Number.isFinite(x) ? `${x >= 100 ? x.toFixed(0) : x.toFixed(2)}${unit}` : 'n/a');

/** The section's closing lines: the figure, Redis's, their ratio against the goal. */
export function verdict(label, osps, redis, goal, { unit = ' ms', lowerIsBetter = true } = {}) {
  const ratio = Number.isFinite(redis) && redis > 0 ? osps / redis : NaN;
  const met = Number.isFinite(ratio) ? (lowerIsBetter ? ratio <= goal : ratio >= goal) : null;
  console.log(`${label.padEnd(44)} osps ${fmt(osps, unit).padStart(10)}   redis ${fmt(redis, unit).padStart(10)}   ratio ${fmt(ratio).padStart(6)}   goal ≤ ${goal}×   ${met === null ? 'no redis-server: ratio not measured' : met ? 'MET' : 'NOT MET'}`);
  return met;
}
