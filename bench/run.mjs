// `npm run bench`: runs each benchmark RUNS times (default 3) and prints every run plus medians.
// `npm run bench -- NAME` runs one of them; `scale` (bench/scale.mjs) runs only when named.
import { benchIpc } from './ipc.mjs';
import { benchPair } from './pair.mjs';
import { benchSupervisor } from './supervisor.mjs';
import { benchService } from './service.mjs';
import { benchScale } from './scale.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const only = process.argv[2];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function flatten(o, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') flatten(v, key, out);
    else if (typeof v === 'number') out[key] = v;
  }
  return out;
}

async function many(name, fn) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const r = flatten(await fn());
    runs.push(r);
    process.stderr.write(`${name} run ${i + 1}/${RUNS} done\n`);
  }
  console.log(`\n== ${name}: median of ${RUNS} runs (min … max)`);
  for (const key of Object.keys(runs[0])) {
    if (/\.(count|mean|p90|p999|min)$/.test(key)) continue;
    const xs = runs.map((r) => r[key]);
    const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(3));
    console.log(`${key.padEnd(32)} ${fmt(median(xs)).padStart(12)}   (${fmt(Math.min(...xs))} … ${fmt(Math.max(...xs))})`);
  }
}

if (!only || only === 'ipc') await many('ipc (ring + FIFO vs zeromq ipc:// echo)', benchIpc);
if (!only || only === 'pair') await many('supervised pair', benchPair);
if (!only || only === 'supervisor') await many('supervising the supervisor', benchSupervisor);
if (!only || only === 'service') await many('service module vs built-in set', benchService);
// Minutes long at millions of keys: only when asked for (`npm run bench -- scale [--quick]`).
if (only === 'scale') await benchScale(process.argv.slice(3));
