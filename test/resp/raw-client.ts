// A raw TCP client for the RESP server tests: writes bytes, collects what comes back.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `cond` until it holds, failing after `timeoutMs`. */
export async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

export class RawClient {
  readonly socket: net.Socket;
  received = Buffer.alloc(0);
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until the replies received so far are `want` (or start with it). */
  async expect(want: string): Promise<void> {
    await until(`reply ${JSON.stringify(want.slice(0, 80))}, got ${JSON.stringify(this.text.slice(0, 80))}`, () => this.text.length >= want.length);
    if (!this.text.startsWith(want)) throw new Error(`expected ${JSON.stringify(want.slice(0, 200))}, got ${JSON.stringify(this.text.slice(0, 200))}`);
  }

  waitClosed(): Promise<void> {
    return until('the server to close the connection', () => this.closed);
  }

  close(): void {
    this.socket.destroy();
  }
}
