// The ground every step of the supervision machine stands on: the state being changed,
// the clock, the actions asked for, and the few effects every step uses.
import type { Role } from '../protocol/control.js';
import type { EventName, Fields } from '../protocol/events.js';
import type { Action, ChildRun, FailoverStep, SupervisorState } from './machine.js';

export class StepBase {
  readonly out: Action[] = [];
  constructor(
    readonly s: SupervisorState,
    readonly now: number,
  ) {}

  // --- effects, as data ----------------------------------------------------------

  emit(event: EventName, fields: Fields): void {
    this.out.push({ kind: 'emit', event, fields });
  }

  record(step: FailoverStep | null = null): void {
    if (step && this.s.failover) this.s.failover.step = step;
    this.out.push({ kind: 'record', step });
  }

  spawn(role: Role): void {
    this.s.pendingSpawns.push(role);
    // After a failure the FIFOs and the shm header are checked (and fixed) before a server opens them;
    // a fresh start has just created them.
    this.out.push({ kind: 'spawn', role, repairIpc: this.s.job?.kind !== 'start' });
  }

  kill(child: ChildRun): void {
    child.status = child.status === 'exited' ? 'exited' : 'stopping';
    this.out.push({ kind: 'kill-and-reap', token: child.token, pid: child.pid, timeoutMs: 5000 });
  }

  child(token: string | null): ChildRun | null {
    return token === null ? null : (this.s.children[token] ?? null);
  }

  alive(token: string | null): ChildRun | null {
    const ch = this.child(token);
    return ch && ch.status !== 'exited' ? ch : null;
  }

  /** OTP intensity per role: more than maxRestarts restarts within the window. */
  allowRestart(role: Role): boolean {
    const { maxRestarts, restartWindowMs } = this.s.limits;
    const times = this.s.recentRestarts[role].filter((t) => t > this.now - restartWindowMs);
    times.push(this.now);
    this.s.recentRestarts[role] = times;
    return times.length <= maxRestarts;
  }

  /** Pings every known server, including adopted ones whose role is not settled yet. */
  pingAll(): void {
    if (this.s.phase === 'stopping' || this.s.phase === 'stopped') return;
    const live = Object.values(this.s.children).filter((ch) => ch.status !== 'exited');
    for (const ch of live) ch.unansweredSince ??= this.now;
    this.s.lastPingAt = this.now;
    this.out.push({ kind: 'ping', tokens: live.map((ch) => ch.token), epoch: this.s.epoch });
  }
}

export function freshChild(role: Role, token: string, pid: number, startTime: number | null, now: number): ChildRun {
  return {
    token, role, pid, startTime, spawnedAt: now, status: 'starting', adopted: false, condemned: null,
    unansweredSince: null, lastSignAt: now, reportedRole: null, reportedEpoch: null, synced: false, standby: 'absent',
    standbyPeer: null, linkLostAt: null, commitSeq: 0, exitedAt: null, lastExit: null, lastFailure: null, lastFailureCode: null,
  };
}

export function failure(ch: ChildRun): string | null {
  return ch.lastFailureCode ? `${ch.lastFailureCode}: ${ch.lastFailure}` : ch.lastFailure;
}
