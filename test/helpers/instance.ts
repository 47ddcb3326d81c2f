// An osps tree for an integration test, with its own name, runtime dir, data dir and port,
// started and read through the shared harness (src/harness/tree.ts: the JSON event stream),
// and checked after the stop for anything left behind.
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { Client } from '../../dist/client/client.js';
import { LAUNCHER, REPO_ROOT, Tree, type TreeEvent, type TreeExit } from '../../dist/harness/tree.js';
import { isAlive as alive } from '../../dist/runtime/proc.js';
import { freePort } from '../../dist/net/free-port.js';
import { runtimePaths, type RuntimePaths } from '../../dist/runtime/paths.js';

export { freePort, LAUNCHER };

export const ROOT = REPO_ROOT;

/** An event as a flat record of strings: `{ event: 'promoted', role: 'primary', pid: '1234', … }`. */
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
    await sleep(stepMs);
  }
}

/** Alive and not a zombie (orphans re-parented to a pid 1 that never reaps stay zombies). */
export function isAlive(pid: number): boolean {
  return alive(pid);
}

// A test process that ends abruptly still stops the trees it started (as execa's cleanup did).
const running = new Set<Tree>();
process.once('exit', () => {
  for (const t of running) t.signal('SIGTERM');
});

function flat(e: TreeEvent): Event {
  return { ...e.fields, event: e.event };
}

/** The launcher as a promise of its end (after its stdout closed, like execa's), with kill and pid. */
export type LauncherHandle = Promise<{ exitCode: number | null; signal: string | null }> & { pid: number; kill(sig?: NodeJS.Signals): void };

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
  proc: LauncherHandle | null = null;
  private tree: Tree | null = null;
  /** Events of every start of this instance, in order. */
  private readonly trees: Tree[] = [];

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

  /** Every event so far, of every start, as flat records. */
  get events(): Event[] {
    return this.trees.flatMap((t) => t.events.map(flat));
  }

  get stdout(): string {
    return this.trees.map((t) => t.stdout).join('');
  }

  get stderr(): string {
    return this.trees.map((t) => t.stderr).join('');
  }

  /** Every pid the tree announced: launchers, watchdogs, servers. */
  get pids(): Set<number> {
    return new Set(this.trees.flatMap((t) => [...t.pids.keys()]));
  }

  async start(opts: { waitReady?: boolean } = {}): Promise<void> {
    const mark = this.events.length;
    const port = this.opts.port ?? (await freePort());
    this.endpoint = `tcp://127.0.0.1:${port}`;
    const o = this.opts;
    const tree = new Tree({
      name: this.name,
      runtimeRoot: this.runtimeRoot,
      dataDir: this.dataDir,
      endpoint: this.endpoint,
      args: [
        '--ping-interval', String(o.pingInterval ?? 100),
        '--alarm', String(o.alarm ?? 1000),
        '--orphan-timeout', String(o.orphanTimeout ?? 3000),
        '--max-restarts', String(o.maxRestarts ?? 20),
        '--restart-window', String(o.restartWindow ?? 60_000),
        ...(o.extraArgs ?? []),
      ],
      env: { OSPS_LOG: '', ...(process.env.OSPS_TEST_VERBOSE ? { OSPS_VERBOSE: '1' } : {}), ...(o.env ?? {}) },
      verbose: !!process.env.OSPS_TEST_VERBOSE,
    });
    this.tree = tree;
    this.trees.push(tree);
    running.add(tree);
    await tree.start({ waitReady: false });
    void tree.exitedPromise.then(() => running.delete(tree));
    const end = tree.closed.then((x: TreeExit) => ({ exitCode: x.code, signal: x.signal }));
    this.proc = Object.assign(end, { pid: tree.launcherPid, kill: (sig: NodeJS.Signals = 'SIGTERM') => tree.signal(sig) });
    if (opts.waitReady === false) return;
    await this.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 15_000, mark);
  }

  /** Pid of the current watchdog (the last one that announced itself). */
  get watchdogPid(): number {
    return this.tree?.watchdogPid ?? 0;
  }

  get launcherPid(): number {
    return this.tree?.launcherPid ?? 0;
  }

  /** Waits for an event matching `pred` that has not been seen before index `from`. */
  async waitEvent(pred: (e: Event) => boolean, timeoutMs = 10_000, from = 0): Promise<Event> {
    const t = this.tree;
    if (!t) throw new Error('the instance was not started');
    const before = this.events.length - t.events.length;
    const earlier = this.events.slice(from, before).find(pred);
    if (earlier) return earlier;
    return flat(await t.waitEvent((e) => pred(flat(e)), timeoutMs, Math.max(0, from - before)));
  }

  /** Pid of the current holder of a role, from the event stream (adoptions and failovers included). */
  currentPid(role: 'primary' | 'secondary'): number {
    const pid = this.tree?.pid(role) ?? 0;
    // process.kill(0, …) would signal our whole process group.
    if (pid <= 1) throw new Error(`no ${role} known from the events of ${this.name}`);
    return pid;
  }

  async cli(args: string[], opts: { timeout?: number } = {}) {
    return execa(process.execPath, [LAUNCHER, ...args], { reject: false, timeout: opts.timeout ?? 20_000, stdin: 'ignore' });
  }

  /** Stops the tree (SIGTERM to the launcher) and asserts nothing of it remains. */
  async stopAndCheck(): Promise<{ exitCode: number | undefined; leftovers: string[] }> {
    let exitCode: number | undefined;
    const t = this.tree;
    if (t) {
      const r = await t.stop(10_000);
      exitCode = r ? (r.code ?? undefined) : undefined;
    }
    return { exitCode, leftovers: await this.leftovers() };
  }

  async leftovers(): Promise<string[]> {
    const left: string[] = [];
    const pids = this.pids;
    await waitFor('processes to exit', () => [...pids].every((p) => !isAlive(p)), 8000).catch(() => {});
    for (const p of pids) if (isAlive(p)) left.push(`process ${p}`);
    if (fs.existsSync(`/dev/shm${this.paths.shmName}`)) left.push(`shm ${this.paths.shmName}`);
    if (fs.existsSync(this.paths.dir)) left.push(`runtime dir ${this.paths.dir}: ${fs.readdirSync(this.paths.dir).join(',')}`);
    return left;
  }

  /** Last resort for a failed test: kill the pids the tree announced, remove what we made. */
  async destroy(): Promise<void> {
    for (const t of this.trees) await t.kill();
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
