// The floor of a client-visible failover: a bare zeromq echo server SIGKILLed while a second
// one retries binding its port every millisecond, so the client's reconnect (every 10 ms plus
// libzmq's jitter) is all that is left to wait for. Same writers as the osps figure.
import { spawn } from 'node:child_process';
import { ROOT, freePort, sleep } from './tree.mjs';
import { zmqWriters } from './zmq-writer.mjs';

/** A ROUTER that binds `endpoint` as soon as it is free and answers every request OK (with its id). */
const TAKEOVER = `import * as zmq from 'zeromq';
const r = new zmq.Router({ linger: 0 });
process.stdout.write('ready\\n');
for (;;) {
  try { await r.bind(process.argv[1]); break; } catch { await new Promise((ok) => setTimeout(ok, 1)); }
}
for await (const [id, frame] of r) {
  const req = JSON.parse(frame.toString());
  await r.send([id, JSON.stringify({ id: req.id, ok: true, result: 'OK' })]);
}`;

function server(endpoint) {
  const p = spawn(process.execPath, ['--input-type=module', '-e', TAKEOVER, endpoint], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise((resolve) => p.stdout.on('data', (d) => d.toString().includes('ready') && resolve()));
  return { p, ready };
}

/** One round: SIGKILL of the serving echo → first acknowledged write sent after it (ms). */
export async function floorOnce() {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const a = server(endpoint);
  await a.ready;
  const writers = zmqWriters(endpoint, { prefix: 'floor' });
  const b = server(endpoint);
  try {
    await b.ready;
    await sleep(300);
    const t = performance.now();
    a.p.kill('SIGKILL');
    return (await writers.firstAckAfter(t)) - t;
  } finally {
    await writers.stop();
    for (const s of [a, b]) s.p.kill('SIGKILL');
  }
}

