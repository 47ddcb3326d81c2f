import { Client } from '../client/client.js';
import { ShmRing } from '../ipc/shm-ring.js';
import { DATA_OFFSET, ENTRY_HEADER_BYTES, WRAP_MARKER } from '../ipc/shm-layout.js';
import type { RuntimePaths } from '../runtime/paths.js';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Flips one payload byte of an entry the standby has not read yet. The standby is stopped
 * for the few milliseconds this takes, so the entry is really unread when it is damaged;
 * a write of our own guarantees there is one.
 */
export async function corruptUnreadEntry(paths: RuntimePaths, endpoint: string, standbyPid: number): Promise<string> {
  const ring = ShmRing.attach(paths.shmName);
  const client = new Client({ endpoint, requestTimeoutMs: 500, deadlineMs: 30_000 });
  process.kill(standbyPid, 'SIGSTOP');
  let detail = 'no unread entry appeared: nothing corrupted';
  let write: Promise<unknown> | null = null;
  try {
    write = client.set(`chaos:corrupt-shm:${Date.now()}`, 'c'.repeat(64)).catch((e: Error) => e);
    const deadline = Date.now() + 2000;
    while (ring.head === ring.tail && Date.now() < deadline) await sleep(1);
    if (ring.head !== ring.tail) {
      const buf = ring.rawBuffer;
      let off = DATA_OFFSET + (ring.tail & (ring.capacity - 1));
      // The first unread entry may sit after a WRAP marker, at the start of the ring.
      if (buf.readUInt32LE(off) === WRAP_MARKER) off = DATA_OFFSET;
      const target = off + ENTRY_HEADER_BYTES;
      buf[target] = (buf[target] as number) ^ 0xff;
      detail = `flipped payload byte at ring offset ${target - DATA_OFFSET}`;
    }
  } finally {
    process.kill(standbyPid, 'SIGCONT');
  }
  const outcome = await write;
  await client.close();
  ring.detach();
  return `${detail}; our write ${outcome instanceof Error ? `failed: ${outcome.message}` : 'was acknowledged'}`;
}
