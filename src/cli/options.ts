import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULTS, resolveConfig, type Config, type EventFormat } from '../config.js';
import { OspsError } from '../errors.js';
import { parseMetricsAddress } from '../observe/address.js';
import { checkEndpoint, defaultRuntimeRoot, runtimePaths, type RuntimePaths } from '../runtime/paths.js';
import { parseRespAddress } from '../runtime/resp-address.js';

export function intArg(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/** --name and --runtime-dir: how every command finds an instance. */
export function instanceOptions(cmd: Command): Command {
  return cmd
    .option('-n, --name <name>', 'instance name', DEFAULTS.name)
    .addOption(new Option('--runtime-dir <dir>', 'runtime root (default $XDG_RUNTIME_DIR/osps or /tmp/osps-<uid>)').env('OSPS_RUNTIME_DIR'));
}

export interface InstanceOpts {
  name: string;
  runtimeDir?: string;
}

export function pathsFrom(o: InstanceOpts): RuntimePaths {
  return runtimePaths(o.name, o.runtimeDir ?? defaultRuntimeRoot());
}

export function defaultDataDir(name: string): string {
  const base = process.env.XDG_DATA_HOME && path.isAbsolute(process.env.XDG_DATA_HOME)
    ? process.env.XDG_DATA_HOME
    : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'osps', name);
}

/** The start command's tunables; each maps to one Config field with its default. */
export function configOptions(cmd: Command): Command {
  const ms = intArg(1, 86_400_000);
  return cmd
    .option('-e, --endpoint <url>', 'client endpoint (tcp://HOST:PORT or ipc://PATH)', DEFAULTS.endpoint)
    .option('--resp <host:port>', 'also serve the Redis protocol on HOST:PORT, such as 127.0.0.1:6380 (off by default)')
    .option('--data-dir <dir>', 'journal directory (default $XDG_DATA_HOME/osps/<name>)')
    .option('--ping-interval <ms>', 'watchdog ping period', ms, DEFAULTS.pingIntervalMs)
    .option('--alarm <ms>', 'unanswered-ping alarm: a server silent this long is hung', ms, DEFAULTS.alarmMs)
    .option('--orphan-timeout <ms>', 'servers exit after this long without a ping', ms, DEFAULTS.orphanTimeoutMs)
    .option('--max-restarts <n>', 'restart intensity: give up after more than N restarts…', intArg(0, 1000), DEFAULTS.maxRestarts)
    .option('--restart-window <ms>', '…within this window', ms, DEFAULTS.restartWindowMs)
    .option('--ready-timeout <ms>', 'how long a new server may take to come up', ms, DEFAULTS.readyTimeoutMs)
    .option('--stop-timeout <ms>', 'graceful stop budget', ms, DEFAULTS.stopTimeoutMs)
    .option('--write-deadline <ms>', 'a write not replicated within this long is answered UNAVAILABLE', ms, DEFAULTS.writeDeadlineMs)
    .option('--ring-bytes <n>', 'shm ring data size (power of two, >= 4 MiB)', intArg(4 * 1024 * 1024, 1 << 30), DEFAULTS.ringBytes)
    .option('--memory-ceiling <mb>', 'restart a server whose RSS exceeds this (0 = off)', intArg(0, 1 << 20), 0)
    .option('--sample-interval <ms>', 'CPU/RSS sampling period', ms, DEFAULTS.sampleIntervalMs)
    .option('--service <path>', 'the service module the servers host (default: the built-in key-value store)')
    .option('--metrics <host:port>', 'serve Prometheus metrics and the dashboard here (loopback, e.g. 127.0.0.1:9464; off by default)')
    .option('--curve-secret <file>', 'CURVE secret key file (osps curve-keys): clients must know the server key to connect')
    .option('--insecure-endpoint', 'serve a non-loopback tcp endpoint without CURVE: anyone who reaches the port can read and write', false)
    .option('--fault-injection', 'arm the failure-injection hooks osps chaos uses (never in production)', false)
    .addOption(new Option('--events <format>', 'event lines on stdout: text for people, json (one object a line) for programs').choices(['text', 'json']).default(DEFAULTS.eventFormat));
}

export interface ConfigOpts extends InstanceOpts {
  endpoint: string;
  resp?: string;
  dataDir?: string;
  pingInterval: number;
  alarm: number;
  orphanTimeout: number;
  maxRestarts: number;
  restartWindow: number;
  readyTimeout: number;
  stopTimeout: number;
  writeDeadline: number;
  ringBytes: number;
  memoryCeiling: number;
  sampleInterval: number;
  events: EventFormat;
  metrics?: string;
  service?: string;
  faultInjection?: boolean;
  curveSecret?: string;
  insecureEndpoint?: boolean;
}

export function configFrom(o: ConfigOpts): Config & { dataDir: string } {
  checkEndpoint(o.endpoint);
  if (o.resp !== undefined) parseRespAddress(o.resp);
  if ((o.ringBytes & (o.ringBytes - 1)) !== 0) throw new OspsError('USAGE', `--ring-bytes ${o.ringBytes} is not a power of two`);
  if (o.alarm <= o.pingInterval) throw new OspsError('USAGE', `--alarm (${o.alarm} ms) must be longer than --ping-interval (${o.pingInterval} ms)`);
  if (o.orphanTimeout <= o.pingInterval) throw new OspsError('USAGE', `--orphan-timeout must be longer than --ping-interval`);
  if (o.metrics !== undefined) checkMetrics(o.metrics);
  const service = o.service === undefined ? undefined : path.resolve(o.service);
  const paths = pathsFrom(o);
  const cfg: Partial<Config> = {
    name: o.name,
    endpoint: o.endpoint,
    resp: o.resp,
    runtimeRoot: paths.root,
    pingIntervalMs: o.pingInterval,
    alarmMs: o.alarm,
    orphanTimeoutMs: o.orphanTimeout,
    maxRestarts: o.maxRestarts,
    restartWindowMs: o.restartWindow,
    readyTimeoutMs: o.readyTimeout,
    stopTimeoutMs: o.stopTimeout,
    writeDeadlineMs: o.writeDeadline,
    ringBytes: o.ringBytes,
    memoryCeilingBytes: o.memoryCeiling * 1024 * 1024,
    sampleIntervalMs: o.sampleInterval,
    eventFormat: o.events,
    metrics: o.metrics,
    service,
    faultInjection: !!o.faultInjection,
    curveSecretFile: o.curveSecret === undefined ? undefined : path.resolve(o.curveSecret),
    insecureEndpoint: !!o.insecureEndpoint,
  };
  return { ...resolveConfig(cfg), dataDir: path.resolve(o.dataDir ?? defaultDataDir(o.name)) };
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

/** `--metrics`: HOST:PORT on loopback (the endpoint has no authentication). */
export function checkMetrics(address: string): void {
  const addr = parseMetricsAddress(address);
  if (!addr) throw new OspsError('USAGE', `--metrics ${JSON.stringify(address)}: expected HOST:PORT, e.g. 127.0.0.1:9464`);
  if (!LOOPBACK.test(addr.host)) throw new OspsError('USAGE', `--metrics ${address}: only a loopback host (127.0.0.1, ::1, localhost) is served; the endpoint has no authentication`);
}

/** Checks between fields that only a config file sets (flags cannot break them). */
export function checkConfig(cfg: Config): void {
  if (cfg.standbyCooldownMaxMs < cfg.standbyCooldownMs) throw new OspsError('USAGE', `standbyCooldownMaxMs (${cfg.standbyCooldownMaxMs}) must be at least standbyCooldownMs (${cfg.standbyCooldownMs})`);
  if (cfg.heartbeatMs >= cfg.alarmMs) throw new OspsError('USAGE', `heartbeatMs (${cfg.heartbeatMs}) must be shorter than the alarm (${cfg.alarmMs})`);
  if (cfg.watchdogBackoffMaxMs < cfg.watchdogBackoffMs) throw new OspsError('USAGE', `watchdogBackoffMaxMs (${cfg.watchdogBackoffMaxMs}) must be at least watchdogBackoffMs (${cfg.watchdogBackoffMs})`);
}
