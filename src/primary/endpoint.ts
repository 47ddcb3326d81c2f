import * as zmq from 'zeromq';
import { logLine } from '../log.js';
import type { CounterBook } from './counter-book.js';
import { PeerOutbox } from './peer-outbox.js';
import { encodeReply, errorReply, type Reply } from '../protocol/wire.js';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';

// Longest stretch of requests read back to back: zeromq hands over queued ones without a
// turn of the event loop, and a burst of costly ones (large reads) must not starve the pings.
const RECEIVE_SLICE_MS = 20;

export type Respond = (reply: Reply) => void;

/*
 * Memory per peer and per message. What one client can make this process hold:
 *
 *  - a frame: at most maxFrameBytes + TOO_LARGE_SLACK (zeromq's maxMessageSize is per frame;
 *    a larger frame makes zeromq drop the connection; within the slack the client still gets
 *    a TOO_LARGE reply, which is the protocol's answer to a frame over the limit);
 *  - received, not yet read: RECEIVE_HWM messages in its zeromq pipe;
 *  - replies: OUTBOX_PEER_BYTES waiting here (PeerOutbox, then dropped), plus SEND_HWM
 *    replies in its zeromq pipe, plus the kernel's socket buffer (tcp_wmem, ~4 MiB);
 *  - frames in one multipart message: NOT bounded by libzmq. It assembles the whole message
 *    before we see it (its high-water marks count whole messages), so the residual worst case
 *    is frames × frame size per message; measured: 150 frames of 1 MiB raise the RSS by
 *    ~150 MB while the message is held, and it is dropped (BAD_REQUEST) as soon as it is read.
 *    Only limiting who may connect (CURVE, a firewall) or a proxy in front closes that gap.
 *
 * Budget (default 1 MiB frames): per reading-or-not peer ≈ 8 MiB (outbox) + 16 × 1 MiB (send
 * pipe) + 4 MiB (kernel) ≈ 28 MiB for replies, and RECEIVE_HWM × 1 MiB for requests it sends
 * faster than we read them (in practice we read as they arrive). The primary's RSS stays within
 * the store's size + 100 MB + 32 MiB per peer that does not read (measured: +52 to +61 MiB peak for
 * one peer that never reads 1 500 replies of 1 MiB), save for the multipart residual above.
 *
 * Connections: zeromq has no per-connection cap and no hook to refuse or close one peer, so
 * the number of clients is bounded only by this process's open-file limit (Node raises the
 * soft limit to the hard one at start; runtime/open-files.ts reads it). Each TCP connection
 * costs the primary one descriptor and a few tens of KiB of libzmq state when idle (measured:
 * 300 connections, both ends in one process, +19 MiB RSS), plus the per-peer pipes above when
 * busy. Past the limit, libzmq fails to accept new connections and retries (CPU) while
 * existing peers keep being served. For untrusted networks, bound connections in front of
 * the port (a firewall connlimit rule or a proxy) and set the hard open-file limit.
 */
/** Frames over the limit by at most this much are read and answered TOO_LARGE. */
export const TOO_LARGE_SLACK = 64 * 1024;
/** Replies queued in zeromq per peer (whole messages). */
export const SEND_HWM = 16;
/** Requests queued in zeromq per peer before it stops reading that peer's socket. */
export const RECEIVE_HWM = 64;
/** Reply bytes held in JS per peer that does not take them; past it its replies are dropped. */
export const OUTBOX_PEER_BYTES = 8 * 1024 * 1024;
/** A request is [identity, body] (DEALER) or [identity, '', body] (REQ): more frames are refused. */
export const MAX_FRAMES = 3;

/**
 * The client-facing ROUTER socket. Accepts a DEALER's [identity, request] and a REQ's
 * [identity, '', request]; any other layout is answered BAD_REQUEST when it can be addressed.
 */
export class ClientEndpoint {
  private readonly socket: zmq.Router;
  private readonly out: PeerOutbox;
  private closed = false;

  constructor(
    readonly endpoint: string,
    maxFrameBytes: number,
    private readonly onRequest: (frame: Buffer, respond: Respond) => void,
    private readonly canReply: () => boolean,
    /** The socket failed while open: this primary can no longer serve. */
    private readonly onFailure: (err: Error) => void,
    /** Z85 secret key: the socket is a CURVE server, and a peer that does not know its public key never gets through the handshake. */
    curveSecretKey?: string,
    /** Counts the error replies, for the metrics. */
    private readonly counters?: CounterBook,
  ) {
    // `mandatory` with no send timeout: a full peer is an EAGAIN for the outbox, never a wait.
    this.socket = new zmq.Router({
      linger: 0,
      maxMessageSize: maxFrameBytes + TOO_LARGE_SLACK,
      sendHighWaterMark: SEND_HWM,
      receiveHighWaterMark: RECEIVE_HWM,
      mandatory: true,
      sendTimeout: 0,
      ...(curveSecretKey === undefined ? {} : { curveServer: true, curveSecretKey }),
    });
    this.out = new PeerOutbox(this.socket, { peerBytes: OUTBOX_PEER_BYTES, retryMs: 10 }, (peer, held) =>
      logLine('primary', 'client-not-reading', { peer: peer.toString('hex'), heldBytes: held, note: 'replies dropped until it reads' }),
    );
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
   * of the open socket itself is reported, not left as an unhandled rejection. Calls receive()
   * itself rather than through the async iterator: one promise per request, not three.
   * Every RECEIVE_SLICE_MS it lets the event loop run (pings, timers, the standby's acks).
   */
  private async receiveLoop(): Promise<void> {
    let until = performance.now() + RECEIVE_SLICE_MS;
    for (;;) {
      if (performance.now() >= until) {
        await nextTurn();
        until = performance.now() + RECEIVE_SLICE_MS;
      }
      let frames: Buffer[];
      try {
        frames = await this.socket.receive();
      } catch (err) {
        if (!this.closed) this.onFailure(err as Error);
        return;
      }
      try {
        this.dispatch(frames);
      } catch (err) {
        logLine('primary', 'internal-error', { error: (err as Error).stack ?? String(err) });
      }
    }
  }

  private dispatch(frames: Buffer[]): void {
    const identity = frames[0] as Buffer;
    if (frames.length > MAX_FRAMES) {
      // Let go of the frames first: the reply needs only the identity.
      const n = frames.length - 1;
      const req = (frames[1] as Buffer).length === 0;
      frames.length = 0;
      this.reply(req ? [identity, Buffer.alloc(0)] : [identity], errorReply(null, 'BAD_REQUEST', `bad frame layout: ${n} frames; send the request as one frame`));
      return;
    }
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
    const respond: Respond = (reply) => this.reply(envelope, reply);
    if (request === null) {
      respond(errorReply(null, 'BAD_REQUEST', `bad frame layout: ${frames.length - 1} frames; send the request as one frame`));
      return;
    }
    this.onRequest(request, respond);
  }

  private reply(envelope: Buffer[], reply: Reply): void {
    // A fenced primary must never answer again: the epoch in shm is the arbiter.
    if (this.closed || !this.canReply() || this.out.full(envelope[0] as Buffer)) return;
    if (!reply.ok) this.counters?.error(reply.error.code);
    this.out.send([...envelope, encodeReply(reply)]);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.close();
    this.socket.close();
  }
}
