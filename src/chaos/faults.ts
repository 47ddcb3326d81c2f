// What each fault IS, in one table: its help, its options, whether and with which options
// `osps chaos run` may draw it, the effect the watchdog must show, and how it is injected.
// The CLI help and option wiring, the planner and the checker all read this table.
import type { RuntimePaths } from '../runtime/paths.js';
import { OspsError } from '../errors.js';
import { corruptHeader, corruptUnreadEntry } from './corrupt-shm.js';
import { fillRing } from './fill-ring.js';
import { killAndWait, makeSpareFifo, renameOver, signal, stopFor, writeCorruptFrame } from './inject.js';
import { findPid, liveStatus } from './targets.js';
import { DISK_FAULTS } from './disk-faults.js';
import { TREE_FAULTS } from './tree-faults.js';
import fs from 'node:fs';

export const CUT_HOWS = ['frame', 'unlink', 'replace'] as const;
export type CutHow = (typeof CUT_HOWS)[number];
export const ROLES = ['primary', 'secondary'] as const;
export const PIPES = ['s2p', 'p2s'] as const;
export const WHERES = ['entry', 'header'] as const;

export interface FaultOptions {
  /** hang-*, pause, fill-ring: SIGCONT after this long (pause defaults to half the alarm). */
  forMs?: number;
  role?: (typeof ROLES)[number];
  pipe?: (typeof PIPES)[number];
  /** cut-pipe: write a corrupt frame (default), unlink the FIFO, or replace it with another one. */
  how?: CutHow;
  /** corrupt-shm: an unread ring entry (default) or the header. */
  where?: (typeof WHERES)[number];
  /** flap-*: kills in a row. */
  times?: number;
  /** slow-fsync: added before each journal fdatasync. */
  delayMs?: number;
}

/** One command-line option of a fault: `--<flag> <arg>` sets `key` of its FaultOptions. */
export interface OptionSpec {
  key: keyof FaultOptions;
  flag: string;
  arg: string;
  help: string;
  /** A closed set of values, the first one the default. */
  choices?: readonly string[];
  /** An integer in this range (ms). */
  range?: readonly [number, number];
}

const FOR: OptionSpec = { key: 'forMs', flag: 'for', arg: 'ms', help: 'SIGCONT after this long', range: [1, 3_600_000] };
const ROLE: OptionSpec = { key: 'role', flag: 'role', arg: 'role', help: 'which server', choices: ROLES };

/** What was done, to whom and when: the chaos report matches events against it. */
export interface FaultRecord {
  fault: FaultName;
  role: string;
  pid: number;
  injectedAt: number;
  endedAt: number;
  detail: string;
}

type Injected = Omit<FaultRecord, 'fault' | 'endedAt'>;

/** The seeded draws a planner makes: always in the same order, so a seed replays. */
export interface Draw {
  rng(): number;
  pick<T>(xs: readonly T[]): T;
}

export interface FaultSpec {
  /** What the fault does. */
  does: string;
  /** The effect the watchdog must show, in words. */
  expect: string;
  options: readonly OptionSpec[];
  /** Part of `osps chaos run`'s random plan, with these options. */
  plan: ((d: Draw, alarmMs: number) => FaultOptions) | null;
  /** The watchdog must visibly act (replace a server or fail over); otherwise the fault must pass unnoticed. */
  acts(o: FaultOptions, alarmMs: number, detail: string): boolean;
  /** The primary must be failed over. */
  failover(o: FaultOptions, alarmMs: number): boolean;
  /** Fresh servers its recovery may start; more are needless restarts. */
  restarts(o: FaultOptions, alarmMs: number, rec: FaultRecord): number;
  /** Recovered once a successor watchdog has adopted both servers (no standby report owed). */
  recoveredByAdoption: boolean;
  /** Kills the launcher too: the run starts the tree again before it waits for recovery. */
  restartsTree?: boolean;
  inject(paths: RuntimePaths, o: FaultOptions): Promise<Injected>;
}

/** Faults that write into the store or ask a server for ballast: only an instance started to allow them. */
async function armedStatus(paths: RuntimePaths, fault: string): Promise<Awaited<ReturnType<typeof liveStatus>>> {
  const status = await liveStatus(paths);
  if (!status.config.faultInjection) throw new OspsError('USAGE', `instance '${paths.name}' was not started with --fault-injection: ${fault} refused`);
  return status;
}

/** Killed or hung past the alarm: acted on; SIGCONT before the alarm: passes unnoticed. */
const hungPastAlarm = (o: FaultOptions, alarmMs: number): boolean => o.forMs === undefined || o.forMs > alarmMs;
const never = (): boolean => false;
const always = (): boolean => true;

async function kill(paths: RuntimePaths, role: 'primary' | 'secondary' | 'watchdog' | 'launcher'): Promise<Injected> {
  const pid = await findPid(paths, role);
  const injectedAt = Date.now();
  return { role, pid, injectedAt, detail: await killAndWait(pid) };
}

async function hang(paths: RuntimePaths, role: 'primary' | 'secondary', forMs: number | undefined): Promise<Injected> {
  const pid = await findPid(paths, role);
  const injectedAt = Date.now();
  return { role, pid, injectedAt, detail: await stopFor(pid, forMs) };
}

/** Killing a server: one replacement, and a failover when it was the primary. */
const killServer = (role: 'primary' | 'secondary'): FaultSpec => ({
  does: `SIGKILL the ${role}`,
  expect: role === 'primary' ? 'failover' : 'replaced and resynced',
  options: [],
  plan: () => ({}),
  acts: always,
  failover: () => role === 'primary',
  restarts: () => 1,
  recoveredByAdoption: false,
  inject: (paths) => kill(paths, role),
});

const hangServer = (role: 'primary' | 'secondary'): FaultSpec => ({
  does: `SIGSTOP the ${role}, SIGCONT after --for MS if given`,
  expect: role === 'primary' ? 'fenced and replaced past the alarm' : 'replaced past the alarm',
  options: [FOR],
  // Past the alarm: fenced before it could be continued; or never continued at all.
  plan: (d, alarmMs) => (d.rng() < 0.5 ? { forMs: alarmMs * 2 } : {}),
  acts: hungPastAlarm,
  failover: (o, alarmMs) => role === 'primary' && hungPastAlarm(o, alarmMs),
  restarts: (o, alarmMs) => (hungPastAlarm(o, alarmMs) ? 1 : 0),
  recoveredByAdoption: false,
  inject: (paths, o) => hang(paths, role, o.forMs),
});

export const FAULT_TABLE = {
  'kill-primary': killServer('primary'),
  'kill-secondary': killServer('secondary'),
  'kill-watchdog': {
    does: 'SIGKILL the watchdog',
    expect: 'the launcher starts one that adopts the servers',
    options: [],
    plan: () => ({}),
    acts: always,
    failover: never,
    restarts: () => 0,
    recoveredByAdoption: true,
    inject: (paths) => kill(paths, 'watchdog'),
  },
  'kill-launcher': {
    does: 'SIGKILL the launcher',
    expect: 'the watchdog keeps serving; servers outlive nothing',
    options: [],
    // With no launcher, nothing would restart a later dead watchdog: not for a long run.
    plan: null,
    acts: never,
    failover: never,
    restarts: () => 0,
    recoveredByAdoption: false,
    inject: (paths) => kill(paths, 'launcher'),
  },
  'hang-primary': hangServer('primary'),
  'hang-secondary': hangServer('secondary'),
  pause: {
    does: 'SIGSTOP a role (--role, default primary) for less than the alarm, then SIGCONT',
    expect: 'no failover',
    options: [ROLE, FOR],
    plan: (d, alarmMs) => ({ role: d.pick(ROLES), forMs: Math.floor(alarmMs / 3) }),
    acts: never,
    failover: never,
    restarts: () => 0,
    recoveredByAdoption: false,
    async inject(paths, o) {
      const status = await liveStatus(paths);
      const role = o.role ?? 'primary';
      const forMs = o.forMs ?? Math.floor(status.config.alarmMs / 2);
      if (forMs >= status.config.alarmMs) {
        throw new OspsError('USAGE', `pause --for ${forMs} is not shorter than the ${status.config.alarmMs} ms alarm: use hang-${role}`);
      }
      return hang(paths, role, forMs);
    },
  },
  'cut-pipe': {
    does: 'break the FIFO link between the servers (--pipe s2p|p2s; --how frame|unlink|replace)',
    expect: 're-paired',
    options: [
      { key: 'pipe', flag: 'pipe', arg: 'fifo', help: 'which FIFO to break', choices: PIPES },
      { key: 'how', flag: 'how', arg: 'how', help: 'corrupt frame, unlink the FIFO, or replace it', choices: CUT_HOWS },
    ],
    plan: (d) => ({ pipe: d.pick(PIPES), how: d.pick(CUT_HOWS) }),
    acts: always,
    failover: never,
    restarts: () => 1,
    recoveredByAdoption: false,
    async inject(paths, o) {
      const pipe = o.pipe ?? 's2p';
      const file = pipe === 'p2s' ? paths.p2sFifo : paths.s2pFifo;
      const role = pipe === 'p2s' ? 'secondary' : 'primary';
      const reader = await findPid(paths, role);
      const how = o.how ?? 'frame';
      // The replacement is made beforehand, so the fault itself is one rename.
      const replacement = how === 'replace' ? await makeSpareFifo(file) : null;
      const injectedAt = Date.now();
      if (how === 'frame') {
        writeCorruptFrame(file);
        return { role, pid: reader, injectedAt, detail: `corrupt frame written into ${pipe}` };
      }
      // The open ends keep working on the old FIFO: only its path is gone (or leads elsewhere).
      if (replacement) renameOver(replacement, file);
      else fs.unlinkSync(file);
      return { role, pid: reader, injectedAt, detail: how === 'replace' ? `${pipe} FIFO replaced by a new one at its path` : `${pipe} FIFO unlinked` };
    },
  },
  'corrupt-shm': {
    does: 'flip a byte in an unread ring entry, or (--where header) in the shm header',
    expect: 'caught, header repaired, standby resynced',
    options: [{ key: 'where', flag: 'where', arg: 'part', help: 'an unread ring entry, or the header', choices: WHERES }],
    plan: (d) => ({ where: d.rng() < 0.25 ? 'header' : 'entry' }),
    // Only a flipped byte promises an effect: with nothing unread there was nothing to corrupt.
    acts: (_o, _alarm, detail) => detail.startsWith('flipped'),
    failover: never,
    restarts: (o, alarmMs, rec) => (rec.detail.startsWith('flipped') ? 1 : 0),
    recoveredByAdoption: false,
    async inject(paths, o) {
      const status = await armedStatus(paths, 'corrupt-shm');
      const pid = await findPid(paths, 'secondary');
      const injectedAt = Date.now();
      const detail = o.where === 'header' ? corruptHeader(paths) : await corruptUnreadEntry(paths, status.endpoint, pid);
      return { role: 'secondary', pid, injectedAt, detail };
    },
  },
  'fill-ring': {
    does: 'stall the standby and fill the ring with writes',
    expect: 'backpressure, never overwrite',
    options: [FOR],
    plan: (_d, alarmMs) => ({ forMs: Math.floor(alarmMs / 2) }),
    acts: never,
    failover: never,
    // A standby kept stopped past the alarm may lose its place: that replacement is deserved.
    restarts: (_o, alarmMs, rec) => (rec.endedAt - rec.injectedAt > alarmMs ? 1 : 0),
    recoveredByAdoption: false,
    async inject(paths, o) {
      const status = await armedStatus(paths, 'fill-ring');
      const pid = await findPid(paths, 'secondary');
      const injectedAt = Date.now();
      return { role: 'secondary', pid, injectedAt, detail: await fillRing(paths, status.endpoint, pid, o.forMs) };
    },
  },
  'memory-hog': {
    does: 'make a server (--role, default primary) exceed --memory-ceiling',
    expect: 'restarted, via failover for the primary',
    options: [ROLE],
    plan: (d) => ({ role: d.pick(ROLES) }),
    acts: always,
    failover: (o) => (o.role ?? 'primary') === 'primary',
    restarts: () => 1,
    recoveredByAdoption: false,
    async inject(paths, o) {
      const status = await armedStatus(paths, 'memory-hog');
      if (status.config.memoryCeilingBytes <= 0) {
        throw new OspsError('USAGE', `instance '${paths.name}' has no memory ceiling: start it with --memory-ceiling MB`);
      }
      const role = o.role ?? 'primary';
      const pid = await findPid(paths, role);
      const injectedAt = Date.now();
      signal(pid, 'SIGUSR2');
      return { role, pid, injectedAt, detail: `asked to allocate ballast past the ${status.config.memoryCeilingBytes / 1048576} MiB ceiling` };
    },
  },
  ...TREE_FAULTS,
  ...DISK_FAULTS,
} as const satisfies Record<string, FaultSpec>;

export type FaultName = keyof typeof FAULT_TABLE;
export const FAULTS = Object.keys(FAULT_TABLE) as FaultName[];

export function faultSpec(name: FaultName): FaultSpec {
  return FAULT_TABLE[name];
}

/** The help line of a fault: what it does and what the watchdog must do about it. */
export function faultHelp(name: FaultName): string {
  const f = faultSpec(name);
  return `${f.does} (expect: ${f.expect})`;
}

export async function injectFault(paths: RuntimePaths, fault: FaultName, opts: FaultOptions = {}): Promise<FaultRecord> {
  const done = await faultSpec(fault).inject(paths, opts);
  return { fault, ...done, endedAt: Date.now() };
}
