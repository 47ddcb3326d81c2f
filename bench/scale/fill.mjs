// Fills a running osps instance (zeromq wire) or a Redis (RESP) with N keys of V-byte values,
// as fast as one process can: a few connections, each with a window of requests in flight.
// Both sides get the same keys and values (keyOf / valueOf), so a test can read them back.
//
//   import { fillOsps, fillRedis, keyOf, valueOf } from './fill.mjs';
//   await fillOsps('tcp://127.0.0.1:7400', { keys: 1e6, valueBytes: 16 });   // → { keys, ms, perSec, retried }
//   await fillRedis(6379, { keys: 1e6, valueBytes: 16, wait: true });        // WAIT 1 at the end
//
//   node bench/scale/fill.mjs osps tcp://127.0.0.1:7400 1000000 16
//   node bench/scale/fill.mjs redis 6379 1000000 16
//
// Options (both): keys, valueBytes, from (first index, default 0), connections (default 4),
// window (requests in flight per connection, default 512), prefix (of osps request ids).
// A write refused by osps (e.g. UNAVAILABLE under backpressure) is resent with the same id,
// so every key is set exactly once.
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import * as zmq from 'zeromq';

/** The i-th key: `key:<i>`. */
export const keyOf = (i) => `key:${i}`;

/** The i-th value: its index, padded with 'v' to `bytes` (JSON- and RESP-safe ASCII). */
export function valueOf(i, bytes) {
  const s = String(i);
  return s.length >= bytes ? s.slice(0, bytes) : s + 'v'.repeat(bytes - s.length);
}

function split(from, keys, connections) {
  const per = Math.ceil(keys / connections);
  const out = [];
  for (let a = from; a < from + keys; a += per) out.push([a, Math.min(a + per, from + keys)]);
  return out;
}

/** Sets keys [from, from + keys) on an osps instance; resolves once every one is acknowledged. */
export async function fillOsps(endpoint, { keys, valueBytes = 16, from = 0, connections = 4, window = 512, prefix = `fill-${process.pid}` }) {
  const t0 = performance.now();
  const counts = await Promise.all(split(from, keys, connections).map(([a, b]) => zmqRange(endpoint, a, b, valueBytes, window, prefix)));
  const ms = performance.now() - t0;
  return { keys, ms, perSec: (keys * 1000) / ms, retried: counts.reduce((s, n) => s + n, 0) };
}

/** One DEALER connection setting keys [a, b): a sliding window of requests; refused ones go again. */
async function zmqRange(endpoint, a, b, valueBytes, window, prefix) {
  const s = new zmq.Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0 });
  s.connect(endpoint);
  const frame = (i) => Buffer.from(`{"id":"${prefix}-${i}","op":"set","key":"${keyOf(i)}","value":"${valueOf(i, valueBytes)}"}`);
  let todo = [];
  for (let i = a; i < b; i++) todo.push(i);
  let retried = 0;
  try {
    for (let round = 0; todo.length > 0; round++) {
      if (round > 50) throw new Error(`fill: ${todo.length} writes still refused after 50 rounds`);
      if (round > 0) {
        retried += todo.length;
        await new Promise((r) => setTimeout(r, 100));
      }
      todo = await zmqPass(s, todo, frame, window, prefix);
    }
  } finally {
    s.close();
  }
  return retried;
}

/** Sends every index of `todo` once; resolves to the indices whose write was refused. */
async function zmqPass(s, todo, frame, window, prefix) {
  const refused = [];
  let acked = 0;
  let wake = null;
  const receiving = (async () => {
    while (acked < todo.length) {
      const [reply] = await s.receive();
      acked++;
      if (!reply.includes('"ok":true')) {
        const r = JSON.parse(reply.toString());
        if (typeof r.id !== 'string' || !r.id.startsWith(`${prefix}-`)) throw new Error(`fill: unexpected reply ${reply.toString().slice(0, 200)}`);
        if (r.error?.code !== 'UNAVAILABLE') throw new Error(`fill: write refused: ${reply.toString().slice(0, 200)}`);
        refused.push(Number(r.id.slice(prefix.length + 1)));
      }
      if (wake) {
        const w = wake;
        wake = null;
        w();
      }
    }
  })();
  let failed = null;
  receiving.catch((err) => {
    failed = err;
    wake?.();
  });
  for (let n = 0; n < todo.length; n++) {
    while (n - acked >= window && !failed) await new Promise((r) => (wake = r));
    if (failed) break;
    await s.send(frame(todo[n]));
  }
  await receiving;
  return refused;
}

/**
 * Sets keys [from, from + keys) on a Redis at 127.0.0.1:`port` with pipelined SETs; with
 * `wait`, ends with WAIT 1 0 so the replica has them all too.
 */
export async function fillRedis(port, { keys, valueBytes = 16, from = 0, connections = 4, window = 512, wait = false }) {
  const t0 = performance.now();
  await Promise.all(split(from, keys, connections).map(([a, b]) => respRange(port, a, b, valueBytes, window)));
  if (wait) await redisCommand(port, ['WAIT', '1', '0']);
  const ms = performance.now() - t0;
  return { keys, ms, perSec: (keys * 1000) / ms, retried: 0 };
}

const bulk = (s) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
const resp = (args) => `*${args.length}\r\n${args.map(bulk).join('')}`;

/** One RESP connection setting keys [a, b) with up to `window` SETs unanswered. */
function respRange(port, a, b, valueBytes, window) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let next = a;
    let answered = 0;
    const total = b - a;
    let tail = '';
    const pump = () => {
      const parts = [];
      while (next < b && next - a - answered < window) {
        parts.push(resp(['SET', keyOf(next), valueOf(next, valueBytes)]));
        next++;
      }
      if (parts.length > 0) sock.write(parts.join(''));
    };
    sock.setEncoding('latin1');
    sock.on('connect', pump);
    sock.on('error', reject);
    sock.on('data', (d) => {
      // SET answers one line: +OK, or -ERR ….
      const text = tail + d;
      const lines = text.split('\r\n');
      tail = lines.pop() ?? '';
      for (const line of lines) {
        if (line[0] === '-') {
          sock.destroy();
          reject(new Error(`fill: redis refused a SET: ${line}`));
          return;
        }
        answered++;
      }
      if (answered >= total) {
        sock.end();
        resolve();
      } else pump();
    });
  });
}

/** One command on a fresh connection; resolves to its reply's first line. */
export function redisCommand(port, args) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port }, () => sock.write(resp(args)));
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\r\n');
      if (nl < 0) return;
      sock.end();
      const line = buf.slice(0, nl);
      if (line[0] === '-') reject(new Error(line));
      else resolve(line);
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [kind, target, keys = '100000', valueBytes = '16'] = process.argv.slice(2);
  const o = { keys: Number(keys), valueBytes: Number(valueBytes) };
  if (kind === 'osps' && target) console.log(JSON.stringify(await fillOsps(target, o)));
  else if (kind === 'redis' && target) console.log(JSON.stringify(await fillRedis(Number(target), { ...o, wait: true })));
  else {
    console.error('usage: fill.mjs osps ENDPOINT [KEYS] [VALUE_BYTES] | fill.mjs redis PORT [KEYS] [VALUE_BYTES]');
    process.exit(2);
  }
}
