// The Redis Sentinel anchor for failover: a master, one replica (bench/redis-pair.mjs) and one
// Sentinel (quorum 1, down-after 3000 ms, like osps's 3 s alarm). A client that asks Sentinel
// for the master and writes to it, retrying every 10 ms, measures SIGKILL or SIGSTOP of the
// master → the first acknowledged SET on whoever is master next. Sentinel runs as
// `redis-sentinel`, or as the same binary `redis-server CONF --sentinel` when only that is here.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { hasCommand, startRedisPair } from './redis-pair.mjs';
import { freePort, sleep, waitFor } from './tree.mjs';

const DOWN_AFTER_MS = 3000;
const RETRY_MS = 10;
const REPLY_TIMEOUT_MS = 30;

/** The command that runs Sentinel here, or null (then `sentinelHint` says how to get it). */
export function sentinelCommand() {
  if (spawnSync('sh', ['-c', 'command -v redis-sentinel'], { stdio: 'ignore' }).status === 0) return (conf) => ['redis-sentinel', [conf]];
  if (hasCommand('redis-server')) return (conf) => ['redis-server', [conf, '--sentinel']];
  return null;
}

export const sentinelHint = 'Redis Sentinel not found: the Sentinel anchor is skipped (Debian/Ubuntu: apt-get install redis-sentinel, or redis-server, whose binary runs Sentinel with --sentinel)';

/** One RESP command on a fresh connection; its reply (string, number, array or Error), or null on timeout. */
function resp(port, args, timeoutMs = REPLY_TIMEOUT_MS) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port, noDelay: true });
    let buf = '';
    const done = (v) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    sock.on('error', () => done(null));
    sock.on('connect', () => sock.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    sock.setEncoding('latin1');
    sock.on('data', (d) => {
      buf += d;
      const r = parse(buf, 0);
      if (r) done(r.v);
    });
  });
}

/** A whole RESP value at `at` in `s`, or null while incomplete. */
function parse(s, at) {
  const nl = s.indexOf('\r\n', at);
  if (nl < 0) return null;
  const head = s.slice(at + 1, nl);
  switch (s[at]) {
    case '+': return { v: head, end: nl + 2 };
    case '-': return { v: new Error(head), end: nl + 2 };
    case ':': return { v: Number(head), end: nl + 2 };
    case '$': {
      const n = Number(head);
      if (n < 0) return { v: null, end: nl + 2 };
      return s.length >= nl + 2 + n + 2 ? { v: s.slice(nl + 2, nl + 2 + n), end: nl + 2 + n + 2 } : null;
    }
    case '*': {
      const out = [];
      let end = nl + 2;
      for (let i = 0; i < Number(head); i++) {
        const r = parse(s, end);
        if (!r) return null;
        out.push(r.v);
        end = r.end;
      }
      return { v: out, end };
    }
    default: return { v: new Error(`bad reply ${s[at]}`), end: s.length };
  }
}

/** Writers that ask Sentinel for the master before each SET; every acknowledged SET is recorded. */
function sentinelWriter(sentinelPort) {
  const acks = [];
  let running = true;
  const loop = (async () => {
    for (let k = 0; running; k++) {
      const sentAt = performance.now();
      const addr = await resp(sentinelPort, ['SENTINEL', 'get-master-addr-by-name', 'm']);
      const ok = Array.isArray(addr) && (await resp(Number(addr[1]), ['SET', `s-${k & 255}`, 'x'])) === 'OK';
      if (ok) acks.push({ sentAt, at: performance.now() });
      else await sleep(RETRY_MS);
    }
  })();
  return {
    async firstAckAfter(t, timeoutMs = 60_000) {
      await waitFor('a SET acknowledged after the fault', () => acks.some((a) => a.sentAt > t), timeoutMs);
      return acks.find((a) => a.sentAt > t).at;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** One Sentinel failover: `signal` SIGKILL or SIGSTOP of the master → first acknowledged SET after it (ms). */
export async function sentinelFailover(signal) {
  const command = sentinelCommand();
  const pair = await startRedisPair();
  if (!command || !pair) return NaN;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-bench-sentinel-'));
  const port = await freePort();
  const conf = path.join(dir, 'sentinel.conf');
  fs.writeFileSync(conf, [
    `port ${port}`, 'bind 127.0.0.1', 'daemonize no', `dir ${dir}`,
    `sentinel monitor m 127.0.0.1 ${pair.port} 1`,
    `sentinel down-after-milliseconds m ${DOWN_AFTER_MS}`,
    'sentinel failover-timeout m 10000',
  ].join('\n'));
  const [cmd, args] = command(conf);
  const sentinel = spawn(cmd, args, { stdio: 'ignore' });
  let writer = null;
  try {
    // Sentinel learns the replica from the master's INFO; a failover needs it known.
    await waitFor('sentinel to know the replica', async () => {
      const r = await resp(port, ['SENTINEL', 'replicas', 'm'], 500);
      return Array.isArray(r) && r.length > 0;
    }, 30_000);
    writer = sentinelWriter(port);
    await sleep(300);
    const t = performance.now();
    process.kill(pair.masterPid, signal);
    return (await writer.firstAckAfter(t)) - t;
  } finally {
    await writer?.stop();
    try {
      process.kill(pair.masterPid, 'SIGCONT');
    } catch {
      // already gone
    }
    sentinel.kill('SIGKILL');
    await pair.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
