// Starts and stops a real osps tree for benchmarks (same CLI an operator uses).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LAUNCHER = path.join(ROOT, 'launcher.js');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(what, fn, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

// A pid of 0 or 1 passed to process.kill would signal a whole process group or init.
function positive(pid) {
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid known (got ${pid})`);
  return pid;
}

/** A running tree: events parsed from the launcher's stdout, with their arrival times. */
export class Tree {
  constructor(label, extraArgs = []) {
    this.name = `bench-${label}-${process.pid}`;
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-bench-'));
    this.extraArgs = extraArgs;
    this.events = [];
  }

  async start() {
    this.port = await freePort();
    this.endpoint = `tcp://127.0.0.1:${this.port}`;
    this.startedAt = performance.now();
    this.proc = spawn(process.execPath, [LAUNCHER, 'start', '--name', this.name, '--runtime-dir', path.join(this.tmp, 'run'),
      '--data-dir', path.join(this.tmp, 'data'), '--endpoint', this.endpoint, ...this.extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk) => {
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const line of lines) {
        // Event lines only (`HH:MM:SS.mmm event k=v …`), not the launcher's `osps: …` lines.
        const m = /^\d\d:\d\d:\d\d\.\d{3} (\S+)(.*)$/.exec(line);
        if (!m) continue;
        const e = { event: m[1], at: performance.now() };
        for (const kv of m[2].matchAll(/ (\w+)=(\S*)/g)) e[kv[1]] = kv[2];
        this.events.push(e);
      }
    });
    this.proc.stderr.resume();
    this.exited = new Promise((r) => this.proc.once('exit', r));
  }

  waitEvent(pred, timeoutMs = 15_000, from = 0) {
    return waitFor('event', () => this.events.slice(from).find(pred), timeoutMs);
  }

  pid(role) {
    let pid = 0;
    for (const e of this.events) if (['spawned', 'respawned', 'promoted'].includes(e.event) && e.role === role) pid = Number(e.pid);
    return positive(pid);
  }

  get watchdogPid() {
    const starts = this.events.filter((e) => e.event === 'starting');
    return positive(Number(starts.at(-1)?.pid));
  }

  async stop() {
    this.proc.kill('SIGTERM');
    await Promise.race([this.exited, sleep(10_000)]);
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}
