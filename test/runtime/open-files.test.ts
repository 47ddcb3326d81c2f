import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openFileLimit } from '../../dist/runtime/open-files.js';

describe('openFileLimit', () => {
  it('reads the soft and hard limits, as prlimit reports them', () => {
    const lim = openFileLimit();
    const out = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--raw', '--noheadings', '--output', 'SOFT,HARD'], { encoding: 'utf8' });
    const [soft, hard] = out.trim().split(/\s+/).map((s) => (s === 'unlimited' ? Infinity : Number(s)));
    expect(lim).toEqual({ soft, hard });
    expect(openFileLimit(process.pid)).toEqual(lim);
  });
});
