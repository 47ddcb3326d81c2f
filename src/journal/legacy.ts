// The JSON journal of earlier versions, which only ever held the key-value store: a fuzzy
// checkpoint (begin, kv and dedup parts interleaved with the writes made while it was taken)
// and writes with their replies, replayed by their effect. Read once at start; the first
// checkpoint then rewrites the file in the current format.
import { requestDigest } from '../host/digest.js';
import type { ServiceHost } from '../host/host.js';
import { legacyParts, SnapshotRestorer } from '../host/snapshot.js';
import type { Entry } from '../protocol/replication.js';
import { kvArgs, type Json, type Reply, type Request } from '../protocol/wire.js';
import { JournalCorruptError } from './errors.js';
import type { RecordAt } from './records.js';

type LegacyRecord =
  | { begin: { commitSeq: number } }
  | { kv: [string, string][] }
  | { dedup: [string, Reply][] }
  | { snapshot: { commitSeq: number; kv: [string, string][]; dedup: [string, Reply][] } }
  | { write: { seq: number; req: Request; reply?: Reply } };

/** Not a command name (SERVICE.md's pattern): applies nothing, records the reply given. */
const NOOP = '\0noop';

export function replayLegacy<S>(file: string, records: RecordAt[], host: ServiceHost<S>): void {
  let seq = -1;
  let kv: Json[] = [];
  let base: [string, string, Reply][] = [];
  let writes: { entry: Entry; reply: Reply | undefined; offset: number }[] = [];
  for (const r of records) {
    let rec: LegacyRecord;
    try {
      rec = JSON.parse(r.body.toString('utf8')) as LegacyRecord;
    } catch {
      throw new JournalCorruptError(file, r.offset, 'record is not JSON');
    }
    if ('begin' in rec || 'snapshot' in rec) {
      seq = 'begin' in rec ? rec.begin.commitSeq : rec.snapshot.commitSeq;
      kv = 'snapshot' in rec ? [rec.snapshot.kv] : [];
      base = 'snapshot' in rec ? rec.snapshot.dedup.map(([id, reply]) => [id, '', reply]) : [];
      writes = [];
    } else if (seq < 0) {
      throw new JournalCorruptError(file, r.offset, 'a record before the checkpoint');
    } else if ('kv' in rec) {
      kv.push(rec.kv);
    } else if ('dedup' in rec) {
      for (const [id, reply] of rec.dedup) base.push([id, '', reply]);
    } else if ('write' in rec) {
      const w = rec.write;
      const expected = seq + writes.length + 1;
      if (w.seq !== expected) throw new JournalCorruptError(file, r.offset, `write seq ${w.seq}, expected ${expected}`);
      writes.push({ entry: effectOf(w.seq, w.req, w.reply), reply: w.reply, offset: r.offset });
    } else {
      throw new JournalCorruptError(file, r.offset, 'unknown record');
    }
  }
  if (seq < 0) return;
  // Each key's last part holds the value from when it was read, and every write after
  // that is re-applied by its effect: loading all parts first and then every write gives
  // the same store as the interleaved order did.
  const restorer = new SnapshotRestorer();
  for (const p of legacyParts(seq, 0, host.name, kv, base)) restorer.feed(p);
  restorer.finish(host);
  for (const w of writes) {
    try {
      host.apply(w.entry, w.reply);
    } catch (err) {
      throw new JournalCorruptError(file, w.offset, (err as Error).message);
    }
  }
}

/** The write as an idempotent command: `incr` becomes a `set` of the value its reply gave. */
function effectOf(seq: number, req: Request, reply: Reply | undefined): Entry {
  const args = kvArgs(req);
  const e: Entry = { seq, at: 0, id: req.id, op: req.op, args, digest: requestDigest(req.op, JSON.stringify(args)) };
  if (!reply) return e;
  if (!reply.ok) return { ...e, op: NOOP };
  if (req.op === 'incr') return { ...e, op: 'set', args: { key: req.key as string, value: String(reply.result) } };
  return e;
}
