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
   * Runs `open` with the reserve released just before it, in the same turn, and reserves
   * again after. The transport's accept thread may take a few of the freed slots in between:
   * the reserve is larger than what one open needs for that reason.
   */
  use<T>(open: () => T): T {
    for (const fd of this.fds.splice(0)) fs.closeSync(fd);
    try {
      return open();
    } finally {
      this.fill();
    }
  }

  close(): void {
    for (const fd of this.fds.splice(0)) fs.closeSync(fd);
  }

  /** Takes back as many as are free now; a later call tops it up once clients have gone. */
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
