// A user module's command round trip against the built-in `set`, measured in the same run
// with the same client, and how late a replicated timer fires under light load.
import path from 'node:path';
import { Client } from '../dist/index.js';
import { ROOT, Tree, sleep } from './tree.mjs';

const N = Number(process.env.BENCH_SERVICE_N ?? 3000);
const TIMERS = 50;

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Sequential round trips of one op (after a warm-up): median and p99, in ms. */
async function roundTrips(c, op, args) {
  for (let i = 0; i < 300; i++) await c.call(op, args(i));
  const ms = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await c.call(op, args(i));
    ms.push(performance.now() - t);
  }
  return { p50: pct(ms, 50), p99: pct(ms, 99) };
}

async function withTree(label, extraArgs, fn) {
  const tree = new Tree(label, extraArgs);
  await tree.start();
  await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync');
  const c = new Client({ endpoint: tree.endpoint, requestTimeoutMs: 1000, deadlineMs: 10_000 });
  try {
    return await fn(c);
  } finally {
    await c.close();
    await tree.stop();
  }
}

export async function benchService() {
  const value = 'v'.repeat(16);
  const builtin = await withTree('svc-kv', [], (c) => roundTrips(c, 'set', (i) => ({ key: `k${i % 1000}`, value })));
  const module = await withTree('svc-user', ['--service', path.join(ROOT, 'bench', 'service-module.mjs')], async (c) => {
    const rt = await roundTrips(c, 'put', (i) => ({ key: `k${i % 1000}`, value }));
    // Timers: armed one at a time, 20 ms ahead, with nothing else going on.
    for (let i = 0; i < TIMERS; i++) {
      await c.call('arm', { delayMs: 20 });
      await sleep(30);
    }
    let late = [];
    for (let t = 0; t < 50 && late.length < TIMERS; t++) {
      late = await c.call('lateness');
      await sleep(20);
    }
    return { ...rt, timerLateP50: pct(late, 50), timerLateMax: Math.max(...late) };
  });
  return {
    builtinSetRoundTripMs: builtin,
    moduleCommandRoundTripMs: { p50: module.p50, p99: module.p99 },
    moduleVsBuiltinP50Pct: (module.p50 / builtin.p50 - 1) * 100,
    timerFireDelayMs: { p50: module.timerLateP50, max: module.timerLateMax },
  };
}
