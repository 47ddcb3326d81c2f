// The RESP server over a real socket: raw bytes, pipelining with answers completing out of
// order, protocol errors, QUIT, and the bounds (connections, requests in flight, output).
import { afterEach, describe, expect, it } from 'vitest';
import type { CloseReason } from '../../dist/resp/connection.js';
import { RespServer, type RespServerOptions } from '../../dist/resp/server.js';
import { FakeBackend } from './fake-backend.js';
import { RawClient, until } from './raw-client.js';

const open: { server: RespServer; clients: RawClient[] }[] = [];

async function start(backend = new FakeBackend(), opts: RespServerOptions = {}) {
  const events: { kind: string; reason?: CloseReason }[] = [];
  const server = new RespServer(backend, { ...opts, onEvent: (e) => events.push(e) });
  const port = await server.listen('127.0.0.1', 0);
  const entry = { server, clients: [] as RawClient[] };
  open.push(entry);
  const connect = async () => {
    const c = await RawClient.connect(port);
    entry.clients.push(c);
    return c;
  };
  return { server, port, backend, events, connect };
}

afterEach(async () => {
  for (const { server, clients } of open.splice(0)) {
    for (const c of clients) c.close();
    await server.close();
  }
});

const cmd = (...args: string[]): string => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;

describe('RespServer', () => {
  it('answers pipelined requests in request order while the backend answers out of order', async () => {
    const { backend, connect } = await start();
    for (let i = 0; i < 200; i++) backend.state.set(`k${i}`, `v${i}`);
    backend.maxDelayMs = 20;
    const c = await connect();
    let want = '';
    let stream = '';
    for (let i = 0; i < 200; i++) {
      stream += i % 3 === 0 ? `PING\r\n` : cmd('GET', `k${i}`);
      want += i % 3 === 0 ? '+PONG\r\n' : `$${`v${i}`.length}\r\nv${i}\r\n`;
    }
    stream += cmd('INCR', 'n') + cmd('INCR', 'n') + cmd('INCRBY', 'n', '10');
    want += ':1\r\n:2\r\n:12\r\n';
    // Written in odd pieces, so requests straddle reads.
    for (let at = 0; at < stream.length; at += 777) c.send(stream.slice(at, at + 777));
    await c.expect(want);
    expect(c.text).toBe(want);
  });

  it('answers a protocol error after the replies before it, in Redis words, and closes', async () => {
    const { connect, events } = await start();
    const c = await connect();
    c.send(`PING\r\n${cmd('SET', 'k', 'v')}*1\r\n$x\r\n${cmd('PING')}`);
    await c.expect('+PONG\r\n+OK\r\n-ERR Protocol error: invalid bulk length\r\n');
    await c.waitClosed();
    expect(c.text).toBe('+PONG\r\n+OK\r\n-ERR Protocol error: invalid bulk length\r\n');
    await until('the close to be reported', () => events.some((e) => e.reason === 'protocol'));
  });

  it('refuses a bulk over the limit from its header, before its bytes arrive', async () => {
    const { connect } = await start(undefined, { limits: { maxBulkBytes: 1000 } });
    const c = await connect();
    c.send('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1001\r\n');
    await c.expect('-ERR Protocol error: invalid bulk length\r\n');
    await c.waitClosed();
  });

  it('closes the connection after QUIT, answering nothing after it', async () => {
    const { connect } = await start();
    const c = await connect();
    c.send(`PING\r\nQUIT\r\nPING\r\n`);
    await c.waitClosed();
    expect(c.text).toBe('+PONG\r\n+OK\r\n');
  });

  it('caps connections: one over the cap is told so and closed, as redis-server does', async () => {
    const { server, connect, events } = await start(undefined, { limits: { maxConnections: 3 } });
    const served: RawClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await connect();
      c.send('PING\r\n');
      await c.expect('+PONG\r\n');
      served.push(c);
    }
    const over = await connect();
    await over.waitClosed();
    expect(over.text).toBe('-ERR max number of clients reached\r\n');
    expect(events.filter((e) => e.kind === 'refused')).toHaveLength(1);
    expect(server.connectionCount).toBe(3);
    // The served ones keep being served; a slot freed is a slot for the next client.
    served[0]?.close();
    await until('the freed slot', () => server.connectionCount === 2);
    const next = await connect();
    next.send('PING\r\n');
    await next.expect('+PONG\r\n');
    served[1]?.send('PING\r\n');
    await served[1]?.expect('+PONG\r\n');
  });

  it('disconnects a client that does not read its replies once they pass the output limit', async () => {
    const { server, backend, connect, events } = await start(undefined, { limits: { maxOutputBytes: 256 * 1024 } });
    backend.state.set('big', 'x'.repeat(100 * 1024));
    const c = await connect();
    c.socket.pause(); // never reads
    c.send(cmd('GET', 'big').repeat(200));
    await until('the output limit to close it', () => events.some((e) => e.reason === 'output-limit'));
    await until('the connection to be gone', () => server.connectionCount === 0);
    // Others are served as before.
    const d = await connect();
    d.send('PING\r\n');
    await d.expect('+PONG\r\n');
  });

  it('pauses reading while the requests in flight reach their budget, then serves the rest in order', async () => {
    // Each GET costs its 22 wire bytes plus 256 per argument (534): the 4th starts at 1602 of 2000 bytes, the 5th waits.
    const { backend, connect } = await start(undefined, { limits: { maxInflightBytes: 2000 } });
    let release = (): void => {};
    backend.gate = new Promise((r) => (release = r));
    const c = await connect();
    c.send(cmd('GET', 'k').repeat(100));
    await until('the first calls', () => backend.pending >= 4);
    const probe = await connect();
    probe.send('PING\r\n');
    await probe.expect('+PONG\r\n'); // a turn of the event loop: nothing more was read meanwhile
    expect(backend.pending).toBe(4);
    backend.gate = null;
    release();
    await c.expect('$-1\r\n'.repeat(100));
    expect(backend.ids).toHaveLength(100);
  });

  it('close() ends every connection and releases the port', async () => {
    const { server, port, connect } = await start();
    const c = await connect();
    c.send('PING\r\n');
    await c.expect('+PONG\r\n');
    await server.close();
    await c.waitClosed();
    const again = new RespServer(new FakeBackend());
    expect(await again.listen('127.0.0.1', port)).toBe(port);
    await again.close();
  });

  it('keeps serving everybody else while hostile clients send garbage', async () => {
    const { server, connect } = await start(undefined, { limits: { maxInflightBytes: 4096 } });
    let seed = 20261125;
    const byte = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const pieces = ['*', '$', '\r\n', '-1', '99999999999', '"', "'", 'PING', 'SET', 'GET', 'DEL', 'INCR', 'k', '0', '3'];
    const hostile: RawClient[] = [];
    for (let i = 0; i < 40; i++) {
      const c = await connect();
      let junk = '';
      for (let j = 0; j < 200; j++) junk += byte() < 128 ? pieces[byte() % pieces.length] : String.fromCharCode(byte());
      c.send(Buffer.from(junk, 'latin1'));
      hostile.push(c);
    }
    const good = await connect();
    good.send(cmd('SET', 'g', 'ok') + cmd('GET', 'g'));
    await good.expect('+OK\r\n$2\r\nok\r\n');
    for (const c of hostile) c.close();
    await until('the hostile connections to be gone', () => server.connectionCount === 1);
  });

  it('runs none of the requests a client left unread when it goes away', async () => {
    const { server, backend, connect } = await start(undefined, { limits: { maxInflightBytes: 2000 } });
    let release = (): void => {};
    backend.gate = new Promise((r) => (release = r));
    const c = await connect();
    c.send(cmd('SET', 'k', 'v').repeat(50));
    await until('the first calls', () => backend.pending >= 1);
    const started = backend.ids.length;
    c.close();
    await until('the connection to be gone', () => server.connectionCount === 0);
    backend.gate = null;
    release();
    await until('the calls in flight to finish', () => backend.pending === 0);
    const probe = await connect();
    probe.send('PING\r\n');
    await probe.expect('+PONG\r\n');
    expect(backend.ids.length).toBe(started);
    expect(started).toBeLessThan(50);
  });
});
