// The client load of a chaos run: worker processes (dist/chaos/worker.js) that each write and
// read under their own keys and report every operation as a JSON line, for the history check.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT, within } from '../harness/tree.js';
import { isSameProcess, processStartTime } from '../runtime/proc.js';
import type { OpRecord } from './model.js';

/** Every worker reads one clock: see `opTime` in worker.ts. */
export const CLOCK_ANCHOR_ENV = 'OSPS_CHAOS_CLOCK_ANCHOR';
const CLOCK_ANCHOR = Date.now() - Number(process.hrtime.bigint()) / 1e6;

export const WORKER_MAIN = path.join(REPO_ROOT, 'dist', 'chaos', 'worker.js');
const WORKER_STOP_MS = 10_000;

export class Worker {
  readonly ops: OpRecord[] = [];
  readonly problems: string[] = [];
  stderr = '';
  private partial = '';
  readonly proc: ChildProcess;
  readonly startTime: number | null;
  exit: { code: number | null; signal: string | null } | null = null;
  readonly exited: Promise<void>;

  constructor(readonly id: number, endpoint: string, seed: number) {
    this.proc = spawn(process.execPath, [WORKER_MAIN, '--endpoint', endpoint, '--id', String(id), '--seed', String(seed)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, [CLOCK_ANCHOR_ENV]: String(CLOCK_ANCHOR) },
    });
    this.startTime = this.proc.pid ? processStartTime(this.proc.pid) : null;
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
      this.proc.once('error', (err) => {
        this.problems.push(`worker ${id} could not start: ${err.message}`);
        this.exit ??= { code: null, signal: null };
        resolve();
      });
    });
    this.proc.stdin?.on('error', () => {});
    this.proc.stdout?.setEncoding('utf8');
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stdout?.on('data', (chunk: string) => {
      this.partial += chunk;
      const lines = this.partial.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.onLine(line);
    });
    this.proc.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    try {
      const o = JSON.parse(line) as OpRecord;
      o.worker = this.id;
      this.ops.push(o);
    } catch {
      this.problems.push(`worker ${this.id} wrote a line that is not JSON: ${line.slice(0, 200)}`);
    }
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  /** SIGTERM, then wait; SIGKILL if it does not finish in time (that is a problem to report). */
  async stop(): Promise<void> {
    if (this.exit) {
      this.problems.push(`worker ${this.id} (pid ${this.pid}) exited before the end of the run`);
    } else {
      this.proc.kill('SIGTERM');
      this.proc.stdin?.end();
    }
    const inTime = (await within(this.exited.then(() => true), WORKER_STOP_MS)) !== null;
    if (!inTime) {
      this.problems.push(`worker ${this.id} (pid ${this.pid}) did not stop within ${WORKER_STOP_MS} ms of SIGTERM: killed`);
      this.kill();
      await this.exited;
    }
    if (this.partial.trim()) this.onLine(this.partial);
    this.partial = '';
    if (this.exit && this.exit.code !== 0) {
      this.problems.push(`worker ${this.id} exited with code ${this.exit.code} signal ${this.exit.signal}: ${this.stderr.slice(-500)}`);
    }
  }

  kill(): void {
    if (this.pid && isSameProcess(this.pid, this.startTime)) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}
