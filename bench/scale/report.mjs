// What the restart and resync sections share: medians, a tree started for a measurement, and
// the lines a section prints.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Tree } from '../../dist/harness/tree.js';
import { freePort } from '../tree.mjs';

export function median(xs) {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
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
