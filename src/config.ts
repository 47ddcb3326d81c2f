// Every timing constant and limit of osps, with its default, in one place.
// The CLI and the watchdog pass a resolved `Config` down to every process as JSON.
import { DEFAULT_ENDPOINT, DEFAULT_MAX_FRAME_BYTES } from './protocol/limits.js';

export { MAX_ID_CHARS, MAX_KEY_BYTES } from './protocol/limits.js';

export interface Config {
  /** Instance name: every FIFO, shm object and socket name derives from it. */
  name: string;
  /** Client endpoint the serving primary binds (ROUTER). */
  endpoint: string;
  /** Overrides the runtime dir ($XDG_RUNTIME_DIR/osps or /tmp/osps-<uid>). */
  runtimeRoot?: string;
  /** RESP front door HOST:PORT the serving primary also listens on; off when absent. */
  resp?: string;
  /** Absolute path of the service module the servers run (SERVICE.md); absent: the built-in key-value service. */
  service?: string;
  /** Persistent data: the primary's journal. */
  dataDir?: string;
  /** Watchdog → server ping period. */
  pingIntervalMs: number;
  /** A server silent this long (no heartbeat, no message; or a ping unanswered this long) is hung: fenced and replaced. */
  alarmMs: number;
  /** Each server's heartbeat period in the shm header: the alarm counts from the last one, so it fires within this of the alarm. */
  heartbeatMs: number;
  /** A server that hears no ping for this long concludes its supervisor is gone and exits. */
  orphanTimeoutMs: number;
  /** OTP-style restart intensity: more than `maxRestarts` within `restartWindowMs` → give up. */
  maxRestarts: number;
  restartWindowMs: number;
  /** Largest request frame, and largest replicated entry. */
  maxFrameBytes: number;
  /** Data bytes of the shm ring (power of two, ≥ 4 MiB so a 1 MiB entry always fits). */
  ringBytes: number;
  /** Client writes remembered for retries with the same id. */
  dedupWindow: number;
  /** A server that applied many writes and then none for this long collects its heap once (0 = never). */
  idleGcMs: number;
  /** A write that cannot be replicated (or journaled) within this long is answered UNAVAILABLE. */
  writeDeadlineMs: number;
  /** How long the watchdog waits for a child to become ready before counting it as failed. */
  readyTimeoutMs: number;
  /** Graceful stop budget before SIGKILL. */
  stopTimeoutMs: number;
  /** CPU/RSS sampling period (the watchdog reads /proc). */
  sampleIntervalMs: number;
  /** RSS above which a server is restarted gracefully (0 = no ceiling). */
  memoryCeilingBytes: number;
  /** Most requests in flight on the primary before new writes wait in its queue. */
  maxQueuedWrites: number;
  /** How the watchdog and launcher write events on stdout: a readable line, or one JSON object a line. */
  eventFormat: EventFormat;
  /** Ping period while a new watchdog learns the roles of the servers it adopts. */
  adoptionPingMs: number;
  /** Longest wait for the primary to report a dead standby's link closed before replacing it. */
  standbyReleaseMs: number;
  /** How long a dead server's last message (its failure cause) may trail its exit event. */
  lateMessageMs: number;
  /**
   * Longest wait, after a promotion, for the new primary to report its journal on disk before
   * the new standby is spawned: a Node start takes a core while the first writes wait on that journal.
   */
  standbySpawnDelayMs: number;
  /** First cool-down of a standby that keeps dying; it doubles up to `standbyCooldownMaxMs`. */
  standbyCooldownMs: number;
  standbyCooldownMaxMs: number;
  /** First pause before the launcher restarts a watchdog that keeps dying; it doubles up to the max (and orphanTimeoutMs / 4). */
  watchdogBackoffMs: number;
  watchdogBackoffMaxMs: number;
  /** The JSON-lines log in `<dataDir>/logs/`: a file is closed past this size… */
  logFileBytes: number;
  /** …and the dir keeps this many files, the oldest removed first. */
  logFiles: number;
  /** `HOST:PORT` of the Prometheus metrics and dashboard endpoint (loopback); off when unset. */
  metrics?: string;
  /** Absolute path of the ROUTER's CURVE secret key (Z85); the client endpoint is then a CURVE server. */
  curveSecretFile?: string;
  /** Serve a non-loopback tcp endpoint without CURVE: anyone who reaches the port may read and write. */
  insecureEndpoint: boolean;
  /** Arms the failure-injection hooks (ballast on SIGUSR2, watchdog die-at step, chaos data faults); off in production. */
  faultInjection: boolean;
}

export type EventFormat = 'text' | 'json';

export const DEFAULTS: Readonly<Config> = Object.freeze({
  name: 'default',
  endpoint: DEFAULT_ENDPOINT,
  pingIntervalMs: 1000,
  alarmMs: 3000,
  heartbeatMs: 50,
  orphanTimeoutMs: 10_000,
  maxRestarts: 5,
  restartWindowMs: 60_000,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  ringBytes: 16 * 1024 * 1024,
  dedupWindow: 100_000,
  idleGcMs: 2000,
  writeDeadlineMs: 5000,
  readyTimeoutMs: 10_000,
  stopTimeoutMs: 5000,
  sampleIntervalMs: 2000,
  memoryCeilingBytes: 0,
  maxQueuedWrites: 100_000,
  eventFormat: 'text',
  adoptionPingMs: 50,
  standbyReleaseMs: 2000,
  lateMessageMs: 300,
  standbySpawnDelayMs: 250,
  standbyCooldownMs: 5000,
  standbyCooldownMaxMs: 5 * 60_000,
  watchdogBackoffMs: 100,
  watchdogBackoffMaxMs: 5000,
  logFileBytes: 10 * 1024 * 1024,
  logFiles: 10,
  insecureEndpoint: false,
  faultInjection: false,
});

export const INSTANCE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function resolveConfig(partial: Partial<Config> = {}): Config {
  const cfg: Config = { ...DEFAULTS };
  for (const [k, v] of Object.entries(partial)) {
    if (v !== undefined) (cfg as unknown as Record<string, unknown>)[k] = v;
  }
  return cfg;
}
