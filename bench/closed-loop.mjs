// Closed-loop writers for the failure benchmarks: each client sends its next set as soon as
// the previous one is answered, so what clients see during a fault shows in the samples.
import { Client } from '../dist/index.js';
import { waitFor } from './tree.mjs';

/** `clients` writers; every acknowledged set is a sample [sent at, latency] (performance.now ms). */
export function closedLoopLoad(endpoint, { clients = 8, requestTimeoutMs = 300, prefix = 'load' } = {}) {
  const conns = Array.from({ length: clients }, () => new Client({ endpoint, requestTimeoutMs, deadlineMs: 20_000 }));
  const samples = [];
  let errors = 0;
  let running = true;
  const loops = conns.map(async (c, i) => {
    let k = 0;
    while (running) {
      const t0 = performance.now();
      try {
        await c.set(`${prefix}-${i}-${k++}`, 'x');
        samples.push([t0, performance.now() - t0]);
      } catch {
        errors++;
      }
    }
  });
  return {
    samples,
    get errors() {
      return errors;
    },
    /** When the first write acknowledged after `t` was acknowledged. */
    firstAckAfter: (t) =>
      waitFor('ack after fault', () => samples.map(([t0, d]) => t0 + d).find((a) => a > t), 20_000),
    /** Stops the writers; resolves to the number of failed requests. */
    async stop() {
      running = false;
      await Promise.all(loops);
      await Promise.all(conns.map((c) => c.close()));
      return errors;
    },
  };
}
