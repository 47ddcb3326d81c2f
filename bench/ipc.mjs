// IPC layer figures between two processes: one-entry round trip (doorbell → ack) and
// pipelined throughput through the shm ring + FIFOs, beside a raw zeromq ipc:// echo.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zmq from 'zeromq';
import { makeFifo } from '../dist/ipc/fifo.js';
import { FifoReader, FifoWriter } from '../dist/ipc/fifo.js';
import { RingWriter, ShmRing } from '../dist/ipc/shm-ring.js';
import { summarize } from '../dist/client/percentiles.js';

const PEER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ipc-peer.mjs');
const RTT_ROUNDS = Number(process.env.BENCH_RTT_ROUNDS ?? 20_000);
const PIPE_ENTRIES = { 64: 2_000_000, 4096: 200_000 };

function startPeer(args) {
  const p = spawn(process.execPath, [PEER, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => p.stdout.once('data', () => resolve(p)));
}

async function ringBench(tmp) {
  const shmName = `/osps-bench-${process.pid}`;
  const ring = ShmRing.create({ shmName, instance: 'bench', capacityBytes: 16 * 1024 * 1024 });
  const p2s = path.join(tmp, 'p2s');
  const s2p = path.join(tmp, 's2p');
  await makeFifo(p2s);
  await makeFifo(s2p);
  const acks = FifoReader.open(s2p, { maxFrameBytes: 64 });
  const peer = await startPeer(['ring', shmName, p2s, s2p]);
  const bell = await FifoWriter.open(p2s, { maxFrameBytes: 64, timeoutMs: 5000 });
  const writer = new RingWriter(ring);
  const doorbell = Buffer.alloc(8);
  let onAck = () => {};
  let acked = 0;
  acks.on('frame', (f) => {
    acked = f.readDoubleLE(0);
    writer.notify();
    onAck();
  });
  const ring1 = (seq) => {
    doorbell.writeDoubleLE(seq, 0);
    bell.write(doorbell);
  };
  const reset = () => {
    writer.reset();
    acked = 0;
    ring1(0);
  };

  // Round trip: one 64 B entry, one doorbell, wait for its ack.
  reset();
  const payload = Buffer.alloc(64, 1);
  const rtts = [];
  for (let seq = 1; seq <= RTT_ROUNDS; seq++) {
    const t0 = process.hrtime.bigint();
    writer.tryAppend(payload, seq, 1);
    writer.publish();
    const got = new Promise((r) => (onAck = r));
    ring1(seq);
    await got;
    if (seq > 1000) rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const out = { rtt: summarize(rtts) };

  // Pipelined: batches of up to 4096 entries per doorbell, backpressure on a full ring.
  for (const size of [64, 4096]) {
    reset();
    const n = PIPE_ENTRIES[size];
    const p = Buffer.alloc(size, 7);
    const t0 = process.hrtime.bigint();
    let seq = 0;
    while (seq < n) {
      let batch = 0;
      while (seq < n && batch < 4096 && writer.tryAppend(p, seq + 1, 1)) {
        seq++;
        batch++;
      }
      if (batch > 0) {
        writer.publish();
        ring1(seq);
      }
      if (batch === 0) await writer.waitForSpace(writer.entryBytes(size));
      else await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => {
      if (acked === n) return r();
      onAck = () => acked === n && r();
    });
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    out[`pipelined${size}`] = { entriesPerSec: n / secs, mbPerSec: (n * size) / secs / 1e6 };
  }
  bell.close();
  acks.close();
  await new Promise((r) => peer.once('exit', r));
  ring.detach();
  ShmRing.destroy(shmName);
  return out;
}

async function zmqBench(tmp) {
  const ep = `ipc://${path.join(tmp, 'echo.sock')}`;
  const peer = await startPeer(['zmq', ep]);
  const sock = new zmq.Pair({ linger: 0 });
  sock.connect(ep);
  const payload = Buffer.alloc(64, 1);
  const rtts = [];
  for (let i = 0; i < RTT_ROUNDS; i++) {
    const t0 = process.hrtime.bigint();
    await sock.send(payload);
    await sock.receive();
    if (i >= 1000) rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const out = { rtt: summarize(rtts) };
  for (const size of [64, 4096]) {
    const n = PIPE_ENTRIES[size] / 4;
    const p = Buffer.alloc(size, 7);
    const t0 = process.hrtime.bigint();
    const recv = (async () => {
      for (let got = 0; got < n; got++) await sock.receive();
    })();
    for (let i = 0; i < n; i++) await sock.send(p);
    await recv;
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    out[`pipelined${size}`] = { entriesPerSec: n / secs, mbPerSec: (n * size) / secs / 1e6 };
  }
  await sock.send(Buffer.alloc(0));
  await new Promise((r) => peer.once('exit', r));
  sock.close();
  return out;
}

export async function benchIpc() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-bench-ipc-'));
  try {
    const ring = await ringBench(tmp);
    const zmqEcho = await zmqBench(tmp);
    return { ring, zmq: zmqEcho };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
