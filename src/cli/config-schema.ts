// The schema of an osps config file (`osps start --config osps.json`), with valibot: one
// instance at the top level, or several under `instances` (top-level fields are then the
// defaults every instance starts from, as in an ecosystem file).
import * as v from 'valibot';
import { INSTANCE_NAME_PATTERN } from '../config.js';

const ms = (what: string) => v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86_400_000), v.description(`${what} (ms)`));
const count = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

/** Every field an instance may set; each maps to one Config field (or the runtime/data dir). */
export const INSTANCE_FIELDS = {
  name: v.pipe(v.string(), v.regex(INSTANCE_NAME_PATTERN, 'a name of letters, digits, _ . - (1..64 characters, not starting with . _ -)')),
  endpoint: v.pipe(v.string(), v.regex(/^(tcp|ipc):\/\/.+$/, 'tcp://HOST:PORT or ipc://PATH')),
  /** The service module the servers host (a path, relative to the file). */
  service: v.pipe(v.string(), v.minLength(1)),
  dataDir: v.pipe(v.string(), v.minLength(1)),
  /** The ROUTER's CURVE secret key file (a path, relative to the file). */
  curveSecretFile: v.pipe(v.string(), v.minLength(1)),
  insecureEndpoint: v.boolean(),
  runtimeDir: v.pipe(v.string(), v.minLength(1)),
  metrics: v.pipe(v.string(), v.regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'HOST:PORT on loopback, e.g. 127.0.0.1:9464')),
  /** The RESP front door (validated again, with its own words, when the start options are checked). */
  resp: v.pipe(v.string(), v.regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'HOST:PORT, e.g. 127.0.0.1:6380')),
  events: v.picklist(['text', 'json']),
  pingIntervalMs: ms('ping period'),
  alarmMs: ms('unanswered-ping alarm'),
  heartbeatMs: ms('server heartbeat period'),
  idleGcMs: ms('quiet time before a server compacts its heap after a burst of writes'),
  orphanTimeoutMs: ms('orphan timeout'),
  maxRestarts: count(0, 1000),
  restartWindowMs: ms('restart window'),
  readyTimeoutMs: ms('ready timeout'),
  stopTimeoutMs: ms('stop timeout'),
  writeDeadlineMs: ms('write deadline'),
  sampleIntervalMs: ms('sampling period'),
  ringBytes: count(4 * 1024 * 1024, 1 << 30),
  memoryCeilingBytes: count(0, Number.MAX_SAFE_INTEGER),
  maxFrameBytes: count(1024, 64 * 1024 * 1024),
  dedupWindow: count(1, 100_000_000),
  maxQueuedWrites: count(1, 100_000_000),
  adoptionPingMs: ms('adoption ping period'),
  standbyReleaseMs: ms('standby release wait'),
  lateMessageMs: ms('late-message window'),
  standbySpawnDelayMs: ms('standby spawn delay after a promotion'),
  standbyCooldownMs: ms('first standby cool-down'),
  standbyCooldownMaxMs: ms('longest standby cool-down'),
  watchdogBackoffMs: ms('first watchdog restart pause'),
  watchdogBackoffMaxMs: ms('longest watchdog restart pause'),
  logFileBytes: count(64 * 1024, 1 << 30),
  logFiles: count(1, 1000),
};

export type InstanceFields = { -readonly [K in keyof typeof INSTANCE_FIELDS]?: v.InferOutput<(typeof INSTANCE_FIELDS)[K]> };

const optionalFields = Object.fromEntries(Object.entries(INSTANCE_FIELDS).map(([k, s]) => [k, v.optional(s)])) as {
  [K in keyof typeof INSTANCE_FIELDS]: v.OptionalSchema<(typeof INSTANCE_FIELDS)[K], undefined>;
};

export const InstanceSchema = v.strictObject(optionalFields);

export const FileSchema = v.strictObject({
  $schema: v.optional(v.string()),
  ...optionalFields,
  instances: v.optional(v.pipe(v.array(v.strictObject({ ...optionalFields, name: INSTANCE_FIELDS.name })), v.minLength(1, 'at least one instance'))),
});

export type FileContents = v.InferOutput<typeof FileSchema>;
