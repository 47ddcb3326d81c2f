// Closed-loop writers over the osps wire that reconnect every 10 ms (zeromq's reconnect
// interval; libzmq adds up to one interval of jitter) and resend an unanswered request with
// the same id as soon as the connection is back after a loss (as src/client does), or after
// RESEND_MS without an answer, so a write retried across a failover executes once. Used
// for the failover figures (what a client sees) and for "start → first answer".
import * as zmq from 'zeromq';
import { onReconnect } from '../dist/client/reconnects.js';

export const RECONNECT_MS = 10;
const RESEND_MS = 30;

/** `clients` writers on `endpoint`; every acknowledged set is recorded with its last send time. */
export function zmqWriters(endpoint, { clients = 4, prefix = 'fo' } = {}) {
  const acks = [];
  let running = true;
  const sockets = [];
  const loops = Array.from({ length: clients }, async (_, i) => {
    const s = new zmq.Dealer({ linger: 0, reconnectInterval: RECONNECT_MS, immediate: true });
    sockets.push(s);
    const link = replies(s);
    s.connect(endpoint);
    for (let k = 0; running; k++) {
      const id = `${prefix}-${process.pid}-${i}-${k}`;
      const frame = Buffer.from(JSON.stringify({ id, op: 'set', key: `${prefix}-${i}-${k & 255}`, value: 'x' }));
      const firstSent = performance.now();
      let sentAt = firstSent;
      for (;;) {
        const answer = link.expect(id);
        try {
          sentAt = performance.now();
          await s.send(frame);
        } catch (err) {
          if (!running || s.closed) return;
          throw err;
        }
        const reply = await answer.sent();
        if (reply?.ok) {
          acks.push({ firstSent, sentAt, at: performance.now() });
          break;
        }
        if (!running) return;
      }
    }
  });
  return {
    acks,
    /** When the first write sent after `t` (and so answered by whoever serves after `t`) was acknowledged. */
    async firstAckAfter(t, timeoutMs = 20_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const a = acks.find((x) => x.sentAt > t);
        if (a) return a.at;
        if (performance.now() > deadline) throw new Error('no acknowledged write after the fault');
        await new Promise((r) => setTimeout(r, 1));
      }
    },
    async stop() {
      running = false;
      for (const s of sockets) s.close();
      await Promise.allSettled(loops);
    },
  };
}

/**
 * One socket's replies, read in one loop. `expect(id)` before sending; `sent()` once sent:
 * the reply to `id` (late replies to earlier attempts are skipped), or null when it is time to
 * resend: the connection came back after a loss (the request went down with the old one) or
 * RESEND_MS passed.
 */
function replies(s) {
  let waiting = null;
  // A send still blocked went to the new connection: only one already out is lost.
  onReconnect(s, () => waiting?.out && waiting.resolve(null));
  void (async () => {
    try {
      for await (const [frame] of s) {
        const reply = JSON.parse(frame.toString());
        if (waiting && reply.id === waiting.id) waiting.resolve(reply);
      }
    } catch {
      // closed
    }
    waiting?.resolve(null);
  })();
  return {
    expect(id) {
      let resolve;
      const got = new Promise((r) => (resolve = r));
      let timer;
      const w = { id, out: false, resolve: (reply) => {
        if (waiting === w) waiting = null;
        clearTimeout(timer);
        resolve(reply);
      } };
      waiting = w;
      return {
        sent() {
          w.out = true;
          if (waiting === w) timer = setTimeout(() => w.resolve(null), RESEND_MS);
          return got;
        },
      };
    },
  };
}

/** The reply to `id`, skipping late replies to earlier attempts; EAGAIN when none came in time. */
async function receiveFor(s, id) {
  for (;;) {
    const [frame] = await s.receive();
    const reply = JSON.parse(frame.toString());
    if (reply.id === id) return reply;
  }
}

/** Resolves when `endpoint` first answers a ping (one DEALER, 10 ms reconnect), with performance.now(). */
export async function firstAnswer(endpoint, timeoutMs = 20_000) {
  const s = new zmq.Dealer({ linger: 0, reconnectInterval: RECONNECT_MS, immediate: true, receiveTimeout: RESEND_MS });
  s.connect(endpoint);
  const deadline = performance.now() + timeoutMs;
  try {
    for (let k = 0; performance.now() < deadline; k++) {
      const id = `first-${k}`;
      try {
        await s.send(Buffer.from(JSON.stringify({ id, op: 'ping' })));
        const reply = await receiveFor(s, id);
        if (reply) return performance.now();
      } catch (err) {
        if (err.code !== 'EAGAIN') throw err;
      }
    }
    throw new Error(`${endpoint} did not answer within ${timeoutMs} ms`);
  } finally {
    s.close();
  }
}
