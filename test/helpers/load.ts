// Closed-loop writers for integration tests: every acknowledged key is recorded, and so is
// every error a caller would have seen.
import type { Client } from '../../dist/client/client.js';

export interface WriteLoad {
  acked: string[];
  errors: string[];
  stop(): Promise<void>;
}

export function writeLoad(c: Client, prefix: string, writers = 2): WriteLoad {
  const acked: string[] = [];
  const errors: string[] = [];
  let running = true;
  const loops = Array.from({ length: writers }, async (_, w) => {
    let k = 0;
    while (running) {
      const key = `${prefix}${w}-${k++}`;
      try {
        await c.set(key, key);
        acked.push(key);
      } catch (err) {
        // A closed client (the test failed and teardown ran) rejects at once: stop, don't spin.
        if ((err as { code?: string }).code === 'CLOSED') break;
        errors.push((err as Error).message);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  });
  return {
    acked,
    errors,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}
