import { logLine } from '../log.js';
import type { Entry } from '../protocol/replication.js';
import { errorReply, type Json, type Reply } from '../protocol/wire.js';
import { EntryContext } from './context.js';
import { DedupWindow } from './dedup.js';
import { OP_NAME, RESERVED_OPS, SERVICE_CODE, type ServiceDefinition } from './service.js';
import { DIGEST_OP, TIMER_OP, TimerChanges, type PendingTimer } from './timers.js';
import { DigestAbandoned, stateDigest, stateDigestInSlices } from './digest.js';
import type { Quarantine } from './quarantine.js';

/** A digest check that failed: this copy's state is not the primary's at `seq`. */
export interface Divergence {
  seq: number;
  primary: string;
  mine: string;
}

/** Longest stretch a digest hashes before it lets the event loop run. */
const DIGEST_SLICE_MS = 4;

export interface HostOptions {
  /** Commands remembered for retries with the same id. */
  dedupWindow: number;
}

/** What a command id finds in the dedup window. */
export type Lookup = { reply: Reply } | { reused: true } | null;

export interface ServiceDescription {
  name: string;
  commands: string[];
  queries: string[];
  timers: string[];
}

/**
 * Runs one service as a replicated state machine: applies its commands in log order,
 * records their replies in the dedup window, answers its queries. It knows nothing of what
 * the service stores. Both roles feed it the same entries and get the same replies.
 */
export class ServiceHost<S = unknown> {
  state: S;
  /** Log position of the last applied command. */
  seq = 0;
  /** `ctx.now` of the last applied command: time never goes backwards for the service. */
  now = 0;
  /** Replaced whole when a snapshot is restored. */
  dedup: DedupWindow;
  /** Digests being hashed in slices, each with what stops it. */
  private readonly digests = new Set<() => void>();
  /** Open snapshots: while any is being read, no command may be applied. */
  private holds = 0;
  /** Snapshots of the whole state opened so far (journal checkpoints, standby syncs): each leaves its parts as garbage. */
  snapshotsTaken = 0;
  private readonly released = new Set<() => void>();
  /** Pending timers, by id: replicated state, snapshotted with the service's. */
  readonly timers = new Map<string, PendingTimer>();
  private readonly timerListeners = new Set<() => void>();

  constructor(
    readonly def: ServiceDefinition<S>,
    opts: HostOptions,
  ) {
    checkDefinition(def);
    this.dedup = new DedupWindow(opts.dedupWindow);
    this.state = def.init();
  }

  get name(): string {
    return this.def.name ?? 'service';
  }

  isCommand(op: string): boolean {
    return Object.hasOwn(this.def.commands, op);
  }

  isQuery(op: string): boolean {
    return this.def.queries !== undefined && Object.hasOwn(this.def.queries, op);
  }

  /** Set on the primary: requests that killed or hung it twice are not applied again. */
  quarantine: Quarantine | null = null;

  /** The first answer to a command with this id, or a sign that the id came with other content. */
  lookup(id: string, digest: string): Lookup {
    if (this.quarantine?.poisoned(id, digest)) return { reply: poisoned(id) };
    const r = this.dedup.get(id);
    if (!r) return null;
    return r.digest === digest || r.digest === '' ? { reply: r.reply } : { reused: true };
  }

  /** `ctx.now` for the next command: the clock, but never behind the last one applied. */
  nextNow(): number {
    const t = Date.now();
    return t > this.now ? t : this.now;
  }

  /**
   * Applies the next entry; throws if it is not the next log position. `recorded` is the
   * reply an older journal recorded for it, kept in the window instead of the one computed.
   */
  apply(e: Entry, recorded?: Reply): Reply {
    if (this.holds > 0) throw new Error('a command was applied while a snapshot was being taken');
    if (e.seq !== this.seq + 1) throw new Error(`log gap: expected seq ${this.seq + 1}, got ${e.seq}`);
    if (e.op === TIMER_OP) return this.fire(e);
    if (e.op === DIGEST_OP) return this.check(e);
    const handler = Object.hasOwn(this.def.commands, e.op) ? this.def.commands[e.op] : undefined;
    let computed: Reply;
    let changes: TimerChanges | null = null;
    if (!handler) {
      computed = errorReply(e.id, 'UNKNOWN_OP', `unknown command '${e.op.slice(0, 64)}'`);
    } else if (this.quarantine?.poisoned(e.id, e.digest)) {
      computed = poisoned(e.id);
    } else {
      this.quarantine?.before(e.id, e.digest, e.seq);
      changes = new TimerChanges(this.timers, this.hasTimer, e.seq, e.at);
      // Called here rather than through invoke(): no closure per command on the write path.
      try {
        computed = answer(e.id, handler(this.state, e.args, new EntryContext(e.at, e.id, e.seq, changes)));
      } catch (err) {
        computed = thrown(e.id, err);
      }
    }
    const reply = recorded ?? computed;
    this.seq = e.seq;
    if (e.at > this.now) this.now = e.at;
    this.dedup.record(e.id, e.digest, reply);
    // A handler that threw (or returned a Promise) has its timer calls discarded.
    if (changes && computed.ok && !changes.empty) this.changeTimers(changes);
    return reply;
  }

  /** A timer's entry: runs its handler unless it was cancelled before this entry was applied. */
  private fire(e: Entry): Reply {
    this.seq = e.seq;
    if (e.at > this.now) this.now = e.at;
    const t = this.timers.get(e.id);
    if (!t) return { id: e.id, ok: true, result: null };
    this.timers.delete(e.id);
    const handler = this.def.timers && Object.hasOwn(this.def.timers, t.timer) ? this.def.timers[t.timer] : undefined;
    const changes = new TimerChanges(this.timers, this.hasTimer, e.seq, e.at);
    let reply: Reply = { id: e.id, ok: true, result: null };
    const q = this.quarantine;
    if (q?.poisoned(e.id, t.timer)) reply = poisoned(e.id);
    else if (handler) {
      q?.before(e.id, t.timer, e.seq);
      try {
        const r = handler(this.state, t.payload, new EntryContext(e.at, e.id, e.seq, changes)) as unknown;
        reply = answer(e.id, r);
      } catch (err) {
        reply = thrown(e.id, err);
      }
    }
    if (reply.ok) changes.applyTo(this.timers);
    this.notifyTimers();
    return reply;
  }

  /** Called when a digest check finds this copy's state differs from the primary's. */
  onDiverged: ((d: Divergence) => void) | null = null;

  /** The digest of the state as it is now (the service's snapshot and the pending timers). */
  digest(): string {
    return stateDigest(this.state, this.snapshotFn(), this.timers.values());
  }

  /**
   * The digest of the state as it is now, hashed a slice at a time between turns of the event
   * loop: commands are held until it settles, so it is the digest of this commit point.
   */
  digestInSlices(sliceMs = DIGEST_SLICE_MS): Promise<string> {
    const release = this.hold();
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      release();
    };
    this.digests.add(stop);
    let hashing: Promise<string>;
    try {
      hashing = stateDigestInSlices(this.state, this.snapshotFn(), this.timers.values(), sliceMs, () => stopped);
    } catch (err) {
      hashing = Promise.reject(err as Error);
    }
    return hashing.finally(() => {
      this.digests.delete(stop);
      release();
    });
  }

  /** Stops the digests being hashed (their promises reject) and lets commands through at once: a promotion. */
  abandonDigests(): void {
    for (const stop of this.digests) stop();
    this.digests.clear();
  }

  private snapshotFn(): ((s: unknown) => unknown) | undefined {
    const snap = this.def.snapshot;
    return snap ? (s: unknown) => snap.call(this.def, s as S) : undefined;
  }

  /**
   * A digest check entry: compares the primary's digest at the position before it with ours.
   * Ours is hashed in slices; commands are held meanwhile (the caller applies nothing while
   * `held`), and a mismatch is reported when it is known.
   */
  private check(e: Entry): Reply {
    const theirs = (e.args as { digest?: unknown } | null)?.digest;
    const seq = this.seq;
    this.seq = e.seq;
    if (e.at > this.now) this.now = e.at;
    const report = this.onDiverged;
    if (typeof theirs === 'string' && report) {
      this.digestInSlices().then(
        (mine) => {
          if (mine !== theirs) report({ seq, primary: theirs, mine });
        },
        (err: Error) => {
          if (!(err instanceof DigestAbandoned)) logLine('host', 'digest-failed', { seq, error: err.message });
        },
      );
    }
    return { id: e.id, ok: true, result: null };
  }

  private readonly hasTimer = (name: string): boolean => this.def.timers !== undefined && Object.hasOwn(this.def.timers, name);

  private changeTimers(changes: TimerChanges): void {
    changes.applyTo(this.timers);
    this.notifyTimers();
  }

  /** Replaces the pending timers (a restored snapshot). */
  installTimers(list: PendingTimer[]): void {
    this.timers.clear();
    for (const t of list) this.timers.set(t.id, t);
    this.notifyTimers();
  }

  /** `fn` runs whenever the pending timers change. */
  onTimers(fn: () => void): () => void {
    this.timerListeners.add(fn);
    return () => this.timerListeners.delete(fn);
  }

  private notifyTimers(): void {
    for (const fn of this.timerListeners) fn();
  }

  query(op: string, args: Json, id: string): Reply {
    const handler = this.def.queries && Object.hasOwn(this.def.queries, op) ? this.def.queries[op] : undefined;
    if (!handler) return errorReply(id, 'UNKNOWN_OP', `unknown query '${op.slice(0, 64)}'`);
    return invoke(id, () => handler(this.state, args, { now: this.nextNow(), requestId: id }));
  }

  /** Keys held, for a service that counts them; null otherwise. */
  keys(): number | null {
    return this.def.keyCount ? this.def.keyCount(this.state) : null;
  }

  describe(): ServiceDescription {
    return {
      name: this.name,
      commands: Object.keys(this.def.commands),
      queries: Object.keys(this.def.queries ?? {}),
      timers: Object.keys(this.def.timers ?? {}),
    };
  }

  /** Replaces the whole state (a restored snapshot). */
  install(state: S, seq: number, now: number): void {
    if (this.holds > 0) throw new Error('a snapshot was restored while one was being taken');
    this.state = state;
    this.seq = seq;
    this.now = now;
  }

  get held(): boolean {
    return this.holds > 0;
  }

  /** Commands are held from here until the returned release is called (once). */
  hold(): () => void {
    this.holds++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--this.holds === 0) for (const fn of this.released) fn();
    };
  }

  /** `fn` runs whenever the last hold is released. */
  onRelease(fn: () => void): () => void {
    this.released.add(fn);
    return () => this.released.delete(fn);
  }
}

function poisoned(id: string): Reply {
  return errorReply(id, 'POISONED', 'this request killed or hung the server twice; it is quarantined and not applied');
}

function invoke(id: string, call: () => Json | undefined | void): Reply {
  try {
    return answer(id, call());
  } catch (err) {
    return thrown(id, err);
  }
}

function answer(id: string, result: unknown): Reply {
  if (typeof (result as { then?: unknown } | null)?.then === 'function') {
    logLine('host', 'service-error', { id, error: 'a handler returned a Promise; handlers are synchronous' });
    return errorReply(id, 'SERVICE_ERROR', 'the service returned a Promise; handlers must be synchronous');
  }
  return { id, ok: true, result: result === undefined ? null : (result as Json) };
}

function thrown(id: string, err: unknown): Reply {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code === 'string' && SERVICE_CODE.test(code)) return errorReply(id, code, oneLine(message));
  logLine('host', 'service-error', { id, error: err instanceof Error ? (err.stack ?? message) : message });
  return errorReply(id, 'SERVICE_ERROR', `the service failed: ${oneLine(message)}`);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').slice(0, 500);
}

export function checkDefinition<S>(def: ServiceDefinition<S>): void {
  if (typeof def?.init !== 'function') throw new Error('a service definition needs init()');
  if (typeof def.commands !== 'object' || def.commands === null) throw new Error('a service definition needs commands');
  const seen = new Set<string>();
  for (const [kind, table] of [['command', def.commands], ['query', def.queries ?? {}], ['timer', def.timers ?? {}]] as const) {
    for (const [op, fn] of Object.entries(table)) {
      if (!OP_NAME.test(op)) throw new Error(`${kind} name '${op.slice(0, 64)}' does not match ${OP_NAME}`);
      if (kind !== 'timer' && RESERVED_OPS.has(op)) throw new Error(`'${op}' is an op of osps itself`);
      if (kind !== 'timer' && seen.has(op)) throw new Error(`'${op}' is both a command and a query`);
      if (typeof fn !== 'function') throw new Error(`${kind} '${op}' is not a function`);
      if (kind !== 'timer') seen.add(op);
    }
  }
}
