import { Client } from '../client/client.js';
import { ShmRing } from '../ipc/shm-ring.js';
import { entryBytes } from '../ipc/shm-layout.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHAOS_PREFIX, checkAndDelete } from './scratch.js';

const VALUE_BYTES = 256 * 1024;
/** The ring counts as done growing once it has not grown for this long. */
const STABLE_MS = 750;


/**
 * Stalls the standby (SIGSTOP) and writes until the ring has no room for another entry.
 * The primary must hold the rest back (or answer UNAVAILABLE at its deadline), never
 * overwrite unread entries. With `forMs`, the standby resumes after that long; without,
 * it stays stopped and the alarm replaces it.
 */
export async function fillRing(paths: RuntimePaths, endpoint: string, standbyPid: number, forMs?: number): Promise<string> {
  const ring = ShmRing.attach(paths.shmName);
  const client = new Client({ endpoint, requestTimeoutMs: 1000, deadlineMs: 30_000 });
  const value = 'f'.repeat(VALUE_BYTES);
  const perEntry = entryBytes(VALUE_BYTES + 128);
  const maxWrites = Math.ceil(ring.capacity / VALUE_BYTES) + 8;
  process.kill(standbyPid, 'SIGSTOP');
  const writes: Promise<'ok' | string>[] = [];
  const written = new Map<string, string>();
  const acked = new Set<string>();
  let peak = 0;
  const used = (): number => (ring.head - ring.tail) >>> 0;
  try {
    const deadline = Date.now() + 10_000;
    while (ring.capacity - used() >= perEntry && writes.length < maxWrites && Date.now() < deadline) {
      for (let i = 0; i < 4; i++) {
        const key = `${CHAOS_PREFIX}fill-ring:${writes.length}`;
        // Distinct values: an entry overwritten by a later one would read back as the wrong key's.
        const v = `${key}:${value}`;
        written.set(key, v);
        writes.push(client.set(key, v).then(() => (acked.add(key), 'ok'), (e: Error) => e.message.split(':')[0] ?? 'error'));
      }
      await sleep(20);
      peak = Math.max(peak, used());
    }
    // Sent is not appended: on a busy machine the primary is still working through the last
    // writes. The standby is stopped, so the ring only grows: sample until it is full, or has
    // stopped growing for a while, within the deadline.
    let stableSince = Date.now();
    while (ring.capacity - used() >= perEntry && Date.now() < deadline && Date.now() - stableSince < STABLE_MS) {
      await sleep(10);
      const u = used();
      if (u > peak) {
        peak = u;
        stableSince = Date.now();
      }
    }
    peak = Math.max(peak, used());
  } finally {
    if (forMs !== undefined) {
      await sleep(forMs);
      try {
        process.kill(standbyPid, 'SIGCONT');
      } catch {
        // fenced meanwhile
      }
    }
  }
  const outcomes = await Promise.all(writes);
  const capacity = ring.capacity;
  ring.detach();
  // Never overwritten: every acknowledged write reads back as written; then all of them go.
  const checked = await checkAndDelete(client, written, acked);
  await client.close();
  const ok = outcomes.filter((o) => o === 'ok').length;
  return `ring ${((100 * peak) / capacity).toFixed(0)}% full (${peak} of ${capacity} bytes) with ${writes.length} writes sent; ${ok} acknowledged, ${writes.length - ok} not; ${checked}`;
}
