import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FdReserve } from '../../src/runtime/fd-reserve.js';

const openFds = (): number => fs.readdirSync('/proc/self/fd').length;

describe('FdReserve', () => {
  it('holds its descriptors, frees them for one open, holds them again after, and lets go on close', () => {
    const before = openFds();
    const r = new FdReserve(8);
    expect(r.held).toBe(8);
    expect(openFds()).toBe(before + 8);
    const during = r.use(() => openFds());
    expect(during).toBe(before);
    expect(r.held).toBe(8);
    // Reserved again even when the open fails.
    expect(() => r.use(() => fs.openSync('/nonexistent/osps-fd-reserve', 'r'))).toThrow();
    expect(r.held).toBe(8);
    r.close();
    expect(openFds()).toBe(before);
  });
});
