// The RESP command table: names match without regard to case, as in Redis. Built-ins win
// over a service op of the same name; every op is also `OSPS.CALL <op> [json]`.
//
// RESP carries no request id, so each call gets a fresh one: a client that retries a write
// across a failover may apply it twice (at-least-once, as with Redis). The zeromq protocol,
// whose ids the client chooses, is the exactly-once path.
import { randomBytes } from 'node:crypto';
import type { Json } from '../protocol/wire.js';
import type { RespBackend, RespOps, RespReply } from './backend.js';
import { COMMAND_COMMAND } from './command-info.js';
import * as enc from './encoder.js';
import { hostError, unknownCommand, wrongArity } from './errors.js';
import { HANDSHAKE_COMMANDS } from './handshake.js';
import { INFO_COMMAND } from './info.js';
import { KV_COMMANDS } from './kv-commands.js';
import { arityOk, type CommandSpec, type Ctx, NOT_TEXT, type Outcome, type Session, text } from './spec.js';

export interface CommandTableOptions {
  /** Connections open on the front door, for INFO (default: unknown, 0). */
  connectedClients?: () => number;
}

const NOT_JSON = enc.error('ERR the argument is not valid JSON');

function internal(err: unknown): Buffer {
  return enc.error(`ERR internal error: ${err instanceof Error ? err.message : String(err)}`);
}

function jsonArg(arg: Buffer | undefined): Json | undefined {
  if (arg === undefined) return null;
  const s = text(arg);
  if (s === null) return undefined;
  try {
    return JSON.parse(s) as Json;
  } catch {
    return undefined;
  }
}

function jsonReply(r: RespReply): Buffer {
  return r.ok ? enc.bulk(JSON.stringify(r.result ?? null)) : hostError(r.error.code, r.error.message);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class CommandTable {
  private readonly builtins = new Map<string, CommandSpec>();
  private source: RespOps | null = null;
  private commands = new Set<string>();
  private queries = new Set<string>();
  /** Lower-cased op name → the op, for ops that collide with no built-in. */
  private serviceOps = new Map<string, CommandSpec>();
  /** Unique across processes and restarts: the dedup window outlives a failover. */
  private readonly idPrefix = `resp-${randomBytes(9).toString('base64url')}-`;
  private seq = 0;

  constructor(
    private readonly backend: RespBackend,
    private readonly opts: CommandTableOptions = {},
  ) {
    for (const s of [...HANDSHAKE_COMMANDS, INFO_COMMAND, COMMAND_COMMAND, ...KV_COMMANDS, this.ospsCall()]) this.builtins.set(s.name, s);
  }

  /** The per-connection context the commands of one session run with. */
  context(session: Session): Ctx {
    return {
      backend: this.backend,
      session,
      call: (op, args) => this.call(op, args),
      hasOp: (op) => this.hasOp(op),
      connectedClients: () => this.opts.connectedClients?.() ?? 0,
      specs: () => this.specs(),
    };
  }

  /** Runs one request; never throws, and a returned promise never rejects. */
  run(args: Buffer[], ctx: Ctx): Outcome {
    try {
      this.refresh();
      const name = (args[0] as Buffer).toString('latin1').toLowerCase();
      const spec = this.lookup(name);
      if (!spec) return unknownCommand((args[0] as Buffer).toString('utf8'), args.slice(1));
      if (!arityOk(spec, args.length)) return wrongArity(spec.name);
      const out = spec.run(args, ctx);
      return out instanceof Promise ? out.catch(internal) : out;
    } catch (err) {
      return internal(err);
    }
  }

  /** Every command answered now: built-ins whose ops the service has, then the service's ops. */
  specs(): CommandSpec[] {
    this.refresh();
    return [...[...this.builtins.values()].filter((s) => this.available(s)), ...this.serviceOps.values()];
  }

  private lookup(name: string): CommandSpec | undefined {
    const b = this.builtins.get(name);
    if (b && this.available(b)) return b;
    return b ? undefined : this.serviceOps.get(name);
  }

  private available(s: CommandSpec): boolean {
    return s.needs === undefined || s.needs.every((op) => this.hasOp(op));
  }

  private hasOp(op: string): boolean {
    return this.commands.has(op) || this.queries.has(op);
  }

  /** Reads the service's op names once per request; rebuilds only when they changed. */
  private refresh(): void {
    const ops = this.backend.ops();
    if (ops === this.source) return;
    const same = this.source !== null && sameNames(ops.commands, this.source.commands) && sameNames(ops.queries, this.source.queries);
    this.source = ops;
    if (same) return;
    this.commands = new Set(ops.commands);
    this.queries = new Set(ops.queries);
    this.serviceOps = new Map();
    for (const op of [...ops.commands, ...ops.queries]) {
      const lower = op.toLowerCase();
      // The first op of a case-insensitive pair keeps the name; OSPS.CALL reaches both.
      if (!this.builtins.has(lower) && !this.serviceOps.has(lower)) this.serviceOps.set(lower, this.opSpec(op, this.commands.has(op)));
    }
  }

  private call(op: string, args: Json): Promise<RespReply> {
    const req = { id: `${this.idPrefix}${(++this.seq).toString(36)}`, op, args };
    try {
      const p = this.commands.has(op) ? this.backend.command(req) : this.queries.has(op) ? this.backend.query(req) : null;
      if (p === null) return Promise.resolve({ ok: false, error: { code: 'UNKNOWN_OP', message: `unknown op '${op.slice(0, 64)}'` } });
      return p.catch((err: unknown) => ({ ok: false, error: { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) } }));
    } catch (err) {
      return Promise.resolve({ ok: false, error: { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) } });
    }
  }

  /** A service op as a command: one optional JSON argument, a JSON bulk string back. */
  private opSpec(op: string, isCommand: boolean): CommandSpec {
    return {
      name: op.toLowerCase(), arity: -1, flags: isCommand ? ['write'] : ['readonly'], keys: [0, 0, 0], group: 'osps',
      summary: `The ${isCommand ? 'command' : 'query'} '${op}' of the service, with one JSON argument.`,
      run: (args, ctx) => {
        if (args.length > 2) return wrongArity(op.toLowerCase());
        const a = jsonArg(args[1]);
        return a === undefined ? NOT_JSON : ctx.call(op, a).then(jsonReply);
      },
    };
  }

  private ospsCall(): CommandSpec {
    return {
      name: 'osps.call', arity: -2, flags: [], keys: [0, 0, 0], group: 'osps', summary: 'Calls any op of the service: OSPS.CALL <op> [json].',
      run: (args, ctx) => {
        if (args.length > 3) return wrongArity('osps.call');
        const op = text(args[1] as Buffer);
        if (op === null) return NOT_TEXT;
        const a = jsonArg(args[2]);
        if (a === undefined) return NOT_JSON;
        if (op === 'ping') return enc.bulk('"pong"');
        if (op === 'info') return enc.bulk(JSON.stringify(ctx.backend.info()));
        if (!ctx.hasOp(op)) return enc.error(`ERR unknown op '${op.slice(0, 64)}'`);
        return ctx.call(op, a).then(jsonReply);
      },
    };
  }
}
