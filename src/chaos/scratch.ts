// The keys fault injectors write: a reserved namespace, checked and deleted after each fault,
// so no injected data stays in the user's store.
import type { Client } from '../client/client.js';

export const CHAOS_PREFIX = 'osps.chaos:';

/** Marks a detail string whose injected data read back wrong: the run counts it as a violation. */
export const DAMAGED = 'INJECTED DATA DAMAGED';

/**
 * Reads each acknowledged key back (it must hold exactly what was written: never overwritten,
 * never a corrupted copy), then deletes every key the injector wrote, acknowledged or not.
 * Returns a phrase for the fault's detail.
 */
export async function checkAndDelete(client: Client, written: ReadonlyMap<string, string>, acked: ReadonlySet<string>): Promise<string> {
  const bad: string[] = [];
  for (const k of acked) {
    const v = await client.get(k).catch((e: Error) => `<${e.message}>`);
    if (v !== written.get(k)) bad.push(`${k} reads ${v === null ? 'absent' : `${String(v).length} chars ${JSON.stringify(String(v).slice(0, 16))}`}`);
  }
  let deleted = 0;
  for (const k of written.keys()) deleted += await client.del(k).catch(() => 0);
  const head = bad.length === 0 ? `${acked.size} injected keys read back intact` : `${DAMAGED}: ${bad.slice(0, 3).join(', ')}`;
  return `${head}, ${deleted} deleted`;
}
