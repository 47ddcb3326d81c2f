// Faults against more than one process, or one process again and again: the whole tree,
// both servers at once, a starved server, a flapping watchdog or standby. Rows of the fault table.
import { setTimeout as sleep } from 'node:timers/promises';
import { OspsError } from '../errors.js';
import { readLock } from '../runtime/lock.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { isAlive } from '../runtime/proc.js';
import { readState } from '../watchdog/state-file.js';
import type { FaultSpec, OptionSpec } from './faults.js';
import { killAndWait, signal } from './inject.js';
import { findPid, liveStatus } from './targets.js';

type Injected = Awaited<ReturnType<FaultSpec['inject']>>;

export const TIMES: OptionSpec = { key: 'times', flag: 'times', arg: 'n', help: 'how many kills in a row', range: [1, 100] };
const FOR: OptionSpec = { key: 'forMs', flag: 'for', arg: 'ms', help: 'starve for this long', range: [1, 3_600_000] };
const ROLE: OptionSpec = { key: 'role', flag: 'role', arg: 'role', help: 'which server', choices: ['primary', 'secondary'] };

/** How long a successor (watchdog or standby) may take to appear before a flap gives up waiting. */
const SUCCESSOR_MS = 15_000;
/** cpu-starve: of each period, the server is stopped this share of the time. */
const STARVE_PERIOD_MS = 100;
const STARVE_STOPPED = 0.7;

/** Every process of the instance the runtime dir records: launcher, watchdog, servers. */
async function treePids(paths: RuntimePaths): Promise<Array<[string, number]>> {
  const out: Array<[string, number]> = [];
  const lock = readLock(paths.lockFile);
  if (lock?.live) out.push(['launcher', lock.pid]);
  const state = readState(paths.stateFile);
  if (state && isAlive(state.watchdogPid)) out.push(['watchdog', state.watchdogPid]);
  try {
    for (const p of (await liveStatus(paths)).processes) if (p.pid > 0 && isAlive(p.pid)) out.push([p.role, p.pid]);
  } catch {
    // no watchdog to ask: the recorded pids are all there is
  }
  // The status lists the watchdog too: each process once.
  return out.filter(([, pid], i) => out.findIndex(([, p]) => p === pid) === i);
}

/** SIGKILLs all of `pids` first, then waits for each: no process gets to react to another's death. */
async function killAll(pids: Array<[string, number]>): Promise<string> {
  for (const [, pid] of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const outcomes = await Promise.all(pids.map(async ([role, pid]) => `${role} ${pid} ${isAlive(pid) ? await killAndWait(pid).catch(() => 'gone') : 'SIGKILL'}`));
  return outcomes.join(', ');
}

/**
 * The pid of `role` once it is another process than `old` and has taken over (a standby
 * ready; a watchdog answering status with a ready primary: it adopted and pings again), or
 * null after the budget. Killing a watchdog before it could ping would only test the
 * servers' orphan timeout.
 */
async function successor(paths: RuntimePaths, role: 'watchdog' | 'secondary', old: number): Promise<number | null> {
  const deadline = Date.now() + SUCCESSOR_MS;
  while (Date.now() < deadline) {
    const pid = await findPid(paths, role).catch(() => 0);
    if (pid > 0 && pid !== old && (role === 'secondary' || (await adopted(paths)))) return pid;
    await sleep(20);
  }
  return null;
}

async function adopted(paths: RuntimePaths): Promise<boolean> {
  try {
    const s = await liveStatus(paths);
    return s.phase === 'running' && s.processes.some((p) => p.role === 'primary' && p.state === 'ready');
  } catch {
    return false;
  }
}

/** Kills `role` `times` times in a row, each successor as soon as it is there; the primary must not change. */
async function flap(paths: RuntimePaths, role: 'watchdog' | 'secondary', times: number): Promise<Injected> {
  const primary = await findPid(paths, 'primary');
  let pid = await findPid(paths, role);
  const first = pid;
  const injectedAt = Date.now();
  let killed = 0;
  for (; killed < times; killed++) {
    if (killed > 0) {
      const next = await successor(paths, role, pid);
      if (next === null) break;
      pid = next;
    }
    await killAndWait(pid);
  }
  // Judged once the last successor has taken over: until then nobody answers for the primary.
  await successor(paths, role, pid);
  const still = isAlive(primary) && (await findPid(paths, 'primary').catch(() => 0)) === primary;
  return { role, pid: first, injectedAt, detail: `${killed} of ${times} ${role}s killed in a row; primary ${primary} ${still ? 'kept serving' : 'was replaced'}` };
}

export const TREE_FAULTS = {
  'kill-tree': {
    does: 'SIGKILL every process of the instance (launcher, watchdog, servers) at once (the chaos run then starts it again)',
    expect: 'a fresh start reclaims what they left and serves the journaled state',
    options: [],
    plan: () => ({}),
    acts: () => true,
    failover: () => false,
    restarts: () => 2,
    recoveredByAdoption: false,
    restartsTree: true,
    async inject(paths) {
      const pids = await treePids(paths);
      if (pids.length === 0) throw new OspsError('NOT_RUNNING', `instance '${paths.name}' has no live process`);
      const injectedAt = Date.now();
      return { role: 'tree', pid: pids[0]?.[1] ?? 0, injectedAt, detail: await killAll(pids) };
    },
  },
  'kill-servers': {
    does: 'SIGKILL the primary and the secondary at once',
    expect: 'a fresh pair from the journal, nothing acknowledged lost',
    options: [],
    plan: () => ({}),
    acts: () => true,
    // The new primary is a respawn: a failover by the events' definition.
    failover: () => true,
    // A fresh pair; plus one standby when the watchdog sees the standby's death first (the two
    // deaths reach it one after the other) and starts replacing it before it learns the primary
    // died too: the failover then clears that unsynced standby as stale.
    restarts: () => 3,
    recoveredByAdoption: false,
    async inject(paths) {
      const primary = await findPid(paths, 'primary');
      const secondary = await findPid(paths, 'secondary');
      const injectedAt = Date.now();
      return { role: 'primary+secondary', pid: primary, injectedAt, detail: await killAll([['primary', primary], ['secondary', secondary]]) };
    },
  },
  'cpu-starve': {
    does: 'starve a server (--role, default primary) of CPU: SIGSTOP/SIGCONT duty-cycled, stopped 70% of each 100 ms, for --for MS',
    expect: 'slow but alive: no failover, no replacement',
    options: [ROLE, FOR],
    plan: (d, alarmMs) => ({ role: d.pick(['primary', 'secondary'] as const), forMs: Math.floor(alarmMs * 1.5) }),
    acts: () => false,
    failover: () => false,
    restarts: () => 0,
    recoveredByAdoption: false,
    async inject(paths, o) {
      const role = o.role ?? 'primary';
      const pid = await findPid(paths, role);
      const forMs = o.forMs ?? 2000;
      const injectedAt = Date.now();
      let cycles = 0;
      try {
        while (Date.now() - injectedAt < forMs) {
          signal(pid, 'SIGSTOP');
          await sleep(STARVE_PERIOD_MS * STARVE_STOPPED);
          signal(pid, 'SIGCONT');
          await sleep(STARVE_PERIOD_MS * (1 - STARVE_STOPPED));
          cycles++;
        }
      } finally {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // gone
        }
      }
      return { role, pid, injectedAt, detail: `starved for ${forMs} ms (${cycles} stop/continue cycles, ${STARVE_STOPPED * 100}% stopped)` };
    },
  },
  'flap-watchdog': {
    does: 'SIGKILL the watchdog --times N times in a row, each successor as soon as it appears',
    expect: 'each successor adopts the servers; the primary keeps serving',
    options: [TIMES],
    plan: () => ({ times: 2 }),
    acts: () => true,
    failover: () => false,
    restarts: () => 0,
    recoveredByAdoption: true,
    inject: (paths, o) => flap(paths, 'watchdog', o.times ?? 6),
  },
  'flap-standby': {
    does: 'SIGKILL the standby --times N times in a row, each replacement as soon as it is ready',
    expect: 'replaced each time (or left out for a cool-down); the primary keeps serving',
    options: [TIMES],
    plan: () => ({ times: 2 }),
    acts: () => true,
    failover: () => false,
    restarts: (o) => o.times ?? 6,
    recoveredByAdoption: false,
    inject: (paths, o) => flap(paths, 'secondary', o.times ?? 6),
  },
} as const satisfies Record<string, FaultSpec>;
