// The failover, start and watchdog part of `npm run bench:compare`: each figure beside its
// anchor, its goal, met or not, and for a goal not met where the time (or memory) goes.
// Run alone: `node bench/failover-figures.mjs` (after `npm run build`).
//   BENCH_CRASH_ROUNDS (7), BENCH_HANG_ROUNDS (3), BENCH_START_ROUNDS (5), BENCH_IDLE_MS (30000),
//   BENCH_SENTINEL=0 skips the Sentinel anchor (about 15 s a failover).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchFailover, median } from './failover.mjs';
import { floorOnce } from './floor.mjs';
import { sentinelCommand, sentinelFailover, sentinelHint } from './sentinel.mjs';
import { benchStart } from './start-time.mjs';
import { benchWatchdogLean } from './watchdog-lean.mjs';

const env = (k, d) => Number(process.env[k] ?? d);
const log = (s) => process.stderr.write(`${s}\n`);
const ms = (x, digits = 0) => (Number.isFinite(x) ? `${x.toFixed(digits)} ms` : '—');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');

/** fdatasync of a small append where the bench trees keep their journals (median of 21, ms). */
function fdatasyncMs() {
  const file = path.join(os.tmpdir(), `osps-bench-fsync-${process.pid}`);
  const fd = fs.openSync(file, 'w');
  const xs = [];
  try {
    for (let i = 0; i < 21; i++) {
      fs.writeSync(fd, Buffer.alloc(200, i));
      const t = performance.now();
      fs.fdatasyncSync(fd);
      xs.push(performance.now() - t);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  return median(xs);
}

export async function runFailoverFigures() {
  log('failover, start and watchdog figures');
  const start = await benchStart({ rounds: env('BENCH_START_ROUNDS', 5), log });
  const lean = await benchWatchdogLean({ idleMs: env('BENCH_IDLE_MS', 30_000), log });
  const fo = await benchFailover({ crashRounds: env('BENCH_CRASH_ROUNDS', 7), hangRounds: env('BENCH_HANG_ROUNDS', 3), log });
  const floor = [];
  for (let i = 0; i < env('BENCH_CRASH_ROUNDS', 7); i++) floor.push(await floorOnce());
  fo.floor = median(floor);
  log(`floor (a bare zeromq server replaced): ${fo.floor.toFixed(1)} ms`);
  const haveSentinel = process.env.BENCH_SENTINEL !== '0' && sentinelCommand() !== null;
  const sentinel = { crash: NaN, hang: NaN };
  if (haveSentinel) {
    log('Redis Sentinel: SIGKILL, then SIGSTOP of the master');
    sentinel.crash = await sentinelFailover('SIGKILL');
    sentinel.hang = await sentinelFailover('SIGSTOP');
  }
  fo.fsync = fdatasyncMs();
  printFailoverFigures({ start, lean, fo, sentinel, haveSentinel });
}

function printFailoverFigures({ start, lean, fo, sentinel, haveSentinel }) {
  const rows = [];
  const notes = [];
  const row = (figure, osps, anchor, r, goal, met, why) => {
    rows.push([figure, osps, anchor, r, goal, met ? 'met' : 'NOT met']);
    if (!met) notes.push(`${figure}: ${why}`);
  };
  const hangGoal = fo.alarmMs + 100;
  row('crash failover p50: SIGKILL primary → first ack', ms(fo.crash.ms, 1), `floor ${ms(fo.floor, 1)}${haveSentinel ? `; Sentinel ${ms(sentinel.crash)}` : ''}`, ratio(fo.crash.ms, fo.floor),
    '≤ 15 ms', fo.crash.ms <= 15,
    `exit seen by the watchdog at ${ms(fo.crash.seen)}, standby promoted (bound, said so) at ${ms(fo.crash.promoted)}, its journal on disk at ${ms(fo.crash.journaled)}, first ack at ${ms(fo.crash.ms, 1)}: after its promotion a new primary acknowledges nothing until its own journal is on disk: a checkpoint of its whole state (the dedup window included) pulled, written, fdatasynced (${ms(fo.fsync, 1)} here, median), renamed and its dir fsynced, the writes that arrived meanwhile riding on that fdatasync (the new standby's Node start waits for it); the floor (${ms(fo.floor, 1)}: a bare server replaced at once) is the client's reconnect, every 10 ms plus up to 10 ms of libzmq jitter, after which it resends at once`);
  row(`hang failover p50: SIGSTOP primary → first ack (${fo.alarmMs / 1000} s alarm)`, ms(fo.hang.ms), haveSentinel ? `Sentinel ${ms(sentinel.hang)}` : '—', haveSentinel ? ratio(fo.hang.ms, sentinel.hang) : '—',
    `≤ ${hangGoal} ms`, fo.hang.ms <= hangGoal,
    `alarm fired at ${ms(fo.hang.seen)} (the rule: ${fo.alarmMs} ms + one 50 ms heartbeat period), promoted at ${ms(fo.hang.promoted)} (kill, reap, promote), journal on disk at ${ms(fo.hang.journaled)}, first ack at ${ms(fo.hang.ms)} (the client's reconnect, the journal's syncs as for a crash)`);
  row(`pause of ${fo.pause.ms} ms (< alarm): no failover`, fo.pause.failedOver ? 'failed over' : 'no failover', '—', '—', 'no failover', !fo.pause.failedOver, 'the alarm fired for a pause shorter than itself');
  row('start → first answer (median)', ms(start.osps), `bare zeromq ${ms(start.bare)}`, ratio(start.osps, start.bare), '≤ 3×', start.osps <= 3 * start.bare,
    `watchdog up at ${ms(start.watchdog)}, primary spawned at ${ms(start.primarySpawned)}, ready at ${ms(start.primaryReady)}, answered at ${ms(start.osps)}; one Node start to exit costs ${ms(start.nodeStart)} here, three run in series`);
  row('watchdog RSS, idle', `${lean.watchdogRssMiB.toFixed(1)} MiB`, `node + 1 zeromq socket ${lean.bareRssMiB.toFixed(1)} MiB`, ratio(lean.watchdogRssMiB, lean.bareRssMiB), '≤ 1.15×',
    lean.watchdogRssMiB <= 1.15 * lean.bareRssMiB, `the watchdog holds two zeromq sockets, the shm mapping and pino (its log file) beyond the bare process`);
  row('watchdog CPU, idle', `${lean.watchdogCpuPct.toFixed(2)} %`, `bare ${lean.bareCpuPct.toFixed(2)} %`, '—', '≤ 0.5 %', lean.watchdogCpuPct <= 0.5,
    'pings (1/s) and their pongs, the /proc sample (every 2 s), the alarm tick (about every 3 s)');
  // From node_modules, or (the bundle) the lazy chunk that holds it and the endpoint.
  const metricsLoaded = lean.loaded.some((p) => p === 'prom-client' || p === 'bundle:observe');
  row('prom-client loaded by a watchdog without --metrics', metricsLoaded ? 'yes' : 'no', '—', '—', 'no', !metricsLoaded, 'the metrics code loads without --metrics');
  const head = ['figure', 'osps', 'anchor', 'ratio', 'goal', ''];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  console.log('\nfailover, start and the watchdog (medians; a client reconnecting every 10 ms)');
  console.log(line(head));
  console.log(`|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log(`crash rounds: ${fo.crash.all.map((x) => x.toFixed(1)).join(', ')} ms; hang rounds: ${fo.hang.all.map((x) => x.toFixed(0)).join(', ')} ms`);
  console.log(`packages the idle watchdog loaded: ${lean.loaded.join(', ')}`);
  if (!haveSentinel) console.log(process.env.BENCH_SENTINEL === '0' ? 'Redis Sentinel anchor skipped (BENCH_SENTINEL=0)' : sentinelHint);
  console.log(spawnSync('sh', ['-c', 'command -v pm2'], { stdio: 'ignore' }).status === 0
    ? 'PM2 is installed but not driven here: its anchor is the issue\'s figure (204–229 ms restart, state lost)'
    : 'PM2 is not installed: its anchor is skipped (npm install -g pm2)');
  for (const n of notes) console.log(`not met — ${n}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await runFailoverFigures();
