// One teardown for tests that start several instances and clients: after each test every
// client is closed, every extra resource released, and every instance stopped and checked
// for leftovers (a process, FIFO, shm object or socket left behind fails the test).
import { afterEach, expect } from 'vitest';
import { Client, type ClientOptions } from '../../dist/client/client.js';
import type { Instance } from './instance.js';

export interface Tracked {
  /** Stopped and checked after the test. */
  track(i: Instance): Instance;
  /** A client closed after the test, retrying each request for up to `deadlineMs`. */
  client(target: Instance | string, deadlineMs?: number, opts?: ClientOptions): Client;
  /** Run after the test, before the instances stop (servers, sockets a test opened). */
  onTeardown(fn: () => Promise<unknown> | unknown): void;
}

export function tracked(): Tracked {
  const live: Instance[] = [];
  const clients: Client[] = [];
  const extra: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const fn of extra.splice(0)) await fn();
    for (const i of live.splice(0)) {
      const { leftovers } = await i.stopAndCheck();
      await i.destroy();
      expect(leftovers).toEqual([]);
    }
  });
  return {
    track(i) {
      live.push(i);
      return i;
    },
    client(target, deadlineMs = 15_000, opts = {}) {
      const endpoint = typeof target === 'string' ? target : target.endpoint;
      const c = new Client({ endpoint, requestTimeoutMs: Math.min(300, deadlineMs), deadlineMs, ...opts });
      clients.push(c);
      return c;
    },
    onTeardown(fn) {
      extra.push(fn);
    },
  };
}
