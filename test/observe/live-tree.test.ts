// The observation endpoint on a real tree: `--metrics` serves Prometheus text that parses,
// a real failover moves the counters and shows on the dashboard's timeline (in Debian's
// chromium), and a new watchdog serves the same address with the restart counts kept.
import { execa } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { freePort, Instance, LAUNCHER, teardown, waitFor } from '../helpers/instance.js';
import { parseExposition, type Scrape } from './exposition.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) console.log(`dashboard part skipped: no ${CHROMIUM} (apt-get install chromium)`);

let inst: Instance | null = null;
let client: Client | null = null;
afterEach(async () => {
  await teardown(inst, client);
  inst = null;
  client = null;
});

async function scrape(base: string): Promise<Scrape> {
  const res = await fetch(`${base}metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return parseExposition(await res.text());
}

/** Sum of every sample of `name` with (at least) those labels. */
function total(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  return s.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);
}

describe('--metrics on a live tree', () => {
  it('scrapes, counts a failover, shows it on the dashboard, and survives a watchdog restart', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/`;
    inst = new Instance('metrics', { extraArgs: ['--metrics', `127.0.0.1:${port}`] });
    await inst.start();
    await waitFor('the metrics URL on stderr', () => inst!.stderr.includes(`metrics ${base}metrics`));

    const before = await scrape(base);
    expect(before.types.get('osps_failovers_total')).toBe('counter');
    expect(before.types.get('osps_ping_rtt_seconds')).toBe('histogram');
    expect(total(before, 'osps_up', { role: 'primary' })).toBe(1);
    expect(total(before, 'osps_failovers_total')).toBe(0);
    await waitFor('a ping RTT observed', async () => total(await scrape(base), 'osps_ping_rtt_seconds_count', { role: 'primary' }) > 0);

    // The primary's own counters arrive with its pongs: writes by op, errors by code, the
    // commit point, and the fsyncs of its journal (its first checkpoint at least).
    client = new Client({ endpoint: inst.endpoint });
    for (let i = 0; i < 5; i++) await client.set(`k${i}`, 'v');
    await expect(client.incr('k0')).rejects.toMatchObject({ code: 'WRONG_TYPE' });
    const written = await waitFor('the writes counted', async () => {
      const s = await scrape(base);
      return total(s, 'osps_writes_total', { op: 'set' }) === 5 && total(s, 'osps_errors_total', { code: 'WRONG_TYPE' }) === 1 && s;
    });
    expect(written.types.get('osps_writes_total')).toBe('counter');
    expect(total(written, 'osps_writes_total', { op: 'incr' })).toBe(1);
    expect(total(written, 'osps_commit_seq')).toBeGreaterThanOrEqual(6);
    expect(written.types.get('osps_journal_fsync_seconds')).toBe('histogram');
    const fsyncs = total(written, 'osps_journal_fsync_seconds_count');
    expect(fsyncs).toBeGreaterThan(0);
    expect(total(written, 'osps_journal_fsync_seconds_sum')).toBeGreaterThan(0);
    for (const gauge of ['osps_replication_lag_entries', 'osps_replication_lag_bytes']) {
      expect(written.samples.filter((x) => x.name === gauge)).toHaveLength(1);
      expect(total(written, gauge)).toBeGreaterThanOrEqual(0);
    }

    const mark = inst.events.length;
    process.kill(inst.currentPid('primary'), 'SIGKILL');
    await inst.waitEvent((e) => e.event === 'promoted', 10_000, mark);
    const after = await waitFor('the failover counted', async () => {
      const s = await scrape(base);
      return total(s, 'osps_failovers_total') >= 1 && s;
    });
    expect(total(after, 'osps_failovers_total', { role: 'primary' })).toBe(1);
    expect(total(after, 'osps_restarts_total', { role: 'primary' })).toBeGreaterThanOrEqual(1);
    expect(total(after, 'osps_events_total', { event: 'promoted' })).toBe(1);
    // The promoted primary counts from zero; the endpoint adds its counts to the totals. It
    // journals with fsync until its new standby is in sync, and writes a checkpoint of its own.
    await client.set('after', 'failover');
    const later = await waitFor('writes counted across the failover', async () => {
      const s = await scrape(base);
      return total(s, 'osps_writes_total', { op: 'set' }) === 6 && total(s, 'osps_journal_fsync_seconds_count') > fsyncs && s;
    });
    expect(total(later, 'osps_errors_total', { code: 'WRONG_TYPE' })).toBe(1);
    if (process.env.OSPS_KEEP_SCRAPE) fs.writeFileSync(process.env.OSPS_KEEP_SCRAPE, await (await fetch(`${base}metrics`)).text());

    if (haveChromium) {
      const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-chromium-'));
      const ctx = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1200, height: 800 },
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      try {
        const page = ctx.pages()[0] ?? (await ctx.newPage());
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(base);
        const promoted = page.locator('#events li.failover[data-event="promoted"]');
        await promoted.waitFor({ timeout: 10_000 });
        await expect(promoted.textContent()).resolves.toMatch(/promoted role=primary pid=\d+ epoch=2/);
        await page.locator('#epoch', { hasText: '2' }).waitFor({ timeout: 10_000 });
        await page.locator('#tree', { hasText: `pid ${inst.currentPid('primary')}` }).waitFor({ timeout: 10_000 });
        const shot = process.env.OSPS_KEEP_SCREENSHOT ?? path.join(profile, 'dashboard.png');
        await page.screenshot({ path: shot, fullPage: true });
        expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
        expect(errors).toEqual([]);
      } finally {
        await ctx.close();
        fs.rmSync(profile, { recursive: true, force: true });
      }
    }

    // The watchdog dies; the launcher's next one adopts the servers and serves the same address.
    const old = inst.watchdogPid;
    const mark2 = inst.events.length;
    process.kill(old, 'SIGKILL');
    await inst.waitEvent((e) => e.event === 'starting' && e.adopting === 'true' && e.pid !== String(old), 15_000, mark2);
    const again = await waitFor('the successor serving the same address', async () => {
      const s = await scrape(base).catch(() => null);
      return s && total(s, 'osps_up', { role: 'primary' }) === 1 && s;
    }, 15_000, 100);
    expect(total(again, 'osps_restarts_total', { role: 'primary' })).toBe(total(after, 'osps_restarts_total', { role: 'primary' }));
  }, 90_000);

  it('refuses a metrics port another process holds: one line, exit 2, nothing started', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as net.AddressInfo).port;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-it-'));
    try {
      const name = `t-metrics-busy-${process.pid}`;
      const r = await execa(process.execPath, [LAUNCHER, 'start', '--name', name, '--runtime-dir', path.join(dir, 'run'), '--data-dir', path.join(dir, 'data'), '--endpoint', `tcp://127.0.0.1:${await freePort()}`, '--metrics', `127.0.0.1:${port}`], { reject: false, timeout: 20_000 });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toBe(`osps: --metrics 127.0.0.1:${port}: cannot listen there (EADDRINUSE); another process holds the port`);
      expect(r.stdout).toBe('');
      const bad = await execa(process.execPath, [LAUNCHER, 'start', '--name', name, '--metrics', '0.0.0.0:9464'], { reject: false, timeout: 20_000 });
      expect(bad.exitCode).toBe(2);
      expect(bad.stderr).toMatch(/only a loopback host/);
    } finally {
      holder.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
