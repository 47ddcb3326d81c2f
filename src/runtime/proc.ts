import fs from 'node:fs';

/** Kernel start time of a pid (clock ticks since boot): a pid number alone can be reused. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(rest[19]);
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}

/** CPU time used (utime + stime, in USER_HZ ticks), start time (ticks since boot) and RSS of a pid; null when gone. */
export function processUsage(pid: number): { cpuTicks: number; startTicks: number; rssBytes: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rssKb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return { cpuTicks: Number(rest[11]) + Number(rest[12]), startTicks: Number(rest[19]), rssBytes: Number(rssKb ?? 0) * 1024 };
  } catch {
    return null;
  }
}

// The one liveness check of osps: every caller (watchdog, launcher, CLI, chaos, shm
// ownership) asks here, so they agree on what a zombie is.

/**
 * Alive and not a finished zombie: an orphan whose new parent never reaps it keeps its pid but
 * is dead. A SIGKILLed multi-threaded process shows 'Z' for its main thread while other
 * threads still hold its sockets: it is dead only once they are gone too.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (processState(pid) !== 'Z') return true;
  try {
    return fs.readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return false;
  }
}

/**
 * True when `pid` is alive and is still the process that had `startTime` (a pid number alone
 * can be reused). With no start time on record, only liveness can be checked.
 */
export function isSameProcess(pid: number, startTime: number | null): boolean {
  if (startTime !== null && processStartTime(pid) !== startTime) return false;
  return isAlive(pid);
}

export function processCmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Zombie or stopped state letter from /proc (R, S, D, T, Z …). */
export function processState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}
