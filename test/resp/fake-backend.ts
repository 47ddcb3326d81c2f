// An in-memory RespBackend for the front door's tests: the key-value ops with PROTOCOL.md's
// replies, optional extra service ops, answers delayed so they complete out of order.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Json } from '../../dist/protocol/wire.js';
import type { RespBackend, RespInfo, RespOps, RespReply, RespRequest } from '../../dist/resp/backend.js';

type Handler = (args: Json, state: Map<string, string>) => Json;

function fail(code: string, message: string): RespReply {
  return { ok: false, error: { code, message } };
}

function keyOf(args: Json): string {
  const k = (args as { key?: unknown } | null)?.key;
  if (typeof k !== 'string' || k.length === 0) throw Object.assign(new Error("'key' must be a non-empty string"), { code: 'BAD_REQUEST' });
  return k;
}

export class FakeBackend implements RespBackend {
  readonly state = new Map<string, string>();
  readonly ids: string[] = [];
  /** Every call's answer waits a random 0..maxDelayMs ms, so pipelined answers complete out of order. */
  maxDelayMs = 0;
  /** Calls of these ops answer this error instead. */
  failing = new Map<string, RespReply>();
  private opsValue: RespOps;
  readonly commands: Record<string, Handler> = {
    set: (a, s) => (s.set(keyOf(a), String((a as { value: unknown }).value)), 'OK'),
    del: (a, s) => (s.delete(keyOf(a)) ? 1 : 0),
    incr: (a, s) => {
      const k = keyOf(a);
      const by = (a as { by?: number }).by ?? 1;
      const cur = s.get(k) ?? '0';
      if (!/^-?\d{1,16}$/.test(cur)) throw Object.assign(new Error(`value of '${k}' is not a decimal integer`), { code: 'WRONG_TYPE' });
      const next = Number(cur) + by;
      if (!Number.isSafeInteger(next)) throw Object.assign(new Error('incr result is outside the safe integer range'), { code: 'WRONG_TYPE' });
      s.set(k, String(next));
      return next;
    },
  };
  readonly queries: Record<string, Handler> = {
    get: (a, s) => s.get(keyOf(a)) ?? null,
  };

  constructor(extra: { commands?: Record<string, Handler>; queries?: Record<string, Handler>; kv?: boolean } = {}) {
    if (extra.kv === false) {
      this.commands = {};
      this.queries = {};
    }
    Object.assign(this.commands, extra.commands);
    Object.assign(this.queries, extra.queries);
    this.opsValue = { commands: Object.keys(this.commands), queries: Object.keys(this.queries) };
  }

  command(req: RespRequest): Promise<RespReply> {
    return this.run(this.commands, req);
  }

  query(req: RespRequest): Promise<RespReply> {
    return this.run(this.queries, req);
  }

  info(): RespInfo {
    return { role: 'primary', epoch: 3, commitSeq: this.ids.length, standby: 'in-sync', keys: this.state.size, service: 'kv' };
  }

  ops(): RespOps {
    return this.opsValue;
  }

  /** Calls not answered yet. */
  pending = 0;
  /** While set, answers wait for it (the call is applied at once, like the host applies then waits for the standby). */
  gate: Promise<void> | null = null;

  /** Applied in call order, answered later: the host's order, with acks that can come late. */
  private async run(table: Record<string, Handler>, req: RespRequest): Promise<RespReply> {
    this.ids.push(req.id);
    const reply = this.apply(table, req);
    this.pending++;
    try {
      if (this.gate) await this.gate;
      if (this.maxDelayMs > 0) await sleep(Math.random() * this.maxDelayMs);
    } finally {
      this.pending--;
    }
    return reply;
  }

  private apply(table: Record<string, Handler>, req: RespRequest): RespReply {
    const failing = this.failing.get(req.op);
    if (failing) return failing;
    const h = Object.hasOwn(table, req.op) ? table[req.op] : undefined;
    if (!h) return fail('UNKNOWN_OP', `unknown op '${req.op}'`);
    try {
      return { ok: true, result: h(req.args, this.state) ?? null };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return fail(typeof code === 'string' ? code : 'SERVICE_ERROR', (err as Error).message);
    }
  }
}
