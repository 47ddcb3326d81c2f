import type { Writable } from 'zeromq';

type Frames = Array<Buffer | string>;

/**
 * zeromq.js allows one send in flight per socket; concurrent callers queue here.
 * Messages to a peer that has gone are dropped by zeromq itself (ROUTER), never thrown.
 */
export class SendQueue {
  private readonly queue: Frames[] = [];
  private pumping = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly socket: Writable,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  send(frames: Frames): void {
    if (this.closed) return;
    this.queue.push(frames);
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const next = this.queue.shift() as Frames;
        try {
          await this.socket.send(next);
        } catch (err) {
          if (!this.closed) this.onError(err);
        }
      }
    } finally {
      this.pumping = false;
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when every queued message has been handed to zeromq. */
  idle(): Promise<void> {
    if (!this.pumping && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }
}
