// The job-queue example under faults: every job is enqueued exactly once per request id, no
// job is lost or duplicated, and claims that are not acknowledged come back through timers
// that survive failover, standby loss and a whole-tree restart.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { freePort, Instance, ROOT, teardown, waitFor } from '../helpers/instance.js';
import { FAULTS, inject } from './faults.js';

let inst: Instance | null = null;
let client: Client | null = null;
afterEach(async () => {
  await teardown(inst, client);
  inst = null;
  client = null;
});

interface Stats {
  ready: number;
  claimed: number;
  done: number;
}
const JOBS = 12;

describe('examples/job-queue.mjs under faults', () => {
  for (const fault of FAULTS) {
    it(`${fault}: jobs exactly once, unacknowledged claims return by timer`, async () => {
      // One port for every start: the client keeps its endpoint across the whole-tree restart.
      inst = new Instance(`jq-${fault}`, { port: await freePort(), extraArgs: ['--service', path.join(ROOT, 'examples', 'job-queue.mjs')] });
      await inst.start();
      client = new Client({ endpoint: inst.endpoint, deadlineMs: 30_000 });
      const c = client;
      for (let n = 0; n < JOBS; n++) await c.call('enqueue', { payload: { n } }, { id: `enq-${n}` });
      // Five claims: two acknowledged, three left to time out (after the fault).
      const claims: { job: string; token: string }[] = [];
      for (let n = 0; n < 5; n++) claims.push((await c.call('claim', { worker: 'w1', visibilityMs: 2500 }, { id: `claim-${n}` })) as { job: string; token: string });
      for (const cl of claims.slice(0, 2)) await c.call('ack', cl, { id: `ack-${cl.job}` });
      expect(await c.call<Stats>('stats')).toEqual({ ready: JOBS - 5, claimed: 3, done: 2 });

      await inject(inst, fault);

      // Retried with the same ids: nothing is applied twice.
      for (let n = 0; n < JOBS; n++) await c.call('enqueue', { payload: { n } }, { id: `enq-${n}` });
      for (let n = 0; n < 5; n++) await c.call('claim', { worker: 'w1', visibilityMs: 2500 }, { id: `claim-${n}` });
      const after = await c.call<Stats>('stats');
      expect(after.ready + after.claimed + after.done).toBe(JOBS);
      expect(after.done).toBe(2);
      // The three unacknowledged claims come back by their timers, whichever server is primary.
      const back = await waitFor('expired claims to return', async () => {
        const s = await c.call<Stats>('stats');
        return s.claimed === 0 ? s : null;
      }, 15_000, 100);
      expect(back).toEqual({ ready: JOBS - 2, claimed: 0, done: 2 });
      for (const cl of claims.slice(2)) {
        const j = (await c.call('job', { job: cl.job })) as { state: string; attempts: number };
        expect(j).toMatchObject({ state: 'ready', attempts: 1 });
        // The expired claim's token no longer acknowledges it.
        await expect(c.call('ack', cl)).rejects.toMatchObject({ code: 'NOT_CLAIMED' });
      }
    }, 90_000);
  }
});
