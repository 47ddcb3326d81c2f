// Flags override the file: a start option the file sets is taken from the file unless it
// was given on the command line (or by its environment variable).
import type { Config } from '../config.js';
import type { InstanceFields } from './config-schema.js';
import type { ConfigOpts } from './options.js';

/** File field → start option, for the fields that have a flag in the same unit. */
const FLAG_OF: Partial<Record<keyof InstanceFields, keyof ConfigOpts>> = {
  name: 'name',
  endpoint: 'endpoint',
  dataDir: 'dataDir',
  runtimeDir: 'runtimeDir',
  service: 'service',
  metrics: 'metrics',
  resp: 'resp',
  curveSecretFile: 'curveSecret',
  insecureEndpoint: 'insecureEndpoint',
  events: 'events',
  pingIntervalMs: 'pingInterval',
  alarmMs: 'alarm',
  orphanTimeoutMs: 'orphanTimeout',
  maxRestarts: 'maxRestarts',
  restartWindowMs: 'restartWindow',
  readyTimeoutMs: 'readyTimeout',
  stopTimeoutMs: 'stopTimeout',
  writeDeadlineMs: 'writeDeadline',
  sampleIntervalMs: 'sampleInterval',
  ringBytes: 'ringBytes',
};

/** Config fields the file sets directly: no flag, or a flag in another unit (--memory-ceiling is MiB). */
const DIRECT: Partial<Record<keyof InstanceFields, keyof ConfigOpts>> = {
  memoryCeilingBytes: 'memoryCeiling',
  maxFrameBytes: undefined,
  dedupWindow: undefined,
  maxQueuedWrites: undefined,
  adoptionPingMs: undefined,
  heartbeatMs: undefined,
  idleGcMs: undefined,
  standbyReleaseMs: undefined,
  lateMessageMs: undefined,
  standbySpawnDelayMs: undefined,
  standbyCooldownMs: undefined,
  standbyCooldownMaxMs: undefined,
  watchdogBackoffMs: undefined,
  watchdogBackoffMaxMs: undefined,
  logFileBytes: undefined,
  logFiles: undefined,
};

export type FromCli = (option: keyof ConfigOpts) => boolean;

/** The start options with the file's values where no flag was given. */
export function mergeOptions<O extends ConfigOpts>(o: O, fields: InstanceFields, fromCli: FromCli): O {
  const out = { ...o } as unknown as Record<string, unknown>;
  for (const [field, flag] of Object.entries(FLAG_OF) as [keyof InstanceFields, keyof ConfigOpts][]) {
    if (fields[field] !== undefined && !fromCli(flag)) out[flag] = fields[field];
  }
  return out as unknown as O;
}

/** The resolved config with the file's flagless fields applied. */
export function applyDirect<C extends Config>(cfg: C, fields: InstanceFields, fromCli: FromCli): C {
  const out = { ...cfg } as unknown as Record<string, unknown>;
  for (const [field, flag] of Object.entries(DIRECT) as [keyof InstanceFields, keyof ConfigOpts | undefined][]) {
    if (fields[field] !== undefined && !(flag && fromCli(flag))) out[field] = fields[field];
  }
  return out as unknown as C;
}
