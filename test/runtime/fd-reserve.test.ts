import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FdReserve } from '../../src/runtime/fd-reserve.js';

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

describe('FdReserve', () => {
  it('holds its descriptors, frees one for an open, holds them all again after, and lets go on close', () => {
    const before = openFds();
    const r = new FdReserve(8);
    expect(r.held).toBe(8);
    expect(openFds()).toBe(before + 8);
    const during = r.use(() => openFds());
    expect(during).toBe(before + 7);
    expect(r.held).toBe(8);
    // Reserved again even when the open fails.
    expect(() => r.use(() => fs.openSync('/nonexistent/osps-fd-reserve', 'r'))).toThrow();
    expect(r.held).toBe(8);
    r.close();
    expect(openFds()).toBe(before);
  });

  it('an open that meets EMFILE (a slot taken by another thread) is tried again with the next freed slot', () => {
    const r = new FdReserve(4);
    let tries = 0;
    const got = r.use(() => {
      if (++tries < 3) throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
      return 'opened';
    });
    expect(got).toBe('opened');
    expect(tries).toBe(3);
    expect(r.held).toBe(4);
    r.close();
  });
});
