// Faults of the disk under the primary's journal: full (writes fail with ENOSPC) and slow
// (each fdatasync delayed). Rows of the fault table; the primary obeys them only when the
// instance was started with --fault-injection.
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { OspsError } from '../errors.js';
import type { DiskFault } from '../journal/disk-faults.js';
import { diskFaultFile, type RuntimePaths } from '../runtime/paths.js';
import type { FaultSpec, OptionSpec } from './faults.js';
import { findPid, liveStatus } from './targets.js';

type Injected = Awaited<ReturnType<FaultSpec['inject']>>;

const FOR: OptionSpec = { key: 'forMs', flag: 'for', arg: 'ms', help: 'how long the fault lasts', range: [1, 3_600_000] };
const DELAY: OptionSpec = { key: 'delayMs', flag: 'delay', arg: 'ms', help: 'added before each journal fdatasync', range: [1, 60_000] };

/** Leaves the fault for the primary to find, waits it out, then takes it away. */
async function diskFault(paths: RuntimePaths, kind: DiskFault['kind'], forMs: number, delayMs?: number): Promise<Injected> {
  const status = await liveStatus(paths);
  if (!status.config.faultInjection) throw new OspsError('USAGE', `instance '${paths.name}' was not started with --fault-injection: ${kind} refused`);
  const pid = await findPid(paths, 'primary');
  const file = diskFaultFile(paths);
  const tmp = `${file}.${process.pid}`;
  const injectedAt = Date.now();
  const fault: DiskFault = { kind, untilMs: injectedAt + forMs, ...(delayMs !== undefined ? { delayMs } : {}) };
  // Whole or absent: the primary never reads half a file.
  fs.writeFileSync(tmp, JSON.stringify(fault), { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, file);
  try {
    await sleep(forMs);
  } finally {
    fs.rmSync(file, { force: true });
  }
  const what = kind === 'disk-full' ? 'journal writes failed with ENOSPC' : `each journal fdatasync delayed ${delayMs} ms`;
  return { role: 'primary', pid, injectedAt, detail: `${what} for ${forMs} ms` };
}

export const DISK_FAULTS = {
  'disk-full': {
    does: "make the primary's journal writes fail with ENOSPC for --for MS, as on a full disk",
    expect: 'writes answered UNAVAILABLE and not applied, reads served, then writable again; no failover',
    options: [FOR],
    plan: (_d, alarmMs) => ({ forMs: alarmMs }),
    acts: () => false,
    failover: () => false,
    restarts: () => 0,
    recoveredByAdoption: false,
    inject: (paths, o) => diskFault(paths, 'disk-full', o.forMs ?? 1000),
  },
  'slow-fsync': {
    does: "delay each of the primary's journal fdatasyncs by --delay MS, for --for MS",
    expect: 'writes slower, nothing acknowledged lost; no failover',
    options: [DELAY, FOR],
    plan: (_d, alarmMs) => ({ delayMs: Math.floor(alarmMs / 10), forMs: Math.floor(alarmMs * 1.5) }),
    acts: () => false,
    failover: () => false,
    restarts: () => 0,
    recoveredByAdoption: false,
    inject: (paths, o) => diskFault(paths, 'slow-fsync', o.forMs ?? 2000, o.delayMs ?? 50),
  },
} as const satisfies Record<string, FaultSpec>;
