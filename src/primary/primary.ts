import type { Config } from '../config.js';
import { requestDigest } from '../host/digest.js';
import type { ServiceHost } from '../host/host.js';
import { TimerDriver } from '../host/timer-driver.js';
import { DIGEST_OP, timerCommand } from '../host/timers.js';
import { DigestDriver } from '../host/digest-driver.js';
import { readDivergence } from '../host/divergence-note.js';
import type { ShmRing } from '../ipc/shm-ring.js';
import { Journal } from '../journal/journal.js';
import { DiskFaults } from '../journal/disk-faults.js';
import type { Replayed } from '../journal/replay.js';
import { logLine } from '../log.js';
import type { ServerCounters } from '../protocol/server-metrics.js';
import type { Standby } from '../protocol/standby.js';
import { errorReply, kvArgs, parseRequest, type Json, type Reply, type Request } from '../protocol/wire.js';
import { diskFaultFile, type RuntimePaths } from '../runtime/paths.js';
import { isAlive } from '../runtime/proc.js';
import { parseRespAddress } from '../runtime/resp-address.js';
import { CommitPipeline } from './commit-pipeline.js';
import { CounterBook } from './counter-book.js';
import { ClientEndpoint, type Respond } from './endpoint.js';
import type { RespDoor } from './resp-door.js';

export interface PrimaryDeps {
  cfg: Config;
  /** The client endpoint's CURVE secret key (Z85); absent: no authentication. */
  curveSecretKey?: string;
  paths: RuntimePaths;
  ring: ShmRing;
  host: ServiceHost<unknown>;
  epoch: number;
  journalFile: string;
  /** The journal file as the replay at start read it (absent after a promotion). */
  replayed?: { r: Replayed; seq: number } | null;
  onStandby: (state: Standby, peerPid: number) => void;
  /** Called when the shm epoch moved past ours: we have been fenced. */
  onFenced: () => void;
  /** The client endpoint failed: this process can no longer serve. */
  onFailed: (reason: string) => void;
}

/**
 * The serving role, the front door: validates requests, turns them into service ops, sends
 * commands through the commit pipeline and answers queries once what they could see is
 * committed.
 */
export class Primary {
  private readonly endpoint: ClientEndpoint;
  private readonly pipeline: CommitPipeline;
  /** Fires due timers as entries through the pipeline, like commands. */
  private readonly timers: TimerDriver;
  /** Asks the standby to compare state digests at one commit point. */
  private digests: DigestDriver | null = null;
  private readonly journal: Journal;
  private respDoor: RespDoor | null = null;
  /** Writes and errors since this process began serving, for the metrics. */
  private readonly book = new CounterBook();
  /** Settles once the journal's first file is in place (undefined) or was abandoned (the error). */
  journaled: Promise<Error | undefined> = new Promise(() => {});

  constructor(private readonly d: PrimaryDeps) {
    this.journal = new Journal(d.journalFile, d.host, undefined, d.cfg.faultInjection ? new DiskFaults(diskFaultFile(d.paths)) : null);
    if (d.replayed) this.journal.resumeFrom(d.replayed.r, d.replayed.seq);
    this.pipeline = new CommitPipeline({
      cfg: d.cfg,
      paths: d.paths,
      ring: d.ring,
      host: d.host,
      epoch: d.epoch,
      journal: this.journal,
      counters: this.book,
      // A standby that has just come in sync compares digests with us at once.
      onStandby: (state, pid) => {
        if (state === 'in-sync') this.digests?.tick();
        d.onStandby(state, pid);
      },
    });
    this.timers = new TimerDriver(d.host, (id) => this.pipeline.submit(timerCommand(id), 'null'));
    this.endpoint = new ClientEndpoint(d.cfg.endpoint, d.cfg.maxFrameBytes, (f, r) => this.handle(f, r), () => this.stillPrimary(), (err) =>
      d.onFailed(`client endpoint failed: ${err.message}`),
    d.curveSecretKey, this.book);
  }

  get standby(): Standby {
    return this.pipeline.standby;
  }

  /**
   * The standby for a reader (INFO): one whose process is gone is absent even before the end
   * of its FIFO reaches us. A syscall and a /proc read: not for the write path.
   */
  get standbyNow(): Standby {
    const p = this.pipeline;
    return p.standby !== 'absent' && p.standbyPid > 0 && !isAlive(p.standbyPid) ? 'absent' : p.standby;
  }

  get commitSeq(): number {
    return this.pipeline.committedSeq;
  }

  /** The totals for the watchdog's metrics; takes the fsync durations measured since the last call. */
  counters(): ServerCounters {
    return {
      writesByOp: this.book.writesByOp,
      errorsByCode: this.book.errorsByCode,
      commitSeq: this.pipeline.committedSeq,
      replicationLag: this.lag(),
      fsyncMs: this.journal.fsyncs.take(),
    };
  }

  /** Entries published to the ring and not acknowledged, and ring bytes the standby has not released. */
  private lag(): { entries: number; bytes: number } {
    const ring = this.d.ring;
    if (this.pipeline.standby === 'absent') return { entries: 0, bytes: 0 };
    return { entries: Math.max(0, ring.writeSeq - ring.ackSeq), bytes: (ring.head - ring.tail) >>> 0 };
  }

  /** Binds the client endpoint first: if it is taken, nothing else has been touched. */
  async start(bindRetryMs = 0): Promise<void> {
    await this.endpoint.bind(bindRetryMs);
    this.journaled = this.pipeline.start();
    this.timers.start();
    this.digests = new DigestDriver(this.d.host, () => this.pipeline.standby === 'in-sync', (id) =>
      this.pipeline.submit({ id, op: DIGEST_OP, args: null, digest: 'digest' }, 'null'),
    );
    if (this.d.cfg.resp) await this.mountResp(this.d.cfg.resp, bindRetryMs);
  }

  /** The RESP front door, after the zeromq endpoint: it serves through the same pipeline. */
  private async mountResp(address: string, bindRetryMs: number): Promise<void> {
    // Loaded only with --resp: a server without it never loads the RESP modules.
    const { RespDoor } = await import('./resp-door.js');
    this.respDoor = new RespDoor({ host: this.d.host, pipeline: this.pipeline, epoch: this.d.epoch, stillPrimary: () => this.stillPrimary(), counters: this.book, standby: () => this.standbyNow });
    try {
      await this.respDoor.mount(parseRespAddress(address), bindRetryMs);
    } catch (err) {
      throw Object.assign(new Error(`RESP front door ${address}: ${(err as Error).message}`), { code: (err as NodeJS.ErrnoException).code });
    }
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
      if (req.op === 'ping') return respond({ id: req.id, ok: true, result: 'pong' });
      const host = this.d.host;
      if (req.op === 'info') return this.afterCommit(req, respond, () => this.info(req));
      // The wire's key-value ops carry their arguments at the top level (PROTOCOL.md).
      const args = kvArgs(req);
      if (host.isCommand(req.op)) {
        const argsJson = JSON.stringify(args);
        const cmd = { id: req.id, op: req.op, args, digest: requestDigest(req.op, argsJson) };
        this.pipeline.enqueue(cmd, argsJson, respond);
        return;
      }
      if (host.isQuery(req.op)) return this.afterCommit(req, respond, () => host.query(req.op, args, req.id));
      respond(errorReply(req.id, 'UNKNOWN_OP', `unknown op '${req.op}'`));
    } catch (err) {
      respond(internal(req, err as Error));
    }
  }

  /** Reads wait for in-flight commands to commit, so nothing read can be lost by a failover. */
  private afterCommit(req: Request, respond: Respond, answer: () => Reply): void {
    this.pipeline.barrier().then(
      () => respond(answer()),
      (err: Error) => respond(internal(req, err)),
    );
  }

  private info(req: Request): Reply {
    return {
      id: req.id,
      ok: true,
      result: {
        role: 'primary',
        epoch: this.d.epoch,
        commitSeq: this.pipeline.committedSeq,
        keys: this.d.host.keys(),
        standby: this.standbyNow,
        pid: process.pid,
        service: { ...this.d.host.describe(), diverged: readDivergence(this.d.cfg.dataDir) as Json },
      },
    };
  }

  /** Graceful stop: stop taking requests, then sync the journal so a full restart keeps the data. */
  async stop(): Promise<void> {
    this.endpoint.close();
    await this.respDoor?.close();
    this.timers.close();
    this.digests?.close();
    await this.pipeline.barrier();
    this.pipeline.close();
    await this.journal.close();
  }

  /** Crash-only close used when fenced: the successor owns the data (and the journal). */
  abort(): void {
    this.endpoint.close();
    void this.respDoor?.close();
    this.timers.close();
    this.digests?.close();
    this.pipeline.close();
    this.journal.abort();
  }
}

function internal(req: Request, err: Error): Reply {
  logLine('primary', 'internal-error', { id: req.id, error: err.message });
  return errorReply(req.id, 'INTERNAL', 'internal error; see the server log');
}
