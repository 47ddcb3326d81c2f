// Start → first answer: `osps start` (launcher → watchdog → primary) against a bare Node
// zeromq server (bench/echo-server.mjs zmq), both asked by the same 10 ms-reconnecting client
// from the moment the process is spawned. Each osps start also says where the time went
// (the watchdog's events), and a bare `node -e 0` gives the cost of one Node start here.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT, Tree, freePort } from './tree.mjs';
import { firstAnswer } from './zmq-writer.mjs';
import { median } from './failover.mjs';

async function bareOnce() {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const t = performance.now();
  const p = spawn(process.execPath, [path.join(ROOT, 'bench', 'echo-server.mjs'), 'zmq', endpoint], { stdio: 'ignore' });
  try {
    return (await firstAnswer(endpoint)) - t;
  } finally {
    p.kill('SIGKILL');
    await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', r)));
  }
}

async function ospsOnce(i) {
  const tree = new Tree(`start${i}`);
  const wall = Date.now();
  await tree.start();
  try {
    const ms = (await firstAnswer(tree.endpoint)) - tree.startedAt;
    const at = (pred) => {
      const e = tree.tree.events.find((x) => pred(x.raw));
      return e ? Date.parse(e.raw.ts) - wall : NaN;
    };
    return {
      ms,
      watchdog: at((e) => e.event === 'starting'),
      primarySpawned: at((e) => e.event === 'spawned' && e.role === 'primary'),
      primaryReady: at((e) => e.event === 'ready' && e.role === 'primary'),
    };
  } finally {
    await tree.stop();
  }
}

/** One Node start to exit, as a reference: a start in series costs at least this. */
function nodeStartMs() {
  const t = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return performance.now() - t;
}

export async function benchStart({ rounds = 5, log = () => {} } = {}) {
  const osps = [];
  const bare = [];
  const node = [];
  for (let i = 0; i < rounds; i++) {
    bare.push(await bareOnce());
    osps.push(await ospsOnce(i));
    node.push(nodeStartMs());
    log(`start ${i + 1}/${rounds}: osps ${osps.at(-1).ms.toFixed(0)} ms, bare ${bare.at(-1).toFixed(0)} ms`);
  }
  const med = (k) => median(osps.map((r) => r[k]));
  return { osps: med('ms'), bare: median(bare), nodeStart: median(node), watchdog: med('watchdog'), primarySpawned: med('primarySpawned'), primaryReady: med('primaryReady') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchStart({ log: (s) => process.stderr.write(`${s}\n`) }), null, 1));
}
