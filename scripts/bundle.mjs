#!/usr/bin/env node
// The second half of `npm run build`: each entry osps spawns (the watchdog, the server, and
// the launcher's `start`) bundled from tsc's output in dist/ into one file plus its lazy
// chunks, in dist/bundle/. A process then reads and links one module instead of about
// sixty: the watchdog and the servers load in roughly half the time, and a start runs
// three of them in series. dist/bundle/meta.json says which modules went where, for the
// tests that check what each process loads.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'bundle');

/** Bundle name → the module tsc built. Each is `dist/bundle/<name>.js`. */
const ENTRIES = {
  'watchdog/main': 'watchdog/main.js',
  'server/main': 'server/main.js',
  'cli/start-main': 'cli/start-main.js',
};

/** Packages with a native addon, which finds its binary beside its own files: loaded from node_modules. */
const NATIVE = ['zeromq', 'shm-typed-array', 'unix-dgram'];
const NATIVE_ID = '\0native:';

/** Every bundle file is dist/bundle/<dir>/<file>.js: this leads from one back to the package root. */
const TO_ROOT = '../../../';

/**
 * Each module keeps the import.meta.url it has in dist/, so whatever it finds relative to
 * itself (package.json, the dashboard page, launcher.js) is found from the bundle too. A package a
 * module loads lazily (`createRequire(import.meta.url)(…)`, as the log file loads pino) is
 * bundled too, still run only when first required: pino from node_modules costs ~35 ms of
 * a server's first log record, right after it starts serving; bundled, ~15 (measured).
 */
const asBuilt = {
  name: 'osps-as-built',
  transform(code, id) {
    if (!id.startsWith(`${DIST}${path.sep}`) || !code.includes('import.meta.url')) return null;
    const url = `new URL(${JSON.stringify(TO_ROOT + path.relative(ROOT, id))}, import.meta.url).href`;
    return { code: code.replaceAll('createRequire(import.meta.url)(', 'require(').replaceAll('import.meta.url', url), map: null };
  },
};

/**
 * The native packages (CommonJS) through require(): Node's import of a CommonJS package
 * first lexes each of its files for export names, which costs zeromq and shm-typed-array
 * together ~25 ms per process (measured); require() does not. Their export names are read
 * here, from the installed packages, so `import * as zmq` sees the same names. And they
 * load where their importer stands in the modules' order, not hoisted above every bundled
 * module as an external import would be: after no-inspector, which must run first.
 */
const viaRequire = {
  name: 'osps-native-require',
  resolveId(source) {
    return NATIVE.includes(source) ? `${NATIVE_ID}${source}` : null;
  },
  load(id) {
    if (!id.startsWith(NATIVE_ID)) return null;
    const pkg = id.slice(NATIVE_ID.length);
    const names = Object.keys(createRequire(import.meta.url)(pkg)).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== 'default');
    return [
      `import { createRequire } from 'node:module';`,
      `const m = createRequire(import.meta.url)(${JSON.stringify(pkg)});`,
      'export default m;',
      `export const { ${names.join(', ')} } = m;`,
    ].join('\n');
  },
};

fs.rmSync(OUT, { recursive: true, force: true });
const meta = {};
for (const [name, module] of Object.entries(ENTRIES)) {
  const dir = path.dirname(name);
  const { output } = await build({
    cwd: ROOT,
    input: { [name]: path.join(DIST, module) },
    platform: 'node',
    external: [/^node:/],
    plugins: [asBuilt, viaRequire],
    logLevel: 'warn',
    output: {
      dir: OUT,
      format: 'esm',
      entryFileNames: '[name].js',
      chunkFileNames: `${dir}/[name]-[hash].js`,
      // The entry holds only its own module: the entries await their process's end at top
      // level, so a lazy chunk importing shared code from an entry would wait for that end.
      codeSplitting: { groups: [{ name: 'core', tags: ['$initial'], test: (id) => id !== path.join(DIST, module) }] },
    },
  });
  for (const c of output) {
    if (c.type !== 'chunk') continue;
    meta[c.fileName] = {
      entry: c.isEntry,
      modules: c.moduleIds.map((id) => (path.isAbsolute(id) ? path.relative(ROOT, id) : id.replace(NATIVE_ID, 'require:').replace(/^\0/, ''))),
      imports: c.imports,
      dynamicImports: c.dynamicImports,
    };
  }
}
fs.writeFileSync(path.join(OUT, 'meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
