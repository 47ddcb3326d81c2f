// A request in flight when the primary dies is sent again as soon as the client is connected
// to the promoted standby, not an attempt timer later; the server's dedup keeps it exactly once.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { Instance, isAlive, teardown, waitFor } from '../helpers/instance.js';

let inst: Instance | null = null;
let client: Client | null = null;
afterEach(async () => {
  await teardown(inst, client);
  inst = client = null;
});

/** Bytes received and not yet read on the established TCP connections to local `port`. */
function unreadBytes(port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address "ADDR:PORT", state 01 = ESTABLISHED, "tx_queue:rx_queue" in hex.
      if (f[1]?.endsWith(hex) && f[3] === '01') n += parseInt((f[4] ?? '0:0').split(':')[1] ?? '0', 16);
    }
  }
  return n;
}

describe('client across a failover', () => {
  it('resends a write in flight at a SIGKILL of the primary on reconnecting, long before its attempt timer, and it applies once', async () => {
    inst = new Instance('resend', { alarm: 5000, pingInterval: 1000 });
    await inst.start();
    // An attempt timer of a minute: only the resend on reconnecting can answer within the bound below.
    client = new Client({ endpoint: inst.endpoint, requestTimeoutMs: 60_000, deadlineMs: 120_000 });
    expect(await client.incr('warm')).toBe(1);
    const port = Number(new URL(inst.endpoint).port);
    const oldPid = inst.currentPid('primary');
    // Stopped, the primary cannot answer: the write waits, unread, in its socket.
    process.kill(oldPid, 'SIGSTOP');
    const answer = client.incr('once');
    await waitFor('the write in the stopped primary\'s socket', () => unreadBytes(port) > 0, 5000, 5);
    const killedAt = Date.now();
    process.kill(oldPid, 'SIGKILL');
    const n = await answer;
    const took = Date.now() - killedAt;
    expect(n).toBe(1);
    // A protocol bound, far below the 60 s attempt timer: crash detection, promotion, reconnect.
    expect(took).toBeLessThan(15_000);
    expect(isAlive(oldPid)).toBe(false);
    const promoted = await inst.waitEvent((e) => e.event === 'promoted', 10_000);
    expect(Number(promoted.pid)).not.toBe(oldPid);
    expect(await client.get('once')).toBe('1');
  });
});
