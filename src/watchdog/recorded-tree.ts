import type { RuntimePaths } from '../runtime/paths.js';
import { destroyIpc } from './ipc-resources.js';
import { isAlive, isSameProcess } from '../runtime/proc.js';
import { readState } from './state-file.js';
import { scanInstance } from './instance-scan.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Stops what a dead watchdog recorded (servers, then a live watchdog if any), checking each
 * pid's start time so a reused pid is never signalled, then removes the IPC objects.
 */
export async function stopRecordedTree(paths: RuntimePaths, say: (line: string) => void): Promise<number> {
  const state = readState(paths.stateFile);
  let killed = 0;
  const targets = state
    ? [
        ...state.children.map((c) => ({ what: c.role, pid: c.pid, startTime: c.startTime })),
        { what: 'watchdog', pid: state.watchdogPid, startTime: state.watchdogStartTime },
      ]
    : [];
  // A server or watchdog of the instance that no state file names (it died mid-write) is stopped too.
  for (const p of scanInstance(paths, null, [process.pid, process.ppid])) {
    if (p.kind !== 'other' && !targets.some((t) => t.pid === p.pid)) targets.push({ what: p.role ?? p.kind, pid: p.pid, startTime: p.startTime });
  }
  for (const t of targets) {
    if (t.pid === process.pid || t.startTime === null || !isSameProcess(t.pid, t.startTime)) continue;
    try {
      process.kill(t.pid, 'SIGKILL');
      killed++;
      say(`killed ${t.what} pid ${t.pid}`);
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 3000;
  while (targets.some((t) => t.pid !== process.pid && isAlive(t.pid) && t.startTime !== null && isSameProcess(t.pid, t.startTime)) && Date.now() < deadline) {
    await sleep(20);
  }
  const removed = await destroyIpc(paths, null);
  for (const r of removed) say(`removed ${r}`);
  return killed;
}
