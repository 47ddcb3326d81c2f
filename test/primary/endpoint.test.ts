// The client endpoint's receive loop: a message whose handling throws is logged,
// the loop keeps receiving, and nothing becomes an unhandled rejection.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as zmq from 'zeromq';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientEndpoint } from '../../dist/primary/endpoint.js';
import type { Reply } from '../../dist/protocol/wire.js';

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
  it('client endpoint: a throwing request handler is logged and the next request is answered', async () => {
    const endpoint = `ipc://${path.join(dir, 'client.sock')}`;
    const failures: Error[] = [];
    const ep = new ClientEndpoint(
      endpoint,
      1024,
      (frame, respond) => {
        if (frame.toString() === 'boom') throw new Error('handler bug');
        respond({ id: frame.toString(), ok: true, result: 'pong' } satisfies Reply);
      },
      () => true,
      (err) => failures.push(err),
    );
    await ep.bind();
    const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 });
    dealer.connect(endpoint);
    try {
      await dealer.send('boom');
      await dealer.send('after');
      const [reply] = await dealer.receive();
      expect(JSON.parse((reply as Buffer).toString())).toEqual({ id: 'after', ok: true, result: 'pong' });
      expect(failures).toEqual([]);
      expect(unhandled).toEqual([]);
    } finally {
      dealer.close();
      ep.close();
    }
  });
});
