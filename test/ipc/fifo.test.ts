import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameError, OspsError } from '../../dist/errors.js';
import { FifoReader, FifoWriter, makeFifo, removeFifo } from '../../dist/ipc/fifo.js';
import { FRAME_MAGIC } from '../../dist/ipc/framing.js';

const MAX = 4096;

async function waitFor(cond: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Our own fds that point into `dir`, from /proc, to prove nothing is left open. */
function fdsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir + path.sep)) out.push(`${fd} -> ${target}`);
    } catch {
      // the fd of the readdir itself is gone by now
    }
  }
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(OspsError);
    return (err as OspsError).code;
  }
  throw new Error('expected a rejection');
}

let dir: string;
let fifo: string;
let cleanups: (() => void)[];

function track<T extends { close(): void }>(x: T): T {
  cleanups.push(() => x.close());
  return x;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-fifo-'));
  fifo = path.join(dir, 'p2s');
  cleanups = [];
});

afterEach(async () => {
  for (const c of cleanups.reverse()) c();
  await waitFor(() => fdsUnder(dir).length === 0, 2000, 'fds to close');
  await removeFifo(fifo);
  expect(fs.readdirSync(dir)).toEqual([]);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('makeFifo / removeFifo', () => {
  it('creates a 0600 FIFO even with a permissive umask', async () => {
    // process.umask() cannot set the mask in a worker thread; the forks pool allows it.
    let old: number | undefined;
    try {
      old = process.umask(0);
    } catch {
      old = undefined;
    }
    try {
      await makeFifo(fifo);
    } finally {
      if (old !== undefined) process.umask(old);
    }
    const st = fs.lstatSync(fifo);
    expect(st.isFIFO()).toBe(true);
    expect(st.mode & 0o7777).toBe(0o600);
    expect(await removeFifo(fifo)).toBe(true);
    expect(await removeFifo(fifo)).toBe(false);
  });

  it('refuses an existing path with FIFO_EXISTS', async () => {
    await makeFifo(fifo);
    expect(await codeOf(makeFifo(fifo))).toBe('FIFO_EXISTS');
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, 'x');
    expect(await codeOf(makeFifo(file))).toBe('FIFO_EXISTS');
    fs.unlinkSync(file);
  });

  it('refuses to remove something that is not a FIFO', async () => {
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, 'keep me');
    expect(await codeOf(removeFifo(file))).toBe('NOT_A_FIFO');
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
    fs.unlinkSync(file);
  });
});

describe('FifoWriter.open', () => {
  it('gives PEER_ABSENT within its timeout when no reader comes', async () => {
    await makeFifo(fifo);
    const t0 = performance.now();
    expect(await codeOf(FifoWriter.open(fifo, { maxFrameBytes: MAX, timeoutMs: 150 }))).toBe('PEER_ABSENT');
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(elapsed).toBeLessThan(1000);
  });

  it('gives FIFO_MISSING for a missing path, and NOT_A_FIFO for a plain file', async () => {
    expect(await codeOf(FifoWriter.open(fifo, { maxFrameBytes: MAX }))).toBe('FIFO_MISSING');
    expect(() => FifoReader.open(fifo, { maxFrameBytes: MAX })).toThrow(expect.objectContaining({ code: 'FIFO_MISSING' }));
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, '');
    expect(await codeOf(FifoWriter.open(file, { maxFrameBytes: MAX }))).toBe('NOT_A_FIFO');
    expect(fs.statSync(file).size).toBe(0);
    fs.unlinkSync(file);
  });

  it('stops retrying when aborted', async () => {
    await makeFifo(fifo);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stop')), 20);
    await expect(FifoWriter.open(fifo, { maxFrameBytes: MAX, timeoutMs: 5000, signal: ac.signal })).rejects.toThrow('stop');
  });

  it('connects once a reader appears', async () => {
    await makeFifo(fifo);
    const pending = FifoWriter.open(fifo, { maxFrameBytes: MAX, timeoutMs: 2000 });
    await sleep(30);
    track(FifoReader.open(fifo, { maxFrameBytes: MAX }));
    track(await pending);
  });
});

describe('FifoReader + FifoWriter', () => {
  it('carries 200 000 8-byte frames in order', async () => {
    await makeFifo(fifo);
    const reader = track(FifoReader.open(fifo, { maxFrameBytes: MAX }));
    const writer = track(await FifoWriter.open(fifo, { maxFrameBytes: MAX }));
    const total = 200_000;
    let received = 0;
    let outOfOrder = 0;
    reader.on('frame', (f) => {
      if (f.length !== 8 || f.readUInt32LE(0) !== received || f.readUInt32LE(4) !== ~received >>> 0) outOfOrder++;
      received++;
    });
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const batch: Buffer[] = [];
        for (let i = 0; i < 512 && sent < total; i++, sent++) {
          const b = Buffer.allocUnsafe(8);
          b.writeUInt32LE(sent, 0);
          b.writeUInt32LE(~sent >>> 0, 4);
          batch.push(b);
        }
        if (!writer.writeMany(batch)) return void writer.once('drain', pump);
      }
    };
    pump();
    await waitFor(() => received >= total, 15_000, 'all frames');
    expect(received).toBe(total);
    expect(outOfOrder).toBe(0);
  });

  it("emits peer-gone 'eof' on the reader when the writer closes", async () => {
    await makeFifo(fifo);
    const reader = track(FifoReader.open(fifo, { maxFrameBytes: MAX }));
    const writer = track(await FifoWriter.open(fifo, { maxFrameBytes: MAX }));
    const frames: string[] = [];
    const gone: string[] = [];
    reader.on('frame', (f) => frames.push(f.toString()));
    reader.on('peer-gone', (reason) => gone.push(reason));
    expect(writer.write(Buffer.from('last words'))).toBe(true);
    writer.close();
    writer.close();
    expect(writer.write(Buffer.from('after close'))).toBe(false);
    await waitFor(() => gone.length > 0, 2000, 'peer-gone');
    expect(frames).toEqual(['last words']);
    expect(gone).toEqual(['eof']);
    expect(reader.closed).toBe(true);
  });

  it('emits no peer-gone for a reader that has not seen a writer yet', async () => {
    await makeFifo(fifo);
    const reader = track(FifoReader.open(fifo, { maxFrameBytes: MAX }));
    const gone: string[] = [];
    reader.on('peer-gone', (reason) => gone.push(reason));
    await sleep(100); // proving that nothing happens in this window
    expect(gone).toEqual([]);
    const writer = await FifoWriter.open(fifo, { maxFrameBytes: MAX });
    writer.close();
    await waitFor(() => gone.length > 0, 2000, 'peer-gone');
    expect(gone).toEqual(['eof']);
  });

  it("emits peer-gone 'epipe' on the writer when an in-process reader closes", async () => {
    await makeFifo(fifo);
    const reader = track(FifoReader.open(fifo, { maxFrameBytes: MAX }));
    const writer = track(await FifoWriter.open(fifo, { maxFrameBytes: MAX }));
    const gone: string[] = [];
    writer.on('peer-gone', (reason) => gone.push(reason));
    reader.close();
    reader.close();
    writer.write(Buffer.from('nobody listens'));
    await waitFor(() => gone.length > 0, 2000, 'writer peer-gone');
    expect(gone).toEqual(['epipe']);
    expect(writer.write(Buffer.from('again'))).toBe(false);
    expect(writer.writeMany([Buffer.from('again')])).toBe(false);
  });

  it('sees a SIGKILLed reader process within 100 ms while writing', async () => {
    await makeFifo(fifo);
    const script = `
      const fs = require('fs'), net = require('net');
      const fd = fs.openSync(process.argv[1], fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const s = new net.Socket({ fd, readable: true, writable: false });
      let n = 0, told = false;
      s.on('data', (d) => { n += d.length; if (!told && n >= 1 << 20) { told = true; process.stdout.write('flowing\\n'); } });
      s.on('error', () => {});
    `;
    const child: ChildProcess = spawn(process.execPath, ['-e', script, fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
    let flowing = false;
    child.stdout!.on('data', (d: Buffer) => (flowing ||= d.toString().includes('flowing')));

    const writer = track(await FifoWriter.open(fifo, { maxFrameBytes: MAX, timeoutMs: 10_000 }));
    let goneAt = 0;
    const gone: { reason: string; code?: string }[] = [];
    writer.on('peer-gone', (reason, err) => {
      goneAt = performance.now();
      gone.push({ reason, code: (err as NodeJS.ErrnoException | undefined)?.code });
    });
    const batch = Array.from({ length: 64 }, () => Buffer.alloc(256, 7));
    const pump = (): void => {
      if (writer.closed) return;
      for (let i = 0; i < 8; i++) if (!writer.writeMany(batch)) return void writer.once('drain', pump);
      setImmediate(pump); // let I/O and timers run between bursts
    };
    pump();
    await waitFor(() => flowing, 10_000, 'child to receive data');
    expect(gone).toEqual([]);

    const killedAt = performance.now();
    child.kill('SIGKILL');
    await waitFor(() => gone.length > 0, 2000, 'writer peer-gone');
    expect(goneAt - killedAt).toBeLessThan(100);
    expect(gone).toEqual([{ reason: 'epipe', code: 'EPIPE' }]);
    await waitFor(() => child.signalCode === 'SIGKILL', 2000, 'child exit');
  });

  it.each([
    ['FRAME_BAD_PREFIX', Buffer.from([0xde, 0xad, 1, 0, 0, 0, 0x41])],
    ['FRAME_TOO_LARGE', (() => {
      const h = Buffer.alloc(6);
      h.writeUInt16BE(FRAME_MAGIC, 0);
      h.writeUInt32LE(MAX + 1, 2);
      return h;
    })()],
  ])('turns raw garbage into protocol-error %s without a crash', async (code, bytes) => {
    await makeFifo(fifo);
    const reader = track(FifoReader.open(fifo, { maxFrameBytes: MAX }));
    const events: string[] = [];
    let error: FrameError | undefined;
    reader.on('frame', () => events.push('frame'));
    reader.on('peer-gone', (reason) => events.push(`peer-gone ${reason}`));
    reader.on('protocol-error', (err) => {
      events.push('protocol-error');
      error = err;
    });
    const fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    let fdOpen = true;
    cleanups.push(() => void (fdOpen && fs.closeSync(fd)));
    fs.writeSync(fd, Buffer.concat([Buffer.from([0x05, 0xf5, 2, 0, 0, 0, 0x68, 0x69]), bytes]));
    await waitFor(() => error !== undefined, 2000, 'protocol-error');
    expect(error).toBeInstanceOf(FrameError);
    expect(error!.code).toBe(code);
    expect(reader.closed).toBe(true);
    fs.closeSync(fd);
    fdOpen = false;
    await sleep(30); // proving no peer-gone follows, even once the raw writer has gone
    expect(events.filter((e) => e !== 'frame')).toEqual(['protocol-error']);
  });
});
