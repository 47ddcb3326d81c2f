/**
 * OTP-style restart intensity: more than `maxRestarts` restarts within `windowMs` means the
 * fault is not transient, and restarting again would only be a storm.
 */
export class RestartPolicy {
  private readonly times: number[] = [];

  constructor(
    private readonly maxRestarts: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a restart; returns false when the intensity is exceeded and we must give up. */
  allow(): boolean {
    const t = this.now();
    this.times.push(t);
    for (let oldest = this.times[0]; oldest !== undefined && oldest <= t - this.windowMs; oldest = this.times[0]) this.times.shift();
    return this.times.length <= this.maxRestarts;
  }

  get recent(): number {
    const t = this.now();
    return this.times.filter((x) => x > t - this.windowMs).length;
  }
}
