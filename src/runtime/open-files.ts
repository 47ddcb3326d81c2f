import fs from 'node:fs';

/** RLIMIT_NOFILE of a process; Infinity for "unlimited". */
export interface OpenFileLimit {
  soft: number;
  hard: number;
}

/**
 * Read from /proc because Node has no getrlimit. Node itself raises its soft limit to the
 * hard one at startup, so in an osps process soft === hard: the hard limit is the bound on
 * client connections plus the descriptors the pair needs.
 */
export function openFileLimit(pid: number | 'self' = 'self'): OpenFileLimit {
  const text = fs.readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) throw new Error(`no "Max open files" line in /proc/${pid}/limits`);
  const num = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: num(m[1]!), hard: num(m[2]!) };
}
