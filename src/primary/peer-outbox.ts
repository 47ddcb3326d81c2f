// Replies on their way to clients, bounded per peer. The ROUTER is `mandatory` with a zero
// send timeout, so a peer whose zeromq pipe is full (it does not read) is reported (EAGAIN)
// instead of buffered without bound or blocking every other peer: its replies wait here,
// up to a byte budget, and are retried; past the budget they are dropped.
import type { Router } from 'zeromq';

export interface OutboxLimits {
  /** Reply bytes held here per peer; one reply of any size is always allowed. */
  peerBytes: number;
  /** A peer whose pipe stays full is tried again after at most this long (sooner at first). */
  retryMs: number;
}

interface Peer {
  queue: Buffer[][];
  bytes: number;
  blockedUntil: number;
  /** EAGAINs in a row: a reading peer is retried at once, one that does not read ever more slowly. */
  stalls: number;
  /** Replies dropped since the last one delivered: a peer is reported once per stall. */
  dropped: number;
}

function sizeOf(frames: Buffer[]): number {
  let n = 0;
  for (const f of frames) n += f.length;
  return n;
}

export class PeerOutbox {
  private readonly peers = new Map<string, Peer>();
  private pumping = false;
  private closed = false;
  /** The pending retry of stalled peers: cancels it. */
  private timer: (() => void) | null = null;

  constructor(
    private readonly socket: Router,
    private readonly limits: OutboxLimits,
    /** A peer's first reply dropped over its budget (it does not read what it asks for). */
    private readonly onOverBudget: (peer: Buffer, heldBytes: number) => void = () => {},
  ) {}

  /**
   * True while a peer holds its whole budget: its next reply would be dropped, so the caller
   * need not even encode it (encoding 1 MiB replies nobody reads is what stalls a loop).
   */
  full(id: Buffer): boolean {
    const p = this.peers.get(id.toString('latin1'));
    // Dropping once means it is stalled: it stays so until one of its replies is delivered.
    if (!p || p.queue.length === 0 || (p.dropped === 0 && p.bytes < this.limits.peerBytes)) return false;
    if (p.dropped++ === 0) this.onOverBudget(id, p.bytes);
    return true;
  }

  /** Queues a reply; false when it was dropped because the peer is over its budget. */
  send(frames: Buffer[]): boolean {
    if (this.closed) return false;
    const id = frames[0] as Buffer;
    const key = id.toString('latin1');
    let p = this.peers.get(key);
    if (!p) {
      p = { queue: [], bytes: 0, blockedUntil: 0, stalls: 0, dropped: 0 };
      this.peers.set(key, p);
    }
    const size = sizeOf(frames);
    if (p.queue.length > 0 && p.bytes + size > this.limits.peerBytes) {
      if (p.dropped++ === 0) this.onOverBudget(id, p.bytes);
      return false;
    }
    p.queue.push(frames);
    p.bytes += size;
    if (this.pumping) return true;
    // A stalled peer's retry timer must not delay a peer that can take its reply now.
    if (this.timer !== null && p.blockedUntil <= Date.now()) {
      this.timer();
      this.timer = null;
    }
    if (this.timer === null) void this.pump();
    return true;
  }

  /** Bytes held here for all peers (for tests and status). */
  heldBytes(): number {
    let n = 0;
    for (const p of this.peers.values()) n += p.bytes;
    return n;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      // A stalled peer is retried once per turn at most: other work (requests, acks) runs between.
      let retrying = true;
      for (;;) {
        let progressed = false;
        let wake = Infinity;
        for (const [key, p] of this.peers) {
          if (this.closed) return;
          if (p.blockedUntil > Date.now() || (p.stalls > 0 && !retrying)) {
            wake = Math.min(wake, p.blockedUntil);
            continue;
          }
          while (p.queue.length > 0 && !this.closed) {
            const next = p.queue[0] as Buffer[];
            try {
              await this.socket.send(next);
            } catch (err) {
              if ((err as { code?: string }).code === 'EAGAIN') {
                // zeromq's I/O thread drains the pipe into the socket within microseconds
                // for a peer that reads: retry on the next turn first, then back off.
                p.stalls++;
                p.blockedUntil = Date.now() + (p.stalls <= 8 ? 0 : Math.min(this.limits.retryMs, 2 ** (p.stalls - 8)));
                wake = Math.min(wake, p.blockedUntil);
                break;
              }
              // EHOSTUNREACH (the peer has gone) or the socket closing: nothing can reach it.
              p.queue.length = 0;
              p.bytes = 0;
              break;
            }
            p.queue.shift();
            p.bytes -= sizeOf(next);
            p.dropped = 0;
            p.stalls = 0;
            progressed = true;
          }
          if (p.queue.length === 0) this.peers.delete(key);
        }
        if (this.peers.size === 0 || this.closed) return;
        retrying = false;
        if (!progressed) {
          const wait = Math.max(0, wake - Date.now());
          const again = (): void => {
            this.timer = null;
            if (!this.pumping) void this.pump();
          };
          if (wait === 0) {
            const h = setImmediate(again);
            this.timer = () => clearImmediate(h);
          } else {
            const h = setTimeout(again, wait);
            this.timer = () => clearTimeout(h);
          }
          return;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  close(): void {
    this.closed = true;
    this.peers.clear();
    this.timer?.();
    this.timer = null;
  }
}
