// Finding the live processes of an instance in /proc, whatever a state file says.
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runtimePaths } from '../../dist/runtime/paths.js';
import { scanInstance } from '../../dist/watchdog/instance-scan.js';
import { waitFor } from '../helpers/instance.js';

const procs: ResultPromise[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const p of procs.splice(0)) {
    p.kill('SIGKILL');
    await p.catch(() => {});
  }
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A process that looks like an osps entry (`…/server/main.js`, `…/watchdog/main.js`) with this environment. */
function sleeper(env: Record<string, string>, entry = 'server'): ResultPromise {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-scan-entry-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, entry));
  const file = path.join(dir, entry, 'main.js');
  fs.writeFileSync(file, 'setInterval(() => {}, 1000);');
  const p = execa(process.execPath, [file], { env, reject: false });
  procs.push(p);
  return p;
}

describe('scanInstance', () => {
  it('finds servers and watchdogs spawned with our name and runtime dir; never a helper that inherited their environment, nor another instance', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-scan-'));
    dirs.push(root);
    const name = `scan-${process.pid}`;
    const paths = runtimePaths(name, root);
    const cfg = { name, runtimeRoot: root, endpoint: 'tcp://127.0.0.1:1' };
    const primary = sleeper({ OSPS_CONFIG: JSON.stringify(cfg), OSPS_ROLE: 'primary', OSPS_TOKEN: 'tok-p' });
    const watchdog = sleeper({ OSPS_CONFIG: JSON.stringify(cfg), OSPS_LAUNCHER_PID: '1' }, 'watchdog');
    // A helper a server runs inherits its environment but is not a server.
    sleeper({ OSPS_CONFIG: JSON.stringify(cfg), OSPS_ROLE: 'primary', OSPS_TOKEN: 'tok-p' }, 'helper');
    sleeper({ OSPS_CONFIG: JSON.stringify({ ...cfg, name: `${name}-other` }), OSPS_ROLE: 'primary', OSPS_TOKEN: 'tok-o' });
    sleeper({ OSPS_CONFIG: JSON.stringify({ ...cfg, runtimeRoot: '/elsewhere' }), OSPS_ROLE: 'secondary', OSPS_TOKEN: 'tok-e' });
    const found = await waitFor('both to be seen', () => {
      const f = scanInstance(paths, cfg.endpoint, [process.pid]);
      return f.length >= 2 ? f : null;
    });
    expect(found.map((f) => [f.pid, f.kind, f.role, f.token]).sort()).toEqual(
      [
        [primary.pid, 'server', 'primary', 'tok-p'],
        [watchdog.pid, 'watchdog', null, null],
      ].sort(),
    );
    expect(scanInstance(paths, cfg.endpoint, [process.pid, primary.pid!, watchdog.pid!])).toEqual([]);
  });
});
