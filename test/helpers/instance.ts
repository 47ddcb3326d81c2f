// Runs a real osps tree (launcher → watchdog → primary + secondary) for an integration test,
// with its own name, runtime dir, data dir and port, and checks that nothing is left after.
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { Client } from '../../src/client/client.js';
import { parseEventLine } from '../../src/chaos/tree.js';
import { isAlive as processAlive } from '../../src/runtime/proc.js';
import { freePort } from '../../src/net/free-port.js';
import { runtimePaths, type RuntimePaths } from '../../src/runtime/paths.js';

export { freePort };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LAUNCHER = path.join(ROOT, 'launcher.js');

export interface Event {
  event: string;
  [k: string]: string;
}


export async function waitFor<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Alive and not a zombie (orphans re-parented to a pid 1 that never reaps stay zombies). */
export function isAlive(pid: number): boolean {
  return processAlive(pid);
}

/** A foreground event line as a flat record (`HH:MM:SS.mmm event k=v k=v`). */
export function parseEvent(line: string): Event | null {
  const p = parseEventLine(line);
  return p && { ...p.fields, event: p.event };
}

export interface InstanceOptions {
  pingInterval?: number;
  alarm?: number;
  orphanTimeout?: number;
  maxRestarts?: number;
  restartWindow?: number;
  extraArgs?: string[];
  port?: number;
  env?: Record<string, string>;
}

export class Instance {
  readonly name: string;
  readonly tmp: string;
  readonly runtimeRoot: string;
  readonly dataDir: string;
  readonly paths: RuntimePaths;
  endpoint = '';
  proc: ResultPromise | null = null;
  readonly events: Event[] = [];
  stdout = '';
  stderr = '';
  readonly pids = new Set<number>();

  constructor(label: string, readonly opts: InstanceOptions = {}) {
    this.name = `t-${label}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-it-'));
    this.runtimeRoot = path.join(this.tmp, 'run');
    this.dataDir = path.join(this.tmp, 'data');
    this.paths = runtimePaths(this.name, this.runtimeRoot);
  }

  /** Arguments every CLI call needs to find this instance. */
  get instanceArgs(): string[] {
    return ['--name', this.name, '--runtime-dir', this.runtimeRoot];
  }

  async start(opts: { waitReady?: boolean } = {}): Promise<void> {
    const mark = this.events.length;
    const port = this.opts.port ?? (await freePort());
    this.endpoint = `tcp://127.0.0.1:${port}`;
    const o = this.opts;
    const args = [
      LAUNCHER, 'start', ...this.instanceArgs,
      '--data-dir', this.dataDir,
      '--endpoint', this.endpoint,
      '--ping-interval', String(o.pingInterval ?? 100),
      '--alarm', String(o.alarm ?? 1000),
      '--orphan-timeout', String(o.orphanTimeout ?? 3000),
      '--max-restarts', String(o.maxRestarts ?? 20),
      '--restart-window', String(o.restartWindow ?? 60_000),
      ...(o.extraArgs ?? []),
    ];
    this.proc = execa(process.execPath, args, { reject: false, buffer: false, stdin: 'ignore', cleanup: true, env: { OSPS_LOG: '', ...(process.env.OSPS_TEST_VERBOSE ? { OSPS_VERBOSE: '1' } : {}), ...(o.env ?? {}) } });
    this.proc.stdout?.setEncoding('utf8');
    this.proc.stderr?.setEncoding('utf8');
    let partial = '';
    this.proc.stdout?.on('data', (chunk: string) => {
      this.stdout += chunk;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const e = parseEvent(line);
        if (!e) continue;
        this.events.push(e);
        if (e.pid && (e.event === 'spawned' || e.event === 'adopted')) this.pids.add(Number(e.pid));
        if (e.event === 'starting' && e.pid) this.pids.add(Number(e.pid));
      }
    });
    this.proc.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
      if (process.env.OSPS_TEST_VERBOSE) process.stderr.write(chunk);
    });
    if (this.proc.pid) this.pids.add(this.proc.pid);
    if (opts.waitReady === false) return;
    await this.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 15_000, mark);
  }

  /** Pid of the current watchdog (the last one that announced itself). */
  get watchdogPid(): number {
    const starts = this.events.filter((e) => e.event === 'starting');
    return Number(starts[starts.length - 1]?.pid ?? 0);
  }

  get launcherPid(): number {
    return this.proc?.pid ?? 0;
  }

  /** Waits for an event matching `pred` that has not been seen before index `from`. */
  async waitEvent(pred: (e: Event) => boolean, timeoutMs = 10_000, from = 0): Promise<Event> {
    return waitFor(`event in ${this.name}\n--- stdout:\n${this.stdout.slice(-3000)}\n--- stderr:\n${this.stderr.slice(-3000)}`, () => this.events.slice(from).find(pred), timeoutMs);
  }

  /** Pid of the current holder of a role, from the event stream. */
  currentPid(role: 'primary' | 'secondary'): number {
    let pid = 0;
    for (const e of this.events) {
      if ((e.event === 'spawned' || e.event === 'respawned' || e.event === 'promoted') && e.role === role) pid = Number(e.pid);
    }
    return pid;
  }

  async cli(args: string[], opts: { timeout?: number } = {}) {
    return execa(process.execPath, [LAUNCHER, ...args], { reject: false, timeout: opts.timeout ?? 20_000, stdin: 'ignore' });
  }

  /** Stops the tree (SIGTERM to the launcher) and asserts nothing of it remains. */
  async stopAndCheck(): Promise<{ exitCode: number | undefined; leftovers: string[] }> {
    let exitCode: number | undefined;
    if (this.proc && this.proc.exitCode === null && this.proc.pid && isAlive(this.proc.pid)) {
      this.proc.kill('SIGTERM');
    }
    if (this.proc) {
      const r = await Promise.race([this.proc, new Promise<null>((res) => setTimeout(() => res(null), 10_000))]);
      exitCode = r ? r.exitCode : undefined;
    }
    return { exitCode, leftovers: await this.leftovers() };
  }

  async leftovers(): Promise<string[]> {
    const left: string[] = [];
    await waitFor('processes to exit', () => [...this.pids].every((p) => !isAlive(p)), 8000).catch(() => {});
    for (const p of this.pids) if (isAlive(p)) left.push(`process ${p}`);
    if (fs.existsSync(`/dev/shm${this.paths.shmName}`)) left.push(`shm ${this.paths.shmName}`);
    if (fs.existsSync(this.paths.dir)) left.push(`runtime dir ${this.paths.dir}: ${fs.readdirSync(this.paths.dir).join(',')}`);
    return left;
  }

  /** Last resort for a failed test: kill by the pids we saw, remove what we made. */
  async destroy(): Promise<void> {
    for (const p of this.pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const p of this.pids) await waitFor('kill', () => !isAlive(p), 3000).catch(() => {});
    fs.rmSync(`/dev/shm${this.paths.shmName}`, { force: true });
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** afterEach body: close the client, stop the tree, and fail the test if anything is left. */
export async function teardown(inst: Instance | null, client: Client | null): Promise<void> {
  await client?.close();
  if (!inst) return;
  const { leftovers } = await inst.stopAndCheck();
  await inst.destroy();
  expect(leftovers).toEqual([]);
}
