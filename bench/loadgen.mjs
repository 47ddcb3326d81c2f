// One closed-loop load generator process: `clients` connections, one request in flight each,
// over zeromq (DEALER, the osps wire) or RESP (plain TCP). The same code drives osps and
// its anchors, so their figures differ only by the server. Prints one JSON report on stdout:
// every latency sample of the measured window (ms), so percentiles can be taken over the
// samples of all processes merged.
//   node bench/loadgen.mjs '{"kind":"zmq","target":"tcp://127.0.0.1:5555","clients":32,"warmupMs":500,"durationMs":3000}'
//   kind resp: "target":"127.0.0.1:6380", "mode":"set" (SET) or "setwait" (SET + WAIT 1 0, written together)
//   "valueBytes" (default 16), "keySpace": keys each client cycles through (default 1024; fewer for large values)
import net from 'node:net';
import * as zmq from 'zeromq';

const o = JSON.parse(process.argv[2]);
const prefix = `${o.prefix ?? 'lg'}-${process.pid}`;
const keySpace = o.keySpace ?? 1024;
const lat = [];
let total = 0;
let inWindow = 0;
let errors = 0;
const t0 = performance.now();
const windowStart = t0 + o.warmupMs;
const end = windowStart + o.durationMs;

function record(sentAt, ok) {
  const now = performance.now();
  total++;
  if (!ok) errors++;
  if (sentAt >= windowStart && now <= end) {
    inWindow++;
    lat.push(Math.round((now - sentAt) * 1000) / 1000);
  }
  return now < end;
}

async function zmqClient(i) {
  const s = new zmq.Dealer({ linger: 0 });
  s.connect(o.target);
  const value = 'x'.repeat(o.valueBytes ?? 16);
  for (let k = 0; ; k++) {
    const frame = Buffer.from(JSON.stringify({ id: `${prefix}-${i}-${k}`, op: 'set', key: `${prefix}-${i}-${k % keySpace}`, value }));
    const sent = performance.now();
    await s.send(frame);
    const [reply] = await s.receive();
    if (!record(sent, reply.includes('"ok":true'))) break;
  }
  s.close();
}

function respClient(i) {
  return new Promise((resolve, reject) => {
    const [host, port] = o.target.split(':');
    const sock = net.connect({ host, port: Number(port), noDelay: true });
    const value = 'x'.repeat(o.valueBytes ?? 16);
    // Replies expected per request: SET alone, or SET then WAIT's integer.
    const want = o.mode === 'setwait' ? 2 : 1;
    let k = 0;
    let got = 0;
    let ok = true;
    let sent = 0;
    let buf = '';
    const send = () => {
      const key = `${prefix}-${i}-${k++ % keySpace}`;
      let cmd = `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n${value}\r\n`;
      if (want === 2) cmd += '*3\r\n$4\r\nWAIT\r\n$1\r\n1\r\n$1\r\n0\r\n';
      got = 0;
      ok = true;
      sent = performance.now();
      sock.write(cmd);
    };
    sock.on('connect', send);
    sock.on('error', reject);
    sock.setEncoding('latin1');
    sock.on('data', (d) => {
      buf += d;
      // Every reply these commands get is one line: +OK, :1, or -ERR …
      let nl;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (line[0] === '-' || (want === 2 && got === 1 && line !== ':1')) ok = false;
        if (++got < want) continue;
        if (record(sent, ok)) send();
        else {
          sock.end();
          resolve();
        }
      }
    });
  });
}

const run = o.kind === 'zmq' ? zmqClient : respClient;
await Promise.all(Array.from({ length: o.clients }, (_, i) => run(i)));
// A piped stdout is asynchronous: exit only once the report is written.
process.stdout.write(JSON.stringify({ total, inWindow, errors, durationMs: o.durationMs, lat }), () => process.exit(0));
