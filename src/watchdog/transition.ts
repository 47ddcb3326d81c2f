// The supervisor as one pure function: (state, input, now) → { state, actions }.
//
// Read top to bottom: the entry point, then detection (exits, messages, the alarm, memory,
// a lost link), then the one serial recovery under way (failover: detect → fence → bump
// epoch → promote → respawn; standby replacement with its cool-down; give-up). Start and
// adoption are in adopt-steps.ts, stop in stop-steps.ts, the shared effects in step-base.ts.
// No clock, no process, no socket here: the executor (watchdog.ts) feeds inputs in and
// carries the actions out, and async effects come back as inputs.
import type { Role, ServerToWatchdog } from '../protocol/control.js';
import { EXIT_DATA_REFUSED, exitCodeOf } from '../protocol/exit-codes.js';
import { AdoptSteps } from './adopt-steps.js';
import { alarmAt, beatOf, silentSince } from './alarm.js';
import type { Action, Beats, ChildRun, Input, Job, SupervisorState } from './machine.js';
import { failure, freshChild } from './step-base.js';

export interface Transition {
  state: SupervisorState;
  actions: Action[];
}

/** One step: a new state (the input state is left untouched) and what to do. */
export function transition(prev: SupervisorState, input: Input, now: number): Transition {
  const c = new Step(structuredClone(prev), now);
  c.on(input);
  if (c.s.phase !== 'stopping' && c.s.phase !== 'stopped') c.advance();
  return { state: c.s, actions: c.out };
}

class Step extends AdoptSteps {
  on(input: Input): void {
    switch (input.kind) {
      case 'start': return this.start(input);
      case 'spawned': return this.spawned(input.role, input.token, input.pid, input.startTime);
      case 'exited': return this.exited(input.token, input.cause, input.lastWords);
      case 'message': return this.message(input.token, input.m);
      case 'reaped': return this.reaped(input.token);
      case 'journal-checked': return this.journalChecked(input.exists);
      case 'ping-due': return this.pingAll();
      case 'tick': return this.s.phase === 'stopping' ? this.stopTick() : this.tick(input.beats);
      case 'memory': return this.memory(input.token, input.rss);
      case 'stop': return this.beginStop(input.code);
      case 'torn-down': return this.tornDown(input.removed);
      case 'spawn-failed':
        this.s.pendingSpawns = this.s.pendingSpawns.filter((r, i, all) => r !== input.role || all.indexOf(r) !== i);
        this.emit('give-up', { reason: `internal error in recovery: ${input.message}` });
        return this.beginStop(3);
      case 'internal-error':
        this.emit('give-up', { reason: `internal error in recovery: ${input.message}` });
        return this.beginStop(3);
    }
  }

  adoptFinish(job: Extract<Job, { kind: 'adopt' }>): void {
    const s = this.s;
    if (!this.alive(s.primary)) {
      const oldPid = job.oldPid ?? 0;
      this.emit('detected', { role: 'primary', pid: oldPid, epoch: s.epoch, cause: 'missing after adoption' });
      s.job = null;
      return this.bumpAndPromote(oldPid, job.cause ?? 'adoption');
    }
    s.job = null;
    s.failover = null;
    s.phase = 'running';
    this.record();
    if (!this.alive(s.secondary)) this.respawnStandby('adoption');
  }

  // --- detection ------------------------------------------------------------------

  spawned(role: Role, token: string, pid: number, startTime: number | null): void {
    const s = this.s;
    const i = s.pendingSpawns.indexOf(role);
    if (i >= 0) s.pendingSpawns.splice(i, 1);
    s.children[token] = freshChild(role, token, pid, startTime, this.now);
    this.emit('spawned', { role, pid, epoch: s.epoch });
    if (s.phase === 'stopping') {
      // Asked for before the stop: it is stopped with the rest.
      if (s.job?.kind === 'stop') s.job.queue.push(token);
      this.record();
      return;
    }
    s[role] = token;
    this.record();
    const job = s.job;
    if (job?.kind === 'start') {
      this.startSpawned(job, role);
    } else if (job?.kind === 'failover' && job.step === 'spawning-primary' && role === 'primary') {
      this.emit('respawned', { role, pid, epoch: s.epoch });
      s.job = { ...job, step: 'awaiting-ready', fresh: token };
    } else if ((job?.kind === 'failover' && job.step === 'spawning-secondary') || (job?.kind === 'replace-standby' && job.step === 'spawning')) {
      this.emit('respawned', { role, pid, epoch: s.epoch });
      this.finishJob();
    }
  }

  exited(token: string, cause: string, words: { reason: string; code: string | null } | null): void {
    const ch = this.child(token);
    if (!ch || ch.status === 'exited') return;
    ch.status = 'exited';
    ch.exitedAt = this.now;
    const job = this.s.job;
    if (this.s.phase === 'stopping' || this.s.phase === 'stopped') {
      if (job?.kind === 'stop' && job.current === token && job.step === 'asking') {
        this.emit('stopped', { role: ch.role, pid: ch.pid, epoch: this.s.epoch, graceful: true });
        this.stopNext();
      }
      return;
    }
    ch.lastExit = cause;
    if (words) {
      ch.lastFailure = words.reason;
      ch.lastFailureCode = words.code;
    }
    ch.condemned ??= 'crash';
    this.emit('exited', { role: ch.role, pid: ch.pid, epoch: this.s.epoch, cause, reason: words?.reason });
    this.record();
    // Its exit is its reaping (the executor learns of both from one wait): that is the fence.
    if (job?.kind === 'failover' && job.step === 'fencing' && job.old === token) this.fenced(ch);
  }

  message(token: string, m: ServerToWatchdog): void {
    const ch = this.child(token);
    if (!ch) return;
    const s = this.s;
    ch.lastSignAt = this.now;
    switch (m.t) {
      case 'hello':
        ch.unansweredSince = null;
        // A sign of life with its role: from here a long load is timed by silence (checkAlarms).
        ch.reportedRole = m.role;
        ch.reportedEpoch = m.epoch;
        return;
      case 'pong':
        ch.unansweredSince = null;
        ch.reportedRole = m.role;
        ch.reportedEpoch = m.epoch;
        if (m.role === 'secondary') ch.synced = m.synced;
        ch.commitSeq = m.commitSeq;
        ch.standby = m.standby;
        if (m.role === 'primary') s.servedCommitSeq = Math.max(s.servedCommitSeq, m.commitSeq);
        return;
      case 'ready':
        // A condemned server that comes up late stays condemned: the recovery under way decides.
        if (ch.status === 'starting') ch.status = 'ready';
        // Pings sent while it was loading do not count against the alarm: it starts now.
        ch.unansweredSince = null;
        this.emit('ready', { role: m.role, pid: ch.pid, epoch: s.epoch });
        return;
      case 'synced':
        ch.synced = true;
        ch.commitSeq = m.commitSeq;
        // A standby that made it into sync ends the backoff: the next cool-down starts short again.
        s.nextCooldownMs = s.limits.standbyCooldownMs;
        this.emit('synced', { role: ch.role, pid: ch.pid, epoch: s.epoch, commitSeq: m.commitSeq });
        return;
      case 'standby': {
        ch.standby = m.state;
        ch.standbyPeer = m.peerPid;
        this.emit('standby', { role: ch.role, pid: ch.pid, epoch: s.epoch, standby: m.state });
        const sec = this.alive(s.secondary);
        // The link broke: a dying standby's FIFO closes before its exit reaches us, so only
        // one still alive after lateMessageMs has a cut pipe (linkCheck replaces it then).
        if (m.state === 'absent' && token === s.primary && sec && sec.pid === m.peerPid) sec.linkLostAt ??= this.now;
        return;
      }
      case 'promoted':
        ch.commitSeq = m.commitSeq;
        if (s.job?.kind === 'failover' && s.job.step === 'promoting' && s.job.candidate === token) this.promoted(ch);
        return;
      case 'journaled':
        this.emit('journaled', { role: 'primary', pid: ch.pid, epoch: s.epoch });
        if (s.job?.kind === 'failover' && s.job.step === 'settling' && s.job.promoted === token) this.respawn(s.job.oldPid, s.job.cause);
        return;
      case 'failed':
        ch.lastFailure = m.reason;
        ch.lastFailureCode = m.code ?? null;
        if (m.code === 'DIVERGED') {
          s.diverged = { count: (s.diverged?.count ?? 0) + 1, at: this.now, reason: m.reason };
          this.emit('diverged', { role: ch.role, pid: ch.pid, epoch: s.epoch, reason: m.reason });
        }
        return;
    }
  }

  tick(beats: Beats | undefined): void {
    const s = this.s;
    for (const ch of beats ? [this.alive(s.primary), this.alive(s.secondary)] : []) {
      if (ch) ch.lastSignAt = Math.max(ch.lastSignAt, beatOf(s, ch, beats!, this.now));
    }
    // A dead server's last words may trail its exit; after that it is forgotten.
    for (const ch of Object.values(s.children)) {
      const held = ch.token === s.primary || ch.token === s.secondary || (s.job?.kind === 'give-up' && s.job.who === ch.token);
      if (ch.status === 'exited' && !held && ch.exitedAt !== null && this.now - ch.exitedAt > s.limits.lateMessageMs) {
        delete s.children[ch.token];
        this.out.push({ kind: 'forget', token: ch.token });
      }
    }
    if (s.phase === 'running' || s.phase === 'failover') this.checkAlarms();
    this.linkCheck();
    // The cool-down is over: the next idle moment brings a new standby (nextRecovery).
    if (s.standbyCooldown && this.now >= s.standbyCooldown.until) s.standbyCooldown = null;
  }

  /**
   * The alarm (alarm.ts): silence past it means hung; a server not ready yet gets the ready
   * timeout instead, counted from its last unanswered ping while it answers (a long replay).
   */
  checkAlarms(): void {
    for (const ch of [this.alive(this.s.primary), this.alive(this.s.secondary)]) {
      if (!ch || ch.status === 'stopping' || this.now <= alarmAt(ch, this.s.limits)) continue;
      const silentMs = this.now - silentSince(ch, this.s.limits, this.now);
      ch.status = 'stopping';
      ch.condemned = 'hang';
      this.emit('ping-missed', { role: ch.role, pid: ch.pid, epoch: this.s.epoch, silentMs });
    }
  }

  /** A standby that outlived its lost link cannot re-pair by itself: it is replaced. */
  linkCheck(): void {
    const s = this.s;
    const sec = this.alive(s.secondary);
    if (!sec || sec.linkLostAt === null || sec.status !== 'ready' || sec.condemned || this.now - sec.linkLostAt < s.limits.lateMessageMs) return;
    sec.condemned = 'link lost';
    sec.status = 'stopping';
    this.emit('link-lost', { role: 'secondary', pid: sec.pid, epoch: s.epoch });
  }

  memory(token: string, rss: number): void {
    const s = this.s;
    const ch = this.alive(token);
    if (!ch || s.limits.memoryCeilingBytes <= 0 || rss <= s.limits.memoryCeilingBytes) return;
    if (ch.status !== 'ready' || ch.condemned || s.phase !== 'running' || s.job) return;
    if (token !== s.primary && token !== s.secondary) return;
    // Restarting a primary whose standby is not in sync would throw away the only current copy
    // of the data: wait until the standby has it (the next sample checks again).
    const sec = this.alive(s.secondary);
    if (token === s.primary && !(sec && sec.status === 'ready' && sec.synced && ch.standby === 'in-sync')) return;
    ch.status = 'stopping';
    ch.condemned = 'memory';
    this.emit('memory-ceiling', { role: ch.role, pid: ch.pid, rss, epoch: s.epoch });
  }

  // --- the recovery under way -----------------------------------------------------

  /** Moves the job along whatever the input was, then starts the next recovery if none is under way. */
  advance(): void {
    const job = this.s.job;
    if (job?.kind === 'adopt') {
      if (job.step === 'learning') this.adoptLearning(job);
      const j = this.s.job;
      if (j?.kind === 'adopt' && j.step === 'fencing' && j.awaiting.length === 0) this.adoptSettle(j);
      const k = this.s.job;
      if (k?.kind === 'adopt' && k.step === 'fencing-extras' && k.awaiting.length === 0) this.adoptFinish(k);
    } else if (job?.kind === 'failover') {
      const cand = job.step === 'promoting' ? this.alive(job.candidate) : null;
      if (job.step === 'promoting' && (!cand || this.now >= job.until)) this.respawn(job.oldPid, job.cause);
      const promoted = job.step === 'settling' ? this.alive(job.promoted) : null;
      // A promoted primary that died or hung meanwhile is a failover of its own (nextRecovery).
      if (job.step === 'settling' && (!promoted || promoted.condemned)) this.finishJob();
      else if (job.step === 'settling' && this.now >= job.until) this.respawn(job.oldPid, job.cause);
      const fresh = job.step === 'awaiting-ready' ? this.alive(job.fresh) : undefined;
      if (job.step === 'awaiting-ready' && (!fresh || fresh.status !== 'starting')) {
        // Ready, dead or condemned: a live primary gets its standby; otherwise the next failover starts.
        if (fresh && !fresh.condemned) this.respawnStandby(job.cause);
        else this.finishJob();
      }
    } else if (job?.kind === 'replace-standby' && job.step === 'releasing') {
      const p = this.alive(this.s.primary);
      // With the primary gone too, the failover comes first and brings its own standby.
      if (!p) this.finishJob();
      else if (p.standby === 'absent' || p.standbyPeer !== job.oldPid || this.now >= job.until) this.respawnStandby(job.cause);
    } else if (job?.kind === 'start') {
      this.startAdvance(job);
    } else if (job?.kind === 'give-up') {
      const last = this.child(job.who);
      if (!last || last.lastFailure || this.now >= job.until) this.finishGiveUp(job.who);
    }
    if (!this.s.job && this.s.phase === 'running') this.nextRecovery();
  }

  /** Idle: the primary first, then the standby. A crash seen during a failover waits its turn here. */
  nextRecovery(): void {
    const s = this.s;
    const p = this.child(s.primary);
    if (!p || p.status === 'exited' || p.condemned) return this.failover(p, p?.condemned ?? 'crash');
    const sec = this.child(s.secondary);
    if (sec && (sec.status === 'exited' || sec.condemned)) return this.replaceStandby(sec, sec.condemned ?? 'crash');
    if (!sec && !s.standbyCooldown && !s.pendingSpawns.includes('secondary')) this.respawnStandby('standby missing');
  }

  /** Failover, step 1 (detect) and 2 (fence): the old primary is dead and reaped before anyone else may serve. */
  failover(old: ChildRun | null, cause: string): void {
    const s = this.s;
    if (!old) return this.bumpAndPromote(0, cause);
    s.phase = 'failover';
    s.failover = { step: 'detected', oldPid: old.pid, cause };
    s.job = { kind: 'failover', step: 'fencing', old: old.token, oldPid: old.pid, cause };
    this.record('detected');
    this.emit('detected', { role: 'primary', pid: old.pid, epoch: s.epoch, cause });
    if (old.status === 'exited') this.fenced(old);
    else this.kill(old);
  }

  fenced(old: ChildRun): void {
    const s = this.s;
    const job = s.job;
    if (job?.kind !== 'failover') return;
    this.emit('fenced', { role: 'primary', pid: old.pid, epoch: s.epoch });
    s.primary = null;
    this.record('fenced');
    if (this.incurable(old)) return this.refuseData(old);
    if (!this.allowRestart('primary')) return this.giveUp(old);
    s.restarts.primary++;
    this.bumpAndPromote(old.pid, job.cause);
  }

  /** Steps 3 (bump the epoch: a stale primary that wakes up sees it) and 4 (promote a synced standby). */
  bumpAndPromote(oldPid: number, cause: string): void {
    const s = this.s;
    s.phase = 'failover';
    s.failover ??= { step: 'epoch-bumped', oldPid, cause };
    s.epoch += 1;
    this.out.push({ kind: 'set-ring-epoch', epoch: s.epoch });
    this.record('epoch-bumped');
    const sec = this.alive(s.secondary);
    // A synced standby is the current copy of the data: promote it even if the alarm was about
    // to replace it (a CPU-starved standby is slow, not wrong).
    if (sec && sec.synced) {
      s.job = { kind: 'failover', step: 'promoting', candidate: sec.token, until: this.now + s.limits.readyTimeoutMs, oldPid, cause };
      this.record('promoting');
      this.out.push({ kind: 'send', token: sec.token, m: { t: 'promote', epoch: s.epoch } });
      return;
    }
    this.respawn(oldPid, cause);
  }

  promoted(sec: ChildRun): void {
    const s = this.s;
    const job = s.job;
    if (job?.kind !== 'failover') return;
    sec.role = 'primary';
    sec.standby = 'absent';
    // It answered the promotion: whatever the alarm thought a moment ago, it is serving.
    sec.status = 'ready';
    sec.condemned = null;
    sec.unansweredSince = null;
    s.primary = sec.token;
    s.secondary = null;
    this.emit('promoted', { role: 'primary', pid: sec.pid, epoch: s.epoch, commitSeq: sec.commitSeq });
    // Its first acks wait on its first checkpoint: a new standby's Node start (a core for ~150 ms) waits for it, or the bound.
    s.job = { kind: 'failover', step: 'settling', promoted: sec.token, until: this.now + (s.limits.standbySpawnDelayMs ?? 0), oldPid: job.oldPid, cause: job.cause };
  }

  /** Step 5: with a primary, a new standby; with none, a fresh primary from the journal first. */
  respawn(oldPid: number, cause: string): void {
    const s = this.s;
    this.record('respawning');
    if (this.alive(s.primary)) return this.respawnStandby(cause);
    s.job = { kind: 'failover', step: 'checking-journal', oldPid, cause };
    this.out.push({ kind: 'check-journal' });
  }

  journalChecked(exists: boolean): void {
    const s = this.s;
    const job = s.job;
    if (job?.kind !== 'failover' || job.step !== 'checking-journal') return;
    // With no journal but acknowledged writes on record, a fresh primary would serve an empty
    // store: stopping loudly is better than silently losing every acknowledged write.
    if (s.servedCommitSeq > 0 && !exists) {
      this.emit('give-up', { reason: `no current copy of the data (commitSeq ${s.servedCommitSeq}, no journal)` });
      this.out.push({ kind: 'say', line: `osps: giving up: no standby could be promoted and there is no journal to rebuild ${s.servedCommitSeq} acknowledged writes from` });
      return this.beginStop(3);
    }
    // An unsynced standby cannot serve the fresh primary's data: it goes, a new one follows.
    const stale = this.alive(s.secondary);
    if (stale) {
      s.job = { kind: 'failover', step: 'clearing-standby', stale: stale.token, oldPid: job.oldPid, cause: job.cause };
      return this.kill(stale);
    }
    this.spawnFreshPrimary(job.oldPid, job.cause);
  }

  spawnFreshPrimary(oldPid: number, cause: string): void {
    this.s.secondary = null;
    this.s.job = { kind: 'failover', step: 'spawning-primary', oldPid, cause };
    this.spawn('primary');
  }

  /** Standby replacement: fence the old one, wait for the primary to let go of the link, spawn. */
  replaceStandby(old: ChildRun, cause: string): void {
    this.s.job = { kind: 'replace-standby', step: 'fencing', old: old.token, oldPid: old.pid, cause };
    if (old.status === 'exited') this.standbyFenced(old, false);
    else this.kill(old);
  }

  standbyFenced(old: ChildRun, killed: boolean): void {
    const s = this.s;
    if (killed) this.emit('fenced', { role: 'secondary', pid: old.pid, epoch: s.epoch, cause: s.job?.kind === 'replace-standby' ? s.job.cause : undefined });
    const cause = s.job?.kind === 'replace-standby' ? s.job.cause : 'crash';
    s.secondary = null;
    if (!this.allowRestart('secondary')) return this.coolDown(old);
    s.restarts.secondary++;
    // The FIFOs are shared by name: a new standby opening them before the primary has seen
    // the old one go would inherit its half of the link.
    s.job = { kind: 'replace-standby', step: 'releasing', until: this.now + s.limits.standbyReleaseMs, oldPid: old.pid, cause };
  }

  /** A standby that keeps dying is left out for a while; the primary serves degraded meanwhile. */
  coolDown(last: ChildRun): void {
    const s = this.s;
    const ms = s.nextCooldownMs;
    s.standbyCooldown = { until: this.now + ms, ms };
    s.nextCooldownMs = Math.min(ms * 2, s.limits.standbyCooldownMaxMs);
    const recent = s.recentRestarts.secondary.length;
    const why = [last.lastExit ?? 'killed by the watchdog', failure(last)].filter(Boolean).join(', ');
    this.emit('standby-cooldown', { role: 'secondary', pid: last.pid, epoch: s.epoch, restarts: recent, cooldownMs: ms, reason: why });
    this.out.push({
      kind: 'say',
      line: `osps: the secondary kept dying (${recent} restarts within ${s.limits.restartWindowMs / 1000} s, limit ${s.limits.maxRestarts}; last: ${why}); the primary serves without a standby (degraded: journal fsync) and a new standby is tried in ${ms / 1000} s`,
    });
    this.finishJob();
  }

  respawnStandby(cause: string): void {
    const s = this.s;
    if (s.standbyCooldown) return this.finishJob();
    s.job = s.job?.kind === 'failover' ? { kind: 'failover', step: 'spawning-secondary', oldPid: s.job.oldPid, cause } : { kind: 'replace-standby', step: 'spawning', cause };
    this.spawn('secondary');
  }

  finishJob(): void {
    const s = this.s;
    s.job = null;
    s.failover = null;
    s.phase = 'running';
    this.record();
  }

  /** The primary kept dying: nothing can serve, so the instance stops loudly (exit 3). */
  giveUp(last: ChildRun): void {
    // Its last words (the failure cause) may still be in flight.
    this.s.job = { kind: 'give-up', who: last.token, until: last.lastFailure ? this.now : this.now + this.s.limits.lateMessageMs };
  }

  /** It exited with a code its spec says no restart cures: the same data would fail again. */
  incurable(ch: ChildRun): boolean {
    const code = exitCodeOf(ch.lastExit);
    return code !== null && this.s.limits.specs[ch.role].giveUpOn.includes(code);
  }

  /** Stops at once, repeating the server's one line (file, offset, the way forward). */
  refuseData(last: ChildRun): void {
    const why = last.lastFailure ?? `${last.lastExit ?? 'exited'}; see the log`;
    this.emit('give-up', { role: last.role, pid: last.pid, reason: why });
    this.out.push({ kind: 'say', line: `osps: ${why}` });
    this.beginStop(EXIT_DATA_REFUSED);
  }

  finishGiveUp(token: string): void {
    const s = this.s;
    const last = this.child(token);
    const role = last?.role ?? 'primary';
    const why = [last?.lastExit ?? (last?.status === 'exited' ? 'exited' : 'killed by the watchdog'), last ? failure(last) : null].filter(Boolean).join(', ');
    const recent = s.recentRestarts[role].length;
    this.emit('give-up', { role, pid: last?.pid ?? 0, reason: why });
    this.out.push({
      kind: 'say',
      line: `osps: giving up: the ${role} kept dying (${recent} restarts within ${s.limits.restartWindowMs / 1000} s, limit ${s.limits.maxRestarts}); last: ${why}`,
    });
    this.beginStop(3);
  }

  reaped(token: string): void {
    const s = this.s;
    const job = s.job;
    const ch = this.child(token);
    if (!job || !ch) return;
    if (job.kind === 'stop' && job.step === 'killing' && job.current === token) {
      this.emit('stopped', { role: ch.role, pid: ch.pid, epoch: s.epoch, graceful: false });
      return this.stopNext();
    }
    if (job.kind === 'adopt' && job.step !== 'learning' && job.awaiting.includes(token)) {
      job.awaiting = job.awaiting.filter((t) => t !== token);
      const cause = job.step === 'fencing-extras' ? 'duplicate after adoption' : undefined;
      this.emit('fenced', { role: ch.reportedRole ?? ch.role, pid: ch.pid, epoch: s.epoch, cause });
    } else if (job.kind === 'failover' && job.step === 'fencing' && job.old === token) {
      this.fenced(ch);
    } else if (job.kind === 'failover' && job.step === 'clearing-standby' && job.stale === token) {
      this.spawnFreshPrimary(job.oldPid, job.cause);
    } else if (job.kind === 'replace-standby' && job.step === 'fencing' && job.old === token) {
      this.standbyFenced(ch, true);
    }
  }
}
