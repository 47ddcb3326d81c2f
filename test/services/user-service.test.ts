// `osps start --service PATH`: a user's module runs in both servers, `info` lists it, and a
// broken module is refused at start (exit 2, one line naming the file) leaving nothing behind.
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { Instance, LAUNCHER, ROOT, teardown } from '../helpers/instance.js';

let inst: Instance | null = null;
let client: Client | null = null;
afterEach(async () => {
  await teardown(inst, client);
  inst = null;
  client = null;
});

const LEDGER = path.join(ROOT, 'examples', 'ledger.mjs');

describe('osps start --service', () => {
  it('runs a user module (relative path, from the caller directory) on both servers and lists it in info', async () => {
    inst = new Instance('svc-ledger');
    // The module is named relative to the caller's directory (the tests run from the repository root).
    inst.opts.extraArgs = ['--service', path.relative(process.cwd(), LEDGER)];
    await inst.start();
    client = new Client({ endpoint: inst.endpoint });
    expect(await client.call('open', { account: 'a', amount: 100 })).toBe(100);
    expect(await client.call('open', { account: 'b' })).toBe(0);
    await client.call('transfer', { from: 'a', to: 'b', amount: 30 });
    expect(await client.call('balance', { account: 'b' })).toBe(30);
    const info = (await client.info()) as unknown as { service: { name: string; commands: string[]; queries: string[]; timers: string[] } };
    expect(info.service).toMatchObject({ name: 'ledger', commands: ['open', 'transfer'], queries: ['balance', 'audit'], timers: [] });
    const cli = await inst.cli(['client', 'call', 'audit', '{}', '--endpoint', inst.endpoint, '--json']);
    expect(cli.exitCode).toBe(0);
    expect(cli.stdout).toContain('"total":100');
    // The standby runs it too: after a failover the state is there.
    const old = inst.currentPid('primary');
    process.kill(old, 'SIGKILL');
    await inst.waitEvent((e) => e.event === 'promoted');
    expect(await client.call('balance', { account: 'a' })).toBe(70);
  }, 40_000);

  it('refuses each broken module with exit 2 and one line, spawning nothing', async () => {
    inst = new Instance('svc-broken');
    const cases: [string, string, RegExp][] = [
      ['syntax.mjs', 'export default {', /SyntaxError/],
      ['number.cjs', 'module.exports = 42;', /not a service definition/],
      ['handler.mjs', 'export default { init: () => ({}), commands: { a: 5 } };', /command 'a' is not a function/],
      ['reserved.mjs', 'export default { init: () => ({}), commands: { info: () => 1 } };', /'info' is an op of osps itself/],
      ['dup.mjs', 'export default { init: () => ({}), commands: { a: () => 1 }, queries: { a: () => 1 } };', /both a command and a query/],
      ['init.mjs', "export default { init() { throw new Error('nope') }, commands: {} };", /init\(\) threw: nope/],
    ];
    const missing = path.join(inst.tmp, 'missing.mjs');
    const files: [string, RegExp][] = [[missing, /no such file/]];
    for (const [name, text, re] of cases) {
      const f = path.join(inst.tmp, name);
      fs.writeFileSync(f, text);
      files.push([f, re]);
    }
    for (const [f, re] of files) {
      const r = await execa(process.execPath, [LAUNCHER, 'start', ...inst.instanceArgs, '--data-dir', inst.dataDir, '--endpoint', 'tcp://127.0.0.1:1', '--service', f], { reject: false, timeout: 20_000, stdin: 'ignore' });
      expect(r.exitCode, f).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain(f);
      expect(lines[0]).toMatch(re);
      expect(fs.existsSync(inst.paths.dir)).toBe(false);
      expect(fs.existsSync(`/dev/shm${inst.paths.shmName}`)).toBe(false);
    }
  }, 60_000);
});
