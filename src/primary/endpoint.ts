import * as zmq from 'zeromq';
import { logLine } from '../log.js';
import { SendQueue } from '../net/send-queue.js';
import { encodeReply, errorReply, type Reply } from '../protocol/wire.js';
import { setTimeout as sleep } from 'node:timers/promises';

export type Respond = (reply: Reply) => void;

/**
 * The client-facing ROUTER socket. Accepts a DEALER's [identity, request] and a REQ's
 * [identity, '', request]; any other layout is answered BAD_REQUEST when it can be addressed.
 */
export class ClientEndpoint {
  private readonly socket: zmq.Router;
  private readonly out: SendQueue;
  private closed = false;

  constructor(
    readonly endpoint: string,
    maxFrameBytes: number,
    private readonly onRequest: (frame: Buffer, respond: Respond) => void,
    private readonly canReply: () => boolean,
    /** The socket failed while open: this primary can no longer serve. */
    private readonly onFailure: (err: Error) => void,
  ) {
    // Beyond 4× the frame limit the peer is hostile: zeromq drops the connection instead of
    // buffering it; between 1× and 4× it still gets a TOO_LARGE reply.
    this.socket = new zmq.Router({ linger: 0, maxMessageSize: maxFrameBytes * 4, sendHighWaterMark: 100_000 });
    this.out = new SendQueue(this.socket);
  }

  /**
   * `retryMs` > 0 (promotion): the fenced primary is dead, but the kernel may still be closing
   * its listening socket for a moment, so EADDRINUSE is retried until then.
   */
  async bind(retryMs = 0): Promise<void> {
    const deadline = Date.now() + retryMs;
    for (;;) {
      try {
        await this.socket.bind(this.endpoint);
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'EADDRINUSE' || Date.now() >= deadline) throw err;
        await sleep(20);
      }
    }
    void this.receiveLoop();
  }

  /**
   * Never rejects: a request whose handling throws is logged and the loop goes on; a failure
   * of the open socket itself is reported, not left as an unhandled rejection.
   */
  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        try {
          this.dispatch(frames);
        } catch (err) {
          logLine('primary', 'internal-error', { error: (err as Error).stack ?? String(err) });
        }
      }
    } catch (err) {
      if (!this.closed) this.onFailure(err as Error);
    }
  }

  private dispatch(frames: Buffer[]): void {
    const identity = frames[0] as Buffer;
    let envelope: Buffer[];
    let request: Buffer | null = null;
    if (frames.length === 2) {
      envelope = [identity];
      request = frames[1] as Buffer;
    } else if (frames.length === 3 && (frames[1] as Buffer).length === 0) {
      envelope = [identity, Buffer.alloc(0)];
      request = frames[2] as Buffer;
    } else {
      envelope = frames.length > 1 && (frames[1] as Buffer).length === 0 ? [identity, Buffer.alloc(0)] : [identity];
    }
    const respond: Respond = (reply) => {
      // A fenced primary must never answer again: the epoch in shm is the arbiter.
      if (this.closed || !this.canReply()) return;
      this.out.send([...envelope, encodeReply(reply)]);
    };
    if (request === null) {
      respond(errorReply(null, 'BAD_REQUEST', `bad frame layout: ${frames.length - 1} frames; send the request as one frame`));
      return;
    }
    this.onRequest(request, respond);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.close();
    this.socket.close();
  }
}
