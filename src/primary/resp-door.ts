// The RESP front door as the primary mounts it: Redis clients reach the same service through
// the same commit pipeline and read barrier as zeromq requests, so an OK over RESP also means
// the standby has the write.
import { setTimeout as sleep } from 'node:timers/promises';
import { requestDigest } from '../host/digest.js';
import type { ServiceHost } from '../host/host.js';
import { logLine } from '../log.js';
import { RespServer, type RespBackend, type RespInfo, type RespOps, type RespReply, type RespRequest } from '../resp/index.js';
import type { Standby } from '../protocol/standby.js';
import type { RespAddress } from '../runtime/resp-address.js';
import type { CommitPipeline } from './commit-pipeline.js';
import type { CounterBook } from './counter-book.js';

export interface RespDoorDeps {
  host: ServiceHost<unknown>;
  pipeline: CommitPipeline;
  epoch: number;
  /** False once fenced: a fenced primary must never answer again. */
  stillPrimary: () => boolean;
  /** Counts the error replies, for the metrics. */
  counters?: CounterBook;
  /** The standby's state for INFO, as of now. */
  standby: () => Standby;
}

/** A reply never sent: the fenced primary's exit closes the connection waiting for it. */
const NEVER = new Promise<RespReply>(() => {});

export class RespDoor implements RespBackend {
  private readonly server: RespServer;
  private cachedOps: RespOps | null = null;
  private closed = false;

  constructor(private readonly d: RespDoorDeps) {
    this.server = new RespServer(this, {
      onEvent: (e) => logLine('primary', 'resp-connection', { ...e }),
    });
  }

  /** Listens on the address; `retryMs` > 0 (promotion) retries EADDRINUSE while the fenced primary's port closes. */
  async mount(at: RespAddress, retryMs = 0): Promise<void> {
    const deadline = Date.now() + retryMs;
    for (;;) {
      try {
        await this.server.listen(at.host, at.port);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() >= deadline || this.closed) throw err;
        await sleep(20);
      }
    }
  }

  command(req: RespRequest): Promise<RespReply> {
    const argsJson = JSON.stringify(req.args);
    const cmd = { id: req.id, op: req.op, args: req.args, digest: requestDigest(req.op, argsJson) };
    return new Promise((resolve) => this.d.pipeline.enqueue(cmd, argsJson, (reply) => resolve(this.answer(reply))));
  }

  query(req: RespRequest): Promise<RespReply> {
    return this.d.pipeline.barrier().then(
      () => this.answer(this.d.host.query(req.op, req.args, req.id)),
      (err: Error) => this.internal(req, err),
    );
  }

  info(): RespInfo {
    return {
      role: 'primary',
      epoch: this.d.epoch,
      commitSeq: this.d.pipeline.committedSeq,
      standby: this.d.standby(),
      keys: this.d.host.keys(),
      service: this.d.host.name,
    };
  }

  /** The same object while the service is the same, so the front door keeps its command table. */
  ops(): RespOps {
    if (!this.cachedOps) {
      const desc = this.d.host.describe();
      this.cachedOps = { commands: desc.commands, queries: desc.queries };
    }
    return this.cachedOps;
  }

  close(): Promise<void> {
    this.closed = true;
    return this.server.close();
  }

  private answer(reply: RespReply): Promise<RespReply> | RespReply {
    if (this.closed || !this.d.stillPrimary()) return NEVER;
    if (!reply.ok) this.d.counters?.error(reply.error.code);
    return reply;
  }

  private internal(req: RespRequest, err: Error): Promise<RespReply> | RespReply {
    logLine('primary', 'internal-error', { id: req.id, error: err.message });
    return this.answer({ ok: false, error: { code: 'INTERNAL', message: 'internal error; see the server log' } });
  }
}
