// The folders of src/ must form a DAG: imports point down only. Runtime imports are read
// by dependency-cruiser from the emitted JavaScript (TypeScript 7 has no compiler API to
// read the sources with); type-only imports, which the emit erases, are read from src/.
import fs from 'node:fs';
import path from 'node:path';
import { cruise } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';
import { bundleClosure, chunkOf } from '../helpers/bundle.js';
import { ROOT } from '../helpers/instance.js';

type Graph = Map<string, Map<string, string>>; // folder → folder → one import that makes the edge

/** `watchdog/pinger.js` → `watchdog`; a file at the top (`config.ts`) is its own node. */
function folderOf(rel: string): string {
  const parts = rel.split('/');
  return parts.length > 1 ? (parts[0] as string) : (parts[0] as string).replace(/\.(js|ts)$/, '');
}

function addEdge(g: Graph, from: string, to: string, why: string): void {
  if (from === to) return;
  let m = g.get(from);
  if (!m) g.set(from, (m = new Map()));
  if (!m.has(to)) m.set(to, why);
}

async function runtimeEdges(g: Graph): Promise<void> {
  const dist = path.join(ROOT, 'dist');
  // dist/bundle/ is built from dist/ (scripts/bundle.mjs): not a layer of its own.
  const result = await cruise([dist], { baseDir: ROOT, doNotFollow: { path: 'node_modules' }, exclude: { path: ['node_modules', '^dist/bundle/'] } });
  const output = result.output as { modules: { source: string; dependencies: { resolved: string; coreModule: boolean; couldNotResolve: boolean }[] }[] };
  for (const m of output.modules) {
    if (!m.source.startsWith('dist/')) continue;
    for (const d of m.dependencies) {
      if (d.coreModule || d.couldNotResolve || !d.resolved.startsWith('dist/')) continue;
      const from = m.source.slice('dist/'.length);
      const to = d.resolved.slice('dist/'.length);
      addEdge(g, folderOf(from), folderOf(to), `${from} → ${to}`);
    }
  }
}

function* tsFiles(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

const IMPORT_FROM = /^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms;

function sourceEdges(g: Graph): void {
  const src = path.join(ROOT, 'src');
  for (const file of tsFiles(src)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT_FROM)) {
      const target = path.relative(src, path.resolve(path.dirname(file), m[1] as string));
      if (target.startsWith('..')) continue;
      const from = path.relative(src, file);
      addEdge(g, folderOf(from), folderOf(target), `${from} → ${target}`);
    }
  }
}

function findCycle(g: Graph): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, 'open');
    stack.push(n);
    for (const next of g.get(n)?.keys() ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const c = visit(next);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of g.keys()) {
    if (state.has(n)) continue;
    const c = visit(n);
    if (c) return c;
  }
  return null;
}

function explain(g: Graph, cycle: string[]): string {
  return cycle
    .slice(0, -1)
    .map((f, i) => `  ${f} → ${cycle[i + 1]}   (${g.get(f)?.get(cycle[i + 1] as string)})`)
    .join('\n');
}

describe('layers', () => {
  it('the folders of src/ form a DAG, counting type-only imports', async () => {
    const g: Graph = new Map();
    await runtimeEdges(g);
    sourceEdges(g);
    expect(g.size).toBeGreaterThan(5); // the graph was really read
    const cycle = findCycle(g);
    expect(cycle ? `folder cycle:\n${explain(g, cycle)}` : null).toBeNull();
  });

  it('the checker sees a cycle when there is one', () => {
    const g: Graph = new Map();
    addEdge(g, 'a', 'b', 'a/x → b/y');
    addEdge(g, 'b', 'c', 'b/y → c/z');
    expect(findCycle(g)).toBeNull();
    addEdge(g, 'c', 'a', 'c/z → a/x');
    expect(findCycle(g)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('the launcher loads neither zeromq nor the shm addon', async () => {
    const result = await cruise([path.join(ROOT, 'dist', 'launcher.js')], { baseDir: ROOT, doNotFollow: { path: 'node_modules' } });
    // Static imports only: what a module loads lazily (`await import()`) costs nothing until used.
    const output = result.output as { modules: { source: string; dependencies: { resolved: string; dynamic: boolean }[] }[] };
    const loaded = new Set<string>(['dist/launcher.js']);
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
    expect([...loaded].filter((s) => /node_modules\/(zeromq|shm-typed-array|pidusage)\//.test(s))).toEqual([]);
  });

  it('nor does the bundle `start` runs, up to the launcher', () => {
    for (const file of ['cli/start-main.js', chunkOf('dist/launcher.js')]) {
      const { modules, packages } = bundleClosure(file);
      expect(modules.filter((s) => /node_modules\/(zeromq|shm-typed-array|pidusage)\//.test(s))).toEqual([]);
      expect(packages.filter((p) => /^(zeromq|shm-typed-array)\b/.test(p))).toEqual([]);
    }
  });
});

describe('files that do one thing', () => {
  it('no source file in src/ is over 500 lines', () => {
    const long = [...tsFiles(path.join(ROOT, 'src'))]
      .map((f) => ({ file: path.relative(ROOT, f), lines: fs.readFileSync(f, 'utf8').split('\n').length }))
      .filter((f) => f.lines > 500);
    expect(long).toEqual([]);
  });
});
