// `osps client` and `osps bench` find a named instance's endpoint in its runtime dir, and say at
// once when the instance is not running; `--endpoint` still reaches a server directly.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Instance, freePort, teardown } from '../helpers/instance.js';

describe('client commands by instance name', () => {
  let inst: Instance | null = null;

  beforeAll(async () => {
    // Not the default endpoint: only the runtime dir can tell the CLI where it is.
    inst = new Instance('cli-name', { port: await freePort() });
    await inst.start();
  }, 30_000);

  afterAll(async () => {
    await teardown(inst, null);
  }, 30_000);

  it('osps client --name reaches the instance on the endpoint its watchdog recorded', async () => {
    const i = inst as Instance;
    const set = await i.cli(['client', 'set', 'greeting', 'hello', ...i.instanceArgs]);
    expect(set.exitCode, set.stderr).toBe(0);
    const get = await i.cli(['client', 'get', 'greeting', ...i.instanceArgs]);
    expect(get.stdout.trim()).toBe('hello');
  });

  it('osps bench --name loads the instance on its recorded endpoint', async () => {
    const i = inst as Instance;
    const r = await i.cli(['bench', '--duration', '0.5', '--clients', '2', '--json', ...i.instanceArgs]);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { ops: number };
    expect(report.ops).toBeGreaterThan(0);
  });
});

describe('client commands against an instance that is not running', () => {
  it('osps client get: one line at once, exit 1, no timeout', async () => {
    const i = new Instance('cli-stopped');
    try {
      const t0 = Date.now();
      const r = await i.cli(['client', 'get', 'k', ...i.instanceArgs]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`instance '${i.name}' is not running`));
      // Far below the 10 s request deadline it used to wait out.
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await i.destroy();
    }
  });

  it('a crashed instance (its state file names a watchdog that is gone): not running, at once', async () => {
    const i = new Instance('cli-crashed');
    try {
      fs.mkdirSync(i.paths.dir, { recursive: true, mode: 0o700 });
      const dead = { version: 1, name: i.name, endpoint: 'tcp://127.0.0.1:1', launcherPid: null, watchdogPid: 2 ** 22 + 1, watchdogStartTime: 1, epoch: 3, phase: 'running', failover: null, children: [], updatedAt: new Date().toISOString() };
      fs.writeFileSync(i.paths.stateFile, JSON.stringify(dead), { mode: 0o600 });
      const t0 = Date.now();
      const r = await i.cli(['client', 'incr', 'n', ...i.instanceArgs]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/is not running/);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await i.destroy();
    }
  });

  it('osps client --json says NOT_RUNNING as one object on stdout', async () => {
    const i = new Instance('cli-stopped-json');
    try {
      const r = await i.cli(['client', 'get', 'k', '--json', '--id', 'q1', ...i.instanceArgs]);
      expect(r.exitCode).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ id: 'q1', ok: false, error: { code: 'NOT_RUNNING' } });
    } finally {
      await i.destroy();
    }
  });

  it('osps bench: one line at once, exit 1', async () => {
    const i = new Instance('bench-stopped');
    try {
      const r = await i.cli(['bench', '--duration', '5', ...i.instanceArgs]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/is not running/);
    } finally {
      await i.destroy();
    }
  });

  it('with an explicit --endpoint and nothing there, it still waits for the deadline: TIMEOUT', async () => {
    const i = new Instance('cli-endpoint');
    try {
      const r = await i.cli(['client', 'get', 'k', '--endpoint', `tcp://127.0.0.1:${await freePort()}`, '--timeout', '300', ...i.instanceArgs]);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(/TIMEOUT/);
    } finally {
      await i.destroy();
    }
  });
});
