// One test per `osps chaos <fault>`: the fault is injected through the CLI (or its script)
// on a real tree under client load, and the expected outcome is checked.
import fs from 'node:fs';
import { execa } from 'execa';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { Instance, ROOT, isAlive, waitFor, type Event, teardown } from '../helpers/instance.js';
import { writeLoad } from '../helpers/load.js';

let inst: Instance | null = null;
let client: Client | null = null;

afterEach(async () => {
  await teardown(inst, client);
  inst = null;
  client = null;
});

async function start(label: string, extraArgs: string[] = []): Promise<{ i: Instance; c: Client }> {
  inst = new Instance(label, { pingInterval: 100, alarm: 1000, extraArgs: ['--sample-interval', '200', '--fault-injection', ...extraArgs] });
  await inst.start();
  client = new Client({ endpoint: inst.endpoint, requestTimeoutMs: 300, deadlineMs: 20_000 });
  return { i: inst, c: client };
}

/** Background writers; at the end every acknowledged key must read back and no caller saw an error. */
function load(c: Client) {
  const l = writeLoad(c, 'load-');
  return {
    acked: l.acked,
    async stopAndVerify() {
      await l.stop();
      for (const k of l.acked) expect(await c.get(k)).toBe(k);
      expect(l.errors).toEqual([]);
    },
  };
}

async function chaos(i: Instance, args: string[]) {
  const r = await i.cli(['chaos', ...args, ...i.instanceArgs, '--json']);
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { fault: string; role: string; pid: number; detail: string };
}

const inSyncAfter = (i: Instance, mark: number, timeoutMs = 15_000): Promise<Event> =>
  i.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', timeoutMs, mark);

const promotedSince = (i: Instance, mark: number): boolean => i.events.slice(mark).some((e) => e.event === 'promoted');

describe('osps chaos <fault>', () => {
  it('help lists every fault', async () => {
    const i = new Instance('help');
    const r = await i.cli(['chaos', '--help']);
    for (const f of ['kill-primary', 'kill-secondary', 'kill-watchdog', 'kill-launcher', 'hang-primary', 'hang-secondary', 'pause', 'cut-pipe', 'corrupt-shm', 'fill-ring', 'memory-hog', 'run']) {
      expect(r.stdout).toContain(f);
    }
    await i.destroy();
  });

  it('kill-primary (through scripts/chaos/kill-primary.sh): failover, nothing lost', async () => {
    const { i, c } = await start('c-killp');
    const l = load(c);
    await waitFor('load', () => l.acked.length > 50);
    const old = i.currentPid('primary');
    const mark = i.events.length;
    const r = await execa(path.join(ROOT, 'scripts', 'chaos', 'kill-primary.sh'), [i.name, '--runtime-dir', i.runtimeRoot], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`kill-primary: primary pid ${old}: SIGKILL`);
    await i.waitEvent((e) => e.event === 'promoted', 10_000, mark);
    await inSyncAfter(i, mark);
    await l.stopAndVerify();
  });

  it('kill-secondary: replaced and resynced, no failover', async () => {
    const { i, c } = await start('c-kills');
    const l = load(c);
    const mark = i.events.length;
    const rec = await chaos(i, ['kill-secondary']);
    expect(rec.role).toBe('secondary');
    await i.waitEvent((e) => e.event === 'respawned' && e.role === 'secondary', 10_000, mark);
    await inSyncAfter(i, mark);
    expect(promotedSince(i, mark)).toBe(false);
    await l.stopAndVerify();
  });

  it('kill-watchdog: adopted, no failover, no client error', async () => {
    const { i, c } = await start('c-killw');
    const l = load(c);
    const mark = i.events.length;
    const rec = await chaos(i, ['kill-watchdog']);
    expect(isAlive(rec.pid)).toBe(false);
    await i.waitEvent((e) => e.event === 'adopted' && e.role === 'primary', 10_000, mark);
    const n = l.acked.length;
    await waitFor('load after adoption', () => l.acked.length > n + 50, 10_000);
    expect(promotedSince(i, mark)).toBe(false);
    await l.stopAndVerify();
  });

  it('kill-launcher: the watchdog keeps the instance serving; stop still stops it', async () => {
    const { i, c } = await start('c-killl');
    const rec = await chaos(i, ['kill-launcher']);
    expect(rec.pid).toBe(i.launcherPid);
    await waitFor('launcher gone', () => !isAlive(rec.pid));
    await c.set('after', 'launcher');
    expect(await c.get('after')).toBe('launcher');
    const r = await i.cli(['stop', ...i.instanceArgs]);
    expect(r.exitCode).toBe(0);
    await i.cli(['cleanup', ...i.instanceArgs]);
  });

  it('hang-primary: fenced and replaced once past the alarm; it never answers again', async () => {
    const { i, c } = await start('c-hangp');
    const l = load(c);
    const mark = i.events.length;
    const rec = await chaos(i, ['hang-primary']);
    await i.waitEvent((e) => e.event === 'ping-missed' && Number(e.pid) === rec.pid, 10_000, mark);
    await i.waitEvent((e) => e.event === 'promoted', 10_000, mark);
    expect(isAlive(rec.pid)).toBe(false);
    await inSyncAfter(i, mark);
    await l.stopAndVerify();
  });

  it('hang-secondary --for longer than the alarm: replaced; the primary keeps serving', async () => {
    const { i, c } = await start('c-hangs');
    const l = load(c);
    const mark = i.events.length;
    const rec = await chaos(i, ['hang-secondary', '--for', '1500']);
    expect(rec.detail).toMatch(/gone before SIGCONT|continued/);
    await i.waitEvent((e) => e.event === 'ping-missed' && Number(e.pid) === rec.pid, 10_000, mark);
    await inSyncAfter(i, mark);
    expect(promotedSince(i, mark)).toBe(false);
    await l.stopAndVerify();
  });

  it('pause: shorter than the alarm, no failover, nothing lost', async () => {
    const { i, c } = await start('c-pause');
    const l = load(c);
    const mark = i.events.length;
    const rec = await chaos(i, ['pause', '--for', '300']);
    expect(rec.detail).toBe('stopped for 300 ms, then continued');
    const n = l.acked.length;
    await waitFor('load after pause', () => l.acked.length > n + 50, 10_000);
    expect(i.events.slice(mark).some((e) => ['ping-missed', 'promoted', 'fenced'].includes(e.event))).toBe(false);
    await l.stopAndVerify();
  });

  it('pause refuses a duration that is not shorter than the alarm', async () => {
    const { i } = await start('c-pause-long');
    const r = await i.cli(['chaos', 'pause', '--for', '5000', ...i.instanceArgs]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/not shorter than the 1000 ms alarm/);
  });

  for (const pipe of ['s2p', 'p2s'] as const) {
    it(`cut-pipe --pipe ${pipe}: both sides notice, the watchdog re-pairs them, nothing lost`, async () => {
      const { i, c } = await start(`c-cut-${pipe}`);
      const l = load(c);
      const sec = i.currentPid('secondary');
      const mark = i.events.length;
      await chaos(i, ['cut-pipe', '--pipe', pipe]);
      // The primary reports its standby gone; the old secondary is replaced by a new one.
      await i.waitEvent((e) => e.event === 'standby' && e.standby === 'absent', 10_000, mark);
      await i.waitEvent((e) => e.event === 'respawned' && e.role === 'secondary', 10_000, mark);
      await inSyncAfter(i, mark);
      expect(isAlive(sec)).toBe(false);
      expect(promotedSince(i, mark)).toBe(false);
      await l.stopAndVerify();
    });
  }

  for (const [how, pipe] of [['unlink', 's2p'], ['replace', 'p2s']] as const) {
    it(`cut-pipe --how ${how} --pipe ${pipe}: the open link hides it, the servers notice anyway, the FIFO is repaired and the pair re-paired`, async () => {
      const { i, c } = await start(`c-cut-${how}`);
      const l = load(c);
      const sec = i.currentPid('secondary');
      const file = pipe === 'p2s' ? i.paths.p2sFifo : i.paths.s2pFifo;
      const mark = i.events.length;
      const rec = await chaos(i, ['cut-pipe', '--pipe', pipe, '--how', how]);
      expect(rec.detail).toContain(how === 'unlink' ? 'unlinked' : 'replaced');
      await i.waitEvent((e) => e.event === 'respawned' && e.role === 'secondary', 10_000, mark);
      if (how === 'unlink') {
        // Recreated by the watchdog before the new standby was spawned.
        const repaired = i.events.slice(mark).find((e) => e.event === 'repaired');
        expect(repaired?.path).toBe(file);
        expect(repaired?.was).toBe('missing');
      }
      await inSyncAfter(i, mark);
      expect(isAlive(sec)).toBe(false);
      expect(promotedSince(i, mark)).toBe(false);
      // The new standby paired through whatever is at the path now: a FIFO of ours.
      const after = fs.lstatSync(file);
      expect(after.isFIFO()).toBe(true);
      expect(after.mode & 0o777).toBe(0o600);
      await l.stopAndVerify();
    });
  }

  it('corrupt-shm --where header: the standby notices, the watchdog rewrites the header, a new standby attaches and syncs', async () => {
    const { i, c } = await start('c-corrupt-hdr');
    const l = load(c);
    const sec = i.currentPid('secondary');
    const mark = i.events.length;
    const rec = await chaos(i, ['corrupt-shm', '--where', 'header']);
    expect(rec.detail).toMatch(/flipped header byte .*magic/);
    const exited = await i.waitEvent((e) => e.event === 'exited' && e.role === 'secondary', 10_000, mark);
    expect(`${exited.cause} ${exited.reason}`).toMatch(/RING_CORRUPT|header magic damaged/);
    const repaired = await i.waitEvent((e) => e.event === 'repaired' && e.kind === 'shm-header', 10_000, mark);
    expect(repaired.fields).toBe('magic');
    await inSyncAfter(i, mark);
    expect(isAlive(sec)).toBe(false);
    expect(promotedSince(i, mark)).toBe(false);
    await l.stopAndVerify();
  });

  it('corrupt-shm: the standby detects the damaged entry, never applies it, and is resynced', async () => {
    const { i, c } = await start('c-corrupt');
    const l = load(c);
    const mark = i.events.length;
    const rec = await chaos(i, ['corrupt-shm']);
    expect(rec.detail).toMatch(/flipped payload byte .*our write was acknowledged; 1 injected keys read back intact, 1 deleted/);
    const exited = await i.waitEvent((e) => e.event === 'exited' && e.role === 'secondary', 10_000, mark);
    // It exits on its own (RING_CORRUPT), unless the watchdog, seeing the link drop, kills it first.
    expect(`${exited.cause} ${exited.reason}`).toMatch(/RING_CORRUPT|ring corrupt/);
    await inSyncAfter(i, mark);
    expect(promotedSince(i, mark)).toBe(false);
    await l.stopAndVerify();
  });

  it('fill-ring --for: backpressure while the standby is stalled, then every write completes', async () => {
    const { i, c } = await start('c-fill', ['--ring-bytes', String(4 * 1024 * 1024)]);
    const mark = i.events.length;
    const rec = await chaos(i, ['fill-ring', '--for', '300']);
    // Full = no room for one more 256 KiB entry; the space skipped at a wrap counts as used.
    expect(rec.detail).toMatch(/ring ([89]\d|100)% full/);
    expect(rec.detail).toMatch(/; (\d+) acknowledged, 0 not; \1 injected keys read back intact, \d+ deleted$/);
    // Never overwritten: the standby read every entry intact (no corruption exit), no failover.
    const exits = i.events.slice(mark).filter((e) => e.event === 'exited');
    expect(exits, JSON.stringify(i.events.slice(mark))).toEqual([]);
    expect(promotedSince(i, mark)).toBe(false);
    // The injected keys were checked and deleted: nothing stays in the store.
    expect(await c.get('osps.chaos:fill-ring:0')).toBeNull();
  });

  it('fill-ring with the standby left stalled: it is replaced by the alarm and the writes complete', async () => {
    const { i, c } = await start('c-fill-stall', ['--ring-bytes', String(4 * 1024 * 1024)]);
    const mark = i.events.length;
    const rec = await chaos(i, ['fill-ring']);
    expect(rec.detail).toMatch(/, 0 not; \d+ injected keys read back intact/);
    await i.waitEvent((e) => e.event === 'ping-missed' && e.role === 'secondary', 10_000, mark);
    await inSyncAfter(i, mark);
    expect(await c.get('osps.chaos:fill-ring:1')).toBeNull();
  });

  it('memory-hog: the primary over the ceiling is restarted through a failover, nothing lost', async () => {
    const { i, c } = await start('c-hog', ['--memory-ceiling', '150']);
    const l = load(c);
    const mark = i.events.length;
    const rec = await chaos(i, ['memory-hog']);
    await i.waitEvent((e) => e.event === 'memory-ceiling' && Number(e.pid) === rec.pid, 10_000, mark);
    await i.waitEvent((e) => e.event === 'promoted', 10_000, mark);
    await inSyncAfter(i, mark);
    await l.stopAndVerify();
  });

  it('memory-hog without a configured ceiling is refused with one line', async () => {
    const { i } = await start('c-hog-off');
    const r = await i.cli(['chaos', 'memory-hog', ...i.instanceArgs]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no memory ceiling/);
  });
});

describe('failure-injection hooks on an instance started without --fault-injection', () => {
  it('fill-ring, corrupt-shm and memory-hog are refused with one line; signal-only faults still work', async () => {
    inst = new Instance('c-prod', { pingInterval: 100, alarm: 1000, extraArgs: ['--memory-ceiling', '150'] });
    await inst.start();
    const i = inst;
    for (const f of ['fill-ring', 'corrupt-shm', 'memory-hog']) {
      const r = await i.cli(['chaos', f, ...i.instanceArgs]);
      expect(r.exitCode, f).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/not started with --fault-injection/);
    }
    const mark = i.events.length;
    const rec = await chaos(i, ['kill-secondary']);
    expect(rec.detail).toBe('SIGKILL');
    await inSyncAfter(i, mark);
  });

  it('a production primary ignores SIGUSR2: no ballast, RSS does not jump', async () => {
    inst = new Instance('c-prod-usr2', { pingInterval: 100, alarm: 1000 });
    await inst.start();
    const pid = inst.currentPid('primary');
    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
    const before = rss();
    for (let k = 0; k < 3; k++) process.kill(pid, 'SIGUSR2');
    // Armed, each signal would add at least 64 MiB at once; give it time to have done so.
    client = new Client({ endpoint: inst.endpoint, requestTimeoutMs: 300, deadlineMs: 20_000 });
    for (let k = 0; k < 20; k++) await client.ping();
    expect(isAlive(pid)).toBe(true);
    expect(rss() - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('a production watchdog ignores OSPS_CHAOS_WATCHDOG_DIE_AT', async () => {
    inst = new Instance('c-prod-dieat', { pingInterval: 100, alarm: 800, env: { OSPS_CHAOS_WATCHDOG_DIE_AT: 'fenced' } });
    await inst.start();
    const i = inst;
    const watchdog = i.watchdogPid;
    const mark = i.events.length;
    process.kill(i.currentPid('primary'), 'SIGKILL');
    await i.waitEvent((e) => e.event === 'promoted', 10_000, mark);
    await inSyncAfter(i, mark);
    expect(i.watchdogPid).toBe(watchdog);
    expect(isAlive(watchdog)).toBe(true);
    expect(i.events.slice(mark).some((e) => e.event === 'adopted')).toBe(false);
  });
});
