// A stopped instance's journal, damaged on disk, then `start`: a torn tail is cut and
// logged; damage with valid records after it refuses to start and changes nothing.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { journalFile } from '../../dist/runtime/paths.js';
import { Instance, teardown } from '../helpers/instance.js';

let inst: Instance | null = null;
let client: Client | null = null;

afterEach(async () => {
  await teardown(inst, client);
  inst = null;
  client = null;
});

/** Starts, writes k0..k(n-1), stops gracefully; returns the journal's path. */
async function stoppedWith(label: string, n: number, opts: { maxRestarts?: number } = {}): Promise<string> {
  inst = new Instance(label, opts);
  await inst.start();
  const c = new Client({ endpoint: inst.endpoint, deadlineMs: 5000 });
  for (let i = 0; i < n; i++) await c.set(`k${i}`, `v${i}`);
  await c.close();
  const r = await inst.cli(['stop', ...inst.instanceArgs]);
  expect(r.exitCode).toBe(0);
  await inst.proc;
  return journalFile(inst.dataDir);
}

describe('a damaged journal at start', () => {
  it('one flipped byte in the middle: start exits 2 at once, naming the file and offset; the journal is untouched; repair cuts it', async () => {
    const file = await stoppedWith('flip', 200);
    const damaged = fs.readFileSync(file);
    const at = Math.floor(damaged.length / 2);
    damaged[at] = (damaged[at] as number) ^ 0x20;
    fs.writeFileSync(file, damaged);
    await inst!.start({ waitReady: false });
    const r = await Promise.race([inst!.proc!, new Promise<null>((res) => setTimeout(() => res(null), 30_000))]);
    expect(r, 'start did not exit').not.toBeNull();
    expect(r!.exitCode).toBe(2);
    const said = inst!.stdout + inst!.stderr;
    expect(said).toMatch(new RegExp(`osps: journal ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt at byte \\d+`));
    // Given up at once: no second primary tried the same journal.
    expect(said).not.toMatch(/kept dying/);
    expect(fs.readFileSync(file).equals(damaged)).toBe(true);
    expect(fs.existsSync(`${file}.next`)).toBe(false);

    const rep = await inst!.cli(['repair', ...inst!.instanceArgs, '--data-dir', inst!.dataDir]);
    expect(rep.exitCode).toBe(0);
    expect(rep.stdout).toMatch(/bad record at byte \d+/);
    expect(rep.stdout).toMatch(/kept \d+ bytes .*dropped \d+/);
    const backup = /the original is kept at (\S+)/.exec(rep.stdout)?.[1];
    expect(backup && fs.readFileSync(backup).equals(damaged)).toBe(true);
    await inst!.start();
    client = new Client({ endpoint: inst!.endpoint, deadlineMs: 5000 });
    expect(await client.get('k0')).toBe('v0');
  }, 90_000);

  it('repair is refused while the instance runs, and changes nothing', async () => {
    const file = await stoppedWith('busy', 5);
    await inst!.start();
    const before = fs.readFileSync(file);
    const rep = await inst!.cli(['repair', ...inst!.instanceArgs, '--data-dir', inst!.dataDir]);
    expect(rep.exitCode).toBe(1);
    expect(rep.stderr).toMatch(/is running.*osps stop/);
    // The running primary may append (a digest check, a timer) meanwhile; nothing was cut or rewritten.
    const after = fs.readFileSync(file);
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
  }, 60_000);

  it('a torn tail: start serves every complete record and logs the cut', async () => {
    const file = await stoppedWith('torn', 50);
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 5);
    await inst!.start();
    client = new Client({ endpoint: inst!.endpoint, deadlineMs: 5000 });
    for (let i = 0; i < 49; i++) expect(await client.get(`k${i}`)).toBe(`v${i}`);
    expect(await client.get('k49')).toBeNull();
    expect(inst!.stderr).toMatch(/journal-tail-cut .*offset=\d+ bytes=\d+/);
  }, 60_000);
});
