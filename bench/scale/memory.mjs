// Memory: RSS of the primary and the standby after N keys × 16 B, beside a Redis master and
// its replica holding the same keys; bytes per key split into the store, the dedup window,
// the journal (with GC slack: what is left) and the runtime (RSS before the first key), and
// the slope between sizes. Goal: each osps server ≤ 1.5× Redis's RSS at 10⁶ keys.
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { DedupWindow } from '../../dist/host/dedup.js';
import { requestDigest } from '../../dist/host/digest.js';
import { KvStore } from '../../dist/services/kv/store.js';
import { startRedisPair } from '../redis-pair.mjs';
import { Tree, sleep } from '../tree.mjs';
import { fillOsps, fillRedis, keyOf, valueOf } from './fill.mjs';
import { MB, fixed, goalLine, median, rssOf } from './report.mjs';

const VALUE_BYTES = 16;
const GOAL_RATIO = 1.5;
const GOAL_KEYS = 1_000_000;
/** The default dedup window (config.ts): replies it holds once that many writes were made. */
const DEDUP_WINDOW = 100_000;
/** Runs at this many keys or more are made once: a fill takes minutes. */
const ONE_RUN_FROM = 5_000_000;

/** RSS of each pid once writes have stopped: the median of samples over `ms`, after `ms` of rest. */
async function settledRss(pids, ms) {
  await sleep(ms);
  const samples = pids.map(() => []);
  for (let t = 0; t < ms; t += 250) {
    pids.forEach((pid, i) => samples[i].push(rssOf(pid)));
    await sleep(250);
  }
  return samples.map(median);
}

/** The kernel's split of a process's RSS: anonymous, file-backed (code) and shared memory (the shm ring). */
function rssParts(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}

/** Added to the tree's environment, to try runtime settings: SCALE_MEM_ENV='{"NODE_OPTIONS":"…"}'. */
const TREE_ENV = process.env.SCALE_MEM_ENV ? JSON.parse(process.env.SCALE_MEM_ENV) : undefined;

export async function oneOsps(keys, settleMs, env = TREE_ENV) {
  const tree = new Tree('scale-mem', [], env);
  await tree.start();
  try {
    await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 30_000);
    const pids = [tree.pid('primary'), tree.pid('secondary')];
    const [base0, base1] = await settledRss(pids, settleMs);
    const baseShmem = pids.map((pid) => rssParts(pid).shmem);
    const fill = await fillOsps(tree.endpoint, { keys, valueBytes: VALUE_BYTES });
    const [primary, standby] = await settledRss(pids, settleMs);
    return { base: [base0, base1], baseShmem, primary, standby, perSec: fill.perSec, parts: pids.map(rssParts) };
  } finally {
    await tree.stop();
  }
}

async function oneRedis(keys, settleMs) {
  const pair = await startRedisPair();
  try {
    const pids = [pair.masterPid, pair.replicaPid];
    const fill = await fillRedis(pair.port, { keys, valueBytes: VALUE_BYTES, wait: true });
    const [master, replica] = await settledRss(pids, Math.min(settleMs, 2000));
    return { master, replica, perSec: fill.perSec };
  } finally {
    await pair.stop();
  }
}

let gc = null;
function collect() {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc');
  }
  gc();
  gc();
}

/** The store's own bytes for these keys (the same layout the servers build). */
function storeBytes(keys) {
  const s = new KvStore();
  for (let i = 0; i < keys; i++) s.set(keyOf(i), valueOf(i, VALUE_BYTES));
  const m = s.memory();
  return m.entries + m.index + m.records;
}

/** Memory a full dedup window holds (heap and typed arrays): the replies of the last writes of a fill, as the primary records them. */
function dedupBytes(keys) {
  const n = Math.min(keys, DEDUP_WINDOW);
  collect();
  const held = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const before = held();
  const w = new DedupWindow(DEDUP_WINDOW);
  for (let i = 0; i < n; i++) {
    // A request id as JSON.parse makes it (a flat string), the digest as the primary computes it.
    const id = Buffer.from(`fill-12345-${i}`).toString();
    const args = `{"key":"${keyOf(i)}","value":"${valueOf(i, VALUE_BYTES)}"}`;
    w.record(id, requestDigest('set', args), { id, ok: true, result: 'OK' });
  }
  collect();
  const bytes = held() - before;
  if (w.size !== n) throw new Error('dedup window lost entries');
  return bytes;
}

export async function run(opts) {
  // Servers collect their heap 2 s (idleGcMs) after the last write: the samples come after that.
  const settleMs = Number(process.env.SCALE_SETTLE_MS ?? (opts.quick ? 3000 : 4000));
  console.log(`\n== memory: RSS after N keys × ${VALUE_BYTES} B (median of ${opts.runs} runs, 1 from ${ONE_RUN_FROM.toExponential(0)}; settled ${settleMs} ms)`);
  const rows = [];
  const at = new Map();
  for (const keys of opts.sizes) {
    const runs = keys >= ONE_RUN_FROM ? 1 : opts.runs;
    const o = [];
    const r = [];
    for (let i = 0; i < runs; i++) {
      o.push(await oneOsps(keys, settleMs));
      if (opts.redis) r.push(await oneRedis(keys, settleMs));
      process.stderr.write(`memory ${keys} keys: run ${i + 1}/${runs} done\n`);
    }
    const m = {
      keys,
      primary: median(o.map((x) => x.primary)),
      standby: median(o.map((x) => x.standby)),
      base: [median(o.map((x) => x.base[0])), median(o.map((x) => x.base[1]))],
      parts: o.at(-1).parts,
      baseShmem: o.at(-1).baseShmem,
      fillPerSec: median(o.map((x) => x.perSec)),
      master: opts.redis ? median(r.map((x) => x.master)) : NaN,
      replica: opts.redis ? median(r.map((x) => x.replica)) : NaN,
      redisFillPerSec: opts.redis ? median(r.map((x) => x.perSec)) : NaN,
      store: storeBytes(keys),
      dedup: dedupBytes(keys),
    };
    at.set(keys, m);
    console.log(`  ${String(keys).padStart(9)} keys   osps primary ${MB(m.primary).padStart(9)}  standby ${MB(m.standby).padStart(9)}   ` +
      `Redis master ${MB(m.master).padStart(9)}  replica ${MB(m.replica).padStart(9)}   (fill: osps ${fixed(m.fillPerSec / 1000)}k/s, Redis ${fixed(m.redisFillPerSec / 1000)}k/s)`);
  }
  console.log('  bytes per key, split: store and dedup window measured in-process; runtime = RSS before the first key;');
  console.log('  shm ring = its pages touched since (shared, counted in both servers\' RSS); journal + GC slack = the rest:');
  for (const m of at.values()) {
    for (const [i, role, rss, base] of [[0, 'primary', m.primary, m.base[0]], [1, 'standby', m.standby, m.base[1]]]) {
      const ring = m.parts[i].shmem - m.baseShmem[i];
      const rest = rss - base - m.store - m.dedup - ring;
      const per = (b) => fixed(b / m.keys, 1).padStart(6);
      console.log(`    ${String(m.keys).padStart(9)} ${role.padEnd(8)} ${per(rss)} = store ${per(m.store)} + dedup ${per(m.dedup)} + shm ring ${per(ring)} + journal/GC slack ${per(rest)} + runtime ${per(base)}  (runtime ${MB(base)})`);
    }
  }
  const sizes = [...at.keys()];
  for (let i = 1; i < sizes.length; i++) {
    const a = at.get(sizes[i - 1]);
    const b = at.get(sizes[i]);
    const slope = (x, y) => fixed((y - x) / (b.keys - a.keys), 1);
    console.log(`  slope ${a.keys.toExponential(0)} → ${b.keys.toExponential(0)} keys (bytes per added key): primary ${slope(a.primary, b.primary)}, standby ${slope(a.standby, b.standby)}, ` +
      `Redis master ${slope(a.master, b.master)}, replica ${slope(a.replica, b.replica)}; the store alone ${slope(a.store, b.store)}`);
  }
  const goalKeys = at.has(GOAL_KEYS) ? GOAL_KEYS : sizes.at(-1);
  const g = at.get(goalKeys);
  const where = goalKeys === GOAL_KEYS ? '10⁶ keys' : `${goalKeys} keys (quick; the goal is at 10⁶)`;
  if (!opts.redis) {
    goalLine(`primary RSS at ${where}`, MB(g.primary), `≤ ${GOAL_RATIO}× Redis`, null);
    return rows;
  }
  const rp = g.primary / g.master;
  const rs = g.standby / g.replica;
  // Below 10⁶ keys the fixed runtime dominates both sides: the ratio is shown, not judged.
  const judged = goalKeys === GOAL_KEYS;
  goalLine(`primary RSS / Redis master at ${where}`, `${fixed(rp, 2)}×`, `≤ ${GOAL_RATIO}×`, judged ? rp <= GOAL_RATIO : null);
  goalLine(`standby RSS / Redis replica at ${where}`, `${fixed(rs, 2)}×`, `≤ ${GOAL_RATIO}×`, judged ? rs <= GOAL_RATIO : null);
  if (judged && (rp > GOAL_RATIO || rs > GOAL_RATIO)) {
    console.log('  why (at the goal size): the split above, and the kernel\'s view of each server:');
    g.parts.forEach((p, i) => console.log(`    ${i === 0 ? 'primary' : 'standby'}: anonymous ${MB(p.anon)}, file-backed (code) ${MB(p.file)}, shared (shm ring) ${MB(p.shmem)}`));
  }
  rows.push({
    figure: `RSS of the serving process (${where}, ${VALUE_BYTES} B values)`,
    redis: `${MB(g.master)} (replica ${MB(g.replica)})`,
    osps: `primary ${MB(g.primary)}, standby ${MB(g.standby)}`,
    ratio: `${fixed(rp, 2)}× / ${fixed(rs, 2)}×`,
    goal: `≤ ${GOAL_RATIO}×`,
    met: judged ? rp <= GOAL_RATIO && rs <= GOAL_RATIO : null,
  });
  return rows;
}
