// The per-peer reply budget on a real ROUTER: a peer that does not read holds at most its
// budget here (the rest is dropped) and never delays a peer that reads.
import * as zmq from 'zeromq';
import { describe, expect, it } from 'vitest';
import { PeerOutbox } from '../../dist/primary/peer-outbox.js';

const MiB = 1024 * 1024;

describe('PeerOutbox', () => {
  it('bounds the bytes held for a peer that never reads, and keeps serving one that does', async () => {
    const router = new zmq.Router({ linger: 0, mandatory: true, sendTimeout: 0, sendHighWaterMark: 4 });
    await router.bind('tcp://127.0.0.1:0');
    const hog = new zmq.Dealer({ linger: 0, routingId: 'hog', receiveHighWaterMark: 1 });
    const reader = new zmq.Dealer({ linger: 0, routingId: 'reader', receiveTimeout: 5000 });
    const over: string[] = [];
    const out = new PeerOutbox(router, { peerBytes: 4 * MiB, retryMs: 10 }, (peer) => over.push(peer.toString()));
    try {
      for (const d of [hog, reader]) {
        d.connect(router.lastEndpoint as string);
        await d.send('hello');
        await router.receive();
      }
      const big = Buffer.alloc(MiB, 0x61);
      let accepted = 0;
      for (let i = 0; i < 100; i++) if (out.send([Buffer.from('hog'), big])) accepted++;
      expect(accepted).toBeLessThan(100);
      expect(over).toEqual(['hog']);
      expect(out.full(Buffer.from('hog'))).toBe(true);
      // Held here: never more than the budget plus one reply.
      for (let i = 0; i < 20; i++) {
        expect(out.heldBytes()).toBeLessThanOrEqual(5 * MiB);
        await new Promise((r) => setTimeout(r, 10));
      }
      for (let i = 0; i < 50; i++) out.send([Buffer.from('reader'), Buffer.from(`r${i}`)]);
      for (let i = 0; i < 50; i++) expect((await reader.receive())[0]?.toString()).toBe(`r${i}`);
      expect(out.full(Buffer.from('reader'))).toBe(false);
    } finally {
      out.close();
      hog.close();
      reader.close();
      router.close();
    }
  });
});
