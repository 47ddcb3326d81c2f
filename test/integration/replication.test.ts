// Two real processes replicate through the shm ring with FIFO doorbells and acks.
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeFifo } from '../../dist/ipc/fifo.js';
import { ShmRing } from '../../dist/ipc/shm-ring.js';
import { ROOT, isAlive, waitFor } from '../helpers/instance.js';

const WRITER = path.join(ROOT, 'test', 'fixtures', 'ring-writer.mjs');
const READER = path.join(ROOT, 'test', 'fixtures', 'ring-reader.mjs');

let tmp: string;
let shmName: string;
let procs: ResultPromise[] = [];

beforeEach(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-repl-'));
  shmName = `/osps-test-repl-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  ShmRing.create({ shmName, instance: 'repl-test', capacityBytes: 16 * 1024 * 1024 }).detach();
  await makeFifo(path.join(tmp, 'p2s'));
  await makeFifo(path.join(tmp, 's2p'));
});

afterEach(async () => {
  for (const p of procs) if (p.pid && isAlive(p.pid)) p.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.catch(() => {})));
  procs = [];
  ShmRing.destroy(shmName);
  fs.rmSync(tmp, { recursive: true, force: true });
  expect(fs.existsSync(`/dev/shm${shmName}`)).toBe(false);
});

type Line = Record<string, unknown>;

function run(script: string, args: string[]) {
  const lines: Line[] = [];
  const p = execa(process.execPath, [script, shmName, path.join(tmp, 'p2s'), path.join(tmp, 's2p'), ...args], { reject: false, buffer: false });
  p.stdout?.setEncoding('utf8');
  let partial = '';
  p.stdout?.on('data', (d: string) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) if (l) lines.push({ ...(JSON.parse(l) as Line), receivedAt: Date.now() });
  });
  let stderr = '';
  p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  procs.push(p);
  return { p, lines, stderr: () => stderr };
}

describe('cross-process replication through ring + FIFOs', () => {
  it('100 000 entries of 1 B – 64 KiB arrive once, in order, byte-exact', async () => {
    const args = ['100000', '1', String(64 * 1024), '42'];
    const reader = run(READER, args);
    const writer = run(WRITER, args);
    const [w, r] = await Promise.all([writer.p, reader.p]);
    expect(r.exitCode, reader.stderr()).toBe(0);
    expect(w.exitCode, writer.stderr()).toBe(0);
    expect(writer.lines.find((l) => l.done)).toMatchObject({ acked: 100000 });
    const summary = reader.lines.find((l) => l.done);
    expect(summary).toMatchObject({ seen: 100000 });
    // Mean of sizes uniform in 1..65536 is ~32 KiB: about 3.3 GB crossed the ring.
    expect(summary?.bytes as number).toBeGreaterThan(100000 * 30000);
  }, 120_000);

  it('SIGKILL of the reader mid-stream gives the writer a peer-gone event within 100 ms', async () => {
    const args = ['100000000', '1', '4096', '7'];
    const reader = run(READER, args);
    const writer = run(WRITER, args);
    await waitFor('writer ready', () => writer.lines.some((l) => l.ready), 10_000);
    await waitFor('stream under way', () => reader.lines.some((l) => l.ready), 10_000);
    await new Promise((r) => setTimeout(r, 100)); // let entries flow before the kill
    const killedAt = Date.now();
    reader.p.kill('SIGKILL');
    const gone = await waitFor('peer-gone', () => writer.lines.find((l) => l.peerGone), 5000, 1);
    expect((gone.at as number) - killedAt).toBeLessThan(100);
    const w = await writer.p;
    expect(w.exitCode, writer.stderr()).toBe(0);
    expect(writer.stderr()).not.toMatch(/Unhandled|Error/);
  });
});
