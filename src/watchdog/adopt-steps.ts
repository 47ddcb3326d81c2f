// Start: a fresh tree spawns its primary, then, once the primary is ready, its standby. Adoption: a new watchdog takes over a dead predecessor's live servers without disturbing
// them. It records them all at once, learns their roles from pongs, fences what the
// predecessor had condemned (or a primary of an older epoch), then gives each a slot.
import type { Role } from '../protocol/control.js';
import type { Input, Job } from './machine.js';
import { freshChild } from './step-base.js';
import { StopSteps } from './stop-steps.js';

export class AdoptSteps extends StopSteps {
  start(input: Extract<Input, { kind: 'start' }>): void {
    const s = this.s;
    s.selfPid = input.selfPid;
    s.epoch = input.epoch;
    this.emit('starting', { name: s.name, endpoint: s.endpoint, pid: s.selfPid, adopting: input.adopt !== null });
    if (!input.adopt) {
      s.phase = 'starting';
      s.job = { kind: 'start', step: 'spawning-primary' };
      this.spawn('primary');
      this.record();
      return;
    }
    // Every adopted server is in the state file before anything else happens: a successor
    // of ours that dies mid-adoption must still find them all.
    for (const rec of input.adopt.children) {
      s.children[rec.token] = { ...freshChild(rec.role, rec.token, rec.pid, rec.startTime, this.now), adopted: true, status: 'ready' };
    }
    s.phase = 'adopting';
    s.failover = input.adopt.failover;
    if (input.adopt.restarts) s.restarts = { primary: input.adopt.restarts.primary ?? 0, secondary: input.adopt.restarts.secondary ?? 0 };
    const f = input.adopt.failover;
    s.job = { kind: 'adopt', step: 'learning', until: this.now + s.limits.alarmMs, oldPid: f?.oldPid ?? null, cause: f?.cause ?? null };
    this.record();
  }

  /** A fresh start's server was spawned: the primary runs (its alarm counts from here), the standby ends the start. */
  startSpawned(job: Extract<Job, { kind: 'start' }>, role: Role): void {
    const s = this.s;
    if (role === 'primary' && job.step === 'spawning-primary') {
      job.step = 'awaiting-ready';
      s.phase = 'running';
    } else if (role === 'secondary' && job.step === 'spawning-secondary') {
      s.job = null;
    }
    this.record();
  }

  /**
   * A fresh start waits for its primary: ready, it gets its standby; dead or condemned, the
   * start is over and the failover takes it from there (nextRecovery).
   */
  startAdvance(job: Extract<Job, { kind: 'start' }>): void {
    if (job.step !== 'awaiting-ready') return;
    const p = this.alive(this.s.primary);
    if (p?.status === 'starting') return;
    if (p && !p.condemned) {
      job.step = 'spawning-secondary';
      this.spawn('secondary');
    } else {
      this.s.job = null;
      this.record();
    }
  }

  /** Adoption, first step: ping often until every adopted server said who it is (or the alarm passed). */
  adoptLearning(job: Extract<Job, { kind: 'adopt'; step: 'learning' }>): void {
    const adopted = Object.values(this.s.children).filter((ch) => ch.adopted && ch.status !== 'exited');
    if (this.now - this.s.lastPingAt >= this.s.limits.adoptionPingMs) this.pingAll();
    if (this.now < job.until && adopted.some((ch) => ch.reportedRole === null)) return;
    // The predecessor had condemned it, or it is a primary of an older epoch: finish the fencing.
    const condemned = adopted.filter(
      (ch) => ch.pid === job.oldPid || (ch.reportedRole === 'primary' && ch.reportedEpoch !== null && ch.reportedEpoch < this.s.epoch),
    );
    for (const ch of condemned) this.kill(ch);
    this.s.job = { kind: 'adopt', step: 'fencing', awaiting: condemned.map((ch) => ch.token), oldPid: job.oldPid, cause: job.cause };
  }

  /** Adoption, second step: the survivors take their slots; an extra of a role is fenced. */
  adoptSettle(job: Extract<Job, { kind: 'adopt' }>): void {
    const live = Object.values(this.s.children).filter((ch) => ch.adopted && ch.status !== 'exited' && ch.status !== 'stopping');
    for (const ch of live) {
      if (ch.reportedRole) ch.role = ch.reportedRole;
      this.emit('adopted', { role: ch.role, pid: ch.pid, epoch: this.s.epoch, answered: ch.reportedRole !== null });
    }
    this.s.primary = live.find((ch) => ch.role === 'primary')?.token ?? null;
    this.s.secondary = live.find((ch) => ch.role === 'secondary')?.token ?? null;
    // A replacement spawned just before the predecessor died would fight the adopted one for the FIFOs.
    const extras = live.filter((ch) => ch.token !== this.s.primary && ch.token !== this.s.secondary);
    for (const ch of extras) this.kill(ch);
    this.s.job = { kind: 'adopt', step: 'fencing-extras', awaiting: extras.map((ch) => ch.token), oldPid: job.oldPid, cause: job.cause };
  }

}
