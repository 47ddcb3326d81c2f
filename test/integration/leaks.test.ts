// Long-lived processes must not leak: after many re-pairs (the standby SIGKILLed, replaced
// and resynced), the primary, the watchdog and the launcher hold no more descriptors or
// shared-memory mappings than before.
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../dist/client/client.js';
import { Instance, isAlive, teardown, waitFor } from '../helpers/instance.js';
import { grownKinds, sampleProc, type ProcSample } from '../helpers/proc-sample.js';

/** 100 re-pairs take ~30-60 s on two cores (a re-pair is mostly a new Node process starting); OSPS_LEAK_REPAIRS overrides it. */
const REPAIRS = Number(process.env.OSPS_LEAK_REPAIRS ?? 100);
/** Re-pairs before the first sample, so that descriptors opened on first use are counted in it. */
const WARMUP_REPAIRS = 3;
/** Writes between two re-pairs: the replication path (ring, doorbell, ack) runs for every standby. */
const WRITES_PER_REPAIR = 5;
/**
 * Descriptors a process may gain without leaking: libuv and zeromq open some lazily (a
 * threadpool wakeup pipe, an epoll or eventfd for a reconnect), a socket of the last
 * re-pair may still be closing, and the watchdog's sampler closes the /proc/PID/stat of a
 * replaced child only a few sample intervals later. A leak of one per re-pair shows as
 * REPAIRS, far above this.
 */
const FD_SLACK = 4;

let inst: Instance | null = null;
let client: Client | null = null;

afterEach(async () => {
  await teardown(inst, client);
  inst = null;
  client = null;
});

type Who = 'primary' | 'watchdog' | 'launcher';

function sampleAll(i: Instance, pids: Record<Who, number>): Record<Who, ProcSample> {
  return { primary: sampleProc(pids.primary), watchdog: sampleProc(pids.watchdog), launcher: sampleProc(pids.launcher) };
}

/** SIGKILLs the standby and waits until its successor has synced and the primary has it in sync. */
async function repair(i: Instance): Promise<void> {
  const old = i.currentPid('secondary');
  const mark = i.events.length;
  process.kill(old, 'SIGKILL');
  const respawned = await i.waitEvent((e) => e.event === 'respawned' && e.role === 'secondary', 10_000, mark);
  await i.waitEvent((e) => e.event === 'synced' && e.pid === respawned.pid, 10_000, mark);
  await i.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync' && Number(e.pid) === i.currentPid('primary'), 10_000, mark);
}

describe('leaks in long-lived processes', () => {
  it(`${REPAIRS} re-pairs: no fd or /dev/shm mapping growth in the primary, the watchdog or the launcher; every acked write readable`, async () => {
    // Sampling (CPU, RSS) faster than a re-pair: every standby is sampled before it is killed.
    inst = new Instance('leaks', { pingInterval: 100, alarm: 1000, maxRestarts: 1000, extraArgs: ['--sample-interval', '100'] });
    const i = inst;
    await i.start();
    const c = (client = new Client({ endpoint: i.endpoint, requestTimeoutMs: 300, deadlineMs: 15_000 }));
    const acked = new Map<string, string>();
    let n = 0;
    const writes = async () => {
      for (let k = 0; k < WRITES_PER_REPAIR; k++, n++) {
        await c.set(`k${n}`, `v${n}`);
        acked.set(`k${n}`, `v${n}`);
      }
    };

    for (let r = 0; r < WARMUP_REPAIRS; r++) {
      await writes();
      await repair(i);
    }
    const pids: Record<Who, number> = { primary: i.currentPid('primary'), watchdog: i.watchdogPid, launcher: i.launcherPid };
    const before = sampleAll(i, pids);

    const took: number[] = [];
    for (let r = 0; r < REPAIRS; r++) {
      await writes();
      const t0 = Date.now();
      await repair(i);
      took.push(Date.now() - t0);
    }
    await writes();

    // The same processes: a re-pair never touches the primary or the control plane.
    expect(i.currentPid('primary')).toBe(pids.primary);
    expect(i.watchdogPid).toBe(pids.watchdog);
    expect(i.events.some((e) => e.event === 'promoted' || e.event === 'give-up')).toBe(false);
    for (const p of Object.values(pids)) expect(isAlive(p)).toBe(true);

    // A descriptor of the last re-pair may still be closing: wait for the counts to settle.
    const within = (a: ProcSample, b: ProcSample) => b.fds <= a.fds + FD_SLACK && b.shmMaps <= a.shmMaps;
    let after = sampleAll(i, pids);
    await waitFor('counts to settle', () => {
      after = sampleAll(i, pids);
      return (Object.keys(pids) as Who[]).every((w) => within(before[w], after[w]));
    }, 3000, 100).catch(() => {});

    const sorted = [...took].sort((a, b) => a - b);
    const lines = (Object.keys(pids) as Who[]).map((w) => `${w} pid ${pids[w]}: fds ${before[w].fds} → ${after[w].fds}, shm maps ${before[w].shmMaps} → ${after[w].shmMaps}`);
    process.stderr.write(`leaks: ${REPAIRS} re-pairs, median ${sorted[sorted.length >> 1]} ms, max ${sorted[sorted.length - 1]} ms\n  ${lines.join('\n  ')}\n`);
    for (const w of Object.keys(pids) as Who[]) {
      const why = `${w}: ${grownKinds(before[w], after[w]).join(', ')}`;
      expect(after[w].fds, why).toBeLessThanOrEqual(before[w].fds + FD_SLACK);
      expect(after[w].shmMaps, why).toBeLessThanOrEqual(before[w].shmMaps);
    }

    for (const [k, v] of acked) expect(await c.get(k), k).toBe(v);
  }, 120_000);
});
