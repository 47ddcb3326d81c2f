import type { Config } from '../config.js';
import { RingCorruptError } from '../errors.js';
import type { ServiceHost } from '../host/host.js';
import { FifoReader, FifoWriter } from '../ipc/fifo.js';
import { RingReader, type RingEntry, type ShmRing } from '../ipc/shm-ring.js';
import { logLine } from '../log.js';
import { decodeLink, decodeRingPayload, encodeLink } from '../protocol/replication.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { SnapshotReceiver } from './snapshot-receiver.js';

// How often the standby checks that its FIFOs are still the ones at their paths, and the shm header.
const LINK_CHECK_MS = 100;
// Payload bytes applied per turn before yielding: a few milliseconds of JSON parsing.
const DRAIN_BUDGET_BYTES = 4 * 1024 * 1024;

export interface SecondaryDeps {
  cfg: Config;
  paths: RuntimePaths;
  ring: ShmRing;
  host: ServiceHost<unknown>;
  token: string;
  /** The ring is corrupt or the link broke in a way only a resync can fix. */
  onFatal: (reason: string, corrupt: boolean) => void;
  onSynced: (commitSeq: number) => void;
}

/**
 * The hot standby: applies what the primary publishes in the ring, acks on s2p, and can be
 * promoted at once because its host is always complete up to the last ack.
 */
export class Secondary {
  private p2s: FifoReader | null = null;
  private s2p: FifoWriter | null = null;
  private reader: RingReader | null = null;
  /** Epoch of the primary we pair with; entries of any other epoch are rejected. */
  private readonly pairEpoch: number;
  private readonly snapshot = new SnapshotReceiver();
  private drainScheduled = false;
  /** Entries read from the ring but not applied yet (the host was held); the ring keeps them. */
  private backlog: RingEntry[] | null = null;
  private waitingRelease: (() => void) | null = null;
  synced = false;
  private primaryGone = false;
  private linkCheck: NodeJS.Timeout | null = null;

  constructor(private readonly d: SecondaryDeps) {
    this.pairEpoch = d.ring.epoch;
  }

  get commitSeq(): number {
    return this.d.host.seq;
  }

  /** Opens our read end first, so the primary's p2s writer open succeeds when it sees hello. */
  async start(): Promise<void> {
    this.p2s = FifoReader.open(this.d.paths.p2sFifo, { maxFrameBytes: 4096 });
    this.p2s.on('frame', (frame) => {
      const m = decodeLink(frame);
      if (m?.t === 'doorbell') this.drain(DRAIN_BUDGET_BYTES);
      else this.d.onFatal('bad frame on p2s', false);
    });
    this.p2s.on('peer-gone', () => this.onPrimaryGone());
    this.p2s.on('protocol-error', (err) => this.d.onFatal(`p2s ${err.code}`, false));
    this.s2p = await FifoWriter.open(this.d.paths.s2pFifo, { maxFrameBytes: 4096, timeoutMs: this.d.cfg.readyTimeoutMs });
    this.s2p.on('peer-gone', () => this.onPrimaryGone());
    this.s2p.write(encodeLink({ t: 'hello', pid: process.pid, token: this.d.token }));
    // An unlinked or replaced FIFO breaks no open end: only its path tells (see FifoReader).
    // Likewise a damaged shm header: entries still flow, but no new server could attach.
    this.linkCheck = setInterval(() => {
      const moved = this.p2s && !this.p2s.stillAtPath() ? 'p2s' : this.s2p && !this.s2p.stillAtPath() ? 's2p' : null;
      if (moved) return this.d.onFatal(`${moved} FIFO unlinked or replaced at its path`, false);
      const damaged = this.d.ring.damagedHeader();
      if (damaged.length > 0) this.d.onFatal(`ring corrupt: shm header ${damaged.join(', ')} damaged`, true);
    }, LINK_CHECK_MS);
    this.linkCheck.unref();
  }

  private onPrimaryGone(): void {
    // The watchdog decides what happens next (promotion or a new primary); we keep our state.
    if (this.primaryGone) return;
    this.primaryGone = true;
    logLine('secondary', 'primary-link-gone', { commitSeq: this.d.host.seq });
  }

  /**
   * Applies published entries, up to `budget` payload bytes per call so that receiving a large
   * snapshot leaves room for the watchdog's pings; the rest is drained on the next turn.
   * While it drains the reader is marked awake, so the primary rings no doorbell for entries
   * it publishes meanwhile; each round of entries is acked as soon as it is applied.
   * Returns false if the ring was corrupt.
   */
  drain(budget = Infinity): boolean {
    // Created at the first doorbell: by then the primary has reset the ring for us.
    const reader = (this.reader ??= new RingReader(this.d.ring, { nextSeq: 1, expectedEpoch: () => this.pairEpoch }));
    let bytes = 0;
    try {
      reader.wake();
      for (;;) {
        let last = 0;
        // A digest check is hashing this commit point: nothing more is applied until it is done.
        while (bytes < budget && !this.d.host.held) {
          const entries = this.backlog ?? reader.read();
          this.backlog = null;
          if (entries.length === 0) break;
          let i = 0;
          for (; i < entries.length && !this.d.host.held; i++) {
            const e = entries[i] as RingEntry;
            this.applyPayload(e.payload);
            last = e.seq;
            bytes += e.payload.length;
          }
          // Entries read but not applied stay in the ring (not released) until they are.
          if (i < entries.length) this.backlog = entries.slice(i);
          else reader.release();
        }
        if (last > 0) this.s2p?.write(encodeLink({ t: 'ack', upTo: last }));
        // Held: still awake (no doorbell needed), the release drains again.
        if (this.d.host.held) {
          this.resumeOnRelease(budget);
          break;
        }
        // Over budget: still awake, the next turn goes on.
        if (bytes >= budget) break;
        // Entries published while the flag was up came without a doorbell: take them too.
        if (reader.sleep()) break;
        reader.wake();
      }
    } catch (err) {
      const corrupt = err instanceof RingCorruptError;
      this.d.onFatal(`${corrupt ? 'ring corrupt' : 'bad entry'}: ${(err as Error).message}`, true);
      return false;
    }
    if (bytes >= budget && !this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(() => {
        this.drainScheduled = false;
        if (this.reader && this.p2s) this.drain(budget);
      });
    }
    return true;
  }

  /** Drains again once the host lets commands through (a digest check finished hashing). */
  private resumeOnRelease(budget: number): void {
    if (this.waitingRelease) return;
    this.waitingRelease = this.d.host.onRelease(() => {
      this.waitingRelease?.();
      this.waitingRelease = null;
      setImmediate(() => {
        if (this.reader && this.p2s) this.drain(budget);
      });
    });
  }

  private applyPayload(raw: Uint8Array): void {
    const p = decodeRingPayload(raw);
    if (p.kind === 'entry') {
      if (!this.synced) throw new Error('entry before the snapshot completed');
      this.d.host.apply(p.entry);
      return;
    }
    if (this.snapshot.accept(p, this.d.host)) {
      this.synced = true;
      this.d.onSynced(this.d.host.seq);
    }
  }

  /**
   * Promotion: apply whatever the fenced primary had published, then let go of the link.
   * Returns false when this standby never completed its snapshot and cannot serve.
   */
  prepareForPromotion(): boolean {
    // A digest check hashing this copy must not keep entries the primary published from it.
    this.d.host.abandonDigests();
    if (this.reader || this.synced) {
      if (!this.drain()) return false;
    }
    this.close();
    return this.synced;
  }

  close(): void {
    this.waitingRelease?.();
    this.waitingRelease = null;
    if (this.linkCheck) clearInterval(this.linkCheck);
    this.linkCheck = null;
    this.p2s?.close();
    this.s2p?.close();
    this.p2s = null;
    this.s2p = null;
  }
}
