// The control link's receive loop: a message whose handling throws is logged,
// the loop keeps receiving, and nothing becomes an unhandled rejection.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as zmq from 'zeromq';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { encodeControl, type WatchdogToServer } from '../../dist/protocol/control.js';
import { ControlLink } from '../../dist/server/control-link.js';
import { waitFor } from '../helpers/instance.js';

let dir: string;
const unhandled: unknown[] = [];
const onUnhandled = (r: unknown) => unhandled.push(r);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-loops-'));
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('receive loops', () => {
  it('control link: a throwing handler is logged and the next message still arrives', async () => {
    const endpoint = `ipc://${path.join(dir, 'wd.sock')}`;
    const router = new zmq.Router({ linger: 0 });
    await router.bind(endpoint);
    const seen: number[] = [];
    const failures: Error[] = [];
    const link = new ControlLink(
      endpoint,
      'tok',
      (m) => {
        if (m.t !== 'ping') return;
        seen.push(m.seq);
        if (m.seq === 1) throw new Error('handler bug');
      },
      60_000,
      () => {},
      (err) => failures.push(err),
    );
    try {
      link.send({ t: 'pong', seq: 0, role: 'primary', epoch: 1, commitSeq: 0, keys: 0, standby: 'absent', synced: true });
      const [id] = await router.receive();
      for (const seq of [1, 2]) await router.send([id as Buffer, encodeControl({ t: 'ping', seq, epoch: 1 } satisfies WatchdogToServer)]);
      await waitFor('second ping handled', () => seen.includes(2), 5000);
      expect(failures).toEqual([]);
      expect(unhandled).toEqual([]);
    } finally {
      link.close();
      router.close();
    }
  });
});
