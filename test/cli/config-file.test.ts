// `osps start --config FILE` and `osps config check FILE`: a valibot-validated file whose
// errors name the file, the field path, the bad value and what is allowed (exit 2), and
// whose values the flags override.
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfigFile, pickInstance } from '../../dist/cli/config-file.js';
import { configOptions, instanceOptions, type ConfigOpts } from '../../dist/cli/options.js';
import { resolveStart } from '../../dist/cli/start-config.js';
import { Command } from 'commander';
import { freePort, isAlive, LAUNCHER, ROOT, waitFor } from '../helpers/instance.js';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-cfg-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function write(dir: string, content: unknown): string {
  const f = path.join(dir, 'osps.json');
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return f;
}

const osps = (args: string[]) => execa(process.execPath, [LAUNCHER, ...args], { reject: false, timeout: 30_000, stdin: 'ignore' });

const startDefaults = (): ConfigOpts => configOptions(instanceOptions(new Command('start'))).opts<ConfigOpts>();

describe('config check', () => {
  it('accepts the example file', async () => {
    const r = await osps(['config', 'check', path.join(ROOT, 'examples', 'osps.json')]);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/valid, 1 instance: example \(tcp:\/\/127\.0\.0\.1:7401, metrics 127\.0\.0\.1:9464\)/);
  });

  it('names the file, the field path, the bad value and what is allowed; exit 2', async () => {
    const f = write(tmp(), { instances: [{ name: 'a' }, { name: 'b', alarmMs: -5, events: 'xml', bogus: 1 }] });
    const r = await osps(['config', 'check', f]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${f}: instances[1].alarmMs: got -5; expected a value >= 1`);
    expect(r.stderr).toContain(`${f}: instances[1].events: got "xml"; expected ("text" | "json")`);
    expect(r.stderr).toMatch(new RegExp(`instances\\[1\\]\\.bogus: unknown field; allowed: name, endpoint, .*alarmMs`));
  });

  it('refuses what a start would refuse: bad JSON, a missing file, fields that contradict each other, a non-loopback metrics host', async () => {
    const d = tmp();
    const cases: [unknown, RegExp][] = [
      ['{"alarmMs": ', /osps\.json: not valid JSON/],
      [{ alarmMs: 500, pingIntervalMs: 1000 }, /osps\.json: instance 'default': --alarm \(500 ms\) must be longer than --ping-interval/],
      [{ metrics: '10.1.2.3:9464' }, /--metrics 10\.1\.2\.3:9464: only a loopback host/],
      [{ ringBytes: 5_000_000 }, /not a power of two/],
      [{ name: '-x' }, /name: got "-x"; expected a name of letters/],
      [{ resp: 'localhost' }, /resp: got "localhost"; expected HOST:PORT/],
    ];
    for (const [content, want] of cases) {
      const r = await osps(['config', 'check', write(d, content)]);
      expect(r.exitCode, JSON.stringify(content)).toBe(2);
      expect(r.stderr).toMatch(want);
    }
    const missing = await osps(['config', 'check', path.join(d, 'nope.json')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: cannot read the config file \(ENOENT\)/);
  });
});

describe('flags override the file', () => {
  it('takes the file where no flag was given, the flag where one was, paths relative to the file', () => {
    const d = tmp();
    const f = write(d, { name: 'web', alarmMs: 4000, pingIntervalMs: 500, dataDir: 'data', dedupWindow: 77, standbyCooldownMs: 900, memoryCeilingBytes: 123456, heartbeatMs: 40, idleGcMs: 5000, resp: '127.0.0.1:6390' });
    const fields = pickInstance(loadConfigFile(f), undefined);
    const fromFile = resolveStart(startDefaults(), fields, () => false, f).cfg;
    expect(fromFile).toMatchObject({ name: 'web', alarmMs: 4000, pingIntervalMs: 500, dataDir: path.join(d, 'data'), dedupWindow: 77, standbyCooldownMs: 900, memoryCeilingBytes: 123456, heartbeatMs: 40, idleGcMs: 5000, resp: '127.0.0.1:6390' });
    const flags = { ...startDefaults(), alarm: 2000, name: 'other', memoryCeiling: 1 };
    const given = (k: string) => ['alarm', 'name', 'memoryCeiling'].includes(k);
    const overridden = resolveStart(flags, fields, given, f).cfg;
    expect(overridden).toMatchObject({ name: 'other', alarmMs: 2000, pingIntervalMs: 500, dedupWindow: 77, memoryCeilingBytes: 1024 * 1024 });
  });

  it('with several instances, --name picks one; without it, start asks for --name or --detach', async () => {
    const f = write(tmp(), { alarmMs: 2500, instances: [{ name: 'a' }, { name: 'b', alarmMs: 2000 }] });
    const cf = loadConfigFile(f);
    expect(pickInstance(cf, 'b')).toMatchObject({ name: 'b', alarmMs: 2000 });
    expect(pickInstance(cf, 'a')).toMatchObject({ name: 'a', alarmMs: 2500 });
    expect(() => pickInstance(cf, 'c')).toThrow(/no instance named "c"; it declares a, b/);
    const r = await osps(['start', '--config', f]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/declares 2 instances \(a, b\): pick one with --name, or start them all with --detach/);
  });
});

describe('start --config', () => {
  it('starts every instance of the file detached, each with its own settings', async () => {
    const d = tmp();
    const run = path.join(d, 'run');
    const names = [`cfg-a-${process.pid}`, `cfg-b-${process.pid}`];
    const ports = [await freePort(), await freePort()];
    const f = write(d, {
      runtimeDir: 'run',
      pingIntervalMs: 100,
      alarmMs: 1000,
      orphanTimeoutMs: 3000,
      instances: names.map((name, i) => ({ name, endpoint: `tcp://127.0.0.1:${ports[i]}`, dataDir: `data-${i}` })),
    });
    const launchers: number[] = [];
    try {
      const r = await osps(['start', '--config', f, '--detach']);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      for (const [i, name] of names.entries()) {
        expect(r.stdout).toContain(`started '${name}' in the background`);
        launchers.push(Number(new RegExp(`started '${name}' in the background \\(launcher pid (\\d+)`).exec(r.stdout)?.[1]));
        const s = await osps(['status', '--name', name, '--runtime-dir', run, '--json']);
        const status = JSON.parse(s.stdout) as { endpoint: string; config: { alarmMs: number; pingIntervalMs: number } };
        expect(status.endpoint).toBe(`tcp://127.0.0.1:${ports[i]}`);
        expect(status.config).toMatchObject({ alarmMs: 1000, pingIntervalMs: 100 });
        expect(fs.existsSync(path.join(d, `data-${i}`))).toBe(true);
      }
    } finally {
      for (const name of names) await osps(['stop', '--name', name, '--runtime-dir', run]);
      await waitFor('the launchers to exit', () => launchers.every((p) => !p || !isAlive(p)), 15_000);
    }
  }, 60_000);
});
