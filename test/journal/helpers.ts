// Drives a host and its journal the way the primary's commit pipeline does.
import { requestDigest } from '../../dist/host/digest.js';
import { ServiceHost } from '../../dist/host/host.js';
import type { Journal } from '../../dist/journal/journal.js';
import { encodeEntry } from '../../dist/protocol/replication.js';
import type { Json, Reply } from '../../dist/protocol/wire.js';
import { kvService, type KvState } from '../../dist/services/kv/service.js';

export const DEDUP = 500;

export const turn = () => new Promise<void>((r) => setImmediate(r));

export function kvHost(dedup = DEDUP): ServiceHost<KvState> {
  return new ServiceHost(kvService, { dedupWindow: dedup });
}

/** Applies one command as the primary does: entry, apply, then the same bytes to the journal. */
export function command(host: ServiceHost<KvState>, journal: Journal | null, id: string, op: string, args: { [k: string]: Json }): Reply {
  const argsJson = JSON.stringify(args);
  const entry = { id, op, args, digest: requestDigest(op, argsJson), seq: host.seq + 1, at: host.nextNow() };
  const reply = host.apply(entry);
  journal?.append(entry.seq, encodeEntry(entry, argsJson));
  return reply;
}

/** Applies `n` random writes (set / incr / del over a small key space), after any snapshot in progress. */
export async function writeBatch(host: ServiceHost<KvState>, journal: Journal, n: number, rnd: () => number): Promise<void> {
  while (host.held) await turn();
  for (let i = 0; i < n; i++) {
    const id = `w${host.seq + 1}`;
    const key = `k${Math.floor(rnd() * 3000)}`;
    const pick = rnd();
    if (pick < 0.4) command(host, journal, id, 'set', { key, value: String(Math.floor(rnd() * 1000)) });
    else if (pick < 0.85) command(host, journal, id, 'incr', { key, by: 1 + Math.floor(rnd() * 5) });
    else command(host, journal, id, 'del', { key });
  }
  journal.write();
  journal.compactIfDue();
}

export function seeded(n: number, dedup = DEDUP): ServiceHost<KvState> {
  const h = kvHost(dedup);
  for (let i = 1; i <= n; i++) command(h, null, `s${i}`, 'set', { key: `k${i}`, value: `${i}` });
  return h;
}

/** Everything a replay must reproduce: log position, keys and values, and the dedup window in order. */
export function state(h: ServiceHost<KvState>) {
  return {
    seq: h.seq,
    kv: [...h.state.map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    dedup: [...h.dedup.entries()],
  };
}
