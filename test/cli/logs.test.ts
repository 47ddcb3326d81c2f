// The instance's JSON-lines log (every watchdog event and server log line, through pino,
// bounded by size) and `osps logs` reading it across restarts of the tree.
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogTail } from '../../dist/cli/log-reader.js';
import { Instance, LAUNCHER, ROOT, teardown, waitFor } from '../helpers/instance.js';

let inst: Instance | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await teardown(inst, null);
  inst = null;
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('the log file', () => {
  it('rotates by size and keeps at most N files, every record a JSON line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-logfile-'));
    dirs.push(dir);
    const script = `import { logLine } from ${JSON.stringify(path.join(ROOT, 'dist/log.js'))};
      for (let i = 0; i < 3000; i++) logLine('primary', 'standby-in-sync', { i, pad: 'x'.repeat(40) });`;
    const r = await execa(process.execPath, ['--input-type=module', '-e', script], { env: { OSPS_LOG_DIR: dir, OSPS_LOG_FILE_BYTES: '65536', OSPS_LOG_FILES: '3' }, reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe(''); // routine lines stay off the console; the file has them all
    const files = fs.readdirSync(dir);
    expect(files.length).toBe(3);
    for (const f of files) expect(fs.statSync(path.join(dir, f)).size).toBeLessThanOrEqual(65536);
    const records = new LogTail(dir).read();
    expect(records.at(-1)).toMatchObject({ kind: 'log', component: 'primary', event: 'standby-in-sync', i: 2999, level: 'info' });
    const seq = records.map((x) => x.i as number);
    expect(seq).toEqual([...seq].sort((a, b) => a - b));
    expect(seq.length).toBeGreaterThan(500);
  });
});

describe('osps logs', () => {
  it('reads events and server lines across restarts, filters by role and time, follows new lines', async () => {
    inst = new Instance('logs');
    await inst.start();
    const where = ['--name', inst.name, '--data-dir', inst.dataDir];
    const follow = execa(process.execPath, [LAUNCHER, 'logs', ...where, '--follow'], { reject: false });
    const followed: string[] = [];
    follow.stdout!.on('data', (d: Buffer) => followed.push(d.toString()));
    try {
      await waitFor('the follower to print the start', () => /watchdog starting/.test(followed.join('')), 10_000);
      const firstPrimary = inst.currentPid('primary');
      const mark = inst.events.length;
      process.kill(firstPrimary, 'SIGKILL');
      await inst.waitEvent((e) => e.event === 'promoted', 10_000, mark);
      await waitFor('promoted in the followed output', () => /watchdog promoted role=primary/.test(followed.join('')), 10_000);
    } finally {
      follow.kill('SIGINT');
    }
    expect((await follow).exitCode).toBe(0);

    // A second start of the same tree: the logs hold both.
    await inst.stopAndCheck();
    await inst.start();
    const all = await execa(process.execPath, [LAUNCHER, 'logs', ...where, '--since', '10m'], { reject: false });
    expect(all.exitCode).toBe(0);
    const lines = all.stdout.split('\n');
    expect(lines.filter((l) => / watchdog starting name=/.test(l)).length).toBe(2);
    expect(lines.some((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ! watchdog exited role=primary .*cause="signal SIGKILL"/.test(l))).toBe(true);
    expect(lines.some((l) => / primary ready pid=/.test(l))).toBe(true); // a server's own line

    const json = await execa(process.execPath, [LAUNCHER, 'logs', ...where, '--json', '--role', 'primary'], { reject: false });
    const records = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(3);
    for (const r of records) expect(r.role === 'primary' || r.component === 'primary').toBe(true);
    expect(records.some((r) => r.event === 'promoted')).toBe(true);

    const none = await execa(process.execPath, [LAUNCHER, 'logs', ...where, '--since', '0s'], { reject: false });
    expect(none.stdout).toBe('');
    const bad = await execa(process.execPath, [LAUNCHER, 'logs', ...where, '--since', 'yesterday'], { reject: false });
    expect(bad.exitCode).toBe(2);
  }, 60_000);
});
