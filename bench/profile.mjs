// Where a replicated write's CPU goes: runs a tree whose servers record a V8 CPU profile
// while bench/loadgen.mjs drives it (bench/profile-hook.mjs, started and stopped by signal),
// and prints each server's self time per function, largest first.
//   node bench/profile.mjs [clients=64] [seconds=4] [zmq|resp]
// Raw profiles stay in the printed directory (open them in Chrome DevTools).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tree as HarnessTree } from '../dist/harness/tree.js';
import { ROOT, freePort, sleep } from './tree.mjs';

const clients = Number(process.argv[2] ?? 64);
const seconds = Number(process.argv[3] ?? 4);
const kind = process.argv[4] ?? 'zmq';
const TOP = Number(process.env.PROFILE_TOP ?? 25);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-prof-'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-bench-'));
const port = await freePort();
const respPort = await freePort();
const tree = new HarnessTree({
  name: `bench-prof-${process.pid}`,
  runtimeRoot: path.join(tmp, 'run'),
  dataDir: path.join(tmp, 'data'),
  endpoint: `tcp://127.0.0.1:${port}`,
  args: ['--resp', `127.0.0.1:${respPort}`],
  env: { NODE_OPTIONS: `--import=${path.join(ROOT, 'bench', 'profile-hook.mjs')}`, OSPS_PROFILE_DIR: dir },
});

function loadgen(n, procs) {
  const per = Math.ceil(n / procs);
  return Promise.all(Array.from({ length: procs }, (_, i) => new Promise((resolve, reject) => {
    const o = { kind, target: kind === 'zmq' ? `tcp://127.0.0.1:${port}` : `127.0.0.1:${respPort}`, clients: Math.min(per, n - i * per), warmupMs: 300, durationMs: seconds * 1000, prefix: `p${i}` };
    // The generators must not profile themselves.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    delete env.OSPS_PROFILE_DIR;
    const p = spawn(process.execPath, [path.join(ROOT, 'bench', 'loadgen.mjs'), JSON.stringify(o)], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.once('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`loadgen exited ${code}`))));
  })));
}

let pids;
try {
  await tree.start({ waitReady: false });
  await tree.waitEvent((e) => e.event === 'standby' && e.fields.standby === 'in-sync', 20_000);
  pids = { primary: tree.pid('primary'), secondary: tree.pid('secondary') };
  const running = loadgen(clients, clients === 1 ? 1 : 2);
  // Profiled: the measured window only, not start-up or warm-up.
  await sleep(300);
  for (const pid of Object.values(pids)) process.kill(pid, 'SIGURG');
  await sleep(seconds * 1000);
  for (const pid of Object.values(pids)) process.kill(pid, 'SIGURG');
  const reports = await running;
  await sleep(500);
  const ops = reports.reduce((s, r) => s + r.inWindow, 0) / seconds;
  console.log(`${kind} ${clients} clients: ${Math.round(ops)} writes/s while profiled (the profiler costs some)`);
} finally {
  await tree.stop(10_000);
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** Self time per function (name + place), in ms, from one .cpuprofile. */
function selfTimes(file) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const dt = (prof.endTime - prof.startTime) / 1000 / Math.max(1, prof.samples.length);
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of prof.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const agg = new Map();
  let total = 0;
  for (const [id, c] of counts) {
    const f = byId.get(id).callFrame;
    const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    agg.set(key, (agg.get(key) ?? 0) + c * dt);
    total += c * dt;
  }
  return { total, rows: [...agg].sort((a, b) => b[1] - a[1]) };
}

for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
  const pid = Number(f.split('.')[1]);
  const role = pid === pids?.primary ? 'primary' : pid === pids?.secondary ? 'secondary' : null;
  if (!role) continue;
  const { total, rows } = selfTimes(path.join(dir, f));
  const busy = rows.filter(([k]) => !k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
  console.log(`\n${role} (pid ${pid}): ${(busy / 1000).toFixed(2)} s busy of ${(total / 1000).toFixed(2)} s profiled — self time, top ${TOP}`);
  for (const [k, v] of rows.slice(0, TOP)) console.log(`  ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
}
console.log(`\nprofiles: ${dir}`);
