import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { OspsError } from '../errors.js';
import { Client, type ClientRequest } from './client.js';
import { summarize, type Summary } from './percentiles.js';

export type LoadOp = 'set' | 'get' | 'incr' | 'mixed';

export interface LoadOptions {
  endpoint: string;
  /** Independent Clients, each with its own socket. */
  clients: number;
  durationMs: number;
  op?: LoadOp;
  valueBytes?: number;
  /** Requests kept in flight per client (closed loop each). */
  pipeline?: number;
  keySpace?: number;
  /** Per-request retry budget, passed to each Client. */
  requestTimeoutMs?: number;
  deadlineMs?: number;
  /** The server's CURVE public key, for an endpoint that is a CURVE server. */
  curveServerKey?: string;
}

export interface LoadReport {
  op: LoadOp;
  clients: number;
  pipeline: number;
  /** Requests answered ok. */
  ops: number;
  /** Error replies and failed requests, by code. */
  errors: Record<string, number>;
  /** Wall time from the first request to the last answer. */
  durationMs: number;
  opsPerSec: number;
  /** Latency of the ok answers, retries included (that is what a caller waits). */
  latencyMs: Summary;
}

/**
 * Closed-loop load: every client keeps `pipeline` requests in flight until the duration is
 * up, then drains. Each Client is connected and pinged first so connection setup is not
 * counted as latency; with no server answering that ping, runLoad rejects with TIMEOUT.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const op = opts.op ?? 'set';
  const pipeline = opts.pipeline ?? 1;
  const next = requestMaker(op, opts.keySpace ?? 1000, opts.valueBytes ?? 16);
  const clients = Array.from({ length: opts.clients }, () => new Client({
    endpoint: opts.endpoint,
    ...(opts.curveServerKey !== undefined && { curveServerKey: opts.curveServerKey }),
    ...(opts.requestTimeoutMs !== undefined && { requestTimeoutMs: opts.requestTimeoutMs }),
    ...(opts.deadlineMs !== undefined && { deadlineMs: opts.deadlineMs }),
  }));
  try {
    await Promise.all(clients.map((c) => c.ping()));
    const samples: number[] = [];
    const errors: Record<string, number> = {};
    const start = performance.now();
    const endAt = start + opts.durationMs;
    const loops = clients.flatMap((c) => Array.from({ length: pipeline }, () => closedLoop(c, next, endAt, samples, errors)));
    await Promise.all(loops);
    const durationMs = performance.now() - start;
    return {
      op, clients: opts.clients, pipeline,
      ops: samples.length,
      errors,
      durationMs,
      opsPerSec: durationMs > 0 ? samples.length / (durationMs / 1000) : 0,
      latencyMs: summarize(samples),
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

async function closedLoop(
  client: Client,
  next: () => ClientRequest,
  endAt: number,
  samples: number[],
  errors: Record<string, number>,
): Promise<void> {
  while (performance.now() < endAt) {
    const t0 = process.hrtime.bigint();
    try {
      const reply = await client.request(next());
      if (reply.ok) samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      else errors[reply.error.code] = (errors[reply.error.code] ?? 0) + 1;
    } catch (err) {
      const code = err instanceof OspsError ? err.code : 'CLIENT';
      errors[code] = (errors[code] ?? 0) + 1;
      // A request refused locally fails without I/O: yield so the loop cannot starve the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

function requestMaker(op: LoadOp, keySpace: number, valueBytes: number): () => ClientRequest {
  const value = randomBytes(Math.ceil(valueBytes * 0.75) + 1).toString('base64').slice(0, valueBytes);
  // Counters get their own keys so incr never meets a non-integer value written by set.
  const key = (): string => `bench:${Math.floor(Math.random() * keySpace)}`;
  const counter = (): string => `bench:n:${Math.floor(Math.random() * keySpace)}`;
  const make: Record<Exclude<LoadOp, 'mixed'>, () => ClientRequest> = {
    set: () => ({ op: 'set', key: key(), value }),
    get: () => ({ op: 'get', key: key() }),
    incr: () => ({ op: 'incr', key: counter() }),
  };
  if (op !== 'mixed') return make[op];
  // A read-heavy mix typical of a cache-like store: 50% get, 40% set, 10% incr.
  return () => {
    const r = Math.random();
    return r < 0.5 ? make.get() : r < 0.9 ? make.set() : make.incr();
  };
}
