// The shared harness against a real tree: every stdout line of `--events json` is JSON, and the
// roles it reads stay right through an adoption and a failover.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Tree } from '../../dist/harness/tree.js';
import { freePort } from '../../dist/net/free-port.js';
import { isAlive } from '../../dist/runtime/proc.js';

let tree: Tree | null = null;
let tmp = '';

afterEach(async () => {
  if (tree) {
    await tree.stop(10_000);
    await tree.kill();
    fs.rmSync(`/dev/shm${tree.paths.shmName}`, { force: true });
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tree = null;
});

async function startTree(label: string): Promise<Tree> {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-harness-'));
  tree = new Tree({
    name: `h-${label}-${process.pid}`,
    runtimeRoot: path.join(tmp, 'run'),
    dataDir: path.join(tmp, 'data'),
    endpoint: `tcp://127.0.0.1:${await freePort()}`,
    args: ['--ping-interval', '100', '--alarm', '1000', '--orphan-timeout', '3000'],
  });
  await tree.start();
  return tree;
}

describe('harness Tree', () => {
  it('reads roles from the JSON event stream through an adoption and a failover, and leaves nothing behind', { timeout: 60_000 }, async () => {
    const t = await startTree('roles');
    const lines = t.stdout.split('\n').filter(Boolean);
    for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
    const [wd, primary, secondary] = [t.watchdogPid, t.pid('primary'), t.pid('secondary')];
    expect(new Set([wd, primary, secondary, t.launcherPid]).size).toBe(4);

    let mark = t.events.length;
    process.kill(wd, 'SIGKILL');
    await t.waitEvent((e) => e.event === 'adopted' && e.fields.role === 'secondary', 15_000, mark);
    expect(t.watchdogPid).not.toBe(wd);
    expect([t.pid('primary'), t.pid('secondary')]).toEqual([primary, secondary]);
    expect(t.stdout).toMatch(/"source":"launcher","message":"the watchdog died/);

    mark = t.events.length;
    process.kill(primary, 'SIGKILL');
    await t.waitEvent((e) => e.event === 'promoted', 15_000, mark);
    expect(t.pid('primary')).toBe(secondary);
    await t.waitEvent((e) => e.event === 'standby' && e.fields.standby === 'in-sync', 15_000, mark);
    const fresh = t.pid('secondary');
    expect(fresh).not.toBe(0);
    expect([primary, secondary]).not.toContain(fresh);

    const exit = await t.stop(15_000);
    expect(exit?.code).toBe(0);
    expect(await t.orphans(8000)).toEqual([]);
    expect(t.leaks()).toEqual([]);
    expect(isAlive(fresh)).toBe(false);
  });
});
