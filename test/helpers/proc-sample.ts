// What a live process holds, read from /proc: its open descriptors (by kind) and its
// mappings of POSIX shared memory. Linux only, like the rest of the integration tests.
import fs from 'node:fs';

export interface ProcSample {
  pid: number;
  /** Entries of /proc/PID/fd. */
  fds: number;
  /** Lines of /proc/PID/maps that map an object under /dev/shm. */
  shmMaps: number;
  /** fd count by kind (socket, pipe, anon_inode:[eventfd], /dev/shm, /proc/PID/stat, or a file path), for a diagnosis. */
  kinds: Record<string, number>;
}

function fdKind(target: string): string {
  const m = /^(socket|pipe|anon_inode):/.exec(target);
  if (m) return m[1] === 'anon_inode' ? target : (m[1] as string);
  if (target.startsWith('/dev/shm/')) return '/dev/shm';
  // One kind for every process's /proc file: a leak of those shows as one growing count.
  return target.replace(/^\/proc\/\d+\//, '/proc/PID/');
}

export function sampleProc(pid: number): ProcSample {
  const kinds: Record<string, number> = {};
  let fds = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed between readdir and readlink
    }
    fds++;
    const k = fdKind(target);
    kinds[k] = (kinds[k] ?? 0) + 1;
  }
  const shmMaps = fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter((l) => l.includes(' /dev/shm/')).length;
  return { pid, fds, shmMaps, kinds };
}

/** The kinds whose count grew from `before` to `after`, as `kind: a → b`. */
export function grownKinds(before: ProcSample, after: ProcSample): string[] {
  return Object.keys(after.kinds)
    .filter((k) => (after.kinds[k] ?? 0) > (before.kinds[k] ?? 0))
    .map((k) => `${k}: ${before.kinds[k] ?? 0} → ${after.kinds[k]}`);
}
