// How the chaos run reads the watchdog's events after a fault: what counts as trouble, as a
// detection, as a failover, and when the tree is recovered (served again, standby in sync).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Tree, TreeEvent } from '../harness/tree.js';
import type { EventName } from '../protocol/events.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { liveStatus } from './targets.js';

export const RECOVERY_BUDGET_MS = 15_000;

// Events that mean something is being repaired: recovery is only complete after an in-sync report that follows them.
const TROUBLE: ReadonlySet<EventName> = new Set<EventName>(['exited', 'repaired', 'ping-missed', 'detected', 'fenced', 'memory-ceiling', 'link-lost', 'promoted', 'respawned', 'spawned', 'give-up']);
const DETECTION: ReadonlySet<EventName> = new Set<EventName>(['exited', 'ping-missed', 'detected', 'memory-ceiling', 'link-lost', 'adopted']);

const TAKES_PRIMARY: ReadonlySet<EventName> = new Set<EventName>(['spawned', 'respawned', 'promoted', 'adopted']);

export function isTrouble(e: TreeEvent): boolean {
  return TROUBLE.has(e.event) || (e.event === 'standby' && e.fields.standby !== 'in-sync');
}

/** Trouble, or a successor watchdog taking over: the watchdog did something. */
export function isAction(e: TreeEvent): boolean {
  return isTrouble(e) || e.event === 'adopted';
}

export function isFailover(e: TreeEvent): boolean {
  return e.event === 'promoted' || (e.event === 'respawned' && e.fields.role === 'primary');
}

/** `+123ms exited(secondary 4567 signal SIGKILL)`: the time is relative to `base` (the injection). */
export function compact(e: TreeEvent, base: number): string {
  const f = e.fields;
  const parts = [f.role, f.pid].filter(Boolean).join(' ');
  const extra = e.event === 'standby' ? ` ${f.standby}` : f.cause ? ` ${f.cause}` : f.silentMs ? ` silent ${f.silentMs} ms` : '';
  return `+${e.at - base}ms ${e.event}(${parts}${extra})`;
}

export interface Recovery {
  recoveredAt: number | null;
  /** Index after the last event that belongs to this fault. */
  endIndex: number;
  detection: TreeEvent | null;
  why: string;
  /** The fault called for a reaction, none came, and the tree looks healthy. */
  undetected?: boolean;
}

/** What a recovery waits for: since when, and what the fault promised. */
export interface Awaited {
  /** When the fault's injection ended (recovery can only be judged after). */
  endedAt: number;
  /** Index of the first event that belongs to the fault. */
  mark: number;
  /** The watchdog must visibly act. */
  mustAct: boolean;
  /** Recovered once a successor watchdog adopted both servers. */
  byAdoption: boolean;
}

/** Served again, with a ready primary and a ready, in-sync standby, according to the watchdog. */
async function steady(paths: RuntimePaths, primaryPid: number): Promise<{ ok: boolean; line: string }> {
  try {
    const s = await liveStatus(paths);
    const p = s.processes.find((x) => x.role === 'primary');
    const sec = s.processes.find((x) => x.role === 'secondary');
    const line =
      `status: phase ${s.phase}, epoch ${s.epoch}, standby ${s.standby}; ` +
      s.processes.map((x) => `${x.role} ${x.pid} ${x.state}`).join(', ') +
      ` (the events say the primary is ${primaryPid})`;
    return { ok: s.phase === 'running' && s.standby === 'in-sync' && p?.state === 'ready' && p.pid === primaryPid && sec?.state === 'ready', line };
  } catch (err) {
    return { ok: false, line: `status: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** The first sign after `mark` that the watchdog noticed something. */
function detectionOf(tree: Tree, mark: number): TreeEvent | null {
  let primary = 0;
  for (let i = 0; i < tree.events.length; i++) {
    const e = tree.events[i] as TreeEvent;
    if (e.fields.role === 'primary' && TAKES_PRIMARY.has(e.event)) primary = Number(e.fields.pid);
    if (i < mark) continue;
    if (DETECTION.has(e.event)) return e;
    if (e.event === 'standby' && e.fields.standby === 'absent' && Number(e.fields.pid) === primary) return e;
  }
  return null;
}

/** When the events since the fault say it is dealt with, or null while they do not yet. */
function resolvedAt(since: TreeEvent[], primary: number, w: Awaited): number | null {
  let lastTrouble = -1;
  since.forEach((e, i) => {
    if (isTrouble(e)) lastTrouble = i;
  });
  const inSyncAfterTrouble = (): number | null => {
    const e = since.find((x, i) => i > lastTrouble && x.event === 'standby' && x.fields.standby === 'in-sync' && Number(x.fields.pid) === primary);
    return e ? e.at : null;
  };
  if (w.byAdoption && lastTrouble < 0) {
    // The successor adopts both servers; it owes no standby report unless something else broke.
    const p = since.find((e) => e.event === 'adopted' && e.fields.role === 'primary');
    const s = since.find((e) => e.event === 'adopted' && e.fields.role === 'secondary');
    return p && s ? Math.max(p.at, s.at) : null;
  }
  if (lastTrouble >= 0) return inSyncAfterTrouble();
  return !w.mustAct && Date.now() >= w.endedAt ? Date.now() : null;
}

/** Waits until the tree has recovered from what happened since `w.mark`, or the budget is spent. */
export async function waitRecovered(tree: Tree, w: Awaited): Promise<Recovery> {
  const deadline = Math.max(Date.now(), w.endedAt) + RECOVERY_BUDGET_MS;
  let lastStatus = '';
  const detection = (): TreeEvent | null => detectionOf(tree, w.mark);
  for (;;) {
    const n = tree.events.length;
    const since = tree.events.slice(w.mark, n);
    const primary = tree.pid('primary');
    const acted = since.some(isAction);
    const at = resolvedAt(since, primary, w);
    if (at !== null && (acted || !w.mustAct)) {
      const s = await steady(tree.paths, primary);
      lastStatus = s.line;
      // Still nothing new meanwhile (a late alarm would be this fault's doing, not the next one's).
      if (s.ok && tree.events.length === n) return { recoveredAt: at, endIndex: n, detection: detection(), why: '' };
      if (s.ok) continue;
    }
    if (tree.exited) {
      return { recoveredAt: null, endIndex: tree.events.length, detection: detection(), why: `the launcher exited (code ${tree.exited.code})` };
    }
    if (Date.now() > deadline) {
      const s = await steady(tree.paths, primary);
      lastStatus = s.line;
      if (w.mustAct && !acted && s.ok) {
        // Served throughout, but the fault had none of the effects it promises: a fault that
        // silently did nothing (or damage nobody noticed) is a finding of its own.
        return { recoveredAt: null, endIndex: tree.events.length, detection: detection(), why: `the watchdog never reacted (${lastStatus})`, undetected: true };
      }
      const why = `${w.mustAct && !acted ? 'the watchdog never reacted' : 'no ready primary with an in-sync standby'} (${lastStatus})`;
      return { recoveredAt: null, endIndex: tree.events.length, detection: detection(), why };
    }
    await sleep(25);
  }
}
