// The endpoint costs nothing unless enabled: nothing the watchdog loads statically pulls
// in prom-client or the endpoint, and the endpoint pulls in none of the servers' addons.
import path from 'node:path';
import { cruise } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';
import { parseMetricsAddress } from '../../dist/observe/address.js';
import { bundleClosure } from '../helpers/bundle.js';
import { ROOT } from '../helpers/instance.js';

/** Every module `entry` loads before running, following static imports only. */
async function staticClosure(entry: string): Promise<string[]> {
  const result = await cruise([path.join(ROOT, entry)], { baseDir: ROOT, doNotFollow: { path: 'node_modules' } });
  const output = result.output as { modules: { source: string; dependencies: { resolved: string; dynamic: boolean }[] }[] };
  const loaded = new Set<string>([entry]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const m of output.modules) {
      if (!loaded.has(m.source)) continue;
      for (const d of m.dependencies) {
        if (!d.dynamic && !loaded.has(d.resolved)) {
          loaded.add(d.resolved);
          grew = true;
        }
      }
    }
  }
  return [...loaded];
}

describe('observe stays out of the way', () => {
  it('the watchdog loads neither prom-client nor the endpoint statically', async () => {
    const loaded = await staticClosure('dist/watchdog/main.js');
    expect(loaded.filter((s) => /node_modules\/prom-client\/|dist\/observe\/(?!address)/.test(s))).toEqual([]);
  });

  it('nor does the watchdog that runs, its bundle: the endpoint is a chunk of its own, loaded when enabled', () => {
    const { modules, packages } = bundleClosure('watchdog/main.js');
    expect(modules).toContain('dist/watchdog/watchdog.js');
    expect(modules.filter((s) => /node_modules\/prom-client\/|dist\/observe\/(?!address)/.test(s))).toEqual([]);
    expect(packages.filter((p) => p.startsWith('prom-client'))).toEqual([]);
    // Nor zeromq: its sockets are bound once a fresh start's primary is spawned.
    expect(packages).not.toContain('zeromq');
  });

  it('the endpoint loads none of the servers\' addons', async () => {
    const loaded = await staticClosure('dist/observe/index.js');
    expect(loaded.some((s) => s.includes('node_modules/prom-client/'))).toBe(true);
    expect(loaded.filter((s) => /node_modules\/(zeromq|shm-typed-array|pidusage)\//.test(s))).toEqual([]);
  });

  it('reads --metrics HOST:PORT', () => {
    expect(parseMetricsAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseMetricsAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseMetricsAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
    for (const bad of ['9464', '127.0.0.1', '127.0.0.1:99999', 'a b:1', '::1:9464']) expect(parseMetricsAddress(bad)).toBeNull();
  });
});
