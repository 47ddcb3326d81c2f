import type { Config } from '../config.js';
import type { ServiceHost } from '../host/host.js';
import { openSnapshot } from '../host/snapshot.js';
import { DIGEST_OP } from '../host/timers.js';
import { RingWriter, type ShmRing } from '../ipc/shm-ring.js';
import type { Journal } from '../journal/journal.js';
import { logLine } from '../log.js';
import { encodeEntry, snapshotChunkRoom, type Command, type Entry } from '../protocol/replication.js';
import type { Standby } from '../protocol/standby.js';
import { errorReply, type Reply } from '../protocol/wire.js';
import type { RuntimePaths } from '../runtime/paths.js';
import type { CounterBook } from './counter-book.js';
import { tell, type InFlight, type Waiter } from './in-flight.js';
import { JournalAcks } from './journal-acks.js';
import { SnapshotFeed } from './snapshot-feed.js';
import { StandbyLink } from './standby-link.js';

// Snapshot chunks per turn: a large state is streamed to a new standby without holding the
// event loop. A chunk is at most this many bytes, well under the ring's largest entry.
const SNAPSHOT_CHUNKS_PER_TURN = 8;
const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
const SWEEP_INTERVAL_MS = 100;
// The host's own entries (timers, digest checks) have ops starting with '@'.
const AT = '@'.charCodeAt(0);

/**
 * A command waiting to be applied, and its entry: `seq`, `at` and the encoded `payload` are
 * set once, when it first reaches the head. One object per command: the write path is
 * bounded by allocation as much as by anything else.
 */
interface Queued extends Entry {
  argsJson: string;
  waiters: Waiter[];
  payload: Buffer | null;
  /** A digest check's state digest, once hashed (null: failed; undefined: not yet). */
  stateDigest?: string | null;
}

export interface PipelineDeps {
  cfg: Config;
  paths: RuntimePaths;
  ring: ShmRing;
  host: ServiceHost<unknown>;
  epoch: number;
  journal: Journal;
  /** `peerPid`: the standby this is about (the one lost, when `absent`). */
  onStandby: (state: Standby, peerPid: number) => void;
  /** Counts the writes applied, for the metrics. */
  counters?: CounterBook;
}

/**
 * Synchronous replication from the primary: a command is applied, appended to the shm
 * ring, announced by one doorbell per batch on p2s, and answered when the standby's ack
 * covers it (group commit). Every entry is also recorded in the journal; without an in-sync
 * standby it is acknowledged once the journal has fsynced it. A new standby first gets a
 * snapshot through the ring, taken at one commit point while commands wait.
 */
export class CommitPipeline {
  standby: Standby = 'absent';
  /** Log position of the last entry that is acknowledged-safe (replicated or journaled). */
  committedSeq: number;

  private readonly writer: RingWriter;
  private readonly link: StandbyLink;
  /** The pid of the standby paired (or last paired) with us. */
  standbyPid = 0;
  private ringSeq = 0;
  /** Ring seq the standby has acked, and whether it acked anything since the last sweep. */
  private ackedRingSeq = 0;
  private ackedSinceSweep = false;
  /** The snapshot for a new standby, while its chunks are going into the ring. */
  private feed: SnapshotFeed | null = null;
  /** Ring seq of the last snapshot chunk, once it has been appended. */
  private snapshotEndSeq = Infinity;
  private readonly queue: Queued[] = [];
  private inflight: InFlight[] = [];
  private inflightHead = 0;
  private readonly byId = new Map<string, InFlight>();
  /** Commands waiting, by id: a retry joins the waiting copy instead of queueing another. */
  private readonly queuedById = new Map<string, Queued>();
  private barriers: { seq: number; resolve: () => void }[] = [];
  private pumpScheduled = false;
  /** The state is being hashed for a digest check at the head of the queue. */
  private hashing = false;
  private waitingForSpace = false;
  private readonly journalAcks: JournalAcks;
  private readonly sweep: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(private readonly d: PipelineDeps) {
    this.writer = new RingWriter(d.ring);
    this.committedSeq = d.host.seq;
    this.journalAcks = new JournalAcks(d.journal, (f) => this.settle(f), (seq) => this.commitThrough(seq));
    this.link = new StandbyLink(d.paths, d.cfg, {
      hello: (pid) => void this.pair(pid),
      ack: (upTo) => this.onAck(upTo),
      lost: (reason) => this.lose(reason),
    });
    this.sweep = setInterval(() => this.expire(), SWEEP_INTERVAL_MS);
    this.sweep.unref();
    // A snapshot (this one's or the journal's) held commands back: carry on.
    this.unsubscribe = d.host.onRelease(() => this.schedulePump());
  }

  /** Starts degraded (journaled) and listens for a standby's hello; settles as Journal.start() does. */
  start(): Promise<Error | undefined> {
    const journaled = this.d.journal.start();
    this.link.listen();
    return journaled;
  }

  /** `argsJson` is `JSON.stringify(cmd.args)`, which the caller made to digest it. */
  submit(cmd: Command, argsJson: string): Promise<Reply> {
    return new Promise<Reply>((resolve) => this.enqueue(cmd, argsJson, resolve));
  }

  /**
   * Like submit(), with a callback: the request path allocates no promise. `done` is called
   * once, maybe before this returns, and must not throw.
   */
  enqueue(cmd: Command, argsJson: string, done: (r: Reply) => void): void {
    const waiter: Waiter = { done, deadline: Date.now() + this.d.cfg.writeDeadlineMs };
    const inflight = this.byId.get(cmd.id);
    if (inflight) return inflight.digest === cmd.digest ? void inflight.waiters.push(waiter) : done(reused(cmd.id));
    const found = this.d.host.lookup(cmd.id, cmd.digest);
    if (found) return done('reply' in found ? found.reply : reused(cmd.id));
    const queued = this.queuedById.get(cmd.id);
    if (queued) return queued.digest === cmd.digest ? void queued.waiters.push(waiter) : done(reused(cmd.id));
    if (this.queue.length >= this.d.cfg.maxQueuedWrites) {
      return done(errorReply(cmd.id, 'UNAVAILABLE', 'too many writes queued; retry with the same id'));
    }
    const q: Queued = { id: cmd.id, op: cmd.op, args: cmd.args, digest: cmd.digest, seq: 0, at: 0, argsJson, waiters: [waiter], payload: null };
    this.queue.push(q);
    this.queuedById.set(cmd.id, q);
    this.schedulePump();
  }

  /** Resolves once every entry applied so far is committed: reads never see a write that could still be lost. */
  barrier(): Promise<void> {
    const target = this.d.host.seq;
    if (this.committedSeq >= target) return Promise.resolve();
    return new Promise((resolve) => this.barriers.push({ seq: target, resolve }));
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweep);
    this.unsubscribe();
    this.journalAcks.close();
    this.feed?.close();
    this.feed = null;
    this.link.close();
  }

  // --- the standby ---------------------------------------------------------

  private async pair(pid: number): Promise<void> {
    if (this.standby !== 'absent') return;
    try {
      await this.link.connect();
    } catch (err) {
      return this.lose(`p2s open failed: ${(err as Error).message}`);
    }
    if (this.closed) return;
    this.standbyPid = pid;
    // No reader is attached to the old ring contents any more: start a new generation.
    this.writer.reset();
    this.ringSeq = 0;
    this.ackedRingSeq = 0;
    this.snapshotEndSeq = Infinity;
    try {
      // Commands wait (the host holds them) until the last part is in the ring: consistent.
      this.feed = new SnapshotFeed(openSnapshot(this.d.host), Math.min(SNAPSHOT_CHUNK_BYTES, snapshotChunkRoom(this.writer.maxPayload)));
    } catch (err) {
      return this.lose(`cannot snapshot the service: ${(err as Error).message}`);
    }
    this.setStandby('syncing');
    logLine('primary', 'standby-syncing', { pid, commitSeq: this.d.host.seq, keys: this.d.host.keys() ?? undefined });
    this.schedulePump();
  }

  private onAck(upTo: number): void {
    if (upTo > this.ringSeq) return this.lose(`ack ${upTo} beyond ring seq ${this.ringSeq}`);
    this.d.ring.ackSeq = upTo;
    this.ackedRingSeq = upTo;
    this.ackedSinceSweep = true;
    const start = this.inflightHead;
    while (this.inflightHead < this.inflight.length && (this.inflight[this.inflightHead] as InFlight).ringSeq <= upTo) this.inflightHead++;
    const acked = this.inflight.slice(start, this.inflightHead);
    this.compactInflight();
    if (acked.length > 0) {
      if (this.d.journal.installed) {
        for (const f of acked) this.settle(f);
        this.commitThrough((acked[acked.length - 1] as InFlight).seq);
      } else {
        // Until this primary's journal is on disk the file there is a predecessor's: were this
        // primary and its standby both lost now, a fresh primary would rebuild from that file.
        // So nothing is acknowledged that the file there does not hold.
        this.journalAcks.add(acked);
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
    this.link.drop();
    this.feed?.close();
    this.feed = null;
    // Every in-flight entry is already in the journal (recorded when it was applied).
    const unacked = this.inflight.slice(this.inflightHead);
    this.inflight = [];
    this.inflightHead = 0;
    if (unacked.length > 0) this.journalAcks.add(unacked);
    this.setStandby('absent');
    logLine('primary', 'standby-lost', { reason, was });
    this.writer.notify();
    this.schedulePump();
  }

  private setStandby(s: Standby): void {
    if (this.standby === s) return;
    this.standby = s;
    this.d.onStandby(s, this.standbyPid);
  }

  // --- the command path ------------------------------------------------------

  private schedulePump(): void {
    if (this.pumpScheduled || this.waitingForSpace || this.closed) return;
    this.pumpScheduled = true;
    // setImmediate runs after this turn's I/O: every request received in it shares one doorbell.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /**
   * One batch: snapshot chunks for a new standby, then commands. A command's entry goes into
   * the ring (unpublished) and the journal first; only once the journal has taken the whole
   * batch is any of it applied and published. A batch the journal refuses (full disk) is
   * answered UNAVAILABLE and leaves no trace: not applied, not replicated, not journaled.
   */
  private pump(): void {
    const startRingSeq = this.ringSeq;
    let chunks = 0;
    // Commands of this batch, with their ring seq (-1: journaled only, no standby).
    const batch: { q: Queued; ringSeq: number }[] = [];
    let mark = -1;
    let markSeq = 0;
    while (!this.closed) {
      if (this.feed) {
        if (chunks === SNAPSHOT_CHUNKS_PER_TURN) {
          // Let the event loop breathe (pings, acks); carry on next turn.
          this.schedulePump();
          break;
        }
        let c;
        try {
          c = this.feed.peek();
        } catch (err) {
          this.lose(`cannot snapshot the service: ${(err as Error).message}`);
          return;
        }
        if (!c) {
          this.feed = null;
          continue;
        }
        if (!this.writer.tryAppend(c.payload, this.ringSeq + 1, this.d.epoch)) {
          this.awaitSpace(this.writer.entryBytes(c.payload.length));
          break;
        }
        this.ringSeq++;
        chunks++;
        this.feed.take();
        if (c.last) {
          this.snapshotEndSeq = this.ringSeq;
          this.feed = null;
        }
        continue;
      }
      // A journal checkpoint is pulling its parts: commands wait for its release.
      if (this.queue.length === 0 || this.d.host.held) break;
      const q = this.queue[0] as Queued;
      // A digest check opens a batch of its own: the entries of a batch are applied only once
      // the journal took them all, so one ahead of it in the same batch would be missing from
      // the primary's digest but present in the standby's, and look like a divergence.
      if (q.op === DIGEST_OP && batch.length > 0) {
        this.schedulePump();
        break;
      }
      // Its digest is hashed in slices first, commands held meanwhile: the position is the same.
      if (q.op === DIGEST_OP && q.stateDigest === undefined) {
        this.hashFor(q);
        break;
      }
      let payload = q.payload;
      if (!payload) {
        // Not applied yet: the entries of this batch ahead of it count.
        q.seq = this.d.host.seq + batch.length + 1;
        q.at = this.d.host.nextNow();
        // A digest check carries the state's digest at the position just before it.
        if (q.op === DIGEST_OP) q.argsJson = JSON.stringify((q.args = q.stateDigest ? { digest: q.stateDigest } : {}));
        payload = q.payload = encodeEntry(q, q.argsJson);
      }
      if (this.standby === 'absent') {
        this.dequeue();
        this.d.journal.append(q.seq, payload);
        batch.push({ q, ringSeq: -1 });
        continue;
      }
      if (payload.length > this.writer.maxPayload) {
        this.dequeue();
        for (const w of q.waiters) tell(w, errorReply(q.id, 'TOO_LARGE', 'write is larger than the replication ring can carry'));
        // Its seq is not used: the next command takes it.
        if (this.queue[0]) (this.queue[0] as Queued).payload = null;
        continue;
      }
      if (mark < 0) {
        mark = this.writer.position;
        markSeq = this.ringSeq;
      }
      if (!this.writer.tryAppend(payload, this.ringSeq + 1, this.d.epoch)) {
        this.awaitSpace(this.writer.entryBytes(payload.length));
        break;
      }
      this.ringSeq++;
      this.dequeue();
      this.d.journal.append(q.seq, payload);
      batch.push({ q, ringSeq: this.ringSeq });
    }
    // Recorded entries reach the kernel before anything in this batch is applied or acknowledged.
    const refused = this.d.journal.write();
    const degraded: InFlight[] = [];
    if (refused && batch.length > 0) {
      if (mark >= 0) {
        this.writer.rewind(mark);
        this.ringSeq = markSeq;
      }
      for (const { q } of batch) {
        for (const w of q.waiters) tell(w, errorReply(q.id, 'UNAVAILABLE', `journal cannot write (${refused.message}); not applied; retry with the same id`));
      }
      // The command at the head was numbered after the refused ones.
      if (this.queue[0]) (this.queue[0] as Queued).payload = null;
    } else {
      // One quarantine note for the batch, not one write per command.
      if (batch.length > 1) this.d.host.quarantine?.expect(batch.map((b) => b.q));
      for (const { q, ringSeq } of batch) {
        const f = this.applyEntry(q, ringSeq);
        if (ringSeq < 0) degraded.push(f);
      }
      this.d.journal.compactIfDue();
    }
    if (this.ringSeq > startRingSeq) {
      // A standby still draining sees these entries without a doorbell.
      const ring = this.writer.publish();
      this.d.ring.writeSeq = this.ringSeq;
      if (ring) this.link.doorbell(this.ringSeq);
    }
    if (degraded.length > 0) this.journalAcks.add(degraded);
  }

  /** Hashes the state for the digest check at the head; its release lets the pump go on. */
  private hashFor(q: Queued): void {
    if (this.hashing) return;
    this.hashing = true;
    const failed = (err: Error): null => (logLine('primary', 'digest-failed', { error: err.message }), null);
    void this.d.host
      .digestInSlices()
      .catch(failed)
      .then((digest) => {
        q.stateDigest = digest;
        this.hashing = false;
        this.schedulePump();
      });
  }

  private dequeue(): void {
    const q = this.queue.shift();
    if (q) this.queuedById.delete(q.id);
  }

  private applyEntry(q: Queued, ringSeq: number): InFlight {
    const reply = this.d.host.apply(q);
    if (q.op.charCodeAt(0) !== AT) this.d.counters?.write(q.op);
    const f: InFlight = { seq: q.seq, ringSeq, digest: q.digest, reply, waiters: q.waiters };
    this.byId.set(q.id, f);
    if (ringSeq >= 0) this.inflight.push(f);
    return f;
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
    for (const w of f.waiters) tell(w, f.reply);
    f.waiters = [];
  }

  private commitThrough(seq: number): void {
    if (seq <= this.committedSeq) return;
    this.committedSeq = seq;
    this.d.ring.commitSeq = seq;
    if (this.barriers.length === 0) return;
    const still: typeof this.barriers = [];
    for (const b of this.barriers) (b.seq <= seq ? b.resolve() : still.push(b));
    this.barriers = still;
  }

  private compactInflight(): void {
    if (this.inflightHead > 1024 && this.inflightHead * 2 > this.inflight.length) {
      this.inflight = this.inflight.slice(this.inflightHead);
      this.inflightHead = 0;
    }
  }

  /**
   * Answers UNAVAILABLE past the write deadline. A queued command whose every caller gave up
   * is dropped unapplied; an applied one stays in flight, so its retry gets the real answer.
   */
  private expire(): void {
    // Doorbells are skipped while the standby drains; should one ever be missed, a sweep
    // without acks rings again (a spare doorbell costs the standby an empty read).
    if (this.standby !== 'absent' && this.ackedRingSeq < this.ringSeq && !this.ackedSinceSweep) this.link.doorbell(this.ringSeq);
    this.ackedSinceSweep = false;
    const now = Date.now();
    const late = (ws: Waiter[]): Waiter[] => ws.filter((w) => w.deadline <= now);
    for (let i = 0; i < this.queue.length; i++) {
      const q = this.queue[i] as Queued;
      for (const w of late(q.waiters)) tell(w, errorReply(q.id, 'UNAVAILABLE', 'replication stalled: write not applied; retry with the same id'));
      q.waiters = q.waiters.filter((w) => w.deadline > now);
      if (q.waiters.length === 0) {
        this.queue.splice(i--, 1);
        this.queuedById.delete(q.id);
      }
    }
    for (let i = this.inflightHead; i < this.inflight.length; i++) {
      const f = this.inflight[i] as InFlight;
      if (f.waiters.length === 0) continue;
      // In-flight entries are in arrival order, and a retry's waiter joins after the first:
      // once the oldest waiter of an entry is not late, no later entry has a late one either.
      if ((f.waiters[0] as Waiter).deadline > now) break;
      for (const w of late(f.waiters)) tell(w, errorReply(f.reply.id, 'UNAVAILABLE', 'replication stalled; retry with the same id'));
      f.waiters = f.waiters.filter((w) => w.deadline > now);
    }
  }
}

function reused(id: string): Reply {
  return errorReply(id, 'ID_REUSED', 'this id was already used by a different request within the dedup window; nothing was applied');
}
