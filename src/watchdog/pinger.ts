import * as zmq from 'zeromq';
import { logLine } from '../log.js';
import { SendQueue } from '../net/send-queue.js';
import { decodeControl, encodeControl, type ServerToWatchdog, type WatchdogToServer } from '../protocol/control.js';

/**
 * The watchdog's ROUTER: servers connect with their token as routing id. Pings, commands
 * and the servers' answers all cross it; the alarm itself is the watchdog's business.
 */
export class Pinger {
  private readonly socket = new zmq.Router({ linger: 0, handover: true });
  private readonly out = new SendQueue(this.socket);
  private closed = false;

  constructor(
    private readonly endpoint: string,
    private readonly onMessage: (token: string, m: ServerToWatchdog) => void,
  ) {}

  async bind(): Promise<void> {
    await this.socket.bind(this.endpoint);
    void this.loop();
  }

  send(token: string, m: WatchdogToServer): void {
    this.out.send([token, encodeControl(m)]);
  }

  /**
   * Receives until the socket closes. A handler that throws is logged and the loop goes on:
   * one bad message must not cost the watchdog its ears. A receive error on an open socket
   * is logged once and ends the loop (the alarm then sees every server go silent).
   */
  private async loop(): Promise<void> {
    try {
      for await (const [id, frame] of this.socket) {
        if (!id || !frame) continue;
        const m = decodeControl<ServerToWatchdog>(frame);
        if (!m) continue;
        try {
          this.onMessage(id.toString(), m);
        } catch (err) {
          logLine('watchdog', 'message-handler-failed', { type: m.t, error: (err as Error).message });
        }
      }
    } catch (err) {
      if (!this.closed) logLine('watchdog', 'pinger-receive-failed', { error: (err as Error).message });
    }
  }

  close(): void {
    this.closed = true;
    this.out.close();
    this.socket.close();
  }
}
