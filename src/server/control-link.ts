import * as zmq from 'zeromq';
import { logLine } from '../log.js';
import { SendQueue } from '../net/send-queue.js';
import { decodeControl, encodeControl, type ServerToWatchdog, type WatchdogToServer } from '../protocol/control.js';

/**
 * The server's DEALER to the watchdog's ROUTER. Pings are answered from the event loop, so
 * a hung process (SIGSTOP, a busy loop) stops answering and trips the watchdog's alarm.
 * No ping for `orphanTimeoutMs` means the supervisor is gone: the server must not outlive it.
 */
export class ControlLink {
  private readonly socket: zmq.Dealer;
  private readonly out: SendQueue;
  lastPingAt = Date.now();
  private readonly orphanTimer: NodeJS.Timeout;
  private closed = false;

  constructor(
    endpoint: string,
    token: string,
    private readonly onMessage: (m: WatchdogToServer) => void,
    orphanTimeoutMs: number,
    onOrphaned: () => void,
    /** The socket failed while open: the watchdog can no longer reach us. */
    private readonly onFailure: (err: Error) => void,
  ) {
    this.socket = new zmq.Dealer({ routingId: token, linger: 200, reconnectInterval: 50, reconnectMaxInterval: 200 });
    this.socket.connect(endpoint);
    this.out = new SendQueue(this.socket);
    this.orphanTimer = setInterval(() => {
      if (Date.now() - this.lastPingAt > orphanTimeoutMs) onOrphaned();
    }, Math.min(1000, Math.max(50, orphanTimeoutMs / 10)));
    void this.receiveLoop();
  }

  send(m: ServerToWatchdog): void {
    this.out.send([encodeControl(m)]);
  }

  /**
   * Never rejects: a message whose handling throws is logged and the loop goes on; a failure
   * of the open socket itself is reported, not left as an unhandled rejection.
   */
  private async receiveLoop(): Promise<void> {
    try {
      for await (const [frame] of this.socket) {
        const m = frame ? decodeControl<WatchdogToServer>(frame) : null;
        if (!m) continue;
        if (m.t === 'ping') this.lastPingAt = Date.now();
        try {
          this.onMessage(m);
        } catch (err) {
          logLine('server', 'internal-error', { message: m.t, error: (err as Error).stack ?? String(err) });
        }
      }
    } catch (err) {
      if (!this.closed) this.onFailure(err as Error);
    }
  }

  /** Resolves once queued messages are with zeromq (linger then delivers them). */
  flush(): Promise<void> {
    return this.out.idle();
  }

  /** Lets queued messages (a final 'failed') leave before the socket closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.orphanTimer);
    this.socket.close();
  }
}
