// The last divergence a standby found, noted in the data dir so that the primary's `info`
// can report it (the standby that found it is gone by then).
import fs from 'node:fs';
import path from 'node:path';
import type { Divergence } from './host.js';

export interface DivergenceNote extends Divergence {
  /** When it was found (ms since the epoch), and by which standby. */
  at: number;
  pid: number;
}

const FILE = 'diverged.json';

export function writeDivergence(dataDir: string, d: Divergence): void {
  const note: DivergenceNote = { ...d, at: Date.now(), pid: process.pid };
  try {
    fs.writeFileSync(path.join(dataDir, FILE), JSON.stringify(note), { mode: 0o600 });
  } catch {
    // the event and the exit still report it
  }
}

export function readDivergence(dataDir: string | undefined): DivergenceNote | null {
  if (!dataDir) return null;
  try {
    return JSON.parse(fs.readFileSync(path.join(dataDir, FILE), 'utf8')) as DivergenceNote;
  } catch {
    return null;
  }
}
