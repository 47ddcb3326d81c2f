// The key-value service's commands: each is one or more calls of the ops get/set/del/incr
// with args {key, value, by}. A multi-key command makes one call per key, all at once.
import type { Json } from '../protocol/wire.js';
import type { RespReply } from './backend.js';
import * as enc from './encoder.js';
import { hostError, NOT_AN_INTEGER, SYNTAX_ERROR } from './errors.js';
import { type CommandSpec, type Ctx, integerArg, NOT_TEXT, text } from './spec.js';

/** SET options of Redis that osps does not implement (no expiry, no conditional set). */
const SET_OPTIONS = new Set(['EX', 'PX', 'EXAT', 'PXAT', 'NX', 'XX', 'KEEPTTL', 'GET']);

function keysOf(args: Buffer[], from: number): string[] | null {
  const keys: string[] = [];
  for (let i = from; i < args.length; i++) {
    const k = text(args[i] as Buffer);
    if (k === null) return null;
    keys.push(k);
  }
  return keys;
}

/** INCR's WRONG_TYPE is Redis's own wording for a value that is not an integer. */
function incrError(r: RespReply & { ok: false }): Buffer {
  return r.error.code === 'WRONG_TYPE' ? NOT_AN_INTEGER : hostError(r.error.code, r.error.message);
}

function asBulk(result: Json): Buffer {
  if (result === null || typeof result === 'string') return enc.bulk(result);
  return enc.bulk(JSON.stringify(result));
}

/** Sums integer results (DEL, EXISTS); the first error wins. */
async function sum(calls: Promise<RespReply>[], count: (r: Json) => number): Promise<Buffer> {
  let n = 0;
  for (const r of await Promise.all(calls)) {
    if (!r.ok) return hostError(r.error.code, r.error.message);
    n += count(r.result);
  }
  return enc.integer(n);
}

async function incrBy(ctx: Ctx, key: string, by: number): Promise<Buffer> {
  const r = await ctx.call('incr', { key, by });
  if (!r.ok) return incrError(r);
  return typeof r.result === 'number' ? enc.integer(r.result) : NOT_AN_INTEGER;
}

export const KV_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'get', arity: 2, flags: ['readonly', 'fast'], keys: [1, 1, 1], group: 'string', summary: 'Returns the string value of a key.', needs: ['get'],
    async run(args, ctx) {
      const key = text(args[1] as Buffer);
      if (key === null) return NOT_TEXT;
      const r = await ctx.call('get', { key });
      return r.ok ? asBulk(r.result) : hostError(r.error.code, r.error.message);
    },
  },
  {
    name: 'set', arity: -3, flags: ['write'], keys: [1, 1, 1], group: 'string', summary: 'Sets the string value of a key (no options).', needs: ['set'],
    run(args, ctx) {
      if (args.length > 3) {
        const opt = (args[3] as Buffer).toString('latin1').toUpperCase();
        return SET_OPTIONS.has(opt) ? enc.error(`ERR SET option '${opt}' is not supported by osps`) : SYNTAX_ERROR;
      }
      const key = text(args[1] as Buffer);
      const value = text(args[2] as Buffer);
      if (key === null || value === null) return NOT_TEXT;
      return ctx.call('set', { key, value }).then((r) => (r.ok ? enc.OK : hostError(r.error.code, r.error.message)));
    },
  },
  {
    name: 'del', arity: -2, flags: ['write'], keys: [1, -1, 1], group: 'generic', summary: 'Deletes keys; answers how many existed.', needs: ['del'],
    run(args, ctx) {
      const keys = keysOf(args, 1);
      if (keys === null) return NOT_TEXT;
      return sum(keys.map((key) => ctx.call('del', { key })), (r) => (typeof r === 'number' ? r : 0));
    },
  },
  {
    name: 'exists', arity: -2, flags: ['readonly', 'fast'], keys: [1, -1, 1], group: 'generic', summary: 'Counts the keys that exist.', needs: ['get'],
    run(args, ctx) {
      const keys = keysOf(args, 1);
      if (keys === null) return NOT_TEXT;
      return sum(keys.map((key) => ctx.call('get', { key })), (r) => (r === null ? 0 : 1));
    },
  },
  {
    name: 'incr', arity: 2, flags: ['write', 'fast'], keys: [1, 1, 1], group: 'string', summary: 'Adds one to the integer value of a key.', needs: ['incr'],
    run(args, ctx) {
      const key = text(args[1] as Buffer);
      return key === null ? NOT_TEXT : incrBy(ctx, key, 1);
    },
  },
  {
    name: 'incrby', arity: 3, flags: ['write', 'fast'], keys: [1, 1, 1], group: 'string', summary: 'Adds a number to the integer value of a key.', needs: ['incr'],
    run(args, ctx) {
      const key = text(args[1] as Buffer);
      const by = integerArg(args[2] as Buffer);
      if (by === null) return NOT_AN_INTEGER;
      return key === null ? NOT_TEXT : incrBy(ctx, key, by);
    },
  },
  {
    name: 'mget', arity: -2, flags: ['readonly', 'fast'], keys: [1, -1, 1], group: 'string', summary: 'Returns the values of keys.', needs: ['get'],
    async run(args, ctx) {
      const keys = keysOf(args, 1);
      if (keys === null) return NOT_TEXT;
      const replies = await Promise.all(keys.map((key) => ctx.call('get', { key })));
      const items: Buffer[] = [];
      for (const r of replies) {
        if (!r.ok) return hostError(r.error.code, r.error.message);
        items.push(asBulk(r.result));
      }
      return enc.array(items);
    },
  },
];
