// `npm run bench -- scale [SECTION…] [--quick]`: what osps costs as the store grows, beside
// Redis 7 with one replica when redis-server is installed. Each section is a module in
// bench/scale/ exporting `async function run(opts)`; it prints its own figures, each with
// its goal and whether it is met, and may return rows for the summary printed at the end:
//   { figure, redis, osps, ratio, goal, met }   (numbers or strings; met: true, false or null)
// opts: { quick, runs, sizes, redis } — quick (--quick or SCALE_QUICK=1) works at 10⁵ keys
// and takes well under a minute a section; runs (BENCH_RUNS, default 3, quick 1) runs per figure,
// reported as medians; sizes: key counts to measure (SCALE_SIZES=100000,1000000 to choose);
// redis: whether redis-server is present.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hasCommand } from './redis-pair.mjs';
import { printSummary } from './scale/report.mjs';

const SECTIONS = ['memory', 'restart', 'resync', 'large-values'];
const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scale');

export async function benchScale(args = []) {
  const quick = args.includes('--quick') || process.env.SCALE_QUICK === '1';
  const wanted = args.filter((a) => !a.startsWith('--'));
  for (const w of wanted) if (!SECTIONS.includes(w)) throw new Error(`no scale section '${w}' (sections: ${SECTIONS.join(', ')})`);
  const opts = {
    quick,
    runs: Number(process.env.BENCH_RUNS ?? (quick ? 1 : 3)),
    sizes: process.env.SCALE_SIZES ? process.env.SCALE_SIZES.split(',').map(Number) : quick ? [100_000] : [100_000, 1_000_000, 5_000_000],
    redis: hasCommand('redis-server'),
  };
  console.log(`scale benchmark${quick ? ' (quick: 10⁵ keys)' : ''}: ${opts.runs} runs a figure, medians; Redis ${opts.redis ? 'present' : 'absent (its side is skipped)'}`);
  const rows = [];
  for (const name of wanted.length > 0 ? wanted : SECTIONS) {
    const file = path.join(DIR, `${name}.mjs`);
    if (!fs.existsSync(file)) {
      console.log(`\n== ${name}: no bench/scale/${name}.mjs here`);
      continue;
    }
    const { run } = await import(pathToFileURL(file).href);
    const out = await run(opts);
    if (Array.isArray(out)) rows.push(...out);
  }
  printSummary(rows);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchScale(process.argv.slice(2));
