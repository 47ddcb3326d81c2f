// Injected disk faults (a full disk, a slow fsync) for the journal, read from a file the chaos
// command leaves in the runtime dir. Only a primary started with --fault-injection makes one.
import fs from 'node:fs';

export interface DiskFault {
  kind: 'disk-full' | 'slow-fsync';
  /** Epoch ms: the fault ends on its own then, even if nobody removes the file. */
  untilMs: number;
  /** slow-fsync: each fdatasync waits this long first. */
  delayMs?: number;
}

// A batch is written every turn: the file is read again at most this often.
const RECHECK_MS = 20;

export class DiskFaults {
  private readAt = 0;
  private current: DiskFault | null = null;

  constructor(private readonly file: string) {}

  /** An ENOSPC error while a disk-full fault lasts, else null. */
  full(): Error | null {
    if (this.active()?.kind !== 'disk-full') return null;
    return Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' });
  }

  /** How long the next fdatasync waits first (0 without a slow-fsync fault). */
  fsyncDelayMs(): number {
    const f = this.active();
    return f?.kind === 'slow-fsync' ? Math.max(0, f.delayMs ?? 0) : 0;
  }

  private active(): DiskFault | null {
    const now = Date.now();
    if (now - this.readAt >= RECHECK_MS) {
      this.readAt = now;
      this.current = readFault(this.file);
    }
    return this.current && this.current.untilMs > now ? this.current : null;
  }
}

function readFault(file: string): DiskFault | null {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const f = JSON.parse(fs.readFileSync(fd, 'utf8')) as DiskFault;
    return (f.kind === 'disk-full' || f.kind === 'slow-fsync') && typeof f.untilMs === 'number' ? f : null;
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}
