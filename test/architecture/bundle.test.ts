// The bundles a start runs (dist/bundle/, scripts/bundle.mjs), read from their meta.json.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/instance.js';

interface ChunkMeta {
  entry: boolean;
  modules: string[];
  imports: string[];
  dynamicImports: string[];
}

const meta = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'bundle', 'meta.json'), 'utf8')) as Record<string, ChunkMeta>;
const entries = Object.entries(meta).filter(([, c]) => c.entry);

describe('the bundles', () => {
  it('are the three spawned entries', () => {
    expect(entries.map(([f]) => f).sort()).toEqual(['cli/start-main.js', 'server/main.js', 'watchdog/main.js']);
  });

  it('never make a chunk import an entry: an entry awaits its process\'s end, and a lazy chunk would wait with it', () => {
    for (const [file, c] of entries) expect({ file, modules: c.modules.length }).toEqual({ file, modules: 1 });
    const importers = Object.entries(meta).filter(([, c]) => c.imports.some((i) => meta[i]?.entry));
    expect(importers.map(([f]) => f)).toEqual([]);
  });

  it('run no-inspector first in the processes a start spawns, before any native package loads', () => {
    for (const file of ['watchdog/main.js', 'server/main.js']) {
      const chunks = meta[file]!.imports.filter((i) => meta[i]);
      expect(chunks).toHaveLength(1);
      const modules = meta[chunks[0]!]!.modules.filter((m) => !m.startsWith('rolldown/'));
      expect({ file, first: modules[0] }).toEqual({ file, first: 'dist/runtime/no-inspector.js' });
      expect(modules.some((m) => m.startsWith('require:'))).toBe(true);
    }
  });
});
