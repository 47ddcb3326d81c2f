// Redis as the scale anchor, configured as the benchmarks compare it: appendonly yes with
// appendfsync everysec, no RDB snapshots of its own. One server or a master and a new replica,
// each in its own temp dir, on free loopback ports; a raw RESP poller that tells a loading
// server (-LOADING) from one that answers.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../tree.mjs';

export { hasCommand } from '../redis-pair.mjs';

const AOF = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''];

/** A redis-server with AOF; `dir` reused across a kill and restart. */
export class RedisServer {
  constructor(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-bench-redis-'))) {
    this.dir = dir;
  }

  async start(port, extra = []) {
    this.port = port ?? this.port ?? (await freePort());
    this.startedAt = performance.now();
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, ...AOF, '--daemonize', 'no', ...extra], { stdio: 'ignore' });
    this.exited = new Promise((r) => this.proc.once('exit', r));
    return this;
  }

  async kill() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }

  async stop() {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One command over a fresh connection: the first reply line (and a bulk's body), or null if refused. */
export function call(port, args, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    const done = (v) => {
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(null), timeoutMs);
    s.on('error', () => done(null));
    s.on('connect', () => s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    s.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\r\n');
      if (nl < 0) return;
      const head = buf.slice(0, nl);
      if (head[0] !== '$' || head === '$-1') return done(head);
      const len = Number(head.slice(1));
      if (buf.length >= nl + 2 + len + 2) done(buf.slice(nl + 2, nl + 2 + len));
    });
  });
}

/** Polls GET `key` until the server answers it (not refused, not -LOADING); ms since `since`. */
export async function firstAnswer(port, key, since, timeoutMs = 120_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const r = await call(port, ['GET', key], 1000);
    if (r !== null && !r.startsWith('-LOADING')) return { ms: performance.now() - since, reply: r };
    if (performance.now() > deadline) throw new Error(`redis on ${port} did not answer within ${timeoutMs} ms`);
    await sleep(2);
  }
}

/** INFO `section` as a map. */
export async function info(port, section) {
  const r = (await call(port, ['INFO', section])) ?? '';
  return Object.fromEntries(r.split('\r\n').filter((l) => l.includes(':')).map((l) => l.split(':', 2)));
}

/** Waits until a replica has loaded its full sync and streams from its master. */
export async function waitReplicaInSync(port, timeoutMs = 300_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const i = await info(port, 'replication');
    if (i.master_link_status === 'up' && i.master_sync_in_progress === '0') return;
    if (performance.now() > deadline) throw new Error(`redis replica on ${port} not in sync within ${timeoutMs} ms`);
    await sleep(5);
  }
}
