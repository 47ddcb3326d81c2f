// Large values: replicated writes/s and p99 for 1 KiB, 64 KiB and 1 MiB values, closed loop,
// beside Redis SET + WAIT 1 0 with the same sizes and clients; and where the time goes: CPU
// per write of each process over the measured window, and the primary's hottest functions
// from a CPU profile of a separate run (profiling slows it, so it is not the measured one).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRedisPair } from '../redis-pair.mjs';
import { ROOT, Tree, sleep } from '../tree.mjs';
import { cpuMsOf, fixed, goalLine, median, percentile } from './report.mjs';

const SIZES = [
  { label: '1 KiB', bytes: 1024, clients: 16 },
  { label: '64 KiB', bytes: 64 * 1024, clients: 8 },
  { label: '1 MiB', bytes: 1024 * 1024, clients: 4 },
];
/** Bytes of distinct values each side holds at once (keys cycle): large values do not fill memory. */
const WORKING_SET = 64 * 1024 * 1024;
/** A 1 MiB value with its key and JSON framing is over the default 1 MiB frame. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;
const PROFILE_TOP = 8;

/** One closed-loop load process against a target; resolves to its report plus the load process's CPU. */
function load(o) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bench', 'loadgen.mjs'), JSON.stringify(o)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let cpu = 0;
    p.stdout.on('data', (d) => {
      out += d;
      try {
        cpu = cpuMsOf(p.pid);
      } catch {
        // exiting
      }
    });
    p.once('exit', (code) => (code === 0 ? resolve({ ...JSON.parse(out), clientCpuMs: cpu }) : reject(new Error(`loadgen exited ${code}`))));
  });
}

function loadOpts(size, durationMs) {
  return { clients: size.clients, valueBytes: size.bytes, warmupMs: 300, durationMs, keySpace: Math.max(1, Math.floor(WORKING_SET / size.bytes / size.clients)) };
}

function summarize(r) {
  return { perSec: (r.inWindow * 1000) / r.durationMs, p50: percentile(r.lat, 50), p99: percentile(r.lat, 99), errors: r.errors };
}

async function withOsps(env, fn) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-bench-lv-'));
  const config = path.join(dir, 'osps.json');
  fs.writeFileSync(config, JSON.stringify({ maxFrameBytes: MAX_FRAME_BYTES }));
  const tree = new Tree('scale-lv', ['--config', config], env);
  await tree.start();
  try {
    await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 30_000);
    return await fn(tree);
  } finally {
    await tree.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function oneOsps(size, durationMs) {
  return withOsps(undefined, async (tree) => {
    const pids = { primary: tree.pid('primary'), standby: tree.pid('secondary'), watchdog: tree.watchdogPid };
    const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMsOf(pid)]));
    const r = await load({ kind: 'zmq', target: tree.endpoint, ...loadOpts(size, durationMs) });
    const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMsOf(pid) - before[k]]));
    // CPU per write over the whole run (warm-up included: total counts every write made).
    const per = (ms) => ms / r.total;
    return { ...summarize(r), cpuPerWrite: { primary: per(cpu.primary), standby: per(cpu.standby), watchdog: per(cpu.watchdog), client: per(r.clientCpuMs) } };
  });
}

async function oneRedis(size, durationMs) {
  const pair = await startRedisPair();
  try {
    const before = [cpuMsOf(pair.masterPid), cpuMsOf(pair.replicaPid)];
    const r = await load({ kind: 'resp', mode: 'setwait', target: `127.0.0.1:${pair.port}`, ...loadOpts(size, durationMs) });
    const per = (pid, i) => (cpuMsOf(pid) - before[i]) / r.total;
    return { ...summarize(r), cpuPerWrite: { master: per(pair.masterPid, 0), replica: per(pair.replicaPid, 1), client: r.clientCpuMs / r.total } };
  } finally {
    await pair.stop();
  }
}

/** The primary's hottest functions (self time) under this load, from a CPU profile (cpu-profile.mjs). */
async function profile(size, durationMs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-bench-prof-'));
  try {
    let primaryPid = 0;
    const preload = path.join(ROOT, 'bench', 'scale', 'cpu-profile.mjs');
    await withOsps({ NODE_OPTIONS: `--import ${preload}`, OSPS_BENCH_PROFILE_DIR: dir }, async (tree) => {
      primaryPid = tree.pid('primary');
      process.kill(primaryPid, 'SIGTTIN');
      await load({ kind: 'zmq', target: tree.endpoint, ...loadOpts(size, durationMs) });
    });
    // Profiles are written as each process exits.
    let file;
    for (let i = 0; i < 40 && !file; i++) {
      file = fs.readdirSync(dir).find((f) => f === `${primaryPid}.cpuprofile`);
      if (!file) await sleep(100);
    }
    return file ? topFunctions(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'))) : null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function topFunctions(prof) {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    const f = byId.get(id).callFrame;
    if (f.functionName === '(idle)') return;
    const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : '';
    const name = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(name, (self.get(name) ?? 0) + dt);
    total += dt;
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, PROFILE_TOP).map(([name, us]) => ({ name, pct: (100 * us) / total }));
}

export async function run(opts) {
  const durationMs = Number(process.env.SCALE_LV_DURATION_MS ?? (opts.quick ? 1500 : 3000));
  console.log(`\n== large values: replicated writes/s and p99 latency, closed loop (median of ${opts.runs} runs of ${durationMs} ms)`);
  const rows = [];
  for (const size of SIZES) {
    const o = [];
    const r = [];
    for (let i = 0; i < opts.runs; i++) {
      o.push(await oneOsps(size, durationMs));
      if (opts.redis) r.push(await oneRedis(size, durationMs));
    }
    const m = (xs, f) => median(xs.map(f));
    const osps = { perSec: m(o, (x) => x.perSec), p99: m(o, (x) => x.p99), p50: m(o, (x) => x.p50), errors: m(o, (x) => x.errors) };
    const redis = opts.redis ? { perSec: m(r, (x) => x.perSec), p99: m(r, (x) => x.p99), p50: m(r, (x) => x.p50) } : null;
    const cpu = Object.fromEntries(Object.keys(o[0].cpuPerWrite).map((k) => [k, m(o, (x) => x.cpuPerWrite[k])]));
    console.log(`  ${size.label.padEnd(7)} ${size.clients} clients  osps ${fixed(osps.perSec, 0).padStart(7)} writes/s  p50 ${fixed(osps.p50, 2)} ms  p99 ${fixed(osps.p99, 2)} ms` +
      (osps.errors ? `  (${osps.errors} errors)` : '') +
      (redis ? `   Redis SET+WAIT ${fixed(redis.perSec, 0).padStart(7)} writes/s  p50 ${fixed(redis.p50, 2)} ms  p99 ${fixed(redis.p99, 2)} ms` : ''));
    console.log(`          CPU ms per write: ${Object.entries(cpu).map(([k, v]) => `${k} ${fixed(v, 3)}`).join(', ')}` +
      (redis ? `   (Redis: ${Object.entries(r[0].cpuPerWrite).map(([k]) => `${k} ${fixed(m(r, (x) => x.cpuPerWrite[k]), 3)}`).join(', ')})` : ''));
    const top = await profile(size, durationMs);
    if (top) console.log(`          primary's profile (self time): ${top.map((t) => `${t.name} ${fixed(t.pct, 0)}%`).join(' · ')}`);
    if (redis) {
      const ratio = osps.perSec / redis.perSec;
      goalLine(`${size.label} writes/s osps / Redis`, `${fixed(ratio, 2)}×`, 'reported', null);
      rows.push({ figure: `replicated ${size.label} writes/s, p99`, redis: `${fixed(redis.perSec, 0)}/s, ${fixed(redis.p99, 2)} ms`, osps: `${fixed(osps.perSec, 0)}/s, ${fixed(osps.p99, 2)} ms`, ratio: `${fixed(ratio, 2)}×`, goal: 'reported', met: null });
    } else {
      rows.push({ figure: `replicated ${size.label} writes/s, p99`, osps: `${fixed(osps.perSec, 0)}/s, ${fixed(osps.p99, 2)} ms`, goal: 'reported', met: null });
    }
  }
  return rows;
}
