// SIGUSR1 would open Node's inspector on 127.0.0.1:9229 (code execution for whoever
// connects): no osps process may open it, and each keeps serving.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { Instance, isAlive, teardown, waitFor } from '../helpers/instance.js';

let inst: Instance | null = null;
let client: Client | null = null;
afterEach(async () => {
  await teardown(inst, client);
  inst = client = null;
});

/** Inodes of the TCP sockets in LISTEN state, by port. */
function listeningTcp(): Map<string, number> {
  const byInode = new Map<string, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== '0A') continue;
      byInode.set(f[9] as string, parseInt((f[1] as string).split(':').pop() as string, 16));
    }
  }
  return byInode;
}

/** The TCP ports a process listens on. */
function listeningPorts(pid: number): number[] {
  const tcp = listeningTcp();
  const ports: number[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    const port = m ? tcp.get(m[1] as string) : undefined;
    if (port !== undefined) ports.push(port);
  }
  return ports.sort((a, b) => a - b);
}

describe('SIGUSR1', () => {
  it('opens no inspector in the launcher, watchdog, primary or secondary, and every process keeps serving', async () => {
    inst = new Instance('usr1');
    await inst.start();
    client = new Client({ endpoint: inst.endpoint, requestTimeoutMs: 500, deadlineMs: 10_000 });
    await client.set('k', 'before');
    const pids = { launcher: inst.launcherPid, watchdog: inst.watchdogPid, primary: inst.currentPid('primary'), secondary: inst.currentPid('secondary') };
    const before = Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, listeningPorts(pid)]));
    const mark = inst.events.length;
    for (const pid of Object.values(pids)) process.kill(pid, 'SIGUSR1');
    // The inspector listens within milliseconds of the signal: watch for it for a while.
    const opened = await waitFor(
      'an inspector to open',
      () => {
        if (/Debugger listening|inspector/i.test(inst?.stderr ?? '')) return 'stderr';
        const grown = Object.entries(pids).find(([role, pid]) => listeningPorts(pid).join() !== (before[role] as number[]).join());
        return grown ? `${grown[0]} now listens on ${listeningPorts(grown[1]).join(',')}` : false;
      },
      2000,
    ).catch(() => null);
    expect(opened).toBeNull();
    for (const [role, pid] of Object.entries(pids)) expect(isAlive(pid), role).toBe(true);
    await client.set('k', 'after');
    expect(await client.get('k')).toBe('after');
    const r = await inst.cli(['status', ...inst.instanceArgs]);
    expect(r.exitCode).toBe(0);
    expect(inst.events.slice(mark).filter((e) => ['detected', 'fenced', 'promoted'].includes(e.event))).toEqual([]);
  });
});
