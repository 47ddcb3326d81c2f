import type { Json, Reply, Request } from '../protocol/wire.js';
import { errorReply } from '../protocol/wire.js';
import type { SnapshotPart } from '../protocol/replication.js';

export type { SnapshotPart };
import { DedupWindow } from './dedup.js';

/** A replicated write: the request plus the log position the primary gave it. */
export interface WriteEntry {
  seq: number;
  req: Request;
}

/** A whole-store snapshot as one record: the journal format of earlier versions, still replayed. */
export interface StoreSnapshot {
  commitSeq: number;
  kv: [string, string][];
  dedup: [string, Reply][];
}


// Replies are small; key/value parts are bounded by their characters.
const DEDUP_PER_PART = 2000;

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

  /**
   * Re-applies a write whose reply is known (a journal record) by its effect, not by
   * re-executing it: `incr`'s reply carries the new value. Effects are idempotent, which is
   * what lets a journal checkpoint be taken while writes go on (see Journal).
   */
  applyRecorded(entry: WriteEntry, reply: Reply): void {
    if (entry.seq !== this.seq + 1) {
      throw new Error(`write log gap: expected seq ${this.seq + 1}, got ${entry.seq}`);
    }
    const key = entry.req.key as string;
    if (reply.ok) {
      if (entry.req.op === 'set') this.kv.set(key, entry.req.value as string);
      else if (entry.req.op === 'del') this.kv.delete(key);
      else if (entry.req.op === 'incr') this.kv.set(key, String(reply.result));
    }
    this.seq = entry.seq;
  }

  /**
   * The store in parts of about `partChars` characters, produced lazily from live iterators:
   * nothing is copied up front, so a large store never blocks the event loop in one piece.
   * Consistent if no write is applied until the last part (the replication stream holds
   * writes back); otherwise fuzzy, which a journal checkpoint repairs by replaying the writes
   * recorded alongside (`applyRecorded`). Keys added meanwhile are visited too.
   */
  *parts(partChars: number): Generator<SnapshotPart> {
    yield { begin: { commitSeq: this.seq } };
    let kv: [string, string][] = [];
    let chars = 0;
    for (const e of this.kv) {
      const c = e[0].length + e[1].length + 8;
      // A part is at most `partChars`, or one entry: a write that fitted the ring fits as a part.
      if (kv.length > 0 && chars + c > partChars) {
        yield { kv };
        kv = [];
        chars = 0;
      }
      kv.push(e);
      chars += c;
    }
    if (kv.length > 0) yield { kv };
    let dedup: [string, Reply][] = [];
    for (const e of this.dedup.live()) {
      dedup.push(e);
      if (dedup.length >= DEDUP_PER_PART) {
        yield { dedup };
        dedup = [];
      }
    }
    if (dedup.length > 0) yield { dedup };
  }

  /** Loads one part of a consistent snapshot, in order (`begin` empties the store). */
  loadPart(p: SnapshotPart): void {
    if ('begin' in p) {
      this.kv.clear();
      this.dedup.load([]);
      this.seq = p.begin.commitSeq;
    } else if ('kv' in p) {
      for (const [k, v] of p.kv) this.kv.set(k, v);
    } else {
      for (const [id, r] of p.dedup) this.dedup.record(id, r);
    }
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
