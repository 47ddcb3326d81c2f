// A snapshot crosses the ring in chunks that each fit, whatever the state, ids and replies
// hold, and the standby's receiver rebuilds the same host from them.
import { describe, expect, it } from 'vitest';
import { requestDigest } from '../../dist/host/digest.js';
import { ServiceHost } from '../../dist/host/host.js';
import { openSnapshot } from '../../dist/host/snapshot.js';
import { SnapshotFeed } from '../../dist/primary/snapshot-feed.js';
import { decodeRingPayload, snapshotChunkRoom } from '../../dist/protocol/replication.js';
import { SnapshotReceiver } from '../../dist/secondary/snapshot-receiver.js';
import { kvService, type KvState } from '../../dist/services/kv/service.js';

function run(h: ServiceHost<KvState>, id: string, op: string, args: { [k: string]: string | number }) {
  return h.apply({ id, op, args, digest: requestDigest(op, JSON.stringify(args)), seq: h.seq + 1, at: 1 });
}

const state = (h: ServiceHost<KvState>) => ({ seq: h.seq, kv: [...h.state.map], dedup: [...h.dedup.entries()] });

describe('snapshot feed', () => {
  it('hostile ids, a huge value and a large window: every payload fits, and the copy is exact', () => {
    const h = new ServiceHost(kvService, { dedupWindow: 100_000 });
    const ctl = '\u0001\u0002\u0003\u001f'.repeat(30);
    for (let i = 0; i < 2100; i++) run(h, `${ctl}${i}`, 'incr', { key: 'n', by: 1 });
    // One 1 MiB value (of characters that JSON would escape to six): a single part larger than any ring entry.
    run(h, 'big', 'set', { key: 'big', value: '\u0000'.repeat(1024 * 1024) });
    const maxPayload = 64 * 1024;
    const feed = new SnapshotFeed(openSnapshot(h), snapshotChunkRoom(maxPayload));
    const copy = new ServiceHost<KvState>(kvService, { dedupWindow: 100_000 });
    const receiver = new SnapshotReceiver();
    let chunks = 0;
    let done = false;
    expect(h.held).toBe(true);
    for (let c = feed.peek(); c; c = feed.peek()) {
      expect(c.payload.length).toBeLessThanOrEqual(maxPayload);
      // The same chunk until it is taken (a full ring retries it).
      expect(feed.peek()).toBe(c);
      feed.take();
      chunks++;
      const p = decodeRingPayload(c.payload);
      if (p.kind !== 'snapshot') throw new Error('not a snapshot chunk');
      expect(p.last).toBe(c.last);
      done = receiver.accept(p, copy as ServiceHost<unknown>);
    }
    expect(done).toBe(true);
    expect(h.held).toBe(false);
    // The value alone takes 16 chunks of 64 KiB.
    expect(chunks).toBeGreaterThan(16);
    expect(state(copy)).toEqual(state(h));
  });

  it('chunks out of order are refused', () => {
    const h = new ServiceHost(kvService, { dedupWindow: 10 });
    run(h, 'a', 'set', { key: 'k', value: 'v' });
    const feed = new SnapshotFeed(openSnapshot(h), 1 << 20);
    const first = feed.peek();
    feed.take();
    const second = feed.peek();
    feed.close();
    const receiver = new SnapshotReceiver();
    const p = decodeRingPayload((second ?? first)!.payload);
    if (p.kind !== 'snapshot') throw new Error('not a snapshot chunk');
    expect(() => receiver.accept(p, new ServiceHost(kvService, { dedupWindow: 10 }) as ServiceHost<unknown>)).toThrow(/out of order/);
    expect(h.held).toBe(false);
  });
});
