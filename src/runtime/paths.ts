import { createHash } from 'node:crypto';
import path from 'node:path';
import { INSTANCE_NAME_PATTERN } from '../config.js';
import { OspsError } from '../errors.js';
import { MAX_UNIX_SOCKET_PATH, parseEndpoint } from './endpoint.js';

export { MAX_UNIX_SOCKET_PATH };

/** Every file and shm name of one instance; all derive from the name so cleanup is deterministic. */
export interface RuntimePaths {
  name: string;
  root: string;
  dir: string;
  lockFile: string;
  stateFile: string;
  eventsFile: string;
  p2sFifo: string;
  s2pFifo: string;
  /** zeromq ipc:// endpoint the watchdog pings servers on. */
  watchdogEndpoint: string;
  /** zeromq ipc:// endpoint for status/stop. */
  controlEndpoint: string;
  /** POSIX shm object name (flat namespace under /dev/shm). */
  shmName: string;
}

export function defaultRuntimeRoot(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'osps');
  return `/tmp/osps-${process.getuid?.() ?? 0}`;
}

export function validateInstanceName(name: string): void {
  if (!INSTANCE_NAME_PATTERN.test(name)) {
    throw new OspsError(
      'BAD_NAME',
      `invalid instance name '${name}': use 1-64 of A-Z a-z 0-9 _ . - (starting with a letter or digit)`,
    );
  }
}

export function runtimePaths(name: string, root: string = defaultRuntimeRoot()): RuntimePaths {
  validateInstanceName(name);
  const absRoot = path.resolve(root);
  const dir = path.join(absRoot, name);
  // The shm namespace is global: qualify by the runtime dir so two roots never collide.
  const tag = createHash('sha256').update(dir).digest('hex').slice(0, 10);
  const p: RuntimePaths = {
    name,
    root: absRoot,
    dir,
    lockFile: path.join(dir, 'launcher.lock'),
    stateFile: path.join(dir, 'state.json'),
    eventsFile: path.join(dir, 'events.jsonl'),
    p2sFifo: path.join(dir, 'p2s.fifo'),
    s2pFifo: path.join(dir, 's2p.fifo'),
    watchdogEndpoint: `ipc://${path.join(dir, 'watchdog.sock')}`,
    controlEndpoint: `ipc://${path.join(dir, 'control.sock')}`,
    shmName: `/osps-${name}-${tag}`,
  };
  for (const ep of [p.watchdogEndpoint, p.controlEndpoint]) {
    const sock = ep.slice('ipc://'.length);
    if (Buffer.byteLength(sock) > MAX_UNIX_SOCKET_PATH) {
      throw new OspsError(
        'PATH_TOO_LONG',
        `socket path ${sock} is ${Buffer.byteLength(sock)} bytes, over the ${MAX_UNIX_SOCKET_PATH}-byte unix socket limit: use a shorter --name or runtime dir`,
      );
    }
  }
  return p;
}

/**
 * Where a server leaves the reason it is about to exit: unlike a socket message, a file
 * survives the process's own exit (and a SIGKILL that overtakes it).
 */
export function lastWordsFile(paths: RuntimePaths, pid: number): string {
  return path.join(paths.dir, `last-words-${pid}.json`);
}

/** The primary's write-ahead journal in the data dir (see Journal). */
export function journalFile(dataDir: string): string {
  return path.join(dataDir, 'journal.bin');
}

export interface LastWords {
  reason: string;
  code: string | null;
}

/** Checks a client endpoint's form (see parseEndpoint); what the host allows is checkEndpointUsable's. */
export function checkEndpoint(endpoint: string): void {
  parseEndpoint(endpoint);
}

/** Where `osps chaos disk-full|slow-fsync` leaves the disk fault a primary started with --fault-injection obeys. */
export function diskFaultFile(paths: RuntimePaths): string {
  return path.join(paths.dir, 'disk-fault.json');
}
