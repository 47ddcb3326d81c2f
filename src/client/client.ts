import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as zmq from 'zeromq';
import { DEFAULT_ENDPOINT, DEFAULT_MAX_FRAME_BYTES } from '../protocol/limits.js';
import type { ErrReply, Json, Reply } from '../protocol/wire.js';
import { ClientError, type ClientErrorCode } from './errors.js';
import { onReconnect } from './reconnects.js';
import { wireRequest, type ClientRequest, type KvOp, type OpArgs, type OpResults, type RequestOptions, type ServerInfo } from './requests.js';

export type { ClientRequest, ServerInfo };

export interface ClientOptions {
  endpoint?: string;
  /**
   * One attempt's budget: with no reply by then, the same request (same id) is sent again.
   * A fallback: every request in flight is also sent again as soon as the connection comes
   * back after a loss (a failover), without waiting for this.
   */
  requestTimeoutMs?: number;
  /** Overall budget of one request across every retry; then it rejects with TIMEOUT. */
  deadlineMs?: number;
  /** Requests larger than this are refused locally: the server would only refuse them too. */
  maxFrameBytes?: number;
  /** Pause before resending a request answered UNAVAILABLE, so a struggling primary is not hammered. */
  unavailableRetryMs?: number;
  /** The server's CURVE public key (Z85, `server.pub` of `osps curve-keys`): connect with CURVE, under a key pair of our own made for this client. */
  curveServerKey?: string;
}

export const CLIENT_DEFAULTS = Object.freeze({
  requestTimeoutMs: 1000,
  deadlineMs: 10_000,
  unavailableRetryMs: 100,
  // Short reconnect intervals: after a failover the new primary binds the same endpoint,
  // and every millisecond spent waiting to reconnect is client-visible downtime.
  reconnectIntervalMs: 10,
  reconnectMaxIntervalMs: 100,
});

interface Pending {
  readonly id: string;
  readonly op: string;
  readonly payload: Buffer;
  readonly deadlineAt: number;
  readonly promise: Promise<Reply>;
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
  /** Already waiting in the send queue: a retry must not add a second copy. */
  queued: boolean;
  lastUnavailable: ErrReply | undefined;
  /** Stops listening to the caller's AbortSignal. */
  unlisten: (() => void) | undefined;
}

/** A fresh client key pair per socket: the server authenticates itself, not us (any key is let in). */
function curveClient(serverKey: string): { curveServerKey: string; curvePublicKey: string; curveSecretKey: string } {
  const { publicKey, secretKey } = zmq.curveKeyPair();
  return { curveServerKey: serverKey, curvePublicKey: publicKey, curveSecretKey: secretKey };
}

/**
 * One DEALER connection to an osps endpoint. Requests are pipelined and matched to replies
 * by id; each is resent with the same id until answered or out of time, so a write retried
 * across a failover is executed once (the server deduplicates by id). Everything in flight
 * is resent the moment the connection is back after a loss, not an attempt timer later.
 */
export class Client {
  readonly endpoint: string;
  private readonly requestTimeoutMs: number;
  private readonly deadlineMs: number;
  private readonly maxFrameBytes: number;
  private readonly unavailableRetryMs: number;
  private readonly socket: zmq.Dealer;
  private readonly pending = new Map<string, Pending>();
  private readonly sendQueue: Pending[] = [];
  private pumping = false;
  private closing: Promise<void> | undefined;
  private failure: ClientError | undefined;
  private readonly receiving: Promise<void>;

  constructor(opts: ClientOptions = {}) {
    this.endpoint = opts.endpoint ?? DEFAULT_ENDPOINT;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs;
    this.deadlineMs = opts.deadlineMs ?? CLIENT_DEFAULTS.deadlineMs;
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.unavailableRetryMs = opts.unavailableRetryMs ?? CLIENT_DEFAULTS.unavailableRetryMs;
    this.socket = new zmq.Dealer({
      linger: 0,
      reconnectInterval: CLIENT_DEFAULTS.reconnectIntervalMs,
      reconnectMaxInterval: CLIENT_DEFAULTS.reconnectMaxIntervalMs,
      // Queue only to a live connection: while the server is away a send waits in our queue
      // (one copy per request) instead of piling stale retries into a pipe to a dead peer.
      immediate: true,
      sendHighWaterMark: 10_000,
      ...(opts.curveServerKey === undefined ? {} : curveClient(opts.curveServerKey)),
    });
    // Requests in flight in a lost connection are lost with it: resend them to whoever answers now.
    onReconnect(this.socket, () => this.resendAll());
    this.socket.connect(this.endpoint);
    this.receiving = this.receiveLoop();
  }

  /** Sends one request and resolves with the server's reply, ok or not; rejects with a ClientError when there is none. */
  request(req: ClientRequest): Promise<Reply> {
    const gone = this.closing ? new ClientError('CLOSED', 'client is closed', req.id ?? null) : this.failure;
    if (gone) return Promise.reject(gone);
    const id = req.id ?? randomUUID();
    if (req.signal?.aborted) return Promise.reject(aborted(req.signal, req.op, id));
    // Same id while in flight = the caller retrying the same logical request: share its answer.
    const inFlight = this.pending.get(id);
    if (inFlight) return inFlight.promise;
    const payload = Buffer.from(JSON.stringify(wireRequest(id, req)));
    if (payload.length > this.maxFrameBytes) {
      return Promise.reject(new ClientError('TOO_LARGE', `request is ${payload.length} bytes, over the ${this.maxFrameBytes}-byte limit (${req.op}, ${id})`, id));
    }
    let resolve!: (reply: Reply) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<Reply>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const p: Pending = {
      id, op: req.op, payload, promise, resolve, reject,
      deadlineAt: performance.now() + this.deadlineMs,
      timer: undefined, queued: false, lastUnavailable: undefined, unlisten: undefined,
    };
    this.pending.set(id, p);
    const signal = req.signal;
    if (signal) {
      const onAbort = (): void => {
        if (this.pending.get(id) !== p) return;
        this.settle(p);
        p.reject(aborted(signal, p.op, id));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      p.unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    this.transmit(p);
    this.arm(p, this.requestTimeoutMs);
    return promise;
  }

  ping(opts?: RequestOptions): Promise<'pong'> {
    return this.send({ op: 'ping', ...opts }) as Promise<'pong'>;
  }

  get(key: string, opts?: RequestOptions): Promise<string | null> {
    return this.send({ op: 'get', key, ...opts }) as Promise<string | null>;
  }

  set(key: string, value: string, opts?: RequestOptions): Promise<'OK'> {
    return this.send({ op: 'set', key, value, ...opts }) as Promise<'OK'>;
  }

  del(key: string, opts?: RequestOptions): Promise<0 | 1> {
    return this.send({ op: 'del', key, ...opts }) as Promise<0 | 1>;
  }

  incr(key: string, by?: number, opts?: RequestOptions): Promise<number> {
    return this.send(by === undefined ? { op: 'incr', key, ...opts } : { op: 'incr', key, by, ...opts }) as Promise<number>;
  }

  info(opts?: RequestOptions): Promise<ServerInfo> {
    return this.send({ op: 'info', ...opts }) as Promise<ServerInfo>;
  }

  /**
   * Any op, with its arguments in `args` (`{id, op, args}` on the wire, docs/PROTOCOL.md):
   * the ops of a loaded service, or the built-in ones. Resolves with the result; rejects with
   * a ClientError whose code is the server's, the service's or the client's own.
   */
  call<K extends KvOp>(op: K, args?: OpArgs[K], opts?: RequestOptions): Promise<OpResults[K]>;
  call<R extends Json = Json>(op: string, args?: Json, opts?: RequestOptions): Promise<R>;
  call(op: string, args?: Json, opts?: RequestOptions): Promise<Json> {
    return this.send(args === undefined ? { op, ...opts } : { op, args, ...opts });
  }

  /** `await using client = new Client(…)` closes it at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Rejects every pending request with CLOSED and closes the socket; safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.failAll(new ClientError('CLOSED', 'client closed with the request pending'));
    this.sendQueue.length = 0;
    this.socket.close();
    await this.receiving;
  }

  private async send(req: ClientRequest): Promise<Json> {
    const reply = await this.request(req);
    if (!reply.ok) throw new ClientError(reply.error.code, reply.error.message, reply.id);
    return reply.result;
  }

  /** (Re)starts the attempt timer, never past the request's deadline. */
  private arm(p: Pending, delayMs: number): void {
    clearTimeout(p.timer);
    const left = p.deadlineAt - performance.now();
    p.timer = setTimeout(() => this.onTimer(p), Math.max(0, Math.min(delayMs, left)));
  }

  private onTimer(p: Pending): void {
    if (this.pending.get(p.id) !== p) return;
    if (performance.now() >= p.deadlineAt) {
      this.settle(p);
      const last = p.lastUnavailable;
      p.reject(
        last
          ? new ClientError('TIMEOUT', `${this.endpoint} still UNAVAILABLE after ${this.deadlineMs} ms (${p.op}, ${p.id}): ${last.error.message}`, p.id)
          : new ClientError('TIMEOUT', `no reply from ${this.endpoint} within ${this.deadlineMs} ms (${p.op}, ${p.id})`, p.id),
      );
      return;
    }
    this.transmit(p);
    this.arm(p, this.requestTimeoutMs);
  }

  /** A new attempt for every request in flight, each with a fresh attempt timer. */
  private resendAll(): void {
    if (this.closing) return;
    for (const p of this.pending.values()) {
      this.transmit(p);
      this.arm(p, this.requestTimeoutMs);
    }
  }

  private transmit(p: Pending): void {
    if (p.queued) return;
    p.queued = true;
    this.sendQueue.push(p);
    if (!this.pumping) void this.pump();
  }

  // zeromq.js allows one send in flight per socket: everything goes through this loop.
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.sendQueue.length > 0 && !this.closing) {
        const p = this.sendQueue.shift() as Pending;
        p.queued = false;
        if (this.pending.get(p.id) !== p) continue;
        try {
          await this.socket.send(p.payload);
        } catch {
          // A failed send is a lost attempt like any other: the attempt timer resends it.
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) this.dispatch(frames[frames.length - 1]);
    } catch (err) {
      if (this.closing) return;
      this.failure = new ClientError('INTERNAL', `client socket to ${this.endpoint} failed: ${err instanceof Error ? err.message : String(err)}`);
      this.failAll(this.failure);
    }
  }

  private dispatch(frame: Buffer | undefined): void {
    const reply = frame && parseReply(frame);
    // Unknown ids are late answers to attempts already answered (or given up on): drop them.
    const p = reply && reply.id !== null ? this.pending.get(reply.id) : undefined;
    if (!reply || !p) return;
    if (!reply.ok && reply.error.code === 'UNAVAILABLE') {
      p.lastUnavailable = reply;
      this.arm(p, this.unavailableRetryMs);
      return;
    }
    this.settle(p);
    p.resolve(reply);
  }

  private settle(p: Pending): void {
    clearTimeout(p.timer);
    p.unlisten?.();
    this.pending.delete(p.id);
  }

  private failAll(err: ClientError): void {
    for (const p of [...this.pending.values()]) {
      this.settle(p);
      p.reject(new ClientError(err.code, `${err.message} (${p.op}, ${p.id})`, p.id));
    }
  }
}

function aborted(signal: AbortSignal, op: string, id: string): ClientError {
  const why = signal.reason instanceof Error ? signal.reason.message : signal.reason === undefined ? 'aborted' : String(signal.reason);
  return new ClientError('ABORTED' satisfies ClientErrorCode, `${why} (${op}, ${id})`, id);
}

/** A reply frame, or undefined when it is not one (never our business to crash on it). */
function parseReply(frame: Buffer): Reply | undefined {
  try {
    const r = JSON.parse(frame.toString('utf8')) as Partial<Reply> | null;
    if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean') return undefined;
    if (r.id !== null && typeof r.id !== 'string') return undefined;
    if (r.ok === false && (typeof r.error !== 'object' || r.error === null)) return undefined;
    return r as Reply;
  } catch {
    return undefined;
  }
}
