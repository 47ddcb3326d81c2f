import { Client } from '../client/client.js';
import { ShmRing } from '../ipc/shm-ring.js';
import { DATA_OFFSET, ENTRY_HEADER_BYTES, Ent, Hdr, WRAP_MARKER, entryBytes } from '../ipc/shm-layout.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { processState } from '../runtime/proc.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHAOS_PREFIX, checkAndDelete } from './scratch.js';


/**
 * Buffer offset of the newest published entry: our own write, appended after the standby was
 * stopped, so certainly unread (the entry at tail may already be read, just not released).
 */
function lastPublishedEntry(ring: ShmRing): number | null {
  const buf = ring.rawBuffer;
  const mask = ring.capacity - 1;
  let pos = ring.tail;
  let last: number | null = null;
  // Bounded: a walk that misses head (the ring moved under us) gives up instead of spinning.
  for (let steps = 0; pos !== ring.head && steps < ring.capacity / ENTRY_HEADER_BYTES; steps++) {
    const off = DATA_OFFSET + (pos & mask);
    if (buf.readUInt32LE(off) === WRAP_MARKER) {
      pos = (pos + (ring.capacity - (pos & mask))) >>> 0;
      continue;
    }
    last = off;
    pos = (pos + entryBytes(buf.readUInt32LE(off + Ent.LENGTH))) >>> 0;
  }
  return last;
}

/** SIGSTOP takes effect asynchronously: until the state says stopped, the standby may still read. */
async function waitStopped(pid: number): Promise<boolean> {
  const deadline = Date.now() + 1000;
  for (;;) {
    const st = processState(pid);
    if (st === 'T' || st === 't') return true;
    if (st === null || Date.now() > deadline) return false;
    await sleep(1);
  }
}

/**
 * Flips one payload byte of an entry the standby has not read yet. The standby is stopped
 * for the few milliseconds this takes, and the entry is one published after it stopped (a
 * write of our own guarantees there is one), so it is really unread when it is damaged.
 * (An entry published before the stop may have been read and checked already, just not
 * released: damaging it would go unnoticed, and prove nothing.)
 */
export async function corruptUnreadEntry(paths: RuntimePaths, endpoint: string, standbyPid: number): Promise<string> {
  const ring = ShmRing.attach(paths.shmName);
  const client = new Client({ endpoint, requestTimeoutMs: 500, deadlineMs: 30_000 });
  process.kill(standbyPid, 'SIGSTOP');
  let detail = 'no unread entry appeared: nothing corrupted';
  let write: Promise<unknown> | null = null;
  const key = `${CHAOS_PREFIX}corrupt-shm:${Date.now()}`;
  const value = 'c'.repeat(64);
  try {
    if (await waitStopped(standbyPid)) {
      const stoppedAt = ring.head;
      write = client.set(key, value).catch((e: Error) => e);
      const deadline = Date.now() + 2000;
      while (ring.head === stoppedAt && Date.now() < deadline) await sleep(1);
      const target = ring.head !== stoppedAt ? lastPublishedEntry(ring) : null;
      if (target !== null) {
        const buf = ring.rawBuffer;
        const at = target + ENTRY_HEADER_BYTES;
        buf[at] = (buf[at] as number) ^ 0xff;
        detail = `flipped payload byte at ring offset ${at - DATA_OFFSET}`;
      }
    } else {
      detail = `the standby (pid ${standbyPid}) did not stop: nothing corrupted`;
    }
  } finally {
    process.kill(standbyPid, 'SIGCONT');
  }
  const outcome = await write;
  ring.detach();
  // The primary's copy must be the value written, never the damaged bytes; then it goes.
  const acked = outcome !== null && !(outcome instanceof Error) ? new Set([key]) : new Set<string>();
  const checked = write === null ? 'nothing written' : await checkAndDelete(client, new Map([[key, value]]), acked);
  await client.close();
  return `${detail}; our write ${outcome === null ? 'was not sent' : outcome instanceof Error ? `failed: ${outcome.message}` : 'was acknowledged'}; ${checked}`;
}

/**
 * Flips a byte of the header's magic: entries keep flowing (nothing reads the magic on the
 * hot path), but no server could attach to the object any more until it is repaired.
 */
export function corruptHeader(paths: RuntimePaths): string {
  const ring = ShmRing.attach(paths.shmName);
  try {
    const buf = ring.rawBuffer;
    const at = Hdr.MAGIC + 1;
    buf[at] = (buf[at] as number) ^ 0xff;
    return `flipped header byte ${at} (magic)`;
  } finally {
    ring.detach();
  }
}
