import fs from 'node:fs';
import type { Config } from '../config.js';
import { HeartbeatSlot, type ShmRing } from '../ipc/shm-ring.js';
import type { AdminReply, AdminRequest, InstanceStatus } from '../protocol/admin.js';
import type { ServerToWatchdog } from '../protocol/control.js';
import { describeExit } from '../protocol/exit-codes.js';
import { journalFile, lastWordsFile, type LastWords, type RuntimePaths } from '../runtime/paths.js';
import { processStartTime } from '../runtime/proc.js';
import type { AdoptionPlan } from './adopt.js';
import { childSpecs } from './child-spec.js';
import { adoptServer, killAndReap, spawnServer, watchForeignExit, type ServerProcess } from './children.js';
import type { ControlServer } from './control-server.js';
import type { EventLog } from './events.js';
import { createFifos, createIpc, destroyIpc, repairIpc } from './ipc-resources.js';
import { nextTickAt } from './alarm.js';
import { initialState, type Action, type Beats, type FailoverStep, type Input, type Limits, type SupervisorState } from './machine.js';
import type { Pinger } from './pinger.js';
import { emptyTelemetry, toRecord, toStatus, type Telemetry } from './projections.js';
import { Sampler } from './sampler.js';
import { writeState } from './state-file.js';
import { transition } from './transition.js';
import { startObservation, type Observation } from './observation.js';

type Cfg = Config & { dataDir: string };

export function limitsOf(cfg: Config): Limits {
  return {
    pingIntervalMs: cfg.pingIntervalMs,
    alarmMs: cfg.alarmMs,
    heartbeatMs: cfg.heartbeatMs,
    readyTimeoutMs: cfg.readyTimeoutMs,
    maxRestarts: cfg.maxRestarts,
    restartWindowMs: cfg.restartWindowMs,
    memoryCeilingBytes: cfg.memoryCeilingBytes,
    adoptionPingMs: cfg.adoptionPingMs,
    standbyReleaseMs: cfg.standbyReleaseMs,
    lateMessageMs: cfg.lateMessageMs,
    standbySpawnDelayMs: cfg.standbySpawnDelayMs,
    standbyCooldownMs: cfg.standbyCooldownMs,
    standbyCooldownMaxMs: cfg.standbyCooldownMaxMs,
    specs: childSpecs(cfg.stopTimeoutMs),
  };
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
 * The executor of the supervision state machine (transition.ts): it feeds the machine
 * inputs (exits, server messages, timer ticks, samples, admin requests) and carries out
 * the actions it returns. Async effects (spawn, kill-and-reap, teardown) come back as inputs.
 */
export class Watchdog {
  private state: SupervisorState;
  private readonly procs = new Map<string, ServerProcess>();
  private readonly telemetry = new Map<string, Telemetry>();
  private readonly inbox: Input[] = [];
  private dispatching = false;
  private ring: ShmRing | null = null;
  /** The ping and control sockets, once start() has bound them (bindSockets). */
  private pinger: Pinger | null = null;
  private control: ControlServer | null = null;
  private readonly sampler: Sampler;
  private pingTimer: NodeJS.Timeout | null = null;
  /** The next tick, at the machine's next deadline (alarm.ts nextTickAt). */
  private tickTimer: NodeJS.Timeout | null = null;
  private tickAt = Infinity;
  /** The tick period while anything is under way; also the adoption's fast pings. */
  private readonly tickMs: number;
  private pingSeq = 0;
  private readonly pingSentAt = new Map<number, number>();
  /** Spawns run one after another, each after its IPC repair. */
  private spawnChain: Promise<void> = Promise.resolve();
  /** The FIFOs a fresh start makes while its primary boots (createFifos). */
  private fifos: Promise<void> = Promise.resolve();
  private readonly startedAt = Date.now();
  private readonly selfStartTime = processStartTime(process.pid);
  /** This watchdog adopted a predecessor's servers. */
  private isSuccessor = false;
  /** The metrics endpoint and dashboard, when `--metrics` asked for them. */
  private observation: Observation | null = null;
  private resolveDone!: (code: number) => void;
  /** Resolves with the process exit code once the tree is stopped and cleaned. */
  readonly done: Promise<number>;

  constructor(
    private readonly cfg: Cfg,
    private readonly paths: RuntimePaths,
    private readonly events: EventLog,
    private readonly launcherPid: number | null,
  ) {
    this.state = initialState(limitsOf(cfg), cfg.name, cfg.endpoint);
    this.sampler = new Sampler(cfg.sampleIntervalMs, () => this.liveProcs(), (token, s) => {
      Object.assign(this.telemetryOf(token), s);
      this.dispatch({ kind: 'memory', token, rss: s.rss });
    });
    this.done = new Promise((r) => (this.resolveDone = r));
    // A tenth of the alarm, within 20..50 ms.
    this.tickMs = Math.max(20, Math.min(50, cfg.alarmMs / 10));
  }

  get phase(): SupervisorState['phase'] {
    return this.state.phase;
  }

  /** Starts a fresh tree, or adopts the live servers a dead predecessor left (`plan`). */
  async start(plan: AdoptionPlan | null = null): Promise<void> {
    if (plan) {
      this.isSuccessor = true;
      this.ring = plan.ring;
      for (const rec of plan.children) this.watch(adoptServer(rec));
    } else {
      this.ring = await createIpc(this.paths, this.cfg, this.events);
      this.ring.epoch = 1;
    }
    const adopt = plan && { children: plan.children, failover: plan.failover, restarts: plan.restarts };
    // An adoption pings its servers at once: its sockets come first. A fresh start spawns its
    // primary first; the rest is not on the way to the first answer, and is done while it boots.
    if (plan) await this.bindSockets();
    this.dispatch({ kind: 'start', selfPid: process.pid, epoch: plan ? plan.ring.epoch : 1, adopt });
    if (!plan) {
      // Queued after the primary's spawn: their mkfifo processes are forked after it.
      this.fifos = createFifos(this.paths);
      await this.bindSockets();
    }
    this.pingTimer = setInterval(() => this.dispatch({ kind: 'ping-due' }), this.cfg.pingIntervalMs);
    this.sampler.start();
    if (this.cfg.metrics) this.observation = await startObservation(this.cfg.metrics, this.events, () => this.status(), !this.isSuccessor);
    await this.fifos;
  }

  /**
   * zeromq is loaded here, not with the watchdog (~15 ms of its start): the primary's first
   * words (hello, ready) wait in its queue until its socket connects, ours bound by then.
   */
  private async bindSockets(): Promise<void> {
    const [{ Pinger }, { ControlServer }] = await Promise.all([import('./pinger.js'), import('./control-server.js')]);
    this.pinger = new Pinger(this.paths.watchdogEndpoint, (token, m) => this.onServerMessage(token, m));
    this.control = new ControlServer(this.paths.controlEndpoint, (req) => this.onAdmin(req));
    await this.pinger.bind();
    await this.control.bind();
  }

  /** Graceful stop (SIGTERM, `osps stop`, or a start that failed). */
  stop(code = 0): Promise<number> {
    this.dispatch({ kind: 'stop', code });
    return this.done;
  }

  // --- inputs ---------------------------------------------------------------------

  private dispatch(input: Input): void {
    this.inbox.push(input);
    // An action that answers at once (check-journal) feeds its input here: it waits its turn.
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.inbox.shift(); next; next = this.inbox.shift()) {
        const { state, actions } = transition(this.state, next, Date.now());
        this.state = state;
        // Every record of one step writes the same state (the step's outcome): once is enough.
        let recorded = false;
        for (const a of actions) {
          try {
            if (a.kind === 'record' && recorded) this.dieAfterRecording(a.step);
            else this.perform(a);
            recorded ||= a.kind === 'record';
          } catch (err) {
            this.inbox.push({ kind: 'internal-error', message: (err as Error).message });
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
    this.scheduleTick();
  }

  /** One timer, set for the machine's next deadline; an input that brings it closer moves it. */
  private scheduleTick(): void {
    if (this.state.phase === 'stopped') return;
    const now = Date.now();
    const at = nextTickAt(this.state, now, this.tickMs);
    if (this.tickTimer && this.tickAt <= at) return;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickAt = at;
    this.tickTimer = setTimeout(() => {
      this.tickTimer = null;
      this.tickAt = Infinity;
      this.dispatch({ kind: 'tick', beats: this.beats() });
    }, at - now);
  }

  /** The servers' heartbeat words, read from the shm header. */
  private beats(): Beats | undefined {
    try {
      return this.ring ? { primary: this.ring.heartbeat(HeartbeatSlot.Primary), secondary: this.ring.heartbeat(HeartbeatSlot.Secondary) } : undefined;
    } catch {
      return undefined;
    }
  }

  private watch(p: ServerProcess): void {
    this.procs.set(p.token, p);
    this.telemetry.set(p.token, emptyTelemetry());
    void p.exited.then(({ code, signal }) => {
      const words = readLastWords(this.paths, p.pid);
      this.dispatch({ kind: 'exited', token: p.token, cause: describeExit(code, signal), lastWords: words && { reason: words.reason, code: words.code } });
    });
  }

  private onServerMessage(token: string, m: ServerToWatchdog): void {
    if (!this.state.children[token]) return;
    const t = this.telemetryOf(token);
    const now = Date.now();
    if (m.t === 'hello' || m.t === 'ready' || m.t === 'pong') t.lastPongAt = now;
    if (m.t === 'pong') {
      const child = this.state.children[token]!;
      const sent = this.pingSentAt.get(m.seq);
      if (sent !== undefined) {
        t.rttMs = now - sent;
        this.observation?.observer.observePingRtt(child.role, t.rttMs);
      }
      if (m.counters) this.observation?.observer.observeServerCounters(m.role, child.pid, m.counters);
      t.keys = m.keys;
    }
    this.dispatch({ kind: 'message', token, m });
  }

  private onAdmin(req: AdminRequest): AdminReply {
    if (req.op === 'stop') {
      void this.stop(0);
      return { ok: true, result: 'stopping' };
    }
    if (req.op === 'status') return { ok: true, result: this.status() };
    return { ok: false, error: `unknown admin op` };
  }

  // --- actions --------------------------------------------------------------------

  private perform(a: Action): void {
    switch (a.kind) {
      case 'spawn':
        this.spawnChain = this.spawnChain.then(async () => {
          try {
            // The standby is the FIFOs' first reader.
            if (a.role === 'secondary') await this.fifos;
            if (a.repairIpc) await repairIpc(this.paths, this.ring, this.events);
            const p = spawnServer(this.state.limits.specs[a.role], this.cfg);
            this.watch(p);
            this.dispatch({ kind: 'spawned', role: a.role, token: p.token, pid: p.pid, startTime: p.startTime });
          } catch (err) {
            this.dispatch({ kind: 'spawn-failed', role: a.role, message: (err as Error).message });
          }
        });
        return;
      case 'kill-and-reap': {
        const p = this.procs.get(a.token) ?? { pid: a.pid, exited: watchForeignExit(a.pid) };
        void killAndReap(p, a.timeoutMs).then(() => this.dispatch({ kind: 'reaped', token: a.token }));
        return;
      }
      case 'send':
        this.pinger?.send(a.token, a.m);
        return;
      case 'ping': {
        const seq = ++this.pingSeq;
        const now = Date.now();
        this.pingSentAt.set(seq, now);
        this.pingSentAt.delete(seq - 64);
        this.ring?.heartbeat(HeartbeatSlot.Watchdog, now);
        for (const token of a.tokens) this.pinger?.send(token, { t: 'ping', seq, epoch: a.epoch });
        return;
      }
      case 'emit':
        this.events.emit(a.event, a.fields);
        return;
      case 'record':
        this.record();
        this.dieAfterRecording(a.step);
        return;
      case 'set-ring-epoch':
        if (this.ring) this.ring.epoch = a.epoch;
        return;
      case 'check-journal':
        this.dispatch({ kind: 'journal-checked', exists: fs.existsSync(journalFile(this.cfg.dataDir)) });
        return;
      case 'say':
        process.stderr.write(`${a.line}\n`);
        return;
      case 'forget':
        this.procs.delete(a.token);
        this.telemetry.delete(a.token);
        return;
      case 'halt-watch':
        if (this.pingTimer) clearInterval(this.pingTimer);
        this.sampler.stop();
        return;
      case 'tear-down':
        void this.tearDown();
        return;
      case 'exit':
        if (this.tickTimer) clearTimeout(this.tickTimer);
        this.tickTimer = null;
        this.resolveDone(a.code);
        return;
    }
  }

  private async tearDown(): Promise<void> {
    let removed: string[] = [];
    try {
      await this.control?.flush();
      this.pinger?.close();
      this.control?.close();
      this.events.detachFile();
      await this.observation?.close();
      // A FIFO still being made would be left behind.
      await this.fifos.catch(() => {});
      removed = await destroyIpc(this.paths, this.ring);
      this.ring = null;
    } finally {
      this.dispatch({ kind: 'torn-down', removed });
    }
  }

  // --- projections ----------------------------------------------------------------

  /** Failure injection: die right after recording this step, to prove a successor finishes it. */
  private dieAfterRecording(step: FailoverStep | null): void {
    if (step && this.cfg.faultInjection && process.env.OSPS_CHAOS_WATCHDOG_DIE_AT === step && !this.isSuccessor) process.kill(process.pid, 'SIGKILL');
  }

  private record(): void {
    if (this.state.phase === 'stopped') return;
    try {
      writeState(this.paths.stateFile, toRecord(this.state, { launcherPid: this.launcherPid, startTime: this.selfStartTime }));
    } catch {
      // The runtime dir is being removed; nothing left to record.
    }
  }

  private telemetryOf(token: string): Telemetry {
    let t = this.telemetry.get(token);
    if (!t) this.telemetry.set(token, (t = emptyTelemetry()));
    return t;
  }

  private liveProcs(): { token: string; pid: number }[] {
    const s = this.state;
    return [s.primary, s.secondary]
      .map((t) => (t === null ? undefined : s.children[t]))
      .filter((c) => c !== undefined && c.status !== 'exited')
      .map((c) => ({ token: c!.token, pid: c!.pid }));
  }

  status(): InstanceStatus {
    return toStatus(this.state, {
      now: Date.now(),
      startedAt: this.startedAt,
      self: this.sampler.self,
      telemetry: (token) => this.telemetryOf(token),
      config: {
        pingIntervalMs: this.cfg.pingIntervalMs,
        alarmMs: this.cfg.alarmMs,
        memoryCeilingBytes: this.cfg.memoryCeilingBytes,
        ringBytes: this.cfg.ringBytes,
        faultInjection: this.cfg.faultInjection,
      },
      events: this.events.recent.slice(-20),
    });
  }
}
