// `osps status --watch` as a person sees it: in a real terminal (tmux), the table redraws in
// place; after the primary is killed the new primary's pid and the promoted event appear;
// Ctrl-C ends it.
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { Instance, LAUNCHER, ROOT, teardown, waitFor } from '../helpers/instance.js';

let inst: Instance | null = null;
afterEach(async () => {
  await teardown(inst, null);
  inst = null;
});

const haveTmux = (await execa('tmux', ['-V'], { reject: false }).catch(() => ({ exitCode: 1 }))).exitCode === 0;
if (!haveTmux) console.log('status --watch test skipped: no tmux (apt-get install tmux)');

describe.skipIf(!haveTmux)('status --watch in tmux', () => {
  it('redraws roles and pids in place and shows a failover as it happens', async () => {
    inst = new Instance('watch');
    await inst.start();
    // A tmux server of our own (-L), so nothing of anybody else's tmux is touched.
    const sock = `osps-test-${process.pid}`;
    const session = `watch-${process.pid}`;
    const tmux = (...args: string[]) => execa('tmux', ['-L', sock, ...args], { reject: false });
    const screen = async () => (await tmux('capture-pane', '-p', '-t', session)).stdout;
    const command = [process.execPath, LAUNCHER, 'status', '--watch', ...inst.instanceArgs].map((a) => `'${a}'`).join(' ');
    expect((await tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', '-c', ROOT, command)).exitCode).toBe(0);
    try {
      const primaryRow = (pid: number) => new RegExp(`^primary\\s+${pid}\\s+ready`, 'm');
      const oldPrimary = inst.currentPid('primary');
      const standby = inst.currentPid('secondary');
      const first = await waitFor('the table on screen', async () => {
        const s = await screen();
        return primaryRow(oldPrimary).test(s) && /^secondary\s+\d+\s+ready/m.test(s) && s;
      }, 10_000, 100);
      expect(first).toMatch(/^ROLE\s+PID\s+STATE\s+UPTIME\s+CPU\s+RSS\s+PING\s+RESTARTS/m);
      expect(first).toMatch(/^writes /m);
      expect(first).toMatch(/^last events:/m);
      // Drawn in place: the header appears once, at the top, however many redraws went by.
      await waitFor('a few redraws', async () => (await screen()) !== first, 5000, 100);
      const again = await screen();
      expect(again.split('\n')[0]).toMatch(/^osps status --watch /);
      expect(again.match(/^ROLE /gm)?.length).toBe(1);

      const mark = inst.events.length;
      process.kill(oldPrimary, 'SIGKILL');
      await inst.waitEvent((e) => e.event === 'promoted', 10_000, mark);
      const after = await waitFor('the new primary and the promoted event on screen', async () => {
        const s = await screen();
        return primaryRow(standby).test(s) && new RegExp(`promoted role=primary pid=${standby} epoch=2`).test(s) && s;
      }, 10_000, 100);
      expect(after).toMatch(/epoch 2 /);
      expect(after).not.toMatch(primaryRow(oldPrimary));

      await tmux('send-keys', '-t', session, 'C-c');
      await waitFor('Ctrl-C to end the watch', async () => (await tmux('has-session', '-t', session)).exitCode !== 0, 5000, 100);
    } finally {
      await tmux('kill-session', '-t', session);
    }
  }, 60_000);
});
