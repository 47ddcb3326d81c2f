// The RESP front door on a real tree, driven by clients nobody here wrote: redis-cli and
// ioredis. An OK over RESP means the standby has the write, so none is lost by a SIGKILL.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, Instance, teardown, waitFor } from '../helpers/instance.js';

const HAS_REDIS_CLI = spawnSync('redis-cli', ['--version'], { stdio: 'ignore' }).status === 0;

let inst: Instance | null = null;
let redis: Redis | null = null;

afterEach(async () => {
  redis?.disconnect();
  redis = null;
  await teardown(inst, null);
  inst = null;
});

async function startWithResp(label: string): Promise<{ i: Instance; port: number }> {
  const port = await freePort();
  inst = new Instance(label, { pingInterval: 1000, alarm: 5000, extraArgs: ['--resp', `127.0.0.1:${port}`] });
  await inst.start();
  return { i: inst, port };
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const r = await execa('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { reject: false, timeout: 10_000, stdin: 'ignore' });
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('RESP front door on a supervised pair', () => {
  it('--resp is checked before anything is spawned: port out of range, address taken', async () => {
    inst = new Instance('respbad');
    const bad = await inst.cli(['start', ...inst.instanceArgs, '--endpoint', `tcp://127.0.0.1:${await freePort()}`, '--resp', '127.0.0.1:70000']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/out of range \(1-65535\)/);
    const taken = net.createServer();
    await new Promise<void>((res) => taken.listen(0, '127.0.0.1', () => res()));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const r = await inst.cli(['start', ...inst.instanceArgs, '--endpoint', `tcp://127.0.0.1:${await freePort()}`, '--resp', `127.0.0.1:${port}`]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/already in use/);
    } finally {
      await new Promise((res) => taken.close(res));
    }
  });

  it.skipIf(!HAS_REDIS_CLI)('redis-cli: SET, GET, INCR, INFO and OSPS.CALL answer as Redis would (needs redis-cli: apt-get install redis-tools)', async () => {
    const { port } = await startWithResp('respcli');
    expect(await cli(port, 'ping')).toBe('PONG');
    expect(await cli(port, 'set', 'k', 'v')).toBe('OK');
    expect(await cli(port, 'get', 'k')).toBe('v');
    expect(await cli(port, 'get', 'missing')).toBe('');
    expect(await cli(port, 'incr', 'n')).toBe('1');
    expect(await cli(port, 'INCRBY', 'n', '41')).toBe('42');
    expect(await cli(port, 'set', 'k', 'v', 'EX', '10')).toMatch(/^ERR /);
    const info = await cli(port, 'info');
    expect(info).toMatch(/role:master/);
    expect(info).toMatch(/osps_epoch:1/);
    expect(info).toMatch(/osps_standby:in-sync/);
    // A service op as a command with one JSON argument, and through OSPS.CALL.
    expect(JSON.parse(await cli(port, 'OSPS.CALL', 'incr', '{"key":"j","by":5}'))).toBe(5);
    expect(JSON.parse(await cli(port, 'osps.call', 'get', '{"key":"j"}'))).toBe('5');
  });

  it('ioredis writes across a SIGKILL of the primary: every acknowledged write is readable afterwards', async () => {
    const { i, port } = await startWithResp('respkill');
    redis = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 10, maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
    const r = redis;
    // Connection errors during the failover are expected; ioredis reconnects by itself.
    r.on('error', () => {});
    const acked: string[] = [];
    let running = true;
    // Four writers, one request in flight each; ioredis resends what was in flight after it reconnects.
    const writers = [0, 1, 2, 3].map(async (w) => {
      for (let k = 0; running; k++) {
        const key = `w${w}-${k}`;
        expect(await r.set(key, key)).toBe('OK');
        acked.push(key);
      }
    });
    await waitFor('writes before the kill', () => acked.length > 200, 15_000);
    const oldPid = i.currentPid('primary');
    const mark = i.events.length;
    process.kill(oldPid, 'SIGKILL');
    await i.waitEvent((e) => e.event === 'promoted', 10_000, mark);
    const n = acked.length;
    await waitFor('writes after the failover', () => acked.length > n + 200, 15_000);
    running = false;
    await Promise.all(writers);
    expect(i.currentPid('primary')).not.toBe(oldPid);
    const values = await r.mget(...acked);
    const lost = acked.filter((k, j) => values[j] !== k);
    expect(lost).toEqual([]);
    expect(await r.incr('counter')).toBe(1);
    const info = await r.info('replication');
    expect(info).toMatch(/role:master/);
    expect(info).toMatch(/osps_epoch:2/);
  });
});
