import * as zmq from 'zeromq';
import { logLine } from '../log.js';
import { SendQueue } from '../net/send-queue.js';
import { type AdminReply, type AdminRequest, decodeAdminRequest } from '../protocol/admin.js';

/** The watchdog's admin socket: `osps status` and `osps stop` talk to it. */
export class ControlServer {
  private readonly socket = new zmq.Router({ linger: 100 });
  private readonly out = new SendQueue(this.socket);
  private closed = false;

  constructor(
    private readonly endpoint: string,
    private readonly handle: (req: AdminRequest) => AdminReply,
  ) {}

  async bind(): Promise<void> {
    await this.socket.bind(this.endpoint);
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const id = frames[0];
        const body = frames[frames.length - 1];
        if (!id || !body || frames.length < 2) continue;
        let reply: AdminReply;
        try {
          reply = this.handle(decodeAdminRequest(body));
        } catch (err) {
          reply = { ok: false, error: `bad admin request: ${(err as Error).message}` };
        }
        this.out.send([...frames.slice(0, -1), JSON.stringify(reply)]);
      }
    } catch (err) {
      // The admin socket failing must not take the supervisor down: say so, stop listening.
      if (!this.closed) logLine('watchdog', 'control-receive-failed', { error: (err as Error).message });
    }
  }

  flush(): Promise<void> {
    return this.out.idle();
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }
}
