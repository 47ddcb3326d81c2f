// The supervised pair's figures: start to first answer, replicated set throughput and
// latency at 1/16/64 clients, crash and hang failover under load, watchdog RSS and idle CPU.
import { spawn } from 'node:child_process';
import path from 'node:path';
import pidusage from 'pidusage';
import { Client } from '../dist/index.js';
import { closedLoopLoad } from './closed-loop.mjs';
import { ROOT, Tree, sleep } from './tree.mjs';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);

/** Load from separate processes, so the load generator is not one event loop for 64 clients. */
async function loadFromProcesses(endpoint, clients, durationMs) {
  const procs = Math.min(clients, 4);
  const per = Math.ceil(clients / procs);
  const runs = Array.from({ length: procs }, (_, i) => new Promise((resolve, reject) => {
    const n = Math.min(per, clients - i * per);
    const p = spawn(process.execPath, [path.join(ROOT, 'launcher.js'), 'bench', '--endpoint', endpoint, '--clients', String(n),
      '--duration', String(durationMs / 1000), '--op', 'set', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`bench exited ${code}`))));
  }));
  const reports = await Promise.all(runs);
  return {
    opsPerSec: reports.reduce((s, r) => s + r.opsPerSec, 0),
    p50: Math.max(...reports.map((r) => r.latencyMs.p50)),
    p99: Math.max(...reports.map((r) => r.latencyMs.p99)),
    max: Math.max(...reports.map((r) => r.latencyMs.max)),
    errors: reports.reduce((s, r) => s + Object.values(r.errors).reduce((a, b) => a + b, 0), 0),
  };
}

export async function benchPair() {
  const results = {};
  // Start to first answer.
  {
    const tree = new Tree('start');
    await tree.start();
    const t0 = tree.startedAt;
    const c = new Client({ endpoint: tree.endpoint, requestTimeoutMs: 20, deadlineMs: 10_000 });
    await c.ping();
    results.startToFirstAnswerMs = performance.now() - t0;
    await c.close();
    await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync');
    // Idle watchdog: sample for a few seconds with nothing happening.
    await sleep(1000);
    const samples = [];
    for (let i = 0; i < 5; i++) {
      samples.push(await pidusage(tree.watchdogPid));
      await sleep(1000);
    }
    results.watchdogRssMiB = samples.at(-1).memory / 1048576;
    results.watchdogIdleCpuPct = samples.map((s) => s.cpu).sort((a, b) => a - b)[2];
    // Replicated set throughput, in the steady state of a server that has been up a while:
    // the dedup window (100 000 replies) full, so every write also evicts one.
    const info = new Client({ endpoint: tree.endpoint, requestTimeoutMs: 500, deadlineMs: 10_000 });
    while ((await info.info()).commitSeq < 110_000) await loadFromProcesses(tree.endpoint, 64, 2000);
    await info.close();
    for (const n of [1, 16, 64]) results[`set@${n}`] = await loadFromProcesses(tree.endpoint, n, DURATION_MS);
    await tree.stop();
  }
  // Crash failover under load: SIGKILL → first acknowledged write.
  {
    const tree = new Tree('crash');
    await tree.start();
    await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync');
    const load = closedLoopLoad(tree.endpoint, { requestTimeoutMs: 100 });
    await sleep(500);
    const t = performance.now();
    process.kill(tree.pid('primary'), 'SIGKILL');
    // Replies already on the wire at the kill land within microseconds; skip those.
    results.crashFailoverMs = (await load.firstAckAfter(t + 20)) - t;
    results.crashFailoverErrors = await load.stop();
    await tree.stop();
  }
  // Hang failover under load with the default 3 s alarm.
  {
    const tree = new Tree('hang');
    await tree.start();
    await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync');
    const load = closedLoopLoad(tree.endpoint, { requestTimeoutMs: 100 });
    await sleep(500);
    const t = performance.now();
    process.kill(tree.pid('primary'), 'SIGSTOP');
    results.hangFailoverMs = (await load.firstAckAfter(t + 20)) - t;
    results.hangFailoverErrors = await load.stop();
    await tree.stop();
  }
  return results;
}
