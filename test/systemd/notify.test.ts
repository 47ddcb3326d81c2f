import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeSystemd } from './fake-systemd.js';
import { keepAliveMs, parseNotifySocket, withoutNotifyEnv } from '../../dist/systemd/notify.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'notify-child.mjs');
const DEADLINE_MS = 5000;

/** The fixture as a launcher under systemd: one command a line, each answered `done CMD`. */
class Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly stderr: string[] = [];
  private readonly lines: AsyncIterator<string>;

  constructor(env: NodeJS.ProcessEnv) {
    this.proc = spawn(process.execPath, [CHILD], { env: { PATH: process.env.PATH, ...env } });
    this.proc.stderr.setEncoding('utf8').on('data', (d: string) => this.stderr.push(d));
    this.lines = readline.createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  async hello(): Promise<{ notifier: boolean; keepAliveMs: number | null; addonLoaded: boolean }> {
    return JSON.parse(await this.next());
  }

  async run(command: string): Promise<void> {
    this.proc.stdin.write(`${command}\n`);
    expect(await this.next()).toBe(`done ${command.split(' ')[0]}`);
  }

  async exit(): Promise<number | null> {
    this.proc.stdin.end();
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    return new Promise((r) => this.proc.once('exit', (code) => r(code)));
  }

  private async next(): Promise<string> {
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no line from the child; stderr: ${this.stderr.join('')}`)), DEADLINE_MS).unref());
    const r = await Promise.race([this.lines.next(), timer]);
    if (r.done) throw new Error(`the child ended; stderr: ${this.stderr.join('')}`);
    return r.value;
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-sdnotify-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function child(env: NodeJS.ProcessEnv): Child {
  const c = new Child(env);
  cleanups.push(() => {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  });
  return c;
}

describe('sd_notify client against a fake NOTIFY_SOCKET', () => {
  it('sends READY=1 with a status, STATUS=, WATCHDOG=1 and STOPPING=1 as datagrams', async () => {
    const sockPath = path.join(tempDir(), 'notify');
    const systemd = fakeSystemd(sockPath);
    cleanups.push(systemd.close);
    const c = child({ NOTIFY_SOCKET: sockPath, WATCHDOG_USEC: '10000000' });
    expect(await c.hello()).toEqual({ notifier: true, keepAliveMs: 5000, addonLoaded: true });
    await c.run('ready primary 101 ready, secondary 102 in-sync, epoch 3');
    await c.run('status failover\\nepoch 4'); // the fixture turns a literal backslash-n into a newline
    await c.run('watchdog');
    await c.run('stopping');
    expect(await systemd.waitFor(4)).toEqual([
      'READY=1\nSTATUS=primary 101 ready, secondary 102 in-sync, epoch 3',
      'STATUS=failover epoch 4', // a newline would have started a new KEY=
      'WATCHDOG=1',
      'STOPPING=1',
    ]);
    await c.run('close');
    await c.run('watchdog'); // after close: silently nothing
    expect(await c.exit()).toBe(0);
    expect(systemd.got).toHaveLength(4);
  });

  it('is null without NOTIFY_SOCKET, and the native addon is never loaded', async () => {
    const c = child({ WATCHDOG_USEC: '10000000' });
    expect(await c.hello()).toEqual({ notifier: false, keepAliveMs: null, addonLoaded: false });
    await c.run('ready');
    expect(await c.exit()).toBe(0);
  });

  it('never throws when the socket is gone: logs once per outage and reaches systemd again when it is back', async () => {
    const sockPath = path.join(tempDir(), 'notify');
    const c = child({ NOTIFY_SOCKET: sockPath });
    expect((await c.hello()).notifier).toBe(true);
    await c.run('ready');
    await c.run('watchdog');
    await c.run('watchdog');
    const systemd = fakeSystemd(sockPath); // systemd re-executed and bound its socket anew
    cleanups.push(systemd.close);
    await c.run('watchdog');
    expect(await systemd.waitFor(1)).toEqual(['WATCHDOG=1']);
    expect(await c.exit()).toBe(0);
    const log = c.stderr.join('');
    expect(log.match(/sd-notify-failed/g)).toHaveLength(1);
    expect(log).toContain('ENOENT');
    expect(log.match(/sd-notify-back/g)).toHaveLength(1);
  });

  it('takes an abstract @name without throwing, and says in one line at start that unix-dgram cannot reach it, and why', async () => {
    const c = child({ NOTIFY_SOCKET: `@osps-sdnotify-${process.pid}` });
    expect((await c.hello()).notifier).toBe(true);
    await c.run('ready');
    await c.run('watchdog');
    await c.run('stopping');
    expect(await c.exit()).toBe(0);
    const lines = c.stderr.join('').split('\n').filter(Boolean);
    // One line, from createNotifier (before any message), and nothing per message after it.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/sd-notify-off: NOTIFY_SOCKET=@osps-sdnotify-\d+ is an abstract socket, which unix-dgram cannot address \(it copies the name with strncpy and a fixed length\)/);
    expect(lines[0]).toMatch(/a Type=notify unit would time out/);
  });
});

describe('sd_notify environment', () => {
  it('parses a path and an abstract name, and nothing else', () => {
    expect(parseNotifySocket('/run/systemd/notify')).toEqual({ kind: 'path', path: '/run/systemd/notify' });
    expect(parseNotifySocket('@/org/freedesktop/systemd1/notify')).toEqual({ kind: 'abstract', name: '/org/freedesktop/systemd1/notify' });
    expect(parseNotifySocket('@')).toBeNull();
    expect(parseNotifySocket('relative/notify')).toBeNull();
  });

  it('keeps alive at half WATCHDOG_USEC, only when WATCHDOG_PID is unset or names this process', () => {
    expect(keepAliveMs({ WATCHDOG_USEC: '10000000' }, 42)).toBe(5000);
    expect(keepAliveMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '42' }, 42)).toBe(5000);
    expect(keepAliveMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '43' }, 42)).toBeNull();
    expect(keepAliveMs({}, 42)).toBeNull();
    expect(keepAliveMs({ WATCHDOG_USEC: '0' }, 42)).toBeNull();
    expect(keepAliveMs({ WATCHDOG_USEC: 'soon' }, 42)).toBeNull();
  });

  it('strips what makes a process systemd main PID from a child env', () => {
    const env = withoutNotifyEnv({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '1', WATCHDOG_PID: '1', PATH: '/bin' });
    expect(env).toEqual({ PATH: '/bin' });
  });
});
