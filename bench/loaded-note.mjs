// Appends "<pid> <package>" to $OSPS_BENCH_LOADED once per package (bench/loaded-preload.mjs).
import fs from 'node:fs';

const out = process.env.OSPS_BENCH_LOADED;
const seen = new Set();

export function note(what) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(what) ?? /^((?:@[^/]+\/)?[^./][^/:]*)$/.exec(what) ?? /^(bundle:[\w-]+)$/.exec(what);
  const pkg = m?.[1];
  if (!out || !pkg || seen.has(pkg)) return;
  seen.add(pkg);
  fs.appendFileSync(out, `${process.pid} ${pkg}\n`);
}
