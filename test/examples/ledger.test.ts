// The ledger example under faults: money is conserved, and each transfer id moves money once.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { freePort, Instance, ROOT, teardown } from '../helpers/instance.js';
import { FAULTS, inject } from './faults.js';

let inst: Instance | null = null;
let client: Client | null = null;
afterEach(async () => {
  await teardown(inst, client);
  inst = null;
  client = null;
});

interface Audit {
  accounts: number;
  total: number;
  deposited: number;
  transfers: number;
}
const ACCOUNTS = ['a', 'b', 'c', 'd'];

describe('examples/ledger.mjs under faults', () => {
  for (const fault of FAULTS) {
    it(`${fault}: money conserved, each transfer once`, async () => {
      inst = new Instance(`ledger-${fault}`, { port: await freePort(), extraArgs: ['--service', path.join(ROOT, 'examples', 'ledger.mjs')] });
      await inst.start();
      client = new Client({ endpoint: inst.endpoint, deadlineMs: 30_000 });
      const c = client;
      for (const a of ACCOUNTS) await c.call('open', { account: a, amount: 1000 }, { id: `open-${a}` });
      const transfer = (n: number) =>
        c.call('transfer', { from: ACCOUNTS[n % 4], to: ACCOUNTS[(n + 1) % 4], amount: 1 + (n % 7) }, { id: `tx-${n}` });
      // Transfers in flight while the fault hits; then every one retried with its id.
      const during = Array.from({ length: 60 }, (_, n) => transfer(n).catch(() => null));
      await inject(inst, fault);
      await Promise.all(during);
      for (let n = 0; n < 60; n++) await transfer(n);
      const audit = await c.call<Audit>('audit');
      expect(audit).toEqual({ accounts: 4, total: 4000, deposited: 4000, transfers: 60 });
      // Balances are exactly those of 60 transfers applied once each.
      const expected: Record<string, number> = Object.fromEntries(ACCOUNTS.map((a) => [a, 1000]));
      for (let n = 0; n < 60; n++) {
        const amt = 1 + (n % 7);
        expected[ACCOUNTS[n % 4] as string]! -= amt;
        expected[ACCOUNTS[(n + 1) % 4] as string]! += amt;
      }
      for (const a of ACCOUNTS) expect(await c.call('balance', { account: a })).toBe(expected[a]);
    }, 90_000);
  }
});
