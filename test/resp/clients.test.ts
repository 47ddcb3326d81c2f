// The RESP front door driven by clients nobody here wrote: ioredis, and redis-cli when the
// machine has it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RespServer } from '../../dist/resp/server.js';
import { FakeBackend } from './fake-backend.js';

const REDIS_CLI = '/usr/bin/redis-cli';
const HAVE_CLI = fs.existsSync(REDIS_CLI);
const run = promisify(execFile);

let server: RespServer;
let port: number;
let backend: FakeBackend;

beforeAll(async () => {
  backend = new FakeBackend({ queries: { 'ledger.balance': (a) => ({ account: (a as { account: string }).account, balance: 5 }) } });
  backend.maxDelayMs = 3;
  server = new RespServer(backend);
  port = await server.listen('127.0.0.1', 0);
});

afterAll(async () => {
  await server.close();
});

describe('ioredis against the RESP front door', () => {
  it('connects with its handshake and runs the key-value commands', async () => {
    const redis = new Redis({ host: '127.0.0.1', port, connectionName: 'osps-test', lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await redis.connect();
      expect(await redis.client('GETNAME')).toBe('osps-test');
      expect(await redis.ping()).toBe('PONG');
      expect(await redis.set('io:a', 'héllo')).toBe('OK');
      expect(await redis.get('io:a')).toBe('héllo');
      expect(await redis.get('io:none')).toBeNull();
      expect(await redis.incr('io:n')).toBe(1);
      expect(await redis.incrby('io:n', 41)).toBe(42);
      expect(await redis.mget('io:a', 'io:none', 'io:n')).toEqual(['héllo', null, '42']);
      expect(await redis.exists('io:a', 'io:n', 'io:none')).toBe(2);
      expect(await redis.del('io:a', 'io:none')).toBe(1);
      expect(await redis.echo('e')).toBe('e');
      expect(await redis.info('replication')).toMatch(/role:master\r\n.*osps_standby:in-sync/s);
      expect(await redis.call('OSPS.CALL', 'ledger.balance', '{"account":"a"}')).toBe('{"account":"a","balance":5}');
      expect(await redis.call('ledger.balance', '{"account":"b"}')).toBe('{"account":"b","balance":5}');
      await expect(redis.set('io:x', 'v', 'EX', 10)).rejects.toThrow("ERR SET option 'EX' is not supported by osps");
      await redis.set('io:s', 'abc');
      await expect(redis.incr('io:s')).rejects.toThrow('ERR value is not an integer or out of range');
      await expect(redis.select(1)).rejects.toThrow('ERR DB index is out of range');
      expect(await redis.select(0)).toBe('OK');
    } finally {
      redis.disconnect();
    }
  });

  it('pipelines 1000 commands and gets every reply in order', async () => {
    const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await redis.connect();
      const p = redis.pipeline();
      for (let i = 0; i < 500; i++) p.set(`io:p${i}`, String(i)).get(`io:p${i}`);
      const results = await p.exec();
      expect(results).toHaveLength(1000);
      results?.forEach(([err, value], i) => {
        expect(err).toBeNull();
        expect(value).toBe(i % 2 === 0 ? 'OK' : String((i - 1) / 2));
      });
      const counter = redis.pipeline();
      for (let i = 0; i < 300; i++) counter.incr('io:c');
      expect((await counter.exec())?.map(([, v]) => v)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    } finally {
      redis.disconnect();
    }
  });
});

describe('ioredis when the front door moves to a new server on the same address, as after a failover', () => {
  it('reconnects by itself and runs the commands it queued meanwhile', async () => {
    const shared = new FakeBackend();
    let first: RespServer | null = new RespServer(shared);
    const p = await first.listen('127.0.0.1', 0);
    const redis = new Redis({ host: '127.0.0.1', port: p, lazyConnect: true, retryStrategy: () => 20 });
    let second: RespServer | null = null;
    try {
      await redis.connect();
      expect(await redis.incr('fo:n')).toBe(1);
      await first.close();
      first = null;
      const pending = redis.incr('fo:n'); // queued while no server answers
      second = new RespServer(shared);
      await second.listen('127.0.0.1', p);
      expect(await pending).toBe(2);
      expect(await redis.get('fo:n')).toBe('2');
    } finally {
      redis.disconnect();
      await first?.close();
      await second?.close();
    }
  });
});

describe.skipIf(!HAVE_CLI)('redis-cli against the RESP front door', () => {
  const cli = async (...args: string[]): Promise<string> => (await run(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args])).stdout;

  it('runs commands, shows errors in Redis words, and reads INFO', async () => {
    expect(await cli('PING')).toBe('PONG\n');
    expect(await cli('SET', 'cli:a', 'one two')).toBe('OK\n');
    expect(await cli('GET', 'cli:a')).toBe('one two\n');
    expect(await cli('INCRBY', 'cli:n', '7')).toBe('7\n');
    expect(await cli('--no-raw', 'MGET', 'cli:a', 'cli:none')).toBe('1) "one two"\n2) (nil)\n');
    expect(await cli('--no-raw', 'HELLO', '3')).toBe('(error) NOPROTO unsupported protocol version\n');
    expect(await cli('--no-raw', 'FOO', 'bar')).toBe("(error) ERR unknown command 'FOO', with args beginning with: 'bar' \n");
    expect(await cli('INFO', 'replication')).toMatch(/# Replication\r?\nrole:master\r?\n/);
    expect(Number(await cli('COMMAND', 'COUNT'))).toBe(18); // 17 built-ins and the service's one op
    expect(await cli('OSPS.CALL', 'ledger.balance', '{"account":"z"}')).toBe('{"account":"z","balance":5}\n');
  });

  it('pipes many commands (redis-cli --pipe) and gets every reply', async () => {
    const input = Array.from({ length: 1000 }, (_, i) => `SET cli:p${i} ${i}\r\n`).join('');
    const child = execFile(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), '--pipe']);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin?.end(input);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(out).toMatch(/errors: 0, replies: 1000/);
    expect(code).toBe(0);
    expect(backend.state.get('cli:p999')).toBe('999');
  });
});

if (!HAVE_CLI) console.log('redis-cli tests skipped: /usr/bin/redis-cli is missing (apt-get install redis-tools)');
