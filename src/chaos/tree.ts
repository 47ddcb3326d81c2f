// Runs a real osps tree (launcher → watchdog → primary + secondary) for `osps chaos run`:
// parses the launcher's event lines as they arrive, remembers every pid the tree announced,
// and after the stop tells what is left behind (IPC objects, processes).
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuntimePaths } from '../runtime/paths.js';
import { isSameProcess, processStartTime } from '../runtime/proc.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** The repository root: this file is src/chaos/tree.ts or dist/chaos/tree.js. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LAUNCHER = path.join(REPO_ROOT, 'launcher.js');

/** One watchdog event line, `HH:MM:SS.mmm <event> k=v …`, stamped with our clock when it arrived. */
export interface TreeEvent {
  index: number;
  /** Date.now() when the line reached us. */
  at: number;
  event: string;
  fields: Record<string, string>;
  line: string;
}

export interface TreeOptions {
  name: string;
  runtimeRoot: string;
  dataDir: string;
  endpoint: string;
  paths: RuntimePaths;
  pingIntervalMs: number;
  alarmMs: number;
  orphanTimeoutMs: number;
  maxRestarts: number;
  restartWindowMs: number;
  memoryCeilingMb: number;
  sampleIntervalMs: number;
  extraArgs?: string[];
  /** Echo the tree's stderr (server logs) to ours. */
  verbose?: boolean;
}

const TAIL_CHARS = 20_000;

/** Parses `HH:MM:SS.mmm event k=v k="quoted v"`; null for any other line. */
export function parseEventLine(line: string): { event: string; fields: Record<string, string> } | null {
  const m = /^\d\d:\d\d:\d\d\.\d{3} (\S+)(.*)$/.exec(line);
  if (!m) return null;
  const fields: Record<string, string> = {};
  for (const kv of (m[2] as string).matchAll(/ (\w+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const v = kv[2] as string;
    try {
      fields[kv[1] as string] = v.startsWith('"') ? (JSON.parse(v) as string) : v;
    } catch {
      fields[kv[1] as string] = v;
    }
  }
  return { event: m[1] as string, fields };
}


/** `p`, or null after `ms` — without a timer left behind to keep the process alive. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export class ChaosTree {
  readonly events: TreeEvent[] = [];
  /** Every pid the tree announced (launcher, watchdogs, servers), with its kernel start time. */
  readonly pids = new Map<number, number | null>();
  stdoutTail = '';
  stderrTail = '';
  private proc: ChildProcess | null = null;
  private exit: { code: number | null; signal: string | null } | null = null;
  private exitPromise: Promise<{ code: number | null; signal: string | null }> | null = null;
  private readonly emitter = new EventEmitter();

  constructor(readonly opts: TreeOptions) {
    this.emitter.setMaxListeners(0);
  }

  get launcherPid(): number {
    return this.proc?.pid ?? 0;
  }

  get exited(): { code: number | null; signal: string | null } | null {
    return this.exit;
  }

  /** Starts the launcher and waits for the primary to report its standby in sync. */
  async start(readyTimeoutMs = 20_000): Promise<void> {
    const o = this.opts;
    const args = [
      LAUNCHER, 'start',
      '--name', o.name,
      '--runtime-dir', o.runtimeRoot,
      '--data-dir', o.dataDir,
      '--endpoint', o.endpoint,
      '--ping-interval', String(o.pingIntervalMs),
      '--alarm', String(o.alarmMs),
      '--orphan-timeout', String(o.orphanTimeoutMs),
      '--max-restarts', String(o.maxRestarts),
      '--restart-window', String(o.restartWindowMs),
      '--memory-ceiling', String(o.memoryCeilingMb),
      '--sample-interval', String(o.sampleIntervalMs),
      ...(o.extraArgs ?? []),
    ];
    const env = { ...process.env };
    delete env.OSPS_CHAOS_WATCHDOG_DIE_AT;
    if (!process.env.OSPS_LOG) env.OSPS_LOG = '';
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
        this.stderrTail += `spawn failed: ${err.message}\n`;
        this.exit ??= { code: null, signal: null };
        this.emitter.emit('change');
        resolve(this.exit);
      });
    });
    proc.stdout?.setEncoding('utf8');
    proc.stderr?.setEncoding('utf8');
    let partial = '';
    proc.stdout?.on('data', (chunk: string) => {
      this.stdoutTail = (this.stdoutTail + chunk).slice(-TAIL_CHARS);
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.onLine(line);
    });
    proc.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-TAIL_CHARS);
      if (o.verbose) process.stderr.write(chunk);
    });
    await this.waitEvent((e) => e.event === 'standby' && e.fields.standby === 'in-sync', readyTimeoutMs, 0);
  }

  private onLine(line: string): void {
    const p = parseEventLine(line);
    if (!p) return;
    const e: TreeEvent = { index: this.events.length, at: Date.now(), event: p.event, fields: p.fields, line };
    if (this.opts.verbose) process.stderr.write(`[tree] ${line}\n`);
    this.events.push(e);
    const pid = Number(e.fields.pid);
    if (pid > 0 && (e.event === 'starting' || e.event === 'spawned' || e.event === 'respawned' || e.event === 'adopted')) this.track(pid);
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

  /** Waits for an event at or after index `from` matching `pred`; rejects on timeout or if the launcher exits. */
  waitEvent(pred: (e: TreeEvent) => boolean, timeoutMs: number, from = 0): Promise<TreeEvent> {
    return new Promise((resolve, reject) => {
      let scanned = Math.max(0, from);
      const check = (): boolean => {
        for (; scanned < this.events.length; scanned++) {
          const e = this.events[scanned] as TreeEvent;
          if (pred(e)) {
            done();
            resolve(e);
            return true;
          }
        }
        if (this.exit) {
          done();
          reject(new Error(`the launcher exited (code ${this.exit.code}, signal ${this.exit.signal}) while waiting for an event\n${this.tails()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for an event of instance ${this.opts.name}\n${this.tails()}`));
      }, timeoutMs);
      const onChange = (): void => void check();
      const done = (): void => {
        clearTimeout(timer);
        this.emitter.off('change', onChange);
      };
      this.emitter.on('change', onChange);
      check();
    });
  }

  /** The pid currently serving as primary, according to the event stream. */
  currentPrimary(): number {
    let pid = 0;
    for (const e of this.events) {
      const role = e.fields.role;
      if (role === 'primary' && (e.event === 'spawned' || e.event === 'respawned' || e.event === 'promoted' || e.event === 'adopted')) {
        pid = Number(e.fields.pid);
      }
    }
    return pid;
  }

  tails(): string {
    return `--- tree stdout (tail):\n${this.stdoutTail.slice(-3000)}\n--- tree stderr (tail):\n${this.stderrTail.slice(-3000)}`;
  }

  /** Graceful stop: SIGTERM to the launcher, then wait for it. Returns its exit, or null if it did not exit in time. */
  async stop(timeoutMs = 20_000): Promise<{ code: number | null; signal: string | null } | null> {
    if (!this.proc || !this.exitPromise) return null;
    if (!this.exit) {
      try {
        this.proc.kill('SIGTERM');
      } catch {
        // already gone
      }
    }
    return within(this.exitPromise, timeoutMs);
  }

  /** IPC objects of the instance still present: the shm object, the runtime dir and its files. */
  leaks(): string[] {
    const left: string[] = [];
    const shm = `/dev/shm${this.opts.paths.shmName}`;
    if (fs.existsSync(shm)) left.push(`shm ${shm}`);
    const dir = this.opts.paths.dir;
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
