#!/usr/bin/env node
// The full decoder fuzz run: the properties of test/fuzz at their full input counts
// (OSPS_FUZZ=full), then one line per decoder with its inputs and failures.
// Usage: npm run fuzz   (OSPS_FUZZ_SEED=<n> replays one seed)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** A full run generates at least this many inputs. */
const MIN_INPUTS = 1_000_000;
/** Decoders a full run must reach (the names their properties report under): one that reports nothing fails the run. */
const DECODERS = ['FrameDecoder', 'RingReader', 'decodeControl', 'decodeLink', 'decodeRingPayload', 'parseRequest', 'shm header', 'RespParser', 'RespCommandTable', 'decodeAdminRequest'];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-fuzz-'));
const report = path.join(dir, 'report.jsonl');
const started = Date.now();
let status = 1;
try {
  const vitest = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/fuzz', '--maxWorkers=1', '--testTimeout=3600000'],
    { cwd: ROOT, stdio: 'inherit', env: { ...process.env, OSPS_FUZZ: 'full', OSPS_FUZZ_REPORT: report } },
  );
  const rows = new Map();
  for (const line of fs.existsSync(report) ? fs.readFileSync(report, 'utf8').split('\n') : []) {
    if (!line) continue;
    const { decoder, inputs, failures } = JSON.parse(line);
    const r = rows.get(decoder) ?? { inputs: 0, failures: 0 };
    r.inputs += inputs;
    r.failures += failures;
    rows.set(decoder, r);
  }
  let inputs = 0;
  let failures = 0;
  console.log('\ndecoder fuzz, full run');
  for (const [decoder, r] of [...rows].sort()) {
    console.log(`  ${decoder.padEnd(20)} ${String(r.inputs).padStart(9)} inputs  ${r.failures} failures`);
    inputs += r.inputs;
    failures += r.failures;
  }
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`  ${'total'.padEnd(20)} ${String(inputs).padStart(9)} inputs  ${failures} failures  (${secs} s)`);
  const missing = DECODERS.filter((d) => !rows.has(d));
  if (vitest.status !== 0) console.log(`FAIL: vitest exited ${vitest.status ?? vitest.signal}`);
  else if (failures > 0) console.log('FAIL: a property failed');
  else if (missing.length > 0) console.log(`FAIL: no inputs reached ${missing.join(', ')}`);
  else if (inputs < MIN_INPUTS) console.log(`FAIL: ${inputs} inputs, fewer than ${MIN_INPUTS}`);
  else status = 0;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
