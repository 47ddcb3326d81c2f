// Stopping the tree: primary first (it leaves a snapshot), then the standby, then every
// IPC object; a child that does not stop within its spec's grace is killed.
import type { ChildRun } from './machine.js';
import { StepBase } from './step-base.js';

export class StopSteps extends StepBase {
  /** Graceful stop: primary first (it leaves a snapshot), then the standby, then every IPC object. */
  beginStop(code: number): void {
    const s = this.s;
    if (s.phase === 'stopping' || s.phase === 'stopped') return;
    s.phase = 'stopping';
    s.exitCode = code;
    s.failover = null;
    this.record();
    this.emit('stopping', { epoch: s.epoch, pid: s.selfPid });
    this.out.push({ kind: 'halt-watch' });
    const queue = [this.alive(s.primary), this.alive(s.secondary)].filter((ch): ch is ChildRun => ch !== null).map((ch) => ch.token);
    s.job = { kind: 'stop', queue, current: null, step: 'asking', until: this.now };
    this.stopNext();
  }

  stopNext(): void {
    const s = this.s;
    const job = s.job;
    if (job?.kind !== 'stop') return;
    let next: ChildRun | null = null;
    while (!next && job.queue.length > 0) next = this.alive(job.queue.shift() ?? null);
    if (!next) {
      // A spawn asked for before the stop is awaited: its process must not outlive us.
      if (s.pendingSpawns.length > 0) return void (job.current = null);
      job.step = 'tearing-down';
      job.current = null;
      this.out.push({ kind: 'tear-down' });
      return;
    }
    next.status = 'stopping';
    job.current = next.token;
    job.step = 'asking';
    job.until = this.now + s.limits.specs[next.role].shutdown.graceMs;
    this.out.push({ kind: 'send', token: next.token, m: { t: 'stop' } });
  }

  stopTick(): void {
    const job = this.s.job;
    if (job?.kind !== 'stop') return;
    const cur = this.alive(job.current);
    if (job.step === 'asking' && cur && this.now >= job.until) {
      job.step = 'killing';
      this.out.push({ kind: 'kill-and-reap', token: cur.token, pid: cur.pid, timeoutMs: 1000 });
    } else if (job.step === 'asking' && job.current === null) {
      this.stopNext();
    }
  }

  tornDown(removed: string[]): void {
    this.s.phase = 'stopped';
    this.s.job = null;
    this.emit('cleaned', { removed: removed.join(',') || 'nothing' });
    this.out.push({ kind: 'exit', code: this.s.exitCode });
  }
}
