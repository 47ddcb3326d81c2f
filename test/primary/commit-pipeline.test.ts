// The commit pipeline and a standby in one process, over a real shm ring and real FIFOs:
// degraded (journaled) commits, the snapshot to a new standby, group-committed acks,
// ID_REUSED, and the loss of the standby.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../dist/config.js';
import { requestDigest } from '../../dist/host/digest.js';
import type { ServiceHost } from '../../dist/host/host.js';
import { makeFifo } from '../../dist/ipc/fifo.js';
import { ShmRing } from '../../dist/ipc/shm-ring.js';
import { Journal } from '../../dist/journal/journal.js';
import { CommitPipeline } from '../../dist/primary/commit-pipeline.js';
import type { Standby } from '../../dist/protocol/standby.js';
import type { Json } from '../../dist/protocol/wire.js';
import { runtimePaths, type RuntimePaths } from '../../dist/runtime/paths.js';
import { Secondary } from '../../dist/secondary/secondary.js';
import type { KvState } from '../../dist/services/kv/service.js';
import { waitFor } from '../helpers/instance.js';
import { kvHost, state } from '../journal/helpers.js';

let tmp: string;
let paths: RuntimePaths;
let ring: ShmRing;

beforeEach(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-pipeline-'));
  paths = runtimePaths(`pipe-${process.pid}-${Math.random().toString(36).slice(2, 7)}`, path.join(tmp, 'run'));
  fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  await makeFifo(paths.p2sFifo);
  await makeFifo(paths.s2pFifo);
  ring = ShmRing.create({ shmName: paths.shmName, instance: paths.name, capacityBytes: 4 * 1024 * 1024 });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});

afterEach(() => {
  vi.restoreAllMocks();
  ShmRing.destroy(paths.shmName);
  fs.rmSync(tmp, { recursive: true, force: true });
  expect(fs.existsSync(`/dev/shm${paths.shmName}`)).toBe(false);
});

function submit(p: CommitPipeline, id: string, op: string, args: { [k: string]: Json }) {
  const argsJson = JSON.stringify(args);
  return p.submit({ id, op, args, digest: requestDigest(op, argsJson) }, argsJson);
}

describe('commit pipeline', () => {
  it('commits journaled, syncs a new standby by snapshot, then commits on its acks', async () => {
    const cfg = resolveConfig({ name: paths.name, writeDeadlineMs: 5000, readyTimeoutMs: 5000 });
    const host = kvHost();
    const journal = new Journal(path.join(tmp, 'journal.bin'), host);
    const states: Standby[] = [];
    const pipeline = new CommitPipeline({ cfg, paths, ring, host: host as ServiceHost<unknown>, epoch: ring.epoch, journal, onStandby: (s) => states.push(s) });
    pipeline.start();
    const standbyRing = ShmRing.attach(paths.shmName);
    const standbyHost = kvHost();
    const fatal: string[] = [];
    const secondary = new Secondary({
      cfg,
      paths,
      ring: standbyRing,
      host: standbyHost as ServiceHost<unknown>,
      token: 't',
      onFatal: (reason) => fatal.push(reason),
      onSynced: () => {},
    });
    try {
      // No standby: acknowledged once the journal has it.
      const early = await Promise.all(Array.from({ length: 200 }, (_, i) => submit(pipeline, `e${i}`, 'set', { key: `k${i}`, value: `v${i}` })));
      expect(early.every((r) => r.ok)).toBe(true);
      expect(pipeline.committedSeq).toBe(200);
      await secondary.start();
      await waitFor('standby in sync', () => states.includes('in-sync'), 10_000);
      expect(states).toEqual(['syncing', 'in-sync']);
      // Commands in flight together share doorbells and acks.
      const replies = await Promise.all(Array.from({ length: 500 }, (_, i) => submit(pipeline, `r${i}`, 'incr', { key: 'n', by: 1 })));
      expect(replies.map((r) => (r.ok ? r.result : null)).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
      expect(await submit(pipeline, 'r7', 'incr', { key: 'n', by: 1 })).toEqual(replies[7]);
      expect(await submit(pipeline, 'r7', 'del', { key: 'n' })).toMatchObject({ ok: false, error: { code: 'ID_REUSED' } });
      await waitFor('standby caught up', () => standbyHost.seq === host.seq, 5000);
      expect(state(standbyHost as ServiceHost<KvState>)).toEqual(state(host));
      expect(fatal).toEqual([]);
      // The standby goes away: what follows is journaled again.
      secondary.close();
      await waitFor('standby lost', () => states.at(-1) === 'absent', 5000);
      expect(await submit(pipeline, 'after', 'set', { key: 'a', value: 'b' })).toEqual({ id: 'after', ok: true, result: 'OK' });
      expect(pipeline.committedSeq).toBe(host.seq);
    } finally {
      secondary.close();
      pipeline.close();
      await journal.close();
      standbyRing.detach();
      ring.detach();
    }
  });
});
