// The idle watchdog beside a bare Node process that holds one bound zeromq socket, in the same
// run: RSS (VmRSS, median of samples) and CPU % over an idle window (utime + stime from
// /proc/PID/stat). The tree runs with its defaults: 1 s ping, 3 s alarm, no --metrics.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, Tree, freePort, sleep } from './tree.mjs';
import { median } from './failover.mjs';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
const BARE = `import * as zmq from 'zeromq';
const s = new zmq.Router({ linger: 0 });
await s.bind(process.argv[1]);
process.stdout.write('ready\\n');
setInterval(() => {}, 1 << 30);`;

const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

function cpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** The packages the idle watchdog of a tree without --metrics loaded (bench/loaded-preload.mjs in every process). */
async function loadedByWatchdog() {
  const file = path.join(os.tmpdir(), `osps-bench-loaded-${process.pid}`);
  fs.rmSync(file, { force: true });
  const tree = new Tree('loaded', [], { NODE_OPTIONS: `--import=${path.join(ROOT, 'bench', 'loaded-preload.mjs')}`, OSPS_BENCH_LOADED: file });
  await tree.start();
  try {
    await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 20_000);
    await sleep(2500);
    const wd = String(tree.watchdogPid);
    return [...new Set(fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.split(' ')[0] === wd).map((l) => l.split(' ')[1]))].sort();
  } finally {
    await tree.stop();
    fs.rmSync(file, { force: true });
  }
}

export async function benchWatchdogLean({ idleMs = 30_000, log = () => {} } = {}) {
  const tree = new Tree('lean');
  await tree.start();
  const bare = spawn(process.execPath, ['--input-type=module', '-e', BARE, `tcp://127.0.0.1:${await freePort()}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise((resolve, reject) => {
      bare.stdout.on('data', (d) => d.toString().includes('ready') && resolve());
      bare.once('exit', (code) => reject(new Error(`bare zeromq process exited ${code}`)));
    });
    await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 20_000);
    // Settled: the standby's sync and the first samples are behind.
    await sleep(5000);
    const wd = tree.watchdogPid;
    const c0 = { wd: cpuTicks(wd), bare: cpuTicks(bare.pid) };
    const rss = { wd: [], bare: [] };
    for (const end = performance.now() + idleMs; performance.now() < end; ) {
      rss.wd.push(rssMiB(wd));
      rss.bare.push(rssMiB(bare.pid));
      await sleep(1000);
    }
    const secs = idleMs / 1000;
    const out = {
      watchdogRssMiB: median(rss.wd),
      bareRssMiB: median(rss.bare),
      watchdogCpuPct: ((cpuTicks(wd) - c0.wd) / CLK_TCK / secs) * 100,
      bareCpuPct: ((cpuTicks(bare.pid) - c0.bare) / CLK_TCK / secs) * 100,
    };
    out.loaded = await loadedByWatchdog();
    log(`watchdog ${out.watchdogRssMiB.toFixed(1)} MiB ${out.watchdogCpuPct.toFixed(2)} %, bare ${out.bareRssMiB.toFixed(1)} MiB`);
    return out;
  } finally {
    bare.kill('SIGKILL');
    await tree.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchWatchdogLean({ log: (s) => process.stderr.write(`${s}\n`) }), null, 1));
}
