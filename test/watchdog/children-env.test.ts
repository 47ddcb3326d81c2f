// The servers run with glibc's malloc thresholds frozen (RSS that large freed blocks would
// otherwise keep at scale), unless the operator set them: read from each server's own
// /proc/PID/environ, as the kernel gave it.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Instance, teardown } from '../helpers/instance.js';

let inst: Instance | null = null;
afterEach(async () => {
  await teardown(inst, null);
  inst = null;
});

function environ(pid: number): Map<string, string> {
  const vars = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return new Map(vars.map((v) => [v.slice(0, v.indexOf('=')), v.slice(v.indexOf('=') + 1)]));
}

describe('server environment', () => {
  it('both servers get frozen malloc thresholds', async () => {
    inst = new Instance('malloc-env');
    await inst.start();
    for (const role of ['primary', 'secondary'] as const) {
      const env = environ(inst.currentPid(role));
      expect(env.get('MALLOC_MMAP_THRESHOLD_'), role).toBe('131072');
      expect(env.get('MALLOC_TRIM_THRESHOLD_'), role).toBe('131072');
    }
  });

  it("an operator's own setting wins", async () => {
    inst = new Instance('malloc-own', { env: { MALLOC_MMAP_THRESHOLD_: '262144' } });
    await inst.start();
    const env = environ(inst.currentPid('primary'));
    expect(env.get('MALLOC_MMAP_THRESHOLD_')).toBe('262144');
    expect(env.get('MALLOC_TRIM_THRESHOLD_')).toBe('131072');
  });
});
