// The transports' ceilings: servers that only parse each request and answer it, nothing
// replicated, nothing stored. `zmq`: a ROUTER with osps's own request parser and reply
// encoder; `resp`: a TCP server answering SET +OK and WAIT :1. Prints "ready" once bound.
//   node bench/echo-server.mjs zmq tcp://127.0.0.1:5555 | node bench/echo-server.mjs resp 127.0.0.1:6390
import net from 'node:net';
import * as zmq from 'zeromq';
import { SendQueue } from '../dist/net/send-queue.js';
import { encodeReply, parseRequest } from '../dist/protocol/wire.js';

const [kind, address] = process.argv.slice(2);

if (kind === 'zmq') {
  const router = new zmq.Router({ linger: 0, sendHighWaterMark: 100_000 });
  await router.bind(address);
  const out = new SendQueue(router);
  process.stdout.write('ready\n');
  for await (const [id, frame] of router) {
    const p = parseRequest(frame, 1 << 20);
    out.send([id, encodeReply(p.ok ? { id: p.req.id, ok: true, result: 'OK' } : p.reply)]);
  }
} else {
  const [host, port] = address.split(':');
  const server = net.createServer({ noDelay: true }, (sock) => {
    let buf = Buffer.alloc(0);
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      const replies = [];
      // Parses whole RESP arrays of bulk strings; a partial one waits for more bytes.
      for (;;) {
        const r = parseArray(buf);
        if (!r) break;
        buf = buf.subarray(r.used);
        const name = r.args[0]?.toString('latin1').toUpperCase();
        replies.push(name === 'WAIT' ? ':1\r\n' : name === 'SET' ? '+OK\r\n' : '+PONG\r\n');
      }
      if (replies.length > 0) sock.write(replies.join(''));
    });
  });
  server.listen({ host, port: Number(port) }, () => process.stdout.write('ready\n'));
}

function parseArray(b) {
  if (b.length === 0 || b[0] !== 0x2a) return null;
  let nl = b.indexOf('\r\n');
  if (nl < 0) return null;
  const n = Number(b.toString('latin1', 1, nl));
  let at = nl + 2;
  const args = [];
  for (let i = 0; i < n; i++) {
    nl = b.indexOf('\r\n', at);
    if (nl < 0) return null;
    const len = Number(b.toString('latin1', at + 1, nl));
    const start = nl + 2;
    if (b.length < start + len + 2) return null;
    args.push(b.subarray(start, start + len));
    at = start + len + 2;
  }
  return { args, used: at };
}
