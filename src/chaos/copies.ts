// Every copy of the state, compared at quiesce: what the primary serves, what the standby
// serves once it is promoted, what the journal rebuilds in a process of its own, and what a
// whole tree started again serves. Each is read over the same keys and fingerprinted.
import path from 'node:path';
import { execa } from 'execa';
import { Client } from '../client/client.js';
import { REPO_ROOT } from '../harness/tree.js';
import { stateDigest } from './digest.js';
import { CHAOS_PREFIX } from './scratch.js';
import type { FinalState } from './model.js';

export const REPLAY_MAIN = path.join(REPO_ROOT, 'dist', 'chaos', 'replay-journal.js');

/** Each copy's digest over the run's keys; a copy not taken is null. */
export interface CopyDigests {
  primary: string | null;
  standby: string | null;
  journal: string | null;
  restarted: string | null;
  /** Keys some copy disagrees on (with the primary's copy). */
  mismatches: number;
}

export function digestOf(copy: FinalState, keys: readonly string[]): string {
  return stateDigest(keys.map((k) => [k, copy[k]] as [string, string | null | undefined]));
}

/** Every key read with a fresh client (undefined: could not be read). */
export async function readBack(endpoint: string, keys: readonly string[]): Promise<FinalState> {
  const final: FinalState = {};
  const reader = new Client({ endpoint, requestTimeoutMs: 500, deadlineMs: 20_000 });
  try {
    for (let i = 0; i < keys.length; i += 256) {
      const batch = keys.slice(i, i + 256);
      const values = await Promise.all(batch.map((k) => reader.get(k).then((v) => v, () => undefined)));
      batch.forEach((k, j) => (final[k] = values[j]));
    }
  } finally {
    await reader.close();
  }
  return final;
}

/**
 * The journal of a stopped instance replayed by dist/chaos/replay-journal.js: its whole state.
 * execa here (a short-lived CLI process can afford it; the long-lived watchdog cannot): it
 * collects both streams and reports an exit by signal as plainly as one by code.
 */
export async function replayElsewhere(dataDir: string): Promise<{ state: Map<string, string>; digest: string; seq: number }> {
  const p = await execa(process.execPath, [REPLAY_MAIN, dataDir], { stdin: 'ignore', reject: false, maxBuffer: 1 << 30 });
  if (p.exitCode !== 0) throw new Error(`journal replay failed (${p.signal ?? `exit ${p.exitCode}`}): ${p.stderr.slice(-2000).trim()}`);
  try {
    const r = JSON.parse(p.stdout) as { state: [string, string][]; digest: string; seq: number };
    return { state: new Map(r.state), digest: r.digest, seq: r.seq };
  } catch (e) {
    throw new Error(`journal replay printed no state: ${(e as Error).message}`);
  }
}

/** The keys on which `other` disagrees with `base`, described (first few), and how many. */
export function compareCopies(label: string, base: FinalState, other: FinalState, keys: readonly string[]): { count: number; details: string[] } {
  const details: string[] = [];
  let count = 0;
  for (const k of keys) {
    const a = base[k];
    const b = other[k];
    if (a === b) continue;
    count++;
    if (details.length < 5) details.push(`${label}: ${k} is ${show(b)} there, ${show(a)} on the primary`);
  }
  return { count, details };
}

/** Injected keys that stayed behind in a copy: the injectors must delete theirs. */
export function leftoverInjected(state: Map<string, string>): string[] {
  return [...state.keys()].filter((k) => k.startsWith(CHAOS_PREFIX));
}

function show(v: string | null | undefined): string {
  return v === undefined ? 'unreadable' : v === null ? 'absent' : JSON.stringify(v.length > 24 ? `${v.slice(0, 24)}…` : v);
}
