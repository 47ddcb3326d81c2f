// Descriptors held in reserve (on /dev/null) so that a flood of client connections, which
// takes every free descriptor up to the limit, cannot stop us opening what the pair needs.
import fs from 'node:fs';

export class FdReserve {
  private fds: number[] = [];

  constructor(private readonly count: number) {
    this.fill();
  }

  get held(): number {
    return this.fds.length;
  }

  /**
   * Runs `open` with reserved descriptors freed for it one at a time, each just before an
   * attempt, and reserves again after. The transport's accept thread may take a freed slot
   * first (EMFILE): then the next one is freed and the open tried again.
   */
  use<T>(open: () => T): T {
    try {
      for (;;) {
        const fd = this.fds.pop();
        if (fd === undefined) return open();
        fs.closeSync(fd);
        try {
          return open();
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== 'EMFILE' && code !== 'ENFILE') throw err;
        }
      }
    } finally {
      this.fill();
    }
  }

  close(): void {
    for (const fd of this.fds.splice(0)) fs.closeSync(fd);
  }

  /** Takes back as many as are free now (call it now and then: clients that left free some). */
  topUp(): void {
    this.fill();
  }

  private fill(): void {
    while (this.fds.length < this.count) {
      try {
        this.fds.push(fs.openSync('/dev/null', 'r'));
      } catch {
        return;
      }
    }
  }
}
