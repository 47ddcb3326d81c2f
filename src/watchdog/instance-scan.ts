import fs from 'node:fs';
import path from 'node:path';
import type { Role } from '../protocol/control.js';
import { defaultRuntimeRoot, type RuntimePaths } from '../runtime/paths.js';
import { isAlive, processCmdline, processStartTime } from '../runtime/proc.js';

/** A live process that belongs to this instance, found in /proc rather than in a state file. */
export interface FoundProcess {
  pid: number;
  startTime: number | null;
  /** `server` = spawned with our name and runtime dir (role and token from its environment). */
  kind: 'server' | 'watchdog' | 'other';
  role: Role | null;
  token: string | null;
  why: string;
}

function pids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

function environ(pid: number): Map<string, string> | null {
  try {
    const env = new Map<string, string>();
    for (const kv of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) env.set(kv.slice(0, i), kv.slice(i + 1));
    }
    return env;
  } catch {
    return null; // not ours to read, or gone
  }
}

/** Same runtime dir (name and root, the root as that process resolved it): one of this instance. */
function isOurs(env: Map<string, string>, dir: string): boolean {
  const raw = env.get('OSPS_CONFIG');
  if (!raw) return false;
  try {
    const c = JSON.parse(raw) as { name?: unknown; runtimeRoot?: unknown };
    if (typeof c.name !== 'string') return false;
    const root = typeof c.runtimeRoot === 'string' ? c.runtimeRoot : defaultRuntimeRoot(Object.fromEntries(env));
    return path.join(path.resolve(root), c.name) === dir;
  } catch {
    return false;
  }
}

/** Inodes of the TCP sockets listening on `port` (IPv4 and IPv6). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is "ADDR:PORT"; state 0A = LISTEN; inode is field 9.
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A' && f[9]) inodes.add(f[9]);
    }
  }
  return inodes;
}

function holdsSocket(pid: number, inodes: Set<string>): boolean {
  if (inodes.size === 0) return false;
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] && inodes.has(m[1])) return true;
    }
  } catch {
    // gone, or not ours
  }
  return false;
}

function mapsShm(pid: number, shmName: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes(`/dev/shm${shmName}`);
  } catch {
    return false;
  }
}

/**
 * Every live process of the instance other than us and our launcher: servers and watchdogs
 * spawned with our name and runtime dir, and any other osps server mapping our shm object or
 * listening on our client port. A start that is not an adoption may reclaim only when this is empty.
 */
export function scanInstance(paths: RuntimePaths, endpoint: string | null, exclude: number[]): FoundProcess[] {
  const port = endpoint ? /^tcp:\/\/[^:]+:(\d+)$/.exec(endpoint)?.[1] : undefined;
  const inodes = port ? listeningInodes(Number(port)) : new Set<string>();
  const found: FoundProcess[] = [];
  for (const pid of pids()) {
    if (exclude.includes(pid)) continue;
    // Only an osps entry can be of this instance or serve its data: its command line, one
    // read, rules out every other process before its environment and state are read.
    const cmdline = processCmdline(pid);
    const entry = cmdline.find((a) => a.endsWith('/main.js')) ?? '';
    const anyServer = cmdline.some((a) => a.endsWith('server/main.js'));
    if ((!anyServer && !entry.endsWith('watchdog/main.js')) || !isAlive(pid)) continue;
    const env = environ(pid);
    const startTime = processStartTime(pid);
    if (env && isOurs(env, paths.dir)) {
      // The environment is inherited by whatever a server or watchdog runs (mkfifo, …): only
      // the entry itself counts as one.
      const token = env.get('OSPS_TOKEN') ?? null;
      const role = env.get('OSPS_ROLE');
      if (token && (role === 'primary' || role === 'secondary') && entry.endsWith('server/main.js')) {
        found.push({ pid, startTime, kind: 'server', role, token, why: `${role} of this instance` });
        continue;
      }
      if (env.has('OSPS_LAUNCHER_PID') && entry.endsWith('watchdog/main.js')) {
        found.push({ pid, startTime, kind: 'watchdog', role: null, token: null, why: 'a watchdog of this instance' });
        continue;
      }
    }
    // Only an osps server counts: it could be serving our data. A reader of the ring (a chaos
    // tool, a test) keeps its own mapping when the object is replaced, and a stranger on the
    // port is not ours to protect (the primary's bind fails and the give-up names the endpoint).
    if (!anyServer) continue;
    if (mapsShm(pid, paths.shmName)) found.push({ pid, startTime, kind: 'other', role: null, token: null, why: `an osps server mapping ${paths.shmName}` });
    else if (holdsSocket(pid, inodes)) found.push({ pid, startTime, kind: 'other', role: null, token: null, why: `an osps server listening on ${endpoint}` });
  }
  return found;
}
