// Runs a real osps tree (launcher → watchdog → primary + secondary) with `--events json`, and
// reads what it does from that stream: every event with its arrival time, who holds which role
// (through failovers and adoptions), every pid it announced. The tests, `osps chaos run` and
// the benchmarks all start their trees through this one class.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseEvent, type EventName, type WatchdogEvent } from '../protocol/events.js';
import { runtimePaths, type RuntimePaths } from '../runtime/paths.js';
import { isSameProcess, processStartTime } from '../runtime/proc.js';
import { RoleTracker, type ServerRole } from './roles.js';

/** The repository root: this file is src/harness/tree.ts or dist/harness/tree.js. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LAUNCHER = path.join(REPO_ROOT, 'launcher.js');

/** One event of the stream, stamped with our clock when it arrived. */
export interface TreeEvent {
  /** Position in `Tree.events`: a mark to wait for events after. */
  index: number;
  /** Date.now() when the line reached us. */
  at: number;
  event: EventName;
  /** The event's fields as strings, as the readable line shows them. */
  fields: Record<string, string>;
  /** The event as the watchdog wrote it. */
  raw: WatchdogEvent;
}

export interface TreeOptions {
  name: string;
  runtimeRoot: string;
  dataDir: string;
  endpoint: string;
  /** Further `osps start` arguments: timings, ring size … */
  args?: string[];
  /** Added to our environment for the tree. */
  env?: Record<string, string>;
  /** Echo the tree's stderr (server logs) and its events to our stderr. */
  verbose?: boolean;
}

export interface TreeExit {
  code: number | null;
  signal: string | null;
}

const TAIL_CHARS = 20_000;

/** An event's fields as flat strings (`pid: 1234` → `'1234'`). */
export function fieldsOf(e: WatchdogEvent): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(e)) if (k !== 'ts' && k !== 'event' && v !== undefined) out[k] = String(v);
  return out;
}

/** `p`, or null after `ms`, without a timer left behind to keep the process alive. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export class Tree {
  readonly paths: RuntimePaths;
  readonly events: TreeEvent[] = [];
  readonly roles = new RoleTracker();
  /** Every pid the tree announced (launcher, watchdogs, servers), with its kernel start time. */
  readonly pids = new Map<number, number | null>();
  /** Everything the launcher wrote on stdout (events, and its own progress lines). */
  stdout = '';
  stderr = '';
  private proc: ChildProcess | null = null;
  private exit: TreeExit | null = null;
  private exitPromise: Promise<TreeExit> | null = null;
  private closePromise: Promise<TreeExit> | null = null;
  private outputEnded = false;
  private readonly emitter = new EventEmitter();

  constructor(readonly opts: TreeOptions) {
    this.emitter.setMaxListeners(0);
    this.paths = runtimePaths(opts.name, opts.runtimeRoot);
  }

  get launcherPid(): number {
    return this.proc?.pid ?? 0;
  }

  /** The watchdog that announced itself last. */
  get watchdogPid(): number {
    return this.roles.watchdog;
  }

  /** The pid holding `role` according to the events, or 0 while nobody does. */
  pid(role: ServerRole): number {
    return this.roles.holder(role);
  }

  /** The launcher's exit, once it has exited. */
  get exited(): TreeExit | null {
    return this.exit;
  }

  /** Resolves when the launcher has exited. */
  get exitedPromise(): Promise<TreeExit> {
    if (!this.exitPromise) throw new Error('the tree was not started');
    return this.exitPromise;
  }

  /** Resolves when the launcher has exited and every holder of its stdout has closed it. */
  get closed(): Promise<TreeExit> {
    if (!this.closePromise) throw new Error('the tree was not started');
    return this.closePromise;
  }

  /** Starts the launcher; unless `waitReady` is false, waits for the primary to report its standby in sync. */
  async start(opts: { waitReady?: boolean; readyTimeoutMs?: number } = {}): Promise<void> {
    const o = this.opts;
    const args = [
      LAUNCHER, 'start',
      '--name', o.name,
      '--runtime-dir', o.runtimeRoot,
      '--data-dir', o.dataDir,
      '--endpoint', o.endpoint,
      '--events', 'json',
      ...(o.args ?? []),
    ];
    const env: NodeJS.ProcessEnv = { ...process.env, OSPS_LOG: process.env.OSPS_LOG ?? '' };
    // A fault switch meant for one tree must not leak into another through our environment.
    delete env.OSPS_CHAOS_WATCHDOG_DIE_AT;
    Object.assign(env, o.env ?? {});
    const mark = this.events.length;
    this.exit = null;
    this.outputEnded = false;
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.proc = proc;
    if (proc.pid) this.track(proc.pid);
    this.exitPromise = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.emitter.emit('change');
        resolve(this.exit);
      });
      proc.once('error', (err) => {
        this.stderr += `spawn failed: ${err.message}\n`;
        this.exit ??= { code: null, signal: null };
        this.outputEnded = true;
        this.emitter.emit('change');
        resolve(this.exit);
      });
    });
    this.closePromise = new Promise((resolve) => {
      proc.once('close', (code, signal) => resolve(this.exit ?? { code, signal }));
      proc.once('error', () => resolve(this.exit ?? { code: null, signal: null }));
    });
    proc.stdout?.setEncoding('utf8');
    proc.stderr?.setEncoding('utf8');
    let partial = '';
    proc.stdout?.on('data', (chunk: string) => {
      this.stdout = (this.stdout + chunk).slice(-TAIL_CHARS * 10);
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.onLine(line);
    });
    proc.stdout?.once('close', () => {
      this.outputEnded = true;
      this.emitter.emit('change');
    });
    proc.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-TAIL_CHARS * 10);
      if (o.verbose) process.stderr.write(chunk);
    });
    if (opts.waitReady === false) return;
    await this.waitEvent((e) => e.event === 'standby' && e.fields.standby === 'in-sync', opts.readyTimeoutMs ?? 20_000, mark);
  }

  private onLine(line: string): void {
    const raw = parseEvent(line);
    if (!raw) return;
    const e: TreeEvent = { index: this.events.length, at: Date.now(), event: raw.event, fields: fieldsOf(raw), raw };
    if (this.opts.verbose) process.stderr.write(`[tree] ${line}\n`);
    this.events.push(e);
    this.roles.apply(raw);
    for (const pid of this.roles.announced) this.track(pid);
    this.emitter.emit('change');
  }

  private track(pid: number): void {
    if (!this.pids.has(pid)) this.pids.set(pid, processStartTime(pid));
  }

  /** The first event at or after index `from` matching `pred`, if any yet. */
  findEvent(pred: (e: TreeEvent) => boolean, from = 0): TreeEvent | undefined {
    for (let i = Math.max(0, from); i < this.events.length; i++) {
      const e = this.events[i] as TreeEvent;
      if (pred(e)) return e;
    }
    return undefined;
  }

  /**
   * Waits for an event at or after index `from` matching `pred`. Rejects on timeout, or once
   * the launcher has exited and its stdout is closed (no event can come any more).
   */
  waitEvent(pred: (e: TreeEvent) => boolean, timeoutMs: number, from = 0): Promise<TreeEvent> {
    return new Promise((resolve, reject) => {
      let scanned = Math.max(0, from);
      const check = (): void => {
        for (; scanned < this.events.length; scanned++) {
          const e = this.events[scanned] as TreeEvent;
          if (pred(e)) {
            done();
            resolve(e);
            return;
          }
        }
        if (this.exit && this.outputEnded) {
          done();
          reject(new Error(`the launcher exited (code ${this.exit.code}, signal ${this.exit.signal}) while waiting for an event\n${this.tails()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for an event of instance ${this.opts.name}\n${this.tails()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.emitter.off('change', check);
      };
      this.emitter.on('change', check);
      check();
    });
  }

  tails(): string {
    return `--- tree stdout (tail):\n${this.stdout.slice(-3000)}\n--- tree stderr (tail):\n${this.stderr.slice(-3000)}`;
  }

  /** Sends `sig` to the launcher, if it still runs. */
  signal(sig: NodeJS.Signals): void {
    if (!this.proc || this.exit) return;
    try {
      this.proc.kill(sig);
    } catch {
      // already gone
    }
  }

  /** Graceful stop: SIGTERM to the launcher, then wait for it. Its exit, or null if it did not exit in time. */
  async stop(timeoutMs = 20_000): Promise<TreeExit | null> {
    if (!this.proc || !this.exitPromise) return null;
    this.signal('SIGTERM');
    return within(this.exitPromise, timeoutMs);
  }

  /** IPC objects of the instance still present: the shm object, the runtime dir and its files. */
  leaks(): string[] {
    const left: string[] = [];
    const shm = `/dev/shm${this.paths.shmName}`;
    if (fs.existsSync(shm)) left.push(`shm ${shm}`);
    const dir = this.paths.dir;
    if (fs.existsSync(dir)) {
      let files: string[] = [];
      try {
        files = fs.readdirSync(dir);
      } catch {
        // unreadable: the dir itself is reported
      }
      left.push(`runtime dir ${dir}${files.length ? ` (${files.join(', ')})` : ''}`);
    }
    return left;
  }

  /** Pids of the tree still alive after waiting up to `waitMs` for them to go (zombies count as dead). */
  async orphans(waitMs = 8000, extra: Map<number, number | null> = new Map()): Promise<number[]> {
    const all = new Map([...this.pids, ...extra]);
    const alive = (): number[] => [...all].filter(([pid, st]) => isSameProcess(pid, st)).map(([pid]) => pid);
    const deadline = Date.now() + waitMs;
    let left = alive();
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(50);
      left = alive();
    }
    return left;
  }

  /** Last resort after a failure: SIGKILL every pid the tree announced (checked against its start time). */
  async kill(): Promise<void> {
    for (const [pid, st] of this.pids) {
      if (!isSameProcess(pid, st)) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const deadline = Date.now() + 3000;
    while ([...this.pids].some(([pid, st]) => isSameProcess(pid, st)) && Date.now() < deadline) await sleep(20);
  }
}
