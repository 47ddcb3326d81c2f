// One RESP client connection: pipelined requests run at once, replies go out in request
// order, and everything it can make the server hold is bounded (limits.ts): a protocol
// error or QUIT closes it after the replies before; a client that does not read its
// replies is disconnected once they pass maxOutputBytes.
import type net from 'node:net';
import type { CommandTable } from './commands.js';
import * as enc from './encoder.js';
import { CLOSE_GRACE_MS, REQUEST_COST_BYTES, type RespServerLimits } from './limits.js';
import { RespParser } from './parser.js';
import type { Ctx, Session } from './spec.js';

interface Slot {
  reply: Buffer | null;
}

export type CloseReason = 'end' | 'quit' | 'protocol' | 'output-limit' | 'error' | 'server';

export class RespConnection {
  private readonly parser: RespParser;
  private readonly ctx: Ctx;
  /** Replies not yet written, in request order; null until the request is answered. */
  private readonly slots: Slot[] = [];
  private head = 0;
  private inflightCost = 0;
  /** No more requests are read; the connection ends once the slots are written. */
  private closing = false;
  private closed = false;
  private corked = false;
  private ending = false;
  reason: CloseReason = 'end';

  constructor(
    private readonly socket: net.Socket,
    private readonly table: CommandTable,
    private readonly limits: RespServerLimits,
    readonly session: Session,
    private readonly onClose: (c: RespConnection) => void,
  ) {
    this.parser = new RespParser(limits);
    this.ctx = table.context(session);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.parser.push(chunk);
      this.pump();
    });
    socket.on('drain', () => this.pump());
    socket.on('error', () => this.finish('error'));
    socket.on('close', () => this.finish(this.reason));
  }

  /** Requests awaiting an answer. */
  get pending(): number {
    return this.slots.length - this.head;
  }

  /** Closes now, replies unwritten or not. */
  destroy(reason: CloseReason): void {
    this.reason = reason;
    this.socket.destroy();
    this.finish(reason);
  }

  /** Reads and runs requests while the budgets allow, then pauses or resumes reading. */
  private pump(): void {
    if (this.closed) return; // a gone client's pipelined requests are not run
    while (!this.closing && this.inflightCost < this.limits.maxInflightBytes && !this.socket.writableNeedDrain) {
      const args = this.parser.next();
      if (args === null) break;
      this.dispatch(args, this.parser.lastRequestBytes + REQUEST_COST_BYTES * args.length);
    }
    if (!this.closing && this.parser.error !== null) {
      this.enqueue(enc.error(`ERR ${this.parser.error}`));
      this.endAfterReplies('protocol');
    }
    if (this.closed) return;
    const blocked = this.closing || this.inflightCost >= this.limits.maxInflightBytes || this.socket.writableNeedDrain;
    if (blocked) this.socket.pause();
    else this.socket.resume();
  }

  private dispatch(args: Buffer[], cost: number): void {
    const out = this.table.run(args, this.ctx);
    if (!(out instanceof Promise)) this.enqueue(out);
    else {
      const slot: Slot = { reply: null };
      this.slots.push(slot);
      this.inflightCost += cost;
      void out.then((reply) => {
        this.inflightCost -= cost;
        if (this.closed) return;
        slot.reply = reply;
        this.flush();
        this.pump();
      });
    }
    if (this.session.closeAfterReply) this.endAfterReplies('quit');
  }

  private enqueue(reply: Buffer): void {
    if (this.head === this.slots.length) this.write(reply);
    else this.slots.push({ reply });
  }

  private endAfterReplies(reason: CloseReason): void {
    this.closing = true;
    this.reason = reason;
    this.flush();
  }

  /** Writes the answered replies at the head of the queue. */
  private flush(): void {
    while (this.head < this.slots.length) {
      const reply = (this.slots[this.head] as Slot).reply;
      if (reply === null) break;
      this.head++;
      this.write(reply);
      if (this.closed) return;
    }
    if (this.head === this.slots.length) {
      this.slots.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
    if (this.closing && !this.ending && this.head === this.slots.length && !this.closed) {
      this.ending = true;
      const reason = this.reason;
      this.socket.end(() => this.destroy(reason));
      setTimeout(() => this.destroy(reason), CLOSE_GRACE_MS).unref();
    }
  }

  private write(reply: Buffer): void {
    if (this.closed) return;
    // Replies completed in one turn of the event loop leave in one write.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(reply);
    if (this.socket.writableLength > this.limits.maxOutputBytes) this.destroy('output-limit');
  }

  private finish(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.reason = reason;
    this.slots.length = 0;
    this.head = 0;
    this.onClose(this);
  }
}
