// The far side of the IPC benchmark, in its own process: a ring reader that acks on s2p,
// or a zeromq ipc:// echo.
import * as zmq from 'zeromq';
import { FifoReader, FifoWriter } from '../dist/ipc/fifo.js';
import { RingReader, ShmRing } from '../dist/ipc/shm-ring.js';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'ring') {
  const [shmName, p2sPath, s2pPath] = args;
  const ring = ShmRing.attach(shmName);
  let reader = null;
  const ack = Buffer.alloc(8);
  const bells = FifoReader.open(p2sPath, { maxFrameBytes: 64 });
  const acks = await FifoWriter.open(s2pPath, { maxFrameBytes: 64, timeoutMs: 5000 });
  let readUpTo = 0;
  bells.on('frame', (f) => {
    const upTo = f.readDoubleLE(0);
    // A doorbell with seq 0 means "new run": the writer reset the ring.
    if (upTo === 0) {
      reader = new RingReader(ring, { nextSeq: 1 });
      readUpTo = 0;
      return;
    }
    // Doorbells for entries a previous read already took are stale (and may predate a reset).
    if (upTo <= readUpTo) return;
    let last = 0;
    for (;;) {
      const entries = reader.read();
      if (entries.length === 0) break;
      last = entries[entries.length - 1].seq;
      reader.release();
    }
    if (last > 0) {
      readUpTo = last;
      ack.writeDoubleLE(last, 0);
      acks.write(ack);
    }
  });
  bells.on('peer-gone', () => process.exit(0));
  process.stdout.write('ready\n');
} else if (mode === 'zmq') {
  const sock = new zmq.Pair({ linger: 0 });
  await sock.bind(args[0]);
  process.stdout.write('ready\n');
  for await (const [msg] of sock) {
    if (msg.length === 0) break;
    await sock.send(msg);
  }
  sock.close();
  process.exit(0);
}
