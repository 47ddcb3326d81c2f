import type { Config } from '../config.js';
import { FifoReader, FifoWriter } from '../ipc/fifo.js';
import { RingWriter, type ShmRing } from '../ipc/shm-ring.js';
import { logLine } from '../log.js';
import { decodeLink, encodeLink, encodeWrite, snapshotPayloads } from '../protocol/replication.js';
import { errorReply, type Reply, type Request } from '../protocol/wire.js';
import type { RuntimePaths } from '../runtime/paths.js';
import type { Standby } from '../protocol/standby.js';
import type { KvStore } from '../store/kv-store.js';
import type { Journal } from './journal.js';

// Snapshot parts stay well under the ring's largest entry; a few are encoded per turn so a
// large store is streamed to a new standby without holding the event loop.
const SNAPSHOT_PART_CHARS = 256 * 1024;
const SNAPSHOT_PARTS_PER_TURN = 8;
const SWEEP_INTERVAL_MS = 100;
// How soon writes the journal could not confirm are tried again.
const JOURNAL_RETRY_MS = 1000;

type Waiter = { resolve: (r: Reply) => void; deadline: number };

/** A write applied on the primary, not yet acknowledged: waits for the standby's ack or the journal's fsync. */
interface InFlight {
  logSeq: number;
  ringSeq: number;
  reply: Reply;
  waiters: Waiter[];
}

type QueuedWrite = { kind: 'write'; req: Request; waiters: Waiter[] };
/** A snapshot for a new standby, encoded part by part as the ring takes it. */
type QueuedSnapshot = { kind: 'snapshot'; payloads: ReturnType<typeof snapshotPayloads>; next: { payload: Buffer; last: boolean } | null };
type Queued = QueuedWrite | QueuedSnapshot;

export interface ReplicatorDeps {
  cfg: Config;
  paths: RuntimePaths;
  ring: ShmRing;
  store: KvStore;
  epoch: number;
  journal: Journal;
  /** `peerPid`: the standby this is about (the one lost, when `absent`). */
  onStandby: (state: Standby, peerPid: number) => void;
}

/**
 * Synchronous replication from the primary: a write is applied, appended to the shm ring,
 * announced by one doorbell per batch on the p2s FIFO, and answered when the standby's ack
 * on s2p covers it (group commit). Every write is also recorded in the journal; without an
 * in-sync standby it is acknowledged once the journal has fsynced it.
 */
export class Replicator {
  standby: Standby = 'absent';
  /** Log position of the last write that is acknowledged-safe (replicated or journaled). */
  committedSeq: number;

  private readonly writer: RingWriter;
  private s2p: FifoReader | null = null;
  private p2s: FifoWriter | null = null;
  private standbyPid = 0;
  private ringSeq = 0;
  /** Ring seq of the last snapshot part, once it has been appended. */
  private snapshotEndSeq = Infinity;
  private readonly queue: Queued[] = [];
  private inflight: InFlight[] = [];
  private inflightHead = 0;
  private readonly byId = new Map<string, InFlight>();
  /** Writes waiting for ring space, by id: a retry joins the waiting copy instead of queueing another. */
  private readonly queuedById = new Map<string, QueuedWrite>();
  private barriers: { logSeq: number; resolve: () => void }[] = [];
  private pumpScheduled = false;
  private waitingForSpace = false;
  private journalPending: InFlight[] = [];
  private readonly sweep: NodeJS.Timeout;
  private closed = false;
  private listenFailed = false;
  private journalRetry: NodeJS.Timeout | null = null;

  constructor(private readonly d: ReplicatorDeps) {
    this.writer = new RingWriter(d.ring);
    this.committedSeq = d.store.seq;
    this.sweep = setInterval(() => {
      this.expire();
      this.checkLinks();
    }, SWEEP_INTERVAL_MS);
    this.sweep.unref();
  }

  /** Starts degraded (journaled) and listens for a standby's hello. */
  start(): void {
    this.d.journal.start();
    this.listen();
  }

  submit(req: Request): Promise<Reply> {
    return new Promise<Reply>((resolve) => {
      const waiter: Waiter = { resolve, deadline: Date.now() + this.d.cfg.writeDeadlineMs };
      const inflight = this.byId.get(req.id);
      if (inflight) {
        inflight.waiters.push(waiter);
        return;
      }
      const done = this.d.store.dedup.get(req.id);
      if (done) {
        resolve(done);
        return;
      }
      const queued = this.queuedById.get(req.id);
      if (queued) {
        queued.waiters.push(waiter);
        return;
      }
      if (this.queue.length >= this.d.cfg.maxQueuedWrites) {
        resolve(errorReply(req.id, 'UNAVAILABLE', 'too many writes queued; retry with the same id'));
        return;
      }
      const q: QueuedWrite = { kind: 'write', req, waiters: [waiter] };
      this.queue.push(q);
      this.queuedById.set(req.id, q);
      this.schedulePump();
    });
  }

  /** Resolves once every write applied so far is committed: reads never see a write that could still be lost. */
  barrier(): Promise<void> {
    const target = this.d.store.seq;
    if (this.committedSeq >= target) return Promise.resolve();
    return new Promise((resolve) => this.barriers.push({ logSeq: target, resolve }));
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweep);
    if (this.journalRetry) clearTimeout(this.journalRetry);
    this.s2p?.close();
    this.p2s?.close();
    this.s2p = null;
    this.p2s = null;
  }

  // --- standby link -------------------------------------------------------

  private listen(): void {
    if (this.closed) return;
    let reader: FifoReader;
    try {
      reader = FifoReader.open(this.d.paths.s2pFifo, { maxFrameBytes: 4096 });
    } catch (err) {
      // The FIFO is gone (unlinked): the watchdog recreates it before it spawns a standby;
      // checkLinks retries until then.
      if (!this.listenFailed) logLine('primary', 'listen-failed', { error: (err as Error).message });
      this.listenFailed = true;
      return;
    }
    this.listenFailed = false;
    this.s2p = reader;
    reader.on('frame', (frame) => {
      const m = decodeLink(frame);
      if (!m) return this.lose('bad frame on s2p');
      if (m.t === 'hello') void this.pair(m.pid);
      else if (m.t === 'ack') this.onAck(m.upTo);
    });
    reader.on('peer-gone', (reason) => this.lose(`s2p ${reason}`));
    reader.on('protocol-error', (err) => this.lose(`s2p ${err.code}`));
  }

  /**
   * An unlinked or replaced FIFO breaks no open end, so nothing reports it; but no new
   * standby could reach us through it. Checked every sweep: treated as losing the standby.
   */
  private checkLinks(): void {
    if (this.closed) return;
    if (!this.s2p) return this.listen();
    const moved = !this.s2p.stillAtPath() ? 's2p' : this.p2s && !this.p2s.stillAtPath() ? 'p2s' : null;
    if (moved) this.lose(`${moved} FIFO unlinked or replaced at its path`);
  }

  private async pair(pid: number): Promise<void> {
    if (this.standby !== 'absent') return;
    try {
      this.p2s = await FifoWriter.open(this.d.paths.p2sFifo, {
        maxFrameBytes: 4096,
        timeoutMs: this.d.cfg.readyTimeoutMs,
      });
    } catch (err) {
      return this.lose(`p2s open failed: ${(err as Error).message}`);
    }
    this.p2s.on('peer-gone', (reason) => this.lose(`p2s ${reason}`));
    this.standbyPid = pid;
    // No reader is attached to the old ring contents any more: start a new generation.
    this.writer.reset();
    this.ringSeq = 0;
    this.snapshotEndSeq = Infinity;
    // Queued writes are not applied until the snapshot is in the ring (they are behind it),
    // so the store does not change while its parts are read: the snapshot is consistent.
    const payloads = snapshotPayloads(this.d.store.parts(SNAPSHOT_PART_CHARS));
    this.queue.unshift({ kind: 'snapshot', payloads, next: null });
    this.setStandby('syncing');
    logLine('primary', 'standby-syncing', { pid, commitSeq: this.d.store.seq, keys: this.d.store.keys });
    this.schedulePump();
  }

  private onAck(upTo: number): void {
    if (upTo > this.ringSeq) return this.lose(`ack ${upTo} beyond ring seq ${this.ringSeq}`);
    this.d.ring.ackSeq = upTo;
    const start = this.inflightHead;
    while (this.inflightHead < this.inflight.length && (this.inflight[this.inflightHead] as InFlight).ringSeq <= upTo) this.inflightHead++;
    const acked = this.inflight.slice(start, this.inflightHead);
    this.compactInflight();
    if (acked.length > 0) {
      if (this.d.journal.installed) {
        for (const f of acked) this.settle(f);
        this.commitThrough((acked[acked.length - 1] as InFlight).logSeq);
      } else {
        // Until this primary's journal is on disk the file there is a predecessor's: were this
        // primary and its standby both lost now, a fresh primary would rebuild from that file.
        // So nothing is acknowledged that the file there does not hold.
        this.commitJournaled(acked);
      }
    }
    if (this.standby === 'syncing' && upTo >= this.snapshotEndSeq) {
      this.setStandby('in-sync');
      logLine('primary', 'standby-in-sync', { pid: this.standbyPid, commitSeq: this.committedSeq });
    }
    this.writer.notify();
  }

  /** The standby is gone (or misbehaved): whatever it did not ack is answered once the journal has fsynced it. */
  private lose(reason: string): void {
    if (this.closed) return;
    const was = this.standby;
    this.s2p?.close();
    this.p2s?.close();
    this.s2p = null;
    this.p2s = null;
    // Snapshot items for the lost standby are useless now.
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]?.kind === 'snapshot') this.queue.splice(i, 1);
    // Every in-flight write is already in the journal (recorded when it was applied).
    const unacked = this.inflight.slice(this.inflightHead);
    this.inflight = [];
    this.inflightHead = 0;
    if (unacked.length > 0) this.commitJournaled(unacked);
    this.setStandby('absent');
    logLine('primary', 'standby-lost', { reason, was });
    this.writer.notify();
    this.listen();
    this.schedulePump();
  }

  private setStandby(s: Standby): void {
    if (this.standby === s) return;
    this.standby = s;
    this.d.onStandby(s, this.standbyPid);
  }

  // --- the write path --------------------------------------------------------

  private schedulePump(): void {
    if (this.pumpScheduled || this.waitingForSpace || this.closed) return;
    this.pumpScheduled = true;
    // setImmediate runs after this turn's I/O: every request received in it shares one doorbell.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    let appended = false;
    let snapshotParts = 0;
    const degraded: InFlight[] = [];
    while (this.queue.length > 0 && !this.closed) {
      const q = this.queue[0] as Queued;
      if (this.standby === 'absent') {
        if (q.kind === 'snapshot') {
          this.queue.shift();
          continue;
        }
        this.queue.shift();
        this.queuedById.delete(q.req.id);
        degraded.push(this.applyWrite(q.req, q.waiters, -1));
        continue;
      }
      let payload: Buffer;
      if (q.kind === 'snapshot') {
        if (q.next === null) {
          if (snapshotParts === SNAPSHOT_PARTS_PER_TURN) {
            // Let the event loop breathe (pings, acks); carry on next turn.
            this.schedulePump();
            break;
          }
          const n = q.payloads.next();
          if (n.done) {
            this.queue.shift();
            continue;
          }
          q.next = n.value;
          snapshotParts++;
        }
        payload = q.next.payload;
      } else {
        payload = encodeWrite(this.d.store.seq + 1, q.req);
      }
      if (payload.length > this.writer.maxPayload) {
        if (q.kind === 'snapshot') {
          this.lose(`snapshot part of ${payload.length} bytes exceeds the ring's largest entry`);
          return;
        }
        this.queue.shift();
        this.queuedById.delete(q.req.id);
        for (const w of q.waiters) w.resolve(errorReply(q.req.id, 'TOO_LARGE', 'write is larger than the replication ring can carry'));
        continue;
      }
      if (!this.writer.tryAppend(payload, this.ringSeq + 1, this.d.epoch)) {
        this.awaitSpace(this.writer.entryBytes(payload.length));
        break;
      }
      this.ringSeq++;
      appended = true;
      if (q.kind === 'snapshot') {
        if (q.next?.last) {
          this.snapshotEndSeq = this.ringSeq;
          this.queue.shift();
        }
        q.next = null;
        continue;
      }
      this.queue.shift();
      this.queuedById.delete(q.req.id);
      this.applyWrite(q.req, q.waiters, this.ringSeq);
    }
    // Recorded writes reach the kernel before anything in this batch can be acknowledged.
    this.d.journal.write();
    if (appended) {
      this.writer.publish();
      this.d.ring.writeSeq = this.ringSeq;
      this.p2s?.write(encodeLink({ t: 'doorbell', upTo: this.ringSeq }));
    }
    if (degraded.length > 0) this.commitJournaled(degraded);
  }

  private applyWrite(req: Request, waiters: Waiter[], ringSeq: number): InFlight {
    const logSeq = this.d.store.seq + 1;
    const reply = this.d.store.apply({ seq: logSeq, req });
    this.d.journal.append(logSeq, req, reply);
    const f: InFlight = { logSeq, ringSeq, reply, waiters };
    this.byId.set(req.id, f);
    if (ringSeq >= 0) this.inflight.push(f);
    return f;
  }

  /** Acknowledges `batch` (in log order, after any already waiting) once the journal has fsynced it. */
  private commitJournaled(batch: InFlight[]): void {
    for (const f of batch) this.journalPending.push(f);
    const last = this.journalPending[this.journalPending.length - 1];
    if (!last) return;
    const upTo = last.logSeq;
    this.d.journal.sync().then(
      () => {
        let n = 0;
        while (n < this.journalPending.length && (this.journalPending[n] as InFlight).logSeq <= upTo) this.settle(this.journalPending[n++] as InFlight);
        this.journalPending.splice(0, n);
        this.commitThrough(upTo);
      },
      (err: Error) => {
        // Not durable, so not acknowledged: the callers hear UNAVAILABLE now. The writes are
        // applied, so they stay pending (a retry with the same id joins them rather than
        // reading an unconfirmed reply from the dedup window) until a later sync covers them.
        for (const f of this.journalPending) {
          if (f.logSeq > upTo) break;
          for (const w of f.waiters) w.resolve(errorReply(f.reply.id, 'UNAVAILABLE', `journal not durable (${err.message}); retry with the same id`));
          f.waiters = [];
        }
        if (!this.journalRetry && !this.closed) {
          this.journalRetry = setTimeout(() => {
            this.journalRetry = null;
            if (!this.closed) this.commitJournaled([]);
          }, JOURNAL_RETRY_MS);
          this.journalRetry.unref();
        }
      },
    );
  }

  private awaitSpace(bytes: number): void {
    this.waitingForSpace = true;
    this.writer.waitForSpace(bytes).then(
      () => {
        this.waitingForSpace = false;
        this.schedulePump();
      },
      () => {
        this.waitingForSpace = false;
      },
    );
  }

  private settle(f: InFlight): void {
    this.byId.delete(f.reply.id as string);
    for (const w of f.waiters) w.resolve(f.reply);
    f.waiters = [];
  }

  private commitThrough(logSeq: number): void {
    if (logSeq <= this.committedSeq) return;
    this.committedSeq = logSeq;
    this.d.ring.commitSeq = logSeq;
    if (this.barriers.length === 0) return;
    const still: typeof this.barriers = [];
    for (const b of this.barriers) (b.logSeq <= logSeq ? b.resolve() : still.push(b));
    this.barriers = still;
  }

  private compactInflight(): void {
    if (this.inflightHead > 1024 && this.inflightHead * 2 > this.inflight.length) {
      this.inflight = this.inflight.slice(this.inflightHead);
      this.inflightHead = 0;
    }
  }

  /**
   * Answers UNAVAILABLE past the write deadline. A queued write whose every caller gave up is
   * dropped unapplied; an applied write stays in flight, so its retry gets the real answer.
   */
  private expire(): void {
    const now = Date.now();
    const late = (ws: Waiter[]): Waiter[] => ws.filter((w) => w.deadline <= now);
    for (let i = 0; i < this.queue.length; i++) {
      const q = this.queue[i] as Queued;
      if (q.kind !== 'write') continue;
      for (const w of late(q.waiters)) w.resolve(errorReply(q.req.id, 'UNAVAILABLE', 'replication stalled: write not applied; retry with the same id'));
      q.waiters = q.waiters.filter((w) => w.deadline > now);
      if (q.waiters.length === 0) {
        this.queue.splice(i--, 1);
        this.queuedById.delete(q.req.id);
      }
    }
    for (let i = this.inflightHead; i < this.inflight.length; i++) {
      const f = this.inflight[i] as InFlight;
      if (f.waiters.length === 0) continue;
      // In-flight writes are in arrival order, and a retry's waiter joins after the first:
      // once the oldest waiter of an entry is not late, no later entry has a late one either.
      if ((f.waiters[0] as Waiter).deadline > now) break;
      for (const w of late(f.waiters)) w.resolve(errorReply(f.reply.id, 'UNAVAILABLE', 'replication stalled; retry with the same id'));
      f.waiters = f.waiters.filter((w) => w.deadline > now);
    }
  }
}
