// The endpoint as a network service: its routes, its refusals, its bounds, and a
// successor taking over the address of one that is still closing.
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startObserver, type Observer } from '../../dist/observe/index.js';
import { MAX_CONNECTIONS } from '../../dist/observe/http-server.js';
import { checkHost, isLoopback } from '../../dist/observe/listen.js';
import { waitFor } from '../helpers/instance.js';
import { FakeSource, playFailover } from './fake-source.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
});

async function start(port = 0, listenRetryMs?: number): Promise<{ obs: Observer; src: FakeSource }> {
  const src = new FakeSource();
  const obs = await startObserver({ host: '127.0.0.1', port, source: src, listenRetryMs });
  open.push(obs);
  return { obs, src };
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const portOf = (url: string): number => Number(new URL(url).port);

describe('observation endpoint', () => {
  it('/api/status gives the status, the timeline with the failover, and the server totals', async () => {
    const { obs, src } = await start();
    playFailover(src, obs);
    obs.observeServerCounters('primary', 102, { writesByOp: { set: 7 }, errorsByCode: {}, commitSeq: 17, replicationLag: { entries: 0, bytes: 0 }, fsyncMs: [] });
    const res = await fetch(new URL('api/status', obs.url));
    expect(res.headers.get('content-type')).toBe('application/json');
    const d = (await res.json()) as { status: { epoch: number; processes: { role: string; pid: number }[] }; events: { event: string }[]; server: { writes: number } };
    expect(d.status.epoch).toBe(2);
    expect(d.status.processes.map((p) => `${p.role}:${p.pid}`)).toEqual(['watchdog:100', 'primary:102', 'secondary:103']);
    expect(d.events.map((e) => e.event)).toEqual(['starting', 'exited', 'detected', 'fenced', 'promoted', 'respawned']);
    expect(d.server.writes).toBe(7);
  });

  it('serves the dashboard page and refuses other paths, methods and hosts', async () => {
    const { obs } = await start();
    const page = await get(obs.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<canvas id="rtt">');
    expect((await get(new URL('nope', obs.url).href)).status).toBe(404);
    expect((await get(new URL('metrics', obs.url).href, {}, 'POST')).status).toBe(405);
    // A page on another site that rebinds its name to 127.0.0.1 still sends its own Host.
    expect((await get(new URL('api/status', obs.url).href, { host: `evil.example:${portOf(obs.url)}` })).status).toBe(421);
    expect((await get(new URL('api/status', obs.url).href, { host: `localhost:${portOf(obs.url)}` })).status).toBe(200);
  });

  it('binds loopback only, unless told otherwise', async () => {
    expect(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost') && isLoopback('127.3.2.1')).toBe(true);
    expect(isLoopback('0.0.0.0') || isLoopback('10.0.0.1') || isLoopback('::') || isLoopback('example.com')).toBe(false);
    await expect(startObserver({ host: '0.0.0.0', port: 0, source: new FakeSource() })).rejects.toMatchObject({ code: 'METRICS_NOT_LOOPBACK' });
    expect(() => checkHost('0.0.0.0', true)).not.toThrow();
  });

  it('a successor takes over the address once the old socket lets go, and gives up on a held one', async () => {
    const { obs } = await start();
    const port = portOf(obs.url);
    await obs.close();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    const held = startObserver({ host: '127.0.0.1', port, source: new FakeSource(), listenRetryMs: 200 });
    await expect(held).rejects.toMatchObject({ code: 'EADDRINUSE' });
    const successor = startObserver({ host: '127.0.0.1', port, source: new FakeSource(), listenRetryMs: 5_000 });
    setTimeout(() => blocker.close(), 300);
    const next = await successor;
    open.push(next);
    expect(portOf(next.url)).toBe(port);
    expect((await get(new URL('metrics', next.url).href)).status).toBe(200);
  });

  it('caps connections and drops a client that never finishes its request', async () => {
    const { obs } = await start();
    const port = portOf(obs.url);
    const sockets: net.Socket[] = [];
    const closed = new Set<net.Socket>();
    for (let i = 0; i < MAX_CONNECTIONS + 4; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('close', () => closed.add(s));
      s.on('error', () => {});
      s.resume(); // read what the server says, so its end reaches us
      s.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // headers never end
      sockets.push(s);
    }
    try {
      // Over the cap: closed at once. Under it: closed by the headers timeout (3 s).
      await waitFor('connections over the cap dropped', () => closed.size >= 4, 2_000);
      await waitFor('slow clients dropped', () => closed.size === sockets.length, 10_000);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
