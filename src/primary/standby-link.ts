import type { Config } from '../config.js';
import { FifoReader, FifoWriter } from '../ipc/fifo.js';
import { logLine } from '../log.js';
import { decodeLink, encodeLink } from '../protocol/replication.js';
import { FdReserve } from '../runtime/fd-reserve.js';
import type { RuntimePaths } from '../runtime/paths.js';

const CHECK_INTERVAL_MS = 100;
// Descriptors kept for the FIFOs of a re-pair: more than the one an open needs, since the
// client transport's accept thread may take a freed one first.
const RESERVED_FDS = 16;

export interface StandbyLinkEvents {
  /** A standby said hello on s2p. */
  hello(pid: number): void;
  ack(upTo: number): void;
  /** The link broke or misbehaved; it has been dropped and listens again. */
  lost(reason: string): void;
}

/**
 * The primary's end of the two FIFOs to the standby: listens for a hello on s2p, opens p2s
 * when asked, rings the doorbell, and reports acks and every way the link can break.
 */
export class StandbyLink {
  private s2p: FifoReader | null = null;
  private p2s: FifoWriter | null = null;
  private listenFailed = false;
  private closed = false;
  private readonly check: NodeJS.Timeout;
  private readonly reserve = new FdReserve(RESERVED_FDS);
  private readonly opening = <T>(open: () => T): T => this.reserve.use(open);

  constructor(
    private readonly paths: RuntimePaths,
    private readonly cfg: Config,
    private readonly ev: StandbyLinkEvents,
  ) {
    this.check = setInterval(() => this.checkLinks(), CHECK_INTERVAL_MS);
    this.check.unref();
  }

  listen(): void {
    if (this.closed || this.s2p) return;
    let reader: FifoReader;
    try {
      reader = FifoReader.open(this.paths.s2pFifo, { maxFrameBytes: 4096, opening: this.opening });
    } catch (err) {
      // The FIFO is gone (unlinked): the watchdog recreates it before it spawns a standby;
      // checkLinks retries until then.
      if (!this.listenFailed) logLine('primary', 'listen-failed', { error: (err as Error).message });
      this.listenFailed = true;
      return;
    }
    this.listenFailed = false;
    this.s2p = reader;
    reader.on('frame', (frame) => {
      const m = decodeLink(frame);
      if (!m) return this.ev.lost('bad frame on s2p');
      if (m.t === 'hello') this.ev.hello(m.pid);
      else if (m.t === 'ack') this.ev.ack(m.upTo);
    });
    reader.on('peer-gone', (reason) => this.ev.lost(`s2p ${reason}`));
    reader.on('protocol-error', (err) => this.ev.lost(`s2p ${err.code}`));
  }

  /** Opens the doorbell FIFO to the standby that said hello. */
  async connect(): Promise<void> {
    const p2s = await FifoWriter.open(this.paths.p2sFifo, { maxFrameBytes: 4096, timeoutMs: this.cfg.readyTimeoutMs, opening: this.opening });
    if (this.closed) {
      p2s.close();
      throw new Error('link closed');
    }
    this.p2s = p2s;
    p2s.on('peer-gone', (reason) => this.ev.lost(`p2s ${reason}`));
  }

  doorbell(upTo: number): void {
    this.p2s?.write(encodeLink({ t: 'doorbell', upTo }));
  }

  /** Lets go of both ends and listens for the next standby. */
  drop(): void {
    this.s2p?.close();
    this.p2s?.close();
    this.s2p = null;
    this.p2s = null;
    this.listen();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.check);
    this.reserve.close();
    this.s2p?.close();
    this.p2s?.close();
    this.s2p = null;
    this.p2s = null;
  }

  /**
   * An unlinked or replaced FIFO breaks no open end, so nothing reports it; but no new
   * standby could reach us through it. Checked periodically: treated as losing the standby.
   */
  private checkLinks(): void {
    if (this.closed) return;
    // A re-pair under a flood may have left the reserve short: take back what is free.
    this.reserve.topUp();
    if (!this.s2p) return this.listen();
    const moved = !this.s2p.stillAtPath() ? 's2p' : this.p2s && !this.p2s.stillAtPath() ? 'p2s' : null;
    if (moved) this.ev.lost(`${moved} FIFO unlinked or replaced at its path`);
  }
}
