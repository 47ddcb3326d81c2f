import fs from 'node:fs';
import type { Config } from '../config.js';
import type { ShmRing } from '../ipc/shm-ring.js';
import type { AdminReply, AdminRequest, InstanceStatus } from '../protocol/admin.js';
import type { Role, ServerToWatchdog } from '../protocol/control.js';
import { lastWordsFile, type LastWords, type RuntimePaths } from '../runtime/paths.js';
import { describeExit, EXIT_GAVE_UP } from '../protocol/exit-codes.js';
import type { AdoptionPlan } from './adopt.js';
import { adoptServer, killAndReap, spawnServer, type Child } from './children.js';
import { ControlServer } from './control-server.js';
import type { EventLog } from './events.js';
import { createIpc, destroyIpc, repairIpc } from './ipc-resources.js';
import { Pinger } from './pinger.js';
import { RestartPolicy } from './restart-policy.js';
import { Sampler } from './sampler.js';
import { writeState, type Phase, type WatchdogState } from './state-file.js';
import { processStartTime } from '../runtime/proc.js';
import { journalFile } from '../runtime/paths.js';
import { setTimeout as sleep } from 'node:timers/promises';


type Cfg = Config & { dataDir: string };

/** Ping period while learning adopted servers' roles (faster than the steady ping). */
const ADOPTION_PING_MS = 50;
/** Longest wait for the primary to report a dead standby's link closed before replacing it. */
const STANDBY_RELEASE_TIMEOUT_MS = 2000;
/** How long a dead server's last message (its failure cause) may trail its exit event. */
const LATE_MESSAGE_MS = 300;
type Deferred = { promise: Promise<boolean>; resolve: (ok: boolean) => void };

function deferred(): Deferred {
  let resolve!: (ok: boolean) => void;
  const promise = new Promise<boolean>((r) => (resolve = r));
  return { promise, resolve };
}

function readLastWords(paths: RuntimePaths, pid: number): LastWords | null {
  const file = lastWordsFile(paths, pid);
  try {
    const words = JSON.parse(fs.readFileSync(file, 'utf8')) as LastWords;
    fs.rmSync(file, { force: true });
    return words;
  } catch {
    return null;
  }
}


/**
 * The supervisor state machine. Children are data (`Child`); every recovery action runs
 * through one serial chain, so a crash seen during a failover waits its turn instead of
 * racing it. Steps: detect → fence → bump epoch → promote → respawn, each an event.
 */
export class Watchdog {
  epoch = 1;
  phase: Phase = 'starting';
  primary: Child | null = null;
  secondary: Child | null = null;
  private ring: ShmRing | null = null;
  private readonly byToken = new Map<string, Child>();
  private readonly promoted = new Map<string, Deferred>();
  private readonly readyWaiters = new Map<string, Deferred>();
  private readonly policy: RestartPolicy;
  private readonly restarts: Record<Role, number> = { primary: 0, secondary: 0 };
  private readonly pinger: Pinger;
  private readonly control: ControlServer;
  private readonly sampler: Sampler;
  private chain: Promise<void> = Promise.resolve();
  private pingSeq = 0;
  private readonly pingSentAt = new Map<number, number>();
  private timers: NodeJS.Timeout[] = [];
  private readonly startedAt = Date.now();
  private exitCode = 0;
  /** This watchdog adopted a predecessor's servers. */
  private isSuccessor = false;
  /** Highest commitSeq a primary has reported: writes were acknowledged up to here. */
  private servedCommitSeq = 0;
  private resolveDone!: (code: number) => void;
  /** Resolves with the process exit code once the tree is stopped and cleaned. */
  readonly done: Promise<number>;

  constructor(
    private readonly cfg: Cfg,
    private readonly paths: RuntimePaths,
    private readonly events: EventLog,
    private readonly launcherPid: number | null,
  ) {
    this.policy = new RestartPolicy(cfg.maxRestarts, cfg.restartWindowMs);
    this.pinger = new Pinger(paths.watchdogEndpoint, (token, m) => this.onServerMessage(token, m));
    this.control = new ControlServer(paths.controlEndpoint, (req) => this.onAdmin(req));
    this.sampler = new Sampler(cfg, () => this.liveChildren(), (child) => this.onMemoryCeiling(child));
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Starts a fresh tree, or adopts the live servers a dead predecessor left (`plan`). */
  async start(plan: AdoptionPlan | null = null): Promise<void> {
    this.events.emit('starting', { name: this.cfg.name, endpoint: this.cfg.endpoint, pid: process.pid, adopting: plan !== null });
    if (plan) {
      this.isSuccessor = true;
      this.ring = plan.ring;
      this.epoch = plan.ring.epoch;
    } else {
      this.ring = await createIpc(this.paths, this.cfg, this.events);
      this.ring.epoch = this.epoch;
    }
    await this.pinger.bind();
    await this.control.bind();
    this.timers.push(setInterval(() => this.pingAll(), this.cfg.pingIntervalMs));
    this.timers.push(setInterval(() => this.checkAlarms(), Math.max(20, Math.min(100, this.cfg.alarmMs / 10))));
    this.sampler.start();
    if (plan) {
      this.phase = 'failover';
      this.serial(() => this.adopt(plan));
    } else {
      this.primary = this.spawn('primary');
      this.secondary = this.spawn('secondary');
      this.phase = 'running';
    }
    this.record();
  }

  /**
   * Takes over a predecessor's servers without disturbing them: they keep serving while
   * we learn their roles from their pongs, then finish whatever failover was under way.
   */
  private async adopt(plan: AdoptionPlan): Promise<void> {
    const adopted = plan.children.map((rec) => {
      const child = adoptServer(rec);
      this.byToken.set(child.token, child);
      void child.exited.then(() => this.onExit(child, null, null));
      return child;
    });
    // Wait for every adopted server to answer once (a hung one is left to the alarm). Their
    // DEALERs reconnect within ~200 ms and a ping sent before that is dropped: ping often.
    const deadline = Date.now() + this.cfg.alarmMs;
    let lastPing = 0;
    while (Date.now() < deadline && adopted.some((c) => c.state !== 'exited' && c.reportedRole === null)) {
      if (Date.now() - lastPing >= ADOPTION_PING_MS) {
        this.pingAll();
        lastPing = Date.now();
      }
      await sleep(5);
    }
    const oldPid = plan.failover?.oldPid;
    for (const c of adopted) {
      const judged = oldPid === c.pid && c.state !== 'exited';
      const stale = c.reportedRole === 'primary' && c.reportedEpoch !== null && c.reportedEpoch < this.epoch;
      if (judged || stale) {
        // The predecessor had already condemned it, or it is a fenced primary: finish the fencing.
        c.state = 'stopping';
        await killAndReap(c);
        this.events.emit('fenced', { role: c.reportedRole ?? c.role, pid: c.pid, epoch: this.epoch });
      }
    }
    const live = adopted.filter((c) => c.state !== 'exited' && c.state !== 'stopping');
    for (const c of live) {
      if (c.reportedRole) c.role = c.reportedRole;
      this.events.emit('adopted', { role: c.role, pid: c.pid, epoch: this.epoch, answered: c.reportedRole !== null });
    }
    this.primary = live.find((c) => c.role === 'primary') ?? null;
    this.secondary = live.find((c) => c.role === 'secondary') ?? null;
    // One of each role at most: an extra (a replacement spawned just before our predecessor
    // died) would fight the adopted one for the FIFOs, so it is fenced.
    for (const extra of live.filter((c) => c !== this.primary && c !== this.secondary)) {
      extra.state = 'stopping';
      await killAndReap(extra);
      this.events.emit('fenced', { role: extra.role, pid: extra.pid, epoch: this.epoch, cause: 'duplicate after adoption' });
    }
    if (!this.primary) {
      this.events.emit('detected', { role: 'primary', pid: oldPid ?? 0, epoch: this.epoch, cause: 'missing after adoption' });
      await this.recover(plan.failover?.cause ?? 'adoption');
      return;
    }
    if (!this.secondary) {
      await repairIpc(this.paths, this.ring, this.events);
      this.secondary = this.spawn('secondary');
      this.events.emit('respawned', { role: 'secondary', pid: this.secondary.pid, epoch: this.epoch });
    }
    this.phase = 'running';
    this.record();
  }

  // --- children ---------------------------------------------------------------

  private spawn(role: Role): Child {
    const child = spawnServer(role, this.cfg);
    this.byToken.set(child.token, child);
    this.readyWaiters.set(child.token, deferred());
    this.events.emit('spawned', { role, pid: child.pid, epoch: this.epoch });
    void child.exited.then(({ code, signal }) => this.onExit(child, code, signal));
    this.record();
    return child;
  }

  private liveChildren(): Child[] {
    return [this.primary, this.secondary].filter((c): c is Child => c !== null && c.state !== 'exited');
  }

  private onExit(child: Child, code: number | null, signal: string | null): void {
    child.state = 'exited';
    // Its last words ('failed', with the cause) may still be in flight on the socket.
    setTimeout(() => this.byToken.delete(child.token), LATE_MESSAGE_MS).unref();
    this.promoted.get(child.token)?.resolve(false);
    this.readyWaiters.get(child.token)?.resolve(false);
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    const cause = describeExit(code, signal);
    child.lastExit = cause;
    const words = readLastWords(this.paths, child.pid);
    if (words) {
      child.lastFailure = words.reason;
      child.lastFailureCode = words.code;
    }
    this.events.emit('exited', { role: child.role, pid: child.pid, epoch: this.epoch, cause, reason: words?.reason });
    if (child === this.primary) this.serial(() => this.failover(child, 'crash'));
    else if (child === this.secondary) this.serial(() => this.replaceSecondary(child, 'crash'));
  }

  private onServerMessage(token: string, m: ServerToWatchdog): void {
    const child = this.byToken.get(token);
    if (!child) return;
    const now = Date.now();
    switch (m.t) {
      case 'hello':
        child.helloAt = now;
        child.lastPongAt = now;
        child.unansweredSince = null;
        return;
      case 'pong': {
        child.lastPongAt = now;
        child.unansweredSince = null;
        child.reportedRole = m.role;
        child.reportedEpoch = m.epoch;
        if (m.role === 'secondary') child.synced = m.synced;
        const sent = this.pingSentAt.get(m.seq);
        if (sent !== undefined) child.rttMs = now - sent;
        child.commitSeq = m.commitSeq;
        if (m.role === 'primary') this.servedCommitSeq = Math.max(this.servedCommitSeq, m.commitSeq);
        child.keys = m.keys;
        child.standby = m.standby;
        return;
      }
      case 'ready':
        child.state = 'ready';
        child.lastPongAt = now;
        // Pings sent while it was loading do not count against the alarm: it starts now.
        child.unansweredSince = null;
        this.events.emit('ready', { role: m.role, pid: child.pid, epoch: this.epoch });
        this.readyWaiters.get(token)?.resolve(true);
        return;
      case 'synced':
        child.synced = true;
        child.commitSeq = m.commitSeq;
        this.events.emit('synced', { role: child.role, pid: child.pid, epoch: this.epoch, commitSeq: m.commitSeq });
        return;
      case 'standby': {
        child.standby = m.state;
        child.standbyPeer = m.peerPid;
        this.events.emit('standby', { role: child.role, pid: child.pid, epoch: this.epoch, standby: m.state });
        const sec = this.secondary;
        // The link broke but the standby lives on (a cut pipe): it cannot re-pair by itself, so replace it.
        if (m.state === 'absent' && child === this.primary && sec && sec.pid === m.peerPid && sec.state === 'ready') {
          sec.state = 'stopping';
          this.events.emit('link-lost', { role: 'secondary', pid: sec.pid, epoch: this.epoch });
          this.serial(() => this.replaceSecondary(sec, 'link lost'));
        }
        return;
      }
      case 'promoted':
        child.commitSeq = m.commitSeq;
        this.promoted.get(token)?.resolve(true);
        return;
      case 'failed':
        child.lastFailure = m.reason;
        child.lastFailureCode = m.code ?? null;
        return;
    }
  }

  // --- detection --------------------------------------------------------------

  private pingAll(): void {
    const seq = ++this.pingSeq;
    const now = Date.now();
    this.pingSentAt.set(seq, now);
    this.pingSentAt.delete(seq - 64);
    this.ring?.heartbeat(0, now);
    // Every known server, including adopted ones whose role is not settled yet.
    for (const c of this.byToken.values()) {
      if (c.state === 'exited') continue;
      c.lastPingSentAt = now;
      c.unansweredSince ??= now;
      this.pinger.send(c.token, { t: 'ping', seq, epoch: this.epoch });
    }
  }

  /**
   * The alarm: a ping unanswered for `alarmMs` means hung (like alarm(3) armed at each ping).
   * A server that is not ready yet gets `readyTimeoutMs` to come up instead.
   */
  private checkAlarms(): void {
    if (this.phase !== 'running' && this.phase !== 'failover') return;
    const now = Date.now();
    for (const c of this.liveChildren()) {
      if (c.state === 'stopping') continue;
      // Until it is ready a server is loading (journal, snapshot): it gets readyTimeoutMs, not the alarm.
      const starting = c.state === 'starting';
      const since = starting ? c.spawnedAt : c.unansweredSince;
      if (since === null) continue;
      const silentFor = now - since;
      if (silentFor <= (starting ? this.cfg.readyTimeoutMs : this.cfg.alarmMs)) continue;
      c.state = 'stopping';
      this.events.emit('ping-missed', { role: c.role, pid: c.pid, epoch: this.epoch, silentMs: silentFor });
      if (c === this.primary) this.serial(() => this.failover(c, 'hang'));
      else this.serial(() => this.replaceSecondary(c, 'hang'));
    }
  }

  private onMemoryCeiling(c: Child): void {
    if (c.state !== 'ready' || this.phase !== 'running') return;
    // Restarting a primary whose standby is not in sync would throw away the only current copy
    // of the data: wait until the standby has it (the next sample checks again).
    const sec = this.secondary;
    if (c === this.primary && !(sec && sec.state === 'ready' && sec.synced && c.standby === 'in-sync')) return;
    c.state = 'stopping';
    this.events.emit('memory-ceiling', { role: c.role, pid: c.pid, rss: c.rss, epoch: this.epoch });
    if (c === this.primary) this.serial(() => this.failover(c, 'memory'));
    else this.serial(() => this.replaceSecondary(c, 'memory'));
  }

  // --- recovery -----------------------------------------------------------------

  private serial(step: () => Promise<void>): void {
    this.chain = this.chain.then(step).catch((err: Error) => {
      this.events.emit('give-up', { reason: `internal error in recovery: ${err.message}` });
      void this.stop(EXIT_GAVE_UP);
    });
  }

  private async failover(old: Child, cause: string): Promise<void> {
    if (this.primary !== old || this.phase === 'stopping' || this.phase === 'stopped') return;
    this.phase = 'failover';
    this.recordFailover('detected', old.pid, cause);
    this.events.emit('detected', { role: 'primary', pid: old.pid, epoch: this.epoch, cause });
    // Fence: the old primary is dead and reaped before anyone else may serve.
    if (old.state !== 'exited') await killAndReap(old);
    this.events.emit('fenced', { role: 'primary', pid: old.pid, epoch: this.epoch });
    this.primary = null;
    this.recordFailover('fenced', old.pid, cause);
    if (!this.policy.allow()) return this.giveUp(old);
    this.restarts.primary++;
    await this.recover(cause, old.pid);
  }

  /** With no primary: bump the epoch, promote a synced standby or start a fresh primary, then a new standby. */
  private async recover(cause: string, oldPid = 0): Promise<void> {
    this.phase = 'failover';
    this.epoch = Math.max(this.epoch, this.ring?.epoch ?? 0) + 1;
    if (this.ring) this.ring.epoch = this.epoch;
    this.recordFailover('epoch-bumped', oldPid, cause);

    const sec = this.secondary;
    // A synced standby is the current copy of the data: try to promote it even if the alarm
    // was about to replace it (a CPU-starved standby is slow, not wrong); only if it cannot
    // take over does a fresh primary start from the journal.
    if (sec && sec.state !== 'exited' && sec.synced) {
      this.recordFailover('promoting', oldPid, cause);
      const ok = await this.promote(sec);
      if (ok) {
        sec.role = 'primary';
        sec.standby = 'absent';
        // It answered the promotion: whatever the alarm thought a moment ago, it is serving.
        sec.state = 'ready';
        sec.unansweredSince = null;
        this.primary = sec;
        this.secondary = null;
        this.events.emit('promoted', { role: 'primary', pid: sec.pid, epoch: this.epoch, commitSeq: sec.commitSeq });
      }
    }
    this.recordFailover('respawning', oldPid, cause);
    if (!this.primary) {
      // No standby could take over: a fresh primary rebuilds the state from the journal. With
      // no journal but acknowledged writes on record, that primary would serve an empty store:
      // stopping loudly is better than silently losing every acknowledged write.
      if (this.servedCommitSeq > 0 && !fs.existsSync(journalFile(this.cfg.dataDir))) {
        this.events.emit('give-up', { reason: `no current copy of the data (commitSeq ${this.servedCommitSeq}, no journal)` });
        process.stderr.write(`osps: giving up: no standby could be promoted and there is no journal to rebuild ${this.servedCommitSeq} acknowledged writes from\n`);
        await this.stop(EXIT_GAVE_UP);
        return;
      }
      const stale = this.secondary;
      if (stale && stale.state !== 'exited') {
        stale.state = 'stopping';
        await killAndReap(stale);
      }
      this.secondary = null;
      await repairIpc(this.paths, this.ring, this.events);
      this.primary = this.spawn('primary');
      this.events.emit('respawned', { role: 'primary', pid: this.primary.pid, epoch: this.epoch });
      await this.readyWaiters.get(this.primary.token)?.promise;
    }
    if (!this.secondary && this.primary) {
      await repairIpc(this.paths, this.ring, this.events);
      this.secondary = this.spawn('secondary');
      this.events.emit('respawned', { role: 'secondary', pid: this.secondary.pid, epoch: this.epoch });
    }
    this.phase = 'running';
    this.record();
  }

  private async standbyReleased(oldPid: number): Promise<void> {
    const deadline = Date.now() + STANDBY_RELEASE_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const p = this.primary;
      if (!p || p.state === 'exited' || p.standby === 'absent' || p.standbyPeer !== oldPid) return;
      await sleep(5);
    }
  }

  private async promote(sec: Child): Promise<boolean> {
    const d = deferred();
    this.promoted.set(sec.token, d);
    this.pinger.send(sec.token, { t: 'promote', epoch: this.epoch });
    const timer = setTimeout(() => d.resolve(false), this.cfg.readyTimeoutMs);
    const ok = await d.promise;
    clearTimeout(timer);
    this.promoted.delete(sec.token);
    return ok && sec.state !== 'exited';
  }

  private async replaceSecondary(old: Child, cause: string): Promise<void> {
    if (this.secondary !== old || this.phase === 'stopping' || this.phase === 'stopped') return;
    if (old.state !== 'exited') {
      await killAndReap(old);
      this.events.emit('fenced', { role: 'secondary', pid: old.pid, epoch: this.epoch, cause });
    }
    this.secondary = null;
    if (!this.policy.allow()) return this.giveUp(old);
    this.restarts.secondary++;
    // The FIFOs are shared by name: a new standby opening them before the primary has seen
    // the old one go would inherit its half of the link. Wait for the primary to let go.
    await this.standbyReleased(old.pid);
    await repairIpc(this.paths, this.ring, this.events);
    this.secondary = this.spawn('secondary');
    this.events.emit('respawned', { role: 'secondary', pid: this.secondary.pid, epoch: this.epoch });
  }

  private async giveUp(last: Child): Promise<void> {
    if (!last.lastFailure) await sleep(LATE_MESSAGE_MS);
    const cause = last.lastFailureCode ? `${last.lastFailureCode}: ${last.lastFailure}` : last.lastFailure;
    const why = [last.lastExit ?? (last.state === 'exited' ? 'exited' : 'killed by the watchdog'), cause].filter(Boolean).join(', ');
    const message = `giving up: the ${last.role} kept dying (${this.policy.recent} restarts within ${this.cfg.restartWindowMs / 1000} s, limit ${this.cfg.maxRestarts}); last: ${why}`;
    this.events.emit('give-up', { role: last.role, pid: last.pid, reason: why });
    process.stderr.write(`osps: ${message}\n`);
    await this.stop(EXIT_GAVE_UP);
  }

  // --- stop -----------------------------------------------------------------------

  /** Graceful stop: primary first (it leaves a snapshot), then the standby, then every IPC object. */
  async stop(code = 0): Promise<void> {
    if (this.phase === 'stopping' || this.phase === 'stopped') return;
    this.phase = 'stopping';
    this.exitCode = code;
    this.record();
    this.events.emit('stopping', { epoch: this.epoch, pid: process.pid });
    for (const t of this.timers) clearInterval(t);
    this.sampler.stop();
    const budget = Math.max(500, this.cfg.stopTimeoutMs - 1000);
    for (const c of [this.primary, this.secondary]) {
      if (!c || c.state === 'exited') continue;
      c.state = 'stopping';
      this.pinger.send(c.token, { t: 'stop' });
      const stopped = await Promise.race([c.exited.then(() => true), sleep(budget / 2).then(() => false)]);
      if (!stopped) await killAndReap(c, 1000);
      this.events.emit('stopped', { role: c.role, pid: c.pid, epoch: this.epoch, graceful: stopped });
    }
    await this.control.flush();
    this.pinger.close();
    this.control.close();
    this.events.detachFile();
    const removed = await destroyIpc(this.paths, this.ring);
    this.ring = null;
    this.phase = 'stopped';
    this.events.emit('cleaned', { removed: removed.join(',') || 'nothing' });
    this.resolveDone(this.exitCode);
  }

  // --- records --------------------------------------------------------------------

  private record(failover: WatchdogState['failover'] = null): void {
    if (this.phase === 'stopped') return;
    try {
      writeState(this.paths.stateFile, {
        version: 1,
        name: this.cfg.name,
        endpoint: this.cfg.endpoint,
        launcherPid: this.launcherPid,
        watchdogPid: process.pid,
        watchdogStartTime: processStartTime(process.pid),
        epoch: this.epoch,
        phase: this.phase,
        failover,
        // Every process we know of, including one spawned a moment ago and not yet assigned a
        // role slot: a successor must adopt (or fence) it, never leave it running unseen.
        children: [...this.byToken.values()]
          .filter((c) => c.state !== 'exited')
          .map((c) => ({ role: c.role, pid: c.pid, token: c.token, startTime: c.startTime })),
        updatedAt: new Date().toISOString(),
      });
    } catch {
      // The runtime dir is being removed; nothing left to record.
    }
  }

  private recordFailover(step: NonNullable<WatchdogState['failover']>['step'], oldPid: number, cause: string): void {
    this.record({ step, oldPid, cause });
    // Failure injection: die right after recording this step, to prove a successor finishes it.
    if (process.env.OSPS_CHAOS_WATCHDOG_DIE_AT === step && !this.isSuccessor) process.kill(process.pid, 'SIGKILL');
  }

  // --- admin ----------------------------------------------------------------------

  private onAdmin(req: AdminRequest): AdminReply {
    if (req.op === 'stop') {
      void this.stop(0);
      return { ok: true, result: 'stopping' };
    }
    if (req.op === 'status') return { ok: true, result: this.status() };
    return { ok: false, error: `unknown admin op` };
  }

  status(): InstanceStatus {
    const now = Date.now();
    const self = this.sampler.self;
    const procs = [
      {
        role: 'watchdog' as const,
        pid: process.pid,
        state: this.phase,
        uptimeMs: now - this.startedAt,
        cpu: self.cpu,
        rss: self.rss,
        lastPingRttMs: null,
        lastPongAgoMs: null,
        restarts: 0,
      },
      ...this.liveChildren().map((c) => ({
        role: c.role,
        pid: c.pid,
        state: c.state,
        uptimeMs: now - c.spawnedAt,
        cpu: c.cpu,
        rss: c.rss,
        lastPingRttMs: c.rttMs,
        lastPongAgoMs: c.lastPongAt === null ? null : now - c.lastPongAt,
        restarts: this.restarts[c.role],
      })),
    ];
    return {
      name: this.cfg.name,
      endpoint: this.cfg.endpoint,
      phase: this.phase,
      epoch: this.epoch,
      commitSeq: this.primary?.commitSeq ?? 0,
      standby: this.primary?.standby ?? 'absent',
      processes: procs,
      recentRestarts: this.policy.recent,
      config: {
        pingIntervalMs: this.cfg.pingIntervalMs,
        alarmMs: this.cfg.alarmMs,
        memoryCeilingBytes: this.cfg.memoryCeilingBytes,
        ringBytes: this.cfg.ringBytes,
      },
      events: this.events.recent.slice(-20),
    };
  }
}
