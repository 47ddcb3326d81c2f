// `npm run bench:compare`: osps and its anchors side by side, same machine, same run, same
// load generators (bench/loadgen.mjs), each generator's ceiling (a bare echo server it drives)
// printed beside the figures it limits. Percentiles come from the merged samples of every
// generator process. Server CPU-seconds per 1 000 replicated writes come from
// /proc/PID/stat (utime + stime) read before and after each load. All servers run at once and
// every round measures each osps figure next to its anchor (BENCH_ROUNDS, default 3).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startRedisPair, hasCommand } from './redis-pair.mjs';
import { ROOT, Tree, freePort } from './tree.mjs';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 500);
/** Load generator processes for a many-client figure: one event loop for 64 clients would be the limit. */
const PROCS = Number(process.env.BENCH_LOADGEN_PROCS ?? 2);
/** Rounds of every figure; throughput is the median round, percentiles merge every round's samples. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
const children = new Set();

function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 14th and 15th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function runLoadgen(opts) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bench', 'loadgen.mjs'), JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(p);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    // 'close', not 'exit': the report may still be in the pipe when the process has exited.
    p.once('close', (code) => {
      children.delete(p);
      try {
        if (code !== 0) throw new Error(`load generator exited ${code}`);
        resolve(JSON.parse(out));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** One load run: `clients` closed-loop clients split over generator processes; raw samples and server CPU. */
async function loadOnce({ kind, target, clients, mode = 'set', serverPids = [] }) {
  const procs = clients === 1 ? 1 : PROCS;
  const per = Math.ceil(clients / procs);
  const cpu0 = serverPids.length ? cpuSeconds(serverPids) : 0;
  const reports = await Promise.all(Array.from({ length: procs }, (_, i) =>
    runLoadgen({ kind, target, mode, clients: Math.min(per, clients - i * per), warmupMs: WARMUP_MS, durationMs: DURATION_MS, prefix: `${kind}${i}` })));
  return {
    cpu: serverPids.length ? cpuSeconds(serverPids) - cpu0 : NaN,
    lat: reports.flatMap((r) => r.lat),
    total: reports.reduce((s, r) => s + r.total, 0),
    opsPerSec: reports.reduce((s, r) => s + r.inWindow, 0) / (DURATION_MS / 1000),
    errors: reports.reduce((s, r) => s + r.errors, 0),
  };
}

/** The runs of one figure over every round: median throughput, percentiles of all samples merged, CPU over all writes. */
function summarize(runs) {
  const lat = runs.flatMap((r) => r.lat).sort((a, b) => a - b);
  const rates = runs.map((r) => r.opsPerSec).sort((a, b) => a - b);
  const cpu = runs.reduce((s, r) => s + r.cpu, 0);
  const total = runs.reduce((s, r) => s + r.total, 0);
  return {
    opsPerSec: rates[Math.floor(rates.length / 2)],
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    errors: runs.reduce((s, r) => s + r.errors, 0),
    cpuPer1k: (cpu / total) * 1000,
  };
}

async function echoServer(kind, address) {
  const p = spawn(process.execPath, [path.join(ROOT, 'bench', 'echo-server.mjs'), kind, address], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(p);
  await new Promise((resolve, reject) => {
    p.stdout.on('data', (d) => d.toString().includes('ready') && resolve());
    p.once('exit', (code) => reject(new Error(`echo server exited ${code}`)));
  });
  return { pid: p.pid, stop: () => new Promise((r) => { p.once('exit', r); p.kill('SIGKILL'); }).then(() => children.delete(p)) };
}

function redisBenchmark(port) {
  if (!hasCommand('redis-benchmark')) return null;
  const r = spawnSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-t', 'set,get,incr', '-n', '20000', '-c', '50', '--csv'], { encoding: 'utf8', timeout: 60_000 });
  const out = {};
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^"(SET|GET|INCR)","([\d.]+)"/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

const log = (s) => process.stderr.write(`${s}\n`);
const R = {};

async function main() {
  // Every server runs for the whole benchmark; each round measures osps right beside its
  // anchor, so a neighbour's load on this machine falls on both figures of a ratio alike.
  const zport = await freePort();
  const zmqEcho = await echoServer('zmq', `tcp://127.0.0.1:${zport}`);
  const rport = await freePort();
  const respEcho = await echoServer('resp', `127.0.0.1:${rport}`);
  const respPort = await freePort();
  const tree = new Tree('compare', ['--resp', `127.0.0.1:${respPort}`]);
  await tree.start();
  let redis = null;
  try {
    await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync');
    redis = await startRedisPair();
    if (!redis) log('redis-server not found: the Redis anchors are skipped (Debian/Ubuntu: apt-get install redis-server)');
    const osPids = [tree.pid('primary'), tree.pid('secondary')];
    const osResp = `127.0.0.1:${respPort}`;
    const figures = {
      zmqEcho64: { kind: 'zmq', target: `tcp://127.0.0.1:${zport}`, clients: 64, serverPids: [zmqEcho.pid] },
      osZmq64: { kind: 'zmq', target: tree.endpoint, clients: 64, serverPids: osPids },
      respEcho64: { kind: 'resp', target: `127.0.0.1:${rport}`, clients: 64 },
      osResp64: { kind: 'resp', target: osResp, clients: 64, serverPids: osPids },
      respEchoWait64: { kind: 'resp', target: `127.0.0.1:${rport}`, clients: 64, mode: 'setwait' },
      ...(redis ? { redis64: { kind: 'resp', target: `127.0.0.1:${redis.port}`, clients: 64, mode: 'setwait', serverPids: [redis.masterPid, redis.replicaPid] } } : {}),
      zmqEcho1: { kind: 'zmq', target: `tcp://127.0.0.1:${zport}`, clients: 1 },
      osZmq1: { kind: 'zmq', target: tree.endpoint, clients: 1 },
      osResp1: { kind: 'resp', target: osResp, clients: 1 },
      ...(redis ? { redis1: { kind: 'resp', target: `127.0.0.1:${redis.port}`, clients: 1, mode: 'setwait' } } : {}),
    };
    const runs = Object.fromEntries(Object.keys(figures).map((k) => [k, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      log(`round ${round}/${ROUNDS}`);
      for (const [k, f] of Object.entries(figures)) runs[k].push(await loadOnce(f));
    }
    for (const [k, r] of Object.entries(runs)) R[k] = summarize(r);
    log('redis-benchmark against osps and against redis-server');
    R.osRb = redisBenchmark(respPort);
    if (redis) R.redisRb = redisBenchmark(redis.port);
  } finally {
    await redis?.stop();
    await tree.stop();
    await zmqEcho.stop();
    await respEcho.stop();
  }
  print();
}

const n0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(3)} ms` : '—');
const cpu = (x) => (Number.isFinite(x) ? `${x.toFixed(3)} s` : '—');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');

function print() {
  const rows = [];
  const row = (figure, osps, anchor, r, ceiling = '') => rows.push([figure, osps, anchor, r, ceiling]);
  const { zmqEcho64: ze, osZmq64: oz, osResp64: or, redis64: rd, respEcho64: re, respEchoWait64: rew } = R;
  row('writes/s @64, zeromq (osps vs bare ROUTER echo)', n0(oz.opsPerSec), n0(ze.opsPerSec), ratio(oz.opsPerSec, ze.opsPerSec), `generator ceiling = the echo: ${n0(ze.opsPerSec)}`);
  row('  p50 / p99 @64, zeromq', `${ms(oz.p50)} / ${ms(oz.p99)}`, `${ms(ze.p50)} / ${ms(ze.p99)}`, '');
  row('writes/s @64, RESP (osps SET vs Redis SET+WAIT 1 0)', n0(or.opsPerSec), rd ? n0(rd.opsPerSec) : 'no redis', rd ? ratio(or.opsPerSec, rd.opsPerSec) : '—',
    `generator ceiling: SET ${n0(re.opsPerSec)}, SET+WAIT ${n0(rew.opsPerSec)}`);
  row('  p50 / p99 @64, RESP', `${ms(or.p50)} / ${ms(or.p99)}`, rd ? `${ms(rd.p50)} / ${ms(rd.p99)}` : '—', '');
  row('replicated write p50 @1, zeromq', ms(R.osZmq1.p50), `echo ${ms(R.zmqEcho1.p50)}`, '');
  row('replicated write p50 @1, RESP', ms(R.osResp1.p50), R.redis1 ? ms(R.redis1.p50) : '—', R.redis1 ? ratio(R.osResp1.p50, R.redis1.p50) : '—');
  row('server CPU-s per 1 000 writes, RESP @64', cpu(or.cpuPer1k), rd ? cpu(rd.cpuPer1k) : '—', rd ? ratio(or.cpuPer1k, rd.cpuPer1k) : '—', 'osps: primary+standby; Redis: master+replica');
  row('server CPU-s per 1 000 writes, zeromq @64', cpu(oz.cpuPer1k), `echo ${cpu(ze.cpuPer1k)}`, ratio(oz.cpuPer1k, ze.cpuPer1k));
  for (const t of ['SET', 'GET', 'INCR']) {
    row(`redis-benchmark -t ${t.toLowerCase()} -c 50 (req/s)`, R.osRb ? n0(R.osRb[t]) : '—', R.redisRb ? n0(R.redisRb[t]) : '—', R.osRb && R.redisRb ? ratio(R.osRb[t], R.redisRb[t]) : '—', 'figures only (Redis: no WAIT)');
  }
  const errs = ['zmqEcho64', 'osZmq64', 'osResp64', 'redis64', 'respEcho64', 'respEchoWait64'].map((k) => R[k]?.errors ?? 0).reduce((a, b) => a + b, 0);
  const head = ['figure', 'osps', 'anchor', 'ratio', 'note'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  console.log(`\nosps vs anchors, ${ROUNDS} rounds of ${DURATION_MS / 1000} s a figure after ${WARMUP_MS} ms warm-up (throughput: median round), ${PROCS} generator processes for 64 clients, one request in flight per client`);
  console.log(line(head));
  console.log(`|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(`errors seen by the generators: ${errs}`);
  printGoals();
}

/** The write-path goals, met or not; where the time goes when not: README, "Where a write's time goes". */
function printGoals() {
  const { zmqEcho64: ze, osZmq64: oz, osResp64: or, redis64: rd } = R;
  const goal = (what, value, met) => console.log(`  ${met ? 'met    ' : 'NOT met'}  ${what}: ${value}`);
  console.log('goals (replicated writes):');
  goal('zeromq @64 >= 0.80x the bare echo', ratio(oz.opsPerSec, ze.opsPerSec), oz.opsPerSec >= 0.8 * ze.opsPerSec);
  if (rd) goal('RESP @64 >= 1.00x Redis SET+WAIT', ratio(or.opsPerSec, rd.opsPerSec), or.opsPerSec >= rd.opsPerSec);
  goal('p50 @1 (zeromq) <= 0.150 ms', ms(R.osZmq1.p50), R.osZmq1.p50 <= 0.15);
  console.log('  where the time goes, and why a goal stops where it does: README.md, "Where a write\'s time goes" (node bench/profile.mjs shows it)');
}

process.on('exit', () => {
  for (const p of children) p.kill('SIGKILL');
});
await main();
// Failover, start and the watchdog, each figure on trees of its own (bench/failover-figures.mjs).
if (process.env.BENCH_FAILOVER !== '0') await (await import('./failover-figures.mjs')).runFailoverFigures();
