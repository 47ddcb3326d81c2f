// A service module is loaded from ESM or CommonJS, and each kind of broken module is refused
// with one line naming the file and the problem.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadService } from '../../dist/host/load.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-load-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function mod(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

describe('loadService', () => {
  it('loads an ESM default export and a CommonJS module.exports', async () => {
    const esm = await loadService(mod('ok.mjs', `export default { name: 'e', init: () => ({}), commands: { a: () => 1 } };`));
    expect(esm.name).toBe('e');
    const cjs = await loadService(mod('ok.cjs', `module.exports = { name: 'c', init: () => ({}), commands: { a: () => 1 }, queries: { q: () => 2 } };`));
    expect(cjs.name).toBe('c');
    expect(Object.keys(cjs.queries ?? {})).toEqual(['q']);
  });

  const broken: [string, string, string, RegExp][] = [
    ['syntax.mjs', 'export default {', 'SyntaxError', /cannot be loaded/],
    ['number.mjs', 'export default 42;', 'not a definition', /not a service definition/],
    ['noinit.mjs', 'export default { commands: {} };', 'no init', /needs init/],
    ['handler.mjs', `export default { init: () => ({}), commands: { a: 5 } };`, 'handler not a function', /command 'a' is not a function/],
    ['reserved.mjs', `export default { init: () => ({}), commands: { ping: () => 1 } };`, 'reserved op', /'ping' is an op of osps itself/],
    ['reserved-q.mjs', `export default { init: () => ({}), commands: {}, queries: { info: () => 1 } };`, 'reserved query', /'info' is an op of osps itself/],
    ['dup.mjs', `export default { init: () => ({}), commands: { a: () => 1 }, queries: { a: () => 1 } };`, 'duplicated op', /'a' is both a command and a query/],
    ['badname.mjs', `export default { init: () => ({}), commands: { '9x': () => 1 } };`, 'bad op name', /does not match/],
    ['init.mjs', `export default { init() { throw new Error('no\\nway') }, commands: {} };`, 'init throws', /init\(\) threw: no way/],
  ];
  for (const [file, text, what, re] of broken) {
    it(`refuses ${what} in one line naming the file`, async () => {
      const f = mod(file, text);
      const err = (await loadService(f).catch((e: unknown) => e)) as Error & { code: string };
      expect(err.code).toBe('SERVICE_INVALID');
      expect(err.message).toContain(f);
      expect(err.message).toMatch(re);
      expect(err.message).not.toContain('\n');
    });
  }

  it('refuses a missing file', async () => {
    const err = (await loadService(path.join(dir, 'nope.mjs')).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/nope\.mjs: no such file/);
  });
});
