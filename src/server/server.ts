import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { isErrnoException } from '../errors.js';
import { HeartbeatSlot, ShmRing } from '../ipc/shm-ring.js';
import { logLine } from '../log.js';
import type { Role, WatchdogToServer } from '../protocol/control.js';
import { ServiceHost } from '../host/host.js';
import { Quarantine } from '../host/quarantine.js';
import { writeDivergence } from '../host/divergence-note.js';
import { JournalCorruptError } from '../journal/errors.js';
import { loadJournalInSlices, type Replayed } from '../journal/replay.js';
import { Primary } from '../primary/primary.js';
import { journalFile, lastWordsFile, runtimePaths, type LastWords, type RuntimePaths } from '../runtime/paths.js';
import { Secondary } from '../secondary/secondary.js';
import type { ServiceDefinition } from '../host/service.js';
import { ControlLink } from './control-link.js';
import { startIdleGc } from './idle-gc.js';
import { EXIT } from '../protocol/exit-codes.js';
import type { Standby } from '../protocol/standby.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a promoted standby retries EADDRINUSE while the fenced primary's socket closes. */
const PROMOTION_BIND_RETRY_MS = 3000;

export interface ServerOptions {
  cfg: Config & { dataDir: string };
  role: Role;
  token: string;
  service: ServiceDefinition<unknown>;
  /** The client endpoint's CURVE secret key (Z85), when it is a CURVE server. */
  curveSecretKey?: string;
}


/**
 * One server process. It starts in a role and may change from secondary to primary once,
 * on promotion; each role's behaviour lives in its own folder.
 */
export class Server {
  private role: Role;
  private readonly paths: RuntimePaths;
  private readonly ring: ShmRing;
  private readonly control: ControlLink;
  private primary: Primary | null = null;
  private secondary: Secondary | null = null;
  private readonly host: ServiceHost<unknown>;
  private epoch: number;
  private exiting = false;
  private announcedReady = false;
  /** The heartbeat in shm the watchdog's alarm counts from; it stops when the event loop does. */
  private readonly beat: NodeJS.Timeout;
  /** What the replay at start read: the journal may carry on from that file. */
  private replayed: { r: Replayed; seq: number } | null = null;

  constructor(private readonly o: ServerOptions) {
    this.role = o.role;
    this.paths = runtimePaths(o.cfg.name, o.cfg.runtimeRoot);
    this.ring = ShmRing.attach(this.paths.shmName);
    this.epoch = this.ring.epoch;
    this.host = new ServiceHost<unknown>(o.service, { dedupWindow: o.cfg.dedupWindow });
    this.control = new ControlLink(
      this.paths.watchdogEndpoint,
      o.token,
      (m) => this.onControl(m),
      o.cfg.orphanTimeoutMs,
      () => void this.exit(EXIT.ORPHANED, 'no ping from the watchdog: orphaned'),
      (err) => void this.exit(EXIT.INTERNAL, `control link failed: ${err.message}`),
    );
    this.beat = setInterval(() => this.heartbeat(), o.cfg.heartbeatMs);
    this.beat.unref();
  }

  private heartbeat(): void {
    this.ring.heartbeat(this.role === 'primary' ? HeartbeatSlot.Primary : HeartbeatSlot.Secondary, Date.now());
  }

  async start(): Promise<void> {
    // Hello first: a primary replaying a long journal answers pings meanwhile, so the watchdog
    // sees it alive while it loads; it binds the endpoint (serves) only once the replay is done.
    this.control.send({ t: 'hello', token: this.o.token, pid: process.pid, role: this.role, epoch: this.epoch });
    if (this.role === 'primary' && !(await this.replay())) return;
    if (this.exiting) return;
    startIdleGc(() => this.host.seq, this.o.cfg.idleGcMs, () => this.host.snapshotsTaken);
    if (this.role === 'primary') {
      await this.startPrimary();
      this.announceReady();
    } else {
      // A standby is ready once its snapshot is loaded (see onSynced): loading a large one
      // blocks its event loop, which must count against the start-up budget, not the alarm.
      await this.startSecondary();
    }
  }

  /** A fresh primary rebuilds the state from the journal; false when it must not start. */
  private async replay(): Promise<boolean> {
    this.guard();
    const file = journalFile(this.o.cfg.dataDir);
    try {
      const t0 = performance.now();
      this.host.quarantine?.beginReplay();
      const r = await loadJournalInSlices(file, this.host);
      this.host.quarantine?.endReplay();
      if (r) {
        this.replayed = { r, seq: this.host.seq };
        const ms = Math.round(performance.now() - t0);
        logLine('primary', 'journal-replayed', { ms, seq: this.host.seq, checkpointBytes: r.checkpointBytes, entryBytes: r.entryBytes, entries: r.entries, checkpointMs: r.checkpointMs, entriesMs: r.entriesMs });
      }
      return true;
    } catch (err) {
      if (!(err instanceof JournalCorruptError)) throw err;
      void this.exit(EXIT.JOURNAL_CORRUPT, err.message, err.code);
      return false;
    }
  }

  /** A primary (or a replay) counts the request its predecessor died applying, and quarantines repeat offenders. */
  private guard(): void {
    if (this.host.quarantine) return;
    // The cursor through a batch lives in shm: it outlives this process, as the note does.
    const ring = this.ring;
    const q = new Quarantine(this.o.cfg.dataDir, { set: (batch, index) => ring.setApplying(batch, index), get: () => ring.applying });
    q.strikeLeftover();
    this.host.quarantine = q;
  }

  private announceReady(): void {
    this.control.send({ t: 'ready', role: this.role, epoch: this.epoch });
    logLine(this.role, 'ready', { pid: process.pid, epoch: this.epoch, commitSeq: this.host.seq });
  }

  private async startPrimary(bindRetryMs = 0): Promise<void> {
    this.guard();
    const primary = new Primary({
      cfg: this.o.cfg,
      curveSecretKey: this.o.curveSecretKey,
      paths: this.paths,
      ring: this.ring,
      host: this.host,
      epoch: this.epoch,
      journalFile: journalFile(this.o.cfg.dataDir),
      replayed: this.replayed,
      onStandby: (state: Standby, peerPid: number) => this.control.send({ t: 'standby', state, commitSeq: this.host.seq, peerPid }),
      onFenced: () => void this.exit(EXIT.FENCED, `fenced: shm epoch ${this.ring.epoch} is past ours (${this.epoch})`),
      onFailed: (reason) => void this.exit(EXIT.INTERNAL, reason),
    });
    this.primary = primary;
    try {
      await primary.start(bindRetryMs);
    } catch (err) {
      const code = isErrnoException(err) ? err.code : undefined;
      await this.exit(EXIT.BIND_FAILED, `cannot bind ${this.o.cfg.endpoint}: ${(err as Error).message}`, code);
    }
  }

  private async startSecondary(): Promise<void> {
    // A digest check that fails means this copy is not the primary's: leave, to be replaced by one synced afresh.
    this.host.onDiverged = (d) => {
      writeDivergence(this.o.cfg.dataDir, d);
      void this.exit(EXIT.DIVERGED, `diverged from the primary at seq ${d.seq}: state digest ${d.mine}, primary's ${d.primary}`, 'DIVERGED');
    };
    const secondary = new Secondary({
      cfg: this.o.cfg,
      paths: this.paths,
      ring: this.ring,
      host: this.host,
      token: this.o.token,
      onFatal: (reason, corrupt) => void this.exit(corrupt ? EXIT.RING_CORRUPT : EXIT.LINK_FAILED, reason),
      onSynced: (commitSeq) => {
        this.control.send({ t: 'synced', commitSeq });
        if (!this.announcedReady) {
          this.announcedReady = true;
          this.announceReady();
        }
      },
    });
    this.secondary = secondary;
    try {
      await secondary.start();
    } catch (err) {
      await this.exit(EXIT.LINK_FAILED, `cannot pair with the primary: ${(err as Error).message}`);
    }
  }

  private onControl(m: WatchdogToServer): void {
    switch (m.t) {
      case 'ping':
        this.heartbeat();
        this.control.send({
          t: 'pong',
          seq: m.seq,
          role: this.role,
          epoch: this.epoch,
          commitSeq: this.primary ? this.primary.commitSeq : this.host.seq,
          // The watchdog's status shows a count; a service that keeps none reports 0 there.
          keys: this.host.keys() ?? 0,
          standby: this.primary ? this.primary.standby : 'absent',
          // A successor watchdog adopting us learns from this whether we can be promoted.
          synced: this.primary !== null || (this.secondary?.synced ?? false),
          // Only the watchdog's metrics read them: not sent when they are off.
          ...(this.primary && this.o.cfg.metrics ? { counters: this.primary.counters() } : {}),
        });
        return;
      case 'promote':
        void this.promote(m.epoch);
        return;
      case 'stop':
        void this.stop();
        return;
    }
  }

  private async promote(epoch: number): Promise<void> {
    if (this.role !== 'secondary' || !this.secondary) return;
    const ready = this.secondary.prepareForPromotion();
    this.secondary = null;
    if (!ready) {
      await this.exit(EXIT.LINK_FAILED, 'cannot be promoted: snapshot incomplete');
      return;
    }
    this.role = 'primary';
    this.host.onDiverged = null;
    this.epoch = epoch;
    await this.startPrimary(PROMOTION_BIND_RETRY_MS);
    if (this.exiting) return;
    this.control.send({ t: 'promoted', epoch, commitSeq: this.host.seq });
    logLine('primary', 'promoted', { pid: process.pid, epoch, commitSeq: this.host.seq });
    // The watchdog holds the new standby's spawn back until then (or a bound), to leave us the CPU.
    const failed = await this.primary?.journaled;
    if (!failed && !this.exiting) this.control.send({ t: 'journaled', epoch });
  }

  async stop(): Promise<void> {
    if (this.exiting) return;
    try {
      await this.primary?.stop();
    } catch (err) {
      logLine(this.role, 'stop-error', { error: (err as Error).message });
    }
    this.secondary?.close();
    await this.exit(EXIT.OK, 'stopped');
  }

  get isExiting(): boolean {
    return this.exiting;
  }

  async exit(code: number, reason: string, errCode?: string): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    if (code !== EXIT.OK) {
      try {
        const words: LastWords = { reason, code: errCode ?? null };
        fs.writeFileSync(lastWordsFile(this.paths, process.pid), JSON.stringify(words), { mode: 0o600 });
      } catch {
        // the runtime dir is gone: the exit code still tells the watchdog something
      }
      logLine(this.role, 'exiting', { pid: process.pid, code, reason });
      this.control.send({ t: 'failed', reason, code: errCode });
      this.primary?.abort();
      this.secondary?.close();
    }
    clearInterval(this.beat);
    try {
      await Promise.race([this.control.flush(), sleep(200)]);
      this.control.close();
      this.ring.detach();
    } finally {
      // Whatever failed above, this process must not outlive its decision to exit.
      process.exit(code);
    }
  }
}
