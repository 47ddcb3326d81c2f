// What a bundled entry (dist/bundle/, scripts/bundle.mjs) loads before it runs: its file and
// the chunks it imports statically, as modules of dist/ and node_modules/ (meta.json).
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './instance.js';

interface ChunkMeta {
  modules: string[];
  imports: string[];
}

function readMeta(): Record<string, ChunkMeta> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'dist', 'bundle', 'meta.json'), 'utf8')) as Record<string, ChunkMeta>;
}

/** The bundle file (chunk) that holds `module` (e.g. `dist/launcher.js`). */
export function chunkOf(module: string): string {
  const found = Object.entries(readMeta()).find(([, c]) => c.modules.includes(module));
  if (!found) throw new Error(`${module} is in no bundle`);
  return found[0];
}

/**
 * The modules inside `entry` (e.g. `watchdog/main.js`) and its static imports, plus the
 * packages it loads from node_modules (the native ones, through require: `require:zeromq`).
 */
export function bundleClosure(entry: string): { modules: string[]; packages: string[] } {
  const meta = readMeta();
  const modules = new Set<string>();
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const chunk = meta[file];
    if (!chunk) throw new Error(`${file} is not in dist/bundle/meta.json`);
    for (const m of chunk.modules) (m.startsWith('require:') ? packages : modules).add(m.slice(m.startsWith('require:') ? 'require:'.length : 0));
    for (const i of chunk.imports) {
      if (i.startsWith('node:')) continue;
      if (meta[i]) visit(i);
      else packages.add(i);
    }
  };
  visit(entry);
  return { modules: [...modules], packages: [...packages] };
}
