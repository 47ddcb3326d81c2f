import type { Json, Reply, Request } from '../protocol/wire.js';
import { errorReply } from '../protocol/wire.js';
import { DedupWindow } from './dedup.js';

/** A replicated write: the request plus the log position the primary gave it. */
export interface WriteEntry {
  seq: number;
  req: Request;
}

export interface StoreSnapshot {
  commitSeq: number;
  kv: [string, string][];
  dedup: [string, Reply][];
}

/**
 * The replicated state machine. Both roles apply the same entries in the same order
 * and get the same replies, so the standby's dedup window matches the primary's.
 */
export class KvStore {
  private readonly kv = new Map<string, string>();
  readonly dedup: DedupWindow;
  /** Log position of the last applied write. */
  seq = 0;

  constructor(dedupWindow: number) {
    this.dedup = new DedupWindow(dedupWindow);
  }

  get keys(): number {
    return this.kv.size;
  }

  get(key: string): string | null {
    return this.kv.get(key) ?? null;
  }

  /** Applies the next write; throws if the log position is not the next one. */
  apply(entry: WriteEntry): Reply {
    if (entry.seq !== this.seq + 1) {
      throw new Error(`write log gap: expected seq ${this.seq + 1}, got ${entry.seq}`);
    }
    const reply = this.execute(entry.req);
    this.seq = entry.seq;
    this.dedup.record(entry.req.id, reply);
    return reply;
  }

  private execute(req: Request): Reply {
    const key = req.key as string;
    switch (req.op) {
      case 'set':
        this.kv.set(key, req.value as string);
        return ok(req.id, 'OK');
      case 'del':
        return ok(req.id, this.kv.delete(key) ? 1 : 0);
      case 'incr': {
        const cur = this.kv.get(key);
        const base = cur === undefined ? 0 : parseDecimal(cur);
        if (base === null) return errorReply(req.id, 'WRONG_TYPE', `value of '${key.slice(0, 64)}' is not a decimal integer`);
        const next = base + (req.by ?? 1);
        if (!Number.isSafeInteger(next)) return errorReply(req.id, 'WRONG_TYPE', 'incr result is outside the safe integer range');
        this.kv.set(key, String(next));
        return ok(req.id, next);
      }
      default:
        return errorReply(req.id, 'INTERNAL', `op '${req.op}' is not a write`);
    }
  }

  snapshot(): StoreSnapshot {
    return { commitSeq: this.seq, kv: [...this.kv.entries()], dedup: this.dedup.entries() };
  }

  load(s: StoreSnapshot): void {
    this.kv.clear();
    for (const [k, v] of s.kv) this.kv.set(k, v);
    this.dedup.load(s.dedup);
    this.seq = s.commitSeq;
  }
}

function ok(id: string, result: Json): Reply {
  return { id, ok: true, result };
}

const DECIMAL = /^-?\d{1,16}$/;

function parseDecimal(s: string): number | null {
  if (!DECIMAL.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}
