import type { Config } from '../config.js';
import type { ShmRing } from '../ipc/shm-ring.js';
import { logLine } from '../log.js';
import { errorReply, isWrite, parseRequest, type Reply, type Request } from '../protocol/wire.js';
import type { RuntimePaths } from '../runtime/paths.js';
import type { Standby } from '../protocol/standby.js';
import type { KvStore } from '../store/kv-store.js';
import { ClientEndpoint, type Respond } from './endpoint.js';
import { Journal } from './journal.js';
import { Replicator } from './replicator.js';

export interface PrimaryDeps {
  cfg: Config;
  paths: RuntimePaths;
  ring: ShmRing;
  store: KvStore;
  epoch: number;
  journalFile: string;
  onStandby: (state: Standby, peerPid: number) => void;
  /** Called when the shm epoch moved past ours: we have been fenced. */
  onFenced: () => void;
}

/** The serving role: validates requests, answers reads, and sends writes through the replicator. */
export class Primary {
  private readonly endpoint: ClientEndpoint;
  private readonly replicator: Replicator;
  private readonly journal: Journal;

  constructor(private readonly d: PrimaryDeps) {
    this.journal = new Journal(d.journalFile, d.store);
    this.replicator = new Replicator({
      cfg: d.cfg,
      paths: d.paths,
      ring: d.ring,
      store: d.store,
      epoch: d.epoch,
      journal: this.journal,
      onStandby: d.onStandby,
    });
    this.endpoint = new ClientEndpoint(d.cfg.endpoint, d.cfg.maxFrameBytes, (f, r) => this.handle(f, r), () => this.stillPrimary());
  }

  get standby(): Standby {
    return this.replicator.standby;
  }

  get commitSeq(): number {
    return this.replicator.committedSeq;
  }

  get keys(): number {
    return this.d.store.keys;
  }

  /** Binds the client endpoint first: if it is taken, nothing else has been touched. */
  async start(bindRetryMs = 0): Promise<void> {
    await this.endpoint.bind(bindRetryMs);
    this.replicator.start();
  }

  private stillPrimary(): boolean {
    if (this.d.ring.epoch === this.d.epoch) return true;
    this.d.onFenced();
    return false;
  }

  private handle(frame: Buffer, respond: Respond): void {
    const parsed = parseRequest(frame, this.d.cfg.maxFrameBytes);
    if (!parsed.ok) return respond(parsed.reply);
    const req = parsed.req;
    try {
      if (isWrite(req.op)) {
        this.replicator.submit(req).then(respond, (err: Error) => respond(internal(req, err)));
        return;
      }
      if (req.op === 'ping') return respond({ id: req.id, ok: true, result: 'pong' });
      // Reads wait for in-flight writes to commit, so nothing read can be lost by a failover.
      this.replicator.barrier().then(
        () => respond(this.read(req)),
        (err: Error) => respond(internal(req, err)),
      );
    } catch (err) {
      respond(internal(req, err as Error));
    }
  }

  private read(req: Request): Reply {
    if (req.op === 'get') return { id: req.id, ok: true, result: this.d.store.get(req.key as string) };
    return {
      id: req.id,
      ok: true,
      result: {
        role: 'primary',
        epoch: this.d.epoch,
        commitSeq: this.replicator.committedSeq,
        keys: this.d.store.keys,
        standby: this.replicator.standby,
        pid: process.pid,
      },
    };
  }

  /** Graceful stop: stop taking requests, then sync the journal so a full restart keeps the data. */
  async stop(): Promise<void> {
    this.endpoint.close();
    await this.replicator.barrier();
    this.replicator.close();
    await this.journal.close();
  }

  /** Crash-only close used when fenced: the successor owns the data (and the journal). */
  abort(): void {
    this.endpoint.close();
    this.replicator.close();
    this.journal.abort();
  }
}

function internal(req: Request, err: Error): Reply {
  logLine('primary', 'internal-error', { id: req.id, error: err.message });
  return errorReply(req.id, 'INTERNAL', 'internal error; see the server log');
}
