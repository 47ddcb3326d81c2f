import fs from 'node:fs';

/** The launcher's child processes: its watchdog, whichever is current (servers are the watchdog's). */
export function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
