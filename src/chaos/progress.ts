// What a chaos run says while it goes, on stderr: one line per fault; on a terminal also a
// status line, redrawn in place, with the fault count, the time spent and the findings so far.
export class Progress {
  private status = '';
  private readonly began = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private done_ = 0;
  private findings = 'invariants held so far';

  constructor(
    private readonly out: NodeJS.WritableStream | null,
    private readonly tty: boolean,
    private readonly total: number,
  ) {
    if (out && tty) {
      // The elapsed time moves even while one fault takes long to recover.
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref();
    }
  }

  /** A line that stays. */
  say(line: string): void {
    if (!this.out) return;
    this.clear();
    this.out.write(`osps chaos: ${line}\n`);
    this.draw();
  }

  /** Fault `i` (from 0) is done; `findings` sums up the invariants so far. */
  fault(i: number, line: string, findings: string): void {
    this.done_ = i + 1;
    this.findings = findings;
    this.say(line);
  }

  done(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  private draw(): void {
    if (!this.out || !this.tty || this.timer === null) return;
    const s = Math.round((Date.now() - this.began) / 1000);
    this.status = `${this.done_}/${this.total} faults done, ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} elapsed, ${this.findings}`;
    this.out.write(`\r\x1b[K${this.status}`);
  }

  private clear(): void {
    if (this.out && this.tty && this.status) this.out.write('\r\x1b[K');
    this.status = '';
  }
}
