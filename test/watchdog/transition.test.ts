// The supervision state machine on its own: inputs in, actions out, an injected clock,
// no process, socket or file.
import { describe, expect, it } from 'vitest';
import type { Role, ServerToWatchdog } from '../../dist/protocol/control.js';
import { EXIT_DATA_REFUSED } from '../../dist/protocol/exit-codes.js';
import { childSpecs } from '../../dist/watchdog/child-spec.js';
import { initialState, type Action, type Input, type Limits, type SupervisorState } from '../../dist/watchdog/machine.js';
import { emptyTelemetry, toRecord, toStatus } from '../../dist/watchdog/projections.js';
import { transition } from '../../dist/watchdog/transition.js';
import { nextTickAt } from '../../dist/watchdog/alarm.js';

const LIMITS: Limits = {
  pingIntervalMs: 100,
  alarmMs: 1000,
  heartbeatMs: 50,
  readyTimeoutMs: 5000,
  maxRestarts: 3,
  restartWindowMs: 60_000,
  memoryCeilingBytes: 1000,
  adoptionPingMs: 50,
  standbyReleaseMs: 2000,
  lateMessageMs: 300,
  // The new standby follows the promotion at once here; its own test below holds it back.
  standbySpawnDelayMs: 0,
  standbyCooldownMs: 5000,
  standbyCooldownMaxMs: 40_000,
  specs: childSpecs(5000),
};

type Emitted = { event: string } & Record<string, unknown>;

/** Feeds inputs to the machine with a fake clock and keeps every action it asked for. */
class Driver {
  state: SupervisorState;
  now = 1_000_000;
  actions: Action[] = [];
  private nextPid = 100;

  constructor(limits: Partial<Limits> = {}) {
    this.state = initialState({ ...LIMITS, ...limits }, 'unit', 'tcp://127.0.0.1:1');
  }

  feed(input: Input): Action[] {
    const before = JSON.stringify(this.state);
    const { state, actions } = transition(this.state, input, this.now);
    // Pure: the state passed in is never changed.
    expect(JSON.stringify(this.state)).toBe(before);
    this.state = state;
    this.actions.push(...actions);
    return actions;
  }

  /** Carries out the spawn actions the way the executor does: each answers with `spawned`. */
  answerSpawns(actions: Action[]): string[] {
    const tokens: string[] = [];
    for (const a of actions) {
      if (a.kind !== 'spawn') continue;
      const token = `${a.role}-${this.nextPid}`;
      tokens.push(token);
      this.answerSpawns(this.feed({ kind: 'spawned', role: a.role, token, pid: this.nextPid++, startTime: 1 }));
    }
    return tokens;
  }

  advance(ms: number): Action[] {
    this.now += ms;
    return this.feed({ kind: 'tick' });
  }

  /** Time passes with both servers beating all along (their heartbeat words say now). */
  advanceBeating(ms: number): Action[] {
    this.now += ms;
    return this.beat(this.now, this.now);
  }

  /** A tick with the servers' heartbeat words as the executor reads them from shm. */
  beat(primary: number, secondary: number): Action[] {
    return this.feed({ kind: 'tick', beats: { primary, secondary } });
  }

  msg(token: string, m: ServerToWatchdog): Action[] {
    return this.feed({ kind: 'message', token, m });
  }

  exit(token: string, cause = 'signal SIGKILL'): Action[] {
    return this.feed({ kind: 'exited', token, cause, lastWords: null });
  }

  get events(): Emitted[] {
    return this.actions.filter((a): a is Extract<Action, { kind: 'emit' }> => a.kind === 'emit').map((a) => ({ event: a.event, ...a.fields }));
  }

  eventsSince(n: number): Emitted[] {
    return this.events.slice(n);
  }

  pid(token: string | null): number {
    return token ? (this.state.children[token]?.pid ?? 0) : 0;
  }

  /** A fresh start up to its primary spawned (not ready yet, no standby yet). */
  start(): string {
    const [primary] = this.answerSpawns(this.feed({ kind: 'start', selfPid: 1, epoch: 1, adopt: null }));
    expect(this.state.phase).toBe('running');
    return primary!;
  }

  /** A fresh start up to its primary ready and its standby spawned (not ready yet). */
  startPair(): { primary: string; secondary: string } {
    const primary = this.start();
    const [secondary] = this.answerSpawns(this.msg(primary, { t: 'ready', role: 'primary', epoch: 1 }));
    return { primary, secondary: secondary! };
  }

  /** A fresh tree with both servers ready and the standby in sync. */
  running(): { primary: string; secondary: string } {
    const { primary, secondary } = this.startPair();
    this.msg(secondary!, { t: 'ready', role: 'secondary', epoch: 1 });
    this.msg(secondary!, { t: 'synced', commitSeq: 0 });
    this.msg(primary!, { t: 'standby', state: 'in-sync', commitSeq: 0, peerPid: this.pid(secondary!) });
    return { primary: primary!, secondary: secondary! };
  }
}

function kinds(actions: Action[]): string[] {
  return actions.map((a) => (a.kind === 'emit' ? `emit:${a.event}` : a.kind));
}

function pong(role: Role, epoch: number, extra: Partial<Extract<ServerToWatchdog, { t: 'pong' }>> = {}): ServerToWatchdog {
  return { t: 'pong', seq: 1, role, epoch, commitSeq: 0, keys: 0, standby: 'absent', synced: role === 'secondary', ...extra };
}

describe('supervision state machine', () => {
  it('a fresh start spawns the primary, then (no IPC repair) its standby once the primary is ready', () => {
    const d = new Driver();
    const first = d.feed({ kind: 'start', selfPid: 1, epoch: 1, adopt: null });
    expect(first.filter((a) => a.kind === 'spawn')).toEqual([{ kind: 'spawn', role: 'primary', repairIpc: false }]);
    expect(d.state.phase).toBe('starting');
    const [primary] = d.answerSpawns(first);
    expect(d.state.phase).toBe('running');
    expect(d.state.job).toEqual({ kind: 'start', step: 'awaiting-ready' });
    // Loading: answering pings is not ready.
    expect(kinds(d.msg(primary!, pong('primary', 1)))).not.toContain('spawn');
    const ready = d.msg(primary!, { t: 'ready', role: 'primary', epoch: 1 });
    expect(ready.filter((a) => a.kind === 'spawn')).toEqual([{ kind: 'spawn', role: 'secondary', repairIpc: false }]);
    d.answerSpawns(ready);
    expect(d.state.job).toBeNull();
    expect(d.state.phase).toBe('running');
    expect(d.events.map((e) => e.event)).toEqual(['starting', 'spawned', 'ready', 'spawned']);
  });

  it('a primary that dies before it is ready ends the start: a fresh primary, then its standby', () => {
    const d = new Driver();
    const primary = d.start();
    const a = d.exit(primary, 'exit 1');
    expect(d.state.job).toMatchObject({ kind: 'failover' });
    expect(d.events.map((e) => e.event)).toEqual(['starting', 'spawned', 'exited', 'detected', 'fenced']);
    expect(a).toContainEqual({ kind: 'check-journal' });
    const [fresh] = d.answerSpawns(d.feed({ kind: 'journal-checked', exists: false }));
    const b = d.msg(fresh!, { t: 'ready', role: 'primary', epoch: 2 });
    expect(b).toContainEqual({ kind: 'spawn', role: 'secondary', repairIpc: true });
  });

  it('a stop while the primary is loading stops it and spawns no standby', () => {
    const d = new Driver();
    const primary = d.start();
    const a = d.feed({ kind: 'stop', code: 0 });
    expect(a).toContainEqual({ kind: 'send', token: primary, m: { t: 'stop' } });
    expect(kinds(d.msg(primary, { t: 'ready', role: 'primary', epoch: 1 }))).not.toContain('spawn');
  });

  it('crash of the primary: detect, fence, bump the epoch, promote the synced standby, respawn a standby', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    const mark = d.events.length;
    const a = d.exit(primary);
    expect(d.state.phase).toBe('failover');
    expect(d.state.epoch).toBe(2);
    expect(a).toContainEqual({ kind: 'set-ring-epoch', epoch: 2 });
    expect(a).toContainEqual({ kind: 'send', token: secondary, m: { t: 'promote', epoch: 2 } });
    expect(a.filter((x) => x.kind === 'record').map((x) => (x as { step: string | null }).step)).toEqual([null, 'detected', 'fenced', 'epoch-bumped', 'promoting']);
    const b = d.msg(secondary, { t: 'promoted', epoch: 2, commitSeq: 7 });
    expect(d.state.primary).toBe(secondary);
    expect(b).toContainEqual({ kind: 'spawn', role: 'secondary', repairIpc: true });
    d.answerSpawns(b);
    expect(d.eventsSince(mark).map((e) => e.event)).toEqual(['exited', 'detected', 'fenced', 'promoted', 'spawned', 'respawned']);
    expect(d.eventsSince(mark).find((e) => e.event === 'detected')).toMatchObject({ role: 'primary', pid: d.pid(primary), cause: 'crash', epoch: 1 });
    expect(d.eventsSince(mark).find((e) => e.event === 'promoted')).toMatchObject({ role: 'primary', pid: d.pid(secondary), epoch: 2, commitSeq: 7 });
    expect(d.state.phase).toBe('running');
    expect(d.state.failover).toBeNull();
    expect(d.state.restarts.primary).toBe(1);
  });

  it('crash of the secondary: no fence needed; waits for the primary to let go of the link, then respawns', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    const mark = d.events.length;
    const a = d.exit(secondary);
    expect(kinds(a)).not.toContain('spawn');
    expect(d.state.job).toMatchObject({ kind: 'replace-standby', step: 'releasing' });
    const b = d.msg(primary, { t: 'standby', state: 'absent', commitSeq: 0, peerPid: d.pid(secondary) });
    expect(b).toContainEqual({ kind: 'spawn', role: 'secondary', repairIpc: true });
    d.answerSpawns(b);
    expect(d.eventsSince(mark).map((e) => e.event)).toEqual(['exited', 'standby', 'spawned', 'respawned']);
    expect(d.state.primary).toBe(primary);
  });

  it('the primary that never reports the link closed: the standby is respawned after the release timeout', () => {
    const d = new Driver();
    const { secondary } = d.running();
    d.exit(secondary);
    expect(kinds(d.advance(1000))).not.toContain('spawn');
    expect(d.advance(1001)).toContainEqual({ kind: 'spawn', role: 'secondary', repairIpc: true });
  });

  it('status speaks of the standby as of the last event, not of the last pong', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    const config = { pingIntervalMs: 100, alarmMs: 1000, memoryCeilingBytes: 0, ringBytes: 1 << 22, faultInjection: false };
    const standby = () => toStatus(d.state, { now: d.now, startedAt: d.now, self: { cpu: null, rss: null }, telemetry: () => emptyTelemetry(), config, events: [] }).standby;
    expect(standby()).toBe('in-sync');
    d.exit(secondary);
    expect(standby()).toBe('absent');
    // A pong the primary sent before it noticed does not bring it back.
    d.msg(primary, pong('primary', 1, { standby: 'in-sync' }));
    expect(standby()).toBe('absent');
    // Nor does a new standby that has not paired yet: the primary spoke of the old one.
    const [fresh] = d.answerSpawns(d.advance(LIMITS.standbyReleaseMs + 1));
    d.msg(primary, pong('primary', 1, { standby: 'in-sync' }));
    expect(standby()).toBe('absent');
    d.msg(primary, { t: 'standby', state: 'syncing', commitSeq: 0, peerPid: d.pid(fresh!) });
    expect(standby()).toBe('syncing');
    d.msg(primary, { t: 'standby', state: 'in-sync', commitSeq: 0, peerPid: d.pid(fresh!) });
    expect(standby()).toBe('in-sync');
  });

  it('hang: an unanswered ping older than the alarm fences the primary (kill and reap) before promotion', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    d.feed({ kind: 'ping-due' });
    d.msg(secondary, pong('secondary', 1));
    d.now += 500;
    d.feed({ kind: 'ping-due' });
    d.msg(secondary, pong('secondary', 1));
    expect(kinds(d.advance(400))).not.toContain('emit:ping-missed');
    const mark = d.events.length;
    const a = d.advance(200);
    expect(d.eventsSince(mark).map((e) => e.event)).toEqual(['ping-missed', 'detected']);
    expect(d.eventsSince(mark)[1]).toMatchObject({ cause: 'hang', pid: d.pid(primary) });
    expect(a).toContainEqual({ kind: 'kill-and-reap', token: primary, pid: d.pid(primary), timeoutMs: 5000 });
    expect(kinds(a)).not.toContain('send');
    // Its exit is its reaping (the executor learns of both from one wait): the fence.
    const b = d.exit(primary);
    expect(d.state.epoch).toBe(2);
    expect(b).toContainEqual({ kind: 'send', token: secondary, m: { t: 'promote', epoch: 2 } });
    expect(d.eventsSince(mark).map((e) => e.event)).toEqual(['ping-missed', 'detected', 'exited', 'fenced']);
    // The reap reported after it changes nothing.
    expect(kinds(d.feed({ kind: 'reaped', token: primary }))).toEqual([]);
    expect(d.state.epoch).toBe(2);
  });

  it('the new standby is spawned once the promoted primary reports its journal in place, or at the bound', () => {
    const d = new Driver({ standbySpawnDelayMs: 250 });
    const { primary, secondary } = d.running();
    d.exit(primary);
    // Promoted: its first writes wait for its first checkpoint, which a Node start would slow down.
    expect(kinds(d.msg(secondary, { t: 'promoted', epoch: 2, commitSeq: 7 }))).not.toContain('spawn');
    expect(kinds(d.advance(100))).not.toContain('spawn');
    // Its report moves the job on at once.
    const b = d.msg(secondary, { t: 'journaled', epoch: 2 });
    expect(kinds(b).slice(0, 1)).toEqual(['emit:journaled']);
    expect(b).toContainEqual({ kind: 'spawn', role: 'secondary', repairIpc: true });
    d.answerSpawns(b);
    expect(d.state.phase).toBe('running');
    expect(d.events.at(-1)).toMatchObject({ event: 'respawned', role: 'secondary' });

    // No report (a checkpoint that takes long): the bound spawns it anyway.
    const e = new Driver({ standbySpawnDelayMs: 250 });
    const pair = e.running();
    e.exit(pair.primary);
    e.msg(pair.secondary, { t: 'promoted', epoch: 2, commitSeq: 0 });
    expect(kinds(e.advance(249))).not.toContain('spawn');
    expect(e.advance(1)).toContainEqual({ kind: 'spawn', role: 'secondary', repairIpc: true });
  });

  it('a promoted primary that dies before its journal is in place: the next failover, from the journal', () => {
    const d = new Driver({ standbySpawnDelayMs: 250 });
    const { primary, secondary } = d.running();
    d.exit(primary);
    d.msg(secondary, { t: 'promoted', epoch: 2, commitSeq: 0 });
    const mark = d.events.length;
    const a = d.exit(secondary);
    expect(d.eventsSince(mark).map((e) => e.event)).toEqual(['exited', 'detected', 'fenced']);
    expect(d.state.epoch).toBe(3);
    expect(a).toContainEqual({ kind: 'check-journal' });
    expect(d.state.restarts.primary).toBe(2);
  });

  it('a server that is not ready yet gets the ready timeout, not the alarm', () => {
    const d = new Driver();
    d.start();
    d.feed({ kind: 'ping-due' });
    expect(kinds(d.advance(3000))).not.toContain('emit:ping-missed');
    expect(kinds(d.advance(2500))).toContain('emit:ping-missed');
  });

  it('crash during a failover: the standby dies while being promoted; a fresh primary from the journal, then a standby', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    d.exit(primary);
    expect(d.state.job).toMatchObject({ kind: 'failover', step: 'promoting' });
    const a = d.exit(secondary);
    expect(a).toContainEqual({ kind: 'check-journal' });
    const b = d.feed({ kind: 'journal-checked', exists: true });
    expect(b).toContainEqual({ kind: 'spawn', role: 'primary', repairIpc: true });
    const [fresh] = d.answerSpawns(b);
    expect(d.events.at(-1)).toMatchObject({ event: 'respawned', role: 'primary' });
    expect(d.state.job).toMatchObject({ step: 'awaiting-ready' });
    const c = d.msg(fresh!, { t: 'ready', role: 'primary', epoch: 2 });
    expect(c).toContainEqual({ kind: 'spawn', role: 'secondary', repairIpc: true });
    d.answerSpawns(c);
    expect(d.state.phase).toBe('running');
    expect(d.state.primary).toBe(fresh);
  });

  it('crash of the new primary before it is ready: the next failover follows, counted by the intensity', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    d.exit(primary);
    d.exit(secondary);
    const [fresh] = d.answerSpawns(d.feed({ kind: 'journal-checked', exists: true }));
    const mark = d.events.length;
    d.exit(fresh!);
    expect(d.eventsSince(mark).map((e) => e.event)).toEqual(['exited', 'detected', 'fenced']);
    expect(d.state.recentRestarts.primary).toHaveLength(2);
    expect(d.state.job).toMatchObject({ kind: 'failover', step: 'checking-journal' });
  });

  it('a secondary crash seen during a failover waits its turn: the failover replaces it, no second recovery', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    d.feed({ kind: 'ping-due' });
    d.advance(1100); // both hang: primary first
    expect(d.state.job).toMatchObject({ kind: 'failover', step: 'fencing' });
    expect(d.state.children[secondary]?.condemned).toBe('hang');
    const a = d.feed({ kind: 'reaped', token: primary });
    // A synced standby is promoted even though the alarm condemned it: slow is not wrong.
    expect(a).toContainEqual({ kind: 'send', token: secondary, m: { t: 'promote', epoch: 2 } });
    d.answerSpawns(d.msg(secondary, { t: 'promoted', epoch: 2, commitSeq: 0 }));
    expect(d.state.children[secondary]).toMatchObject({ condemned: null, status: 'ready', role: 'primary' });
    expect(d.state.job).toBeNull();
  });

  it('no standby to promote, no journal, acknowledged writes on record: gives up rather than serve an empty store', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    d.msg(primary, pong('primary', 1, { commitSeq: 42 }));
    d.msg(secondary, pong('secondary', 1, { synced: false }));
    d.exit(primary);
    const a = d.feed({ kind: 'journal-checked', exists: false });
    expect(kinds(a)).toEqual(expect.arrayContaining(['emit:give-up', 'say', 'emit:stopping']));
    expect(d.state.exitCode).toBe(3);
  });

  it('restart intensity: a primary that keeps dying gives the instance up (exit 3), naming the last failure', () => {
    const d = new Driver({ maxRestarts: 2 });
    let { primary } = d.running();
    for (let k = 0; k < 2; k++) {
      const sec = d.state.secondary!;
      d.exit(primary);
      d.answerSpawns(d.msg(sec, { t: 'promoted', epoch: d.state.epoch, commitSeq: 0 }));
      primary = sec;
      const fresh = d.state.secondary!;
      d.msg(fresh, { t: 'synced', commitSeq: 0 });
      d.now += 1000;
    }
    d.exit(primary);
    expect(d.state.job).toMatchObject({ kind: 'give-up' });
    // Its last words arrive after the exit: the message quotes them.
    const a = d.msg(primary, { t: 'failed', reason: 'listen EADDRINUSE', code: 'BIND_FAILED' });
    const giveUp = d.events.find((e) => e.event === 'give-up');
    expect(giveUp).toMatchObject({ role: 'primary', reason: 'signal SIGKILL, BIND_FAILED: listen EADDRINUSE' });
    expect(a.find((x) => x.kind === 'say')).toMatchObject({ line: expect.stringMatching(/giving up: the primary kept dying \(3 restarts within 60 s, limit 2\)/) });
    expect(d.state.phase).toBe('stopping');
    expect(d.state.exitCode).toBe(3);
  });

  it('a primary that refuses a corrupt journal: gives up at once, says its line, restarts nothing', () => {
    const d = new Driver();
    const primary = d.start();
    const line = 'journal /d/journal.bin is corrupt at byte 12 (bad CRC); it was left untouched';
    const a = d.feed({ kind: 'exited', token: primary!, cause: 'exit 71 (JOURNAL_CORRUPT)', lastWords: { reason: line, code: 'JOURNAL_CORRUPT' } });
    expect(kinds(a)).not.toContain('spawn');
    expect(kinds(a)).not.toContain('set-ring-epoch');
    expect(a).toContainEqual({ kind: 'say', line: `osps: ${line}` });
    expect(d.events.find((e) => e.event === 'give-up')).toMatchObject({ role: 'primary', reason: line });
    expect(d.state.phase).toBe('stopping');
    expect(d.state.exitCode).toBe(EXIT_DATA_REFUSED);
    expect(d.state.restarts.primary).toBe(0);
  });

  it('a corrupt journal is refused even with a synced standby: promoting it would checkpoint over the evidence', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    const a = d.exit(primary, 'exit 71 (JOURNAL_CORRUPT)');
    expect(a).not.toContainEqual({ kind: 'send', token: secondary, m: { t: 'promote', epoch: 2 } });
    expect(d.state.exitCode).toBe(EXIT_DATA_REFUSED);
    expect(a.find((x) => x.kind === 'say')).toMatchObject({ line: expect.stringContaining('exit 71') });
  });

  it('give-up without last words: waits the late-message window, then gives up anyway', () => {
    const d = new Driver({ maxRestarts: 0 });
    const { primary } = d.running();
    d.exit(primary);
    expect(d.advance(100).some((a) => a.kind === 'emit' && a.event === 'give-up')).toBe(false);
    expect(d.advance(250).some((a) => a.kind === 'emit' && a.event === 'give-up')).toBe(true);
  });

  it('a standby that keeps dying is left out for a cool-down with backoff; the primary is never touched', () => {
    const d = new Driver({ maxRestarts: 2 });
    const { primary } = d.running();
    const killOne = (): Action[] => {
      const sec = d.state.secondary!;
      const a = d.exit(sec);
      d.msg(primary, { t: 'standby', state: 'absent', commitSeq: 0, peerPid: d.pid(sec) });
      return a;
    };
    for (let k = 0; k < 2; k++) {
      killOne();
      d.answerSpawns(d.actions.slice(-3));
      expect(d.state.secondary).not.toBeNull();
    }
    const mark = d.events.length;
    const a = killOne();
    expect(d.eventsSince(mark).map((e) => e.event)).toContain('standby-cooldown');
    expect(d.eventsSince(mark).find((e) => e.event === 'standby-cooldown')).toMatchObject({ role: 'secondary', cooldownMs: 5000, restarts: 3 });
    expect(a.find((x) => x.kind === 'say')).toMatchObject({ line: expect.stringMatching(/the primary serves without a standby/) });
    expect(d.state.secondary).toBeNull();
    expect(d.state.primary).toBe(primary);
    expect(d.state.phase).toBe('running');
    expect(d.actions.some((x) => x.kind === 'kill-and-reap' && x.token === primary)).toBe(false);
    // The primary lives on (its heartbeat says so): only the cool-down is in play.
    expect(kinds(d.advanceBeating(4000))).not.toContain('spawn');
    const b = d.advanceBeating(1001);
    expect(b).toContainEqual({ kind: 'spawn', role: 'secondary', repairIpc: true });
    d.answerSpawns(b);
    // It dies again at once: still over the intensity, the next cool-down is twice as long.
    killOne();
    expect(d.state.standbyCooldown).toMatchObject({ ms: 10_000 });
    // A standby that reaches sync resets the backoff.
    d.answerSpawns(d.advanceBeating(10_001));
    d.msg(d.state.secondary!, { t: 'synced', commitSeq: 0 });
    expect(d.state.nextCooldownMs).toBe(5000);
  });

  it('memory ceiling: a standby is replaced at once; a primary only once its standby is in sync, through failover', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    d.msg(primary, { t: 'standby', state: 'syncing', commitSeq: 0, peerPid: d.pid(secondary) });
    expect(kinds(d.feed({ kind: 'memory', token: primary, rss: 5000 }))).not.toContain('emit:memory-ceiling');
    d.msg(primary, { t: 'standby', state: 'in-sync', commitSeq: 0, peerPid: d.pid(secondary) });
    expect(kinds(d.feed({ kind: 'memory', token: primary, rss: 999 }))).not.toContain('emit:memory-ceiling');
    const a = d.feed({ kind: 'memory', token: primary, rss: 5000 });
    expect(kinds(a)).toEqual(expect.arrayContaining(['emit:memory-ceiling', 'emit:detected', 'kill-and-reap']));
    expect(d.events.find((e) => e.event === 'detected')).toMatchObject({ cause: 'memory' });

    const d2 = new Driver();
    const pair = d2.running();
    const b = d2.feed({ kind: 'memory', token: pair.secondary, rss: 5000 });
    expect(b).toContainEqual({ kind: 'kill-and-reap', token: pair.secondary, pid: d2.pid(pair.secondary), timeoutMs: 5000 });
    d2.feed({ kind: 'reaped', token: pair.secondary });
    expect(d2.events.find((e) => e.event === 'fenced')).toMatchObject({ role: 'secondary', cause: 'memory' });
  });

  it('link lost: the primary reports its live standby gone; the standby is fenced and replaced', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    const a = d.msg(primary, { t: 'standby', state: 'absent', commitSeq: 0, peerPid: d.pid(secondary) });
    expect(kinds(a)).toContain('emit:standby');
    // Its exit may be on the way: it is condemned only once it outlived the late-message window.
    expect(kinds(a)).not.toContain('emit:link-lost');
    expect(kinds(d.advance(100))).not.toContain('emit:link-lost');
    expect(kinds(d.advance(300))).toEqual(expect.arrayContaining(['emit:link-lost', 'kill-and-reap']));
    const b = d.feed({ kind: 'reaped', token: secondary });
    expect(d.events.find((e) => e.event === 'fenced')).toMatchObject({ role: 'secondary', cause: 'link lost' });
    // The primary already let go of that standby: the new one is spawned at once.
    expect(b).toContainEqual({ kind: 'spawn', role: 'secondary', repairIpc: true });
  });

  it('a standby whose exit trails the primary\'s report of its lost link is replaced as exited, not fenced for the link', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    d.msg(primary, { t: 'standby', state: 'absent', commitSeq: 0, peerPid: d.pid(secondary) });
    const a = d.feed({ kind: 'exited', token: secondary, cause: 'signal SIGKILL', lastWords: null });
    expect(kinds([...a, ...d.advance(1000)])).not.toContain('emit:link-lost');
    expect(d.events.some((e) => e.event === 'fenced')).toBe(false);
    expect(d.events.find((e) => e.event === 'exited')).toMatchObject({ role: 'secondary', cause: 'signal SIGKILL' });
  });

  it('adoption records every adopted server before anything else, learns roles from pongs, and keeps them serving', () => {
    const d = new Driver();
    const adopt = {
      children: [
        { role: 'primary' as const, pid: 10, token: 'p', startTime: 5 },
        { role: 'secondary' as const, pid: 11, token: 's', startTime: 6 },
      ],
      failover: null,
    };
    const a = d.feed({ kind: 'start', selfPid: 2, epoch: 4, adopt });
    expect(a.find((x) => x.kind === 'record')).toBeDefined();
    expect(toRecord(d.state, { launcherPid: 1, startTime: 1 }).children.map((c) => c.pid)).toEqual([10, 11]);
    expect(d.state.phase).toBe('adopting');
    expect(kinds(d.advance(50))).toContain('ping');
    d.msg('p', pong('primary', 4));
    expect(d.state.phase).toBe('adopting');
    d.msg('s', pong('secondary', 4));
    expect(d.state.phase).toBe('running');
    expect(d.events.filter((e) => e.event === 'adopted').map((e) => [e.role, e.pid, e.answered])).toEqual([
      ['primary', 10, true],
      ['secondary', 11, true],
    ]);
    expect(d.actions.some((x) => x.kind === 'kill-and-reap' || x.kind === 'spawn')).toBe(false);
  });

  it('adoption mid-failover: the condemned old primary is fenced, the standby promoted at a new epoch', () => {
    const d = new Driver();
    const adopt = {
      children: [
        { role: 'primary' as const, pid: 10, token: 'p', startTime: 5 },
        { role: 'secondary' as const, pid: 11, token: 's', startTime: 6 },
      ],
      failover: { step: 'fenced' as const, oldPid: 10, cause: 'hang' },
    };
    d.feed({ kind: 'start', selfPid: 2, epoch: 3, adopt });
    d.msg('s', pong('secondary', 3));
    // The hung old primary never answers: the learning ends at the alarm.
    const a = d.advance(1001);
    expect(a).toContainEqual({ kind: 'kill-and-reap', token: 'p', pid: 10, timeoutMs: 5000 });
    const b = d.feed({ kind: 'reaped', token: 'p' });
    expect(d.events.map((e) => e.event)).toEqual(['starting', 'fenced', 'adopted', 'detected']);
    expect(d.events.find((e) => e.event === 'detected')).toMatchObject({ cause: 'missing after adoption', pid: 10 });
    expect(b).toContainEqual({ kind: 'send', token: 's', m: { t: 'promote', epoch: 4 } });
    d.answerSpawns(d.msg('s', { t: 'promoted', epoch: 4, commitSeq: 0 }));
    expect(d.state.primary).toBe('s');
    expect(d.state.phase).toBe('running');
    expect(d.events.at(-1)).toMatchObject({ event: 'respawned', role: 'secondary' });
  });

  it('adoption after a promotion the predecessor did not record: a primary of an older epoch is fenced, a duplicate too', () => {
    const d = new Driver();
    const adopt = {
      children: [
        { role: 'primary' as const, pid: 10, token: 'old', startTime: 5 },
        { role: 'secondary' as const, pid: 11, token: 'new', startTime: 6 },
        { role: 'secondary' as const, pid: 12, token: 'sb1', startTime: 7 },
        { role: 'secondary' as const, pid: 13, token: 'sb2', startTime: 8 },
      ],
      failover: null,
    };
    d.feed({ kind: 'start', selfPid: 2, epoch: 5, adopt });
    d.msg('old', pong('primary', 4));
    d.msg('new', pong('primary', 5));
    d.msg('sb1', pong('secondary', 5));
    d.msg('sb2', pong('secondary', 5));
    d.feed({ kind: 'reaped', token: 'old' });
    expect(d.state.primary).toBe('new');
    expect(d.state.secondary).toBe('sb1');
    d.feed({ kind: 'reaped', token: 'sb2' });
    const fenced = d.events.filter((e) => e.event === 'fenced');
    expect(fenced.map((e) => [e.pid, e.cause])).toEqual([
      [10, undefined],
      [13, 'duplicate after adoption'],
    ]);
    expect(d.state.phase).toBe('running');
  });

  it('adoption with every adopted server dead: a fresh primary from the journal', () => {
    const d = new Driver();
    d.feed({ kind: 'start', selfPid: 2, epoch: 2, adopt: { children: [{ role: 'primary', pid: 10, token: 'p', startTime: 5 }], failover: null } });
    d.exit('p', 'exited (status unknown: not our child)');
    expect(d.state.job).toMatchObject({ kind: 'failover', step: 'checking-journal' });
    d.answerSpawns(d.feed({ kind: 'journal-checked', exists: true }));
    expect(d.state.primary).not.toBeNull();
  });

  it('stop: primary first, then the standby; one that does not stop in its grace is killed; then teardown and exit', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    const a = d.feed({ kind: 'stop', code: 0 });
    expect(a).toContainEqual({ kind: 'send', token: primary, m: { t: 'stop' } });
    expect(a).toContainEqual({ kind: 'halt-watch' });
    const b = d.exit(primary, 'exit 0');
    expect(b).toContainEqual({ kind: 'send', token: secondary, m: { t: 'stop' } });
    expect(d.events.some((e) => e.event === 'exited')).toBe(false);
    const c = d.advance(2001);
    expect(c).toContainEqual({ kind: 'kill-and-reap', token: secondary, pid: d.pid(secondary), timeoutMs: 1000 });
    const e = d.feed({ kind: 'reaped', token: secondary });
    expect(e).toContainEqual({ kind: 'tear-down' });
    expect(d.events.filter((x) => x.event === 'stopped').map((x) => x.graceful)).toEqual([true, false]);
    const f = d.feed({ kind: 'torn-down', removed: ['shm', 'fifo'] });
    expect(f).toContainEqual({ kind: 'exit', code: 0 });
    expect(d.events.at(-1)).toMatchObject({ event: 'cleaned', removed: 'shm,fifo' });
    expect(d.state.phase).toBe('stopped');
  });

  it('stop during a failover abandons it; a spawn already asked for is stopped too, before teardown', () => {
    const d = new Driver();
    const { primary, secondary } = d.running();
    d.exit(primary);
    const spawnAsk = d.msg(secondary, { t: 'promoted', epoch: 2, commitSeq: 0 });
    expect(spawnAsk).toContainEqual({ kind: 'spawn', role: 'secondary', repairIpc: true });
    d.feed({ kind: 'stop', code: 0 });
    d.exit(secondary, 'exit 0');
    expect(d.actions.some((a) => a.kind === 'tear-down')).toBe(false);
    const [late] = d.answerSpawns(spawnAsk);
    d.advance(20);
    expect(d.actions).toContainEqual({ kind: 'send', token: late, m: { t: 'stop' } });
    d.exit(late!, 'exit 0');
    expect(d.actions).toContainEqual({ kind: 'tear-down' });
    expect(d.events.some((e) => e.event === 'detected' && d.events.indexOf(e) > d.events.findIndex((x) => x.event === 'stopping'))).toBe(false);
  });

  it('a primary that answers pings while it replays a long journal is not condemned at the ready timeout; a silent one is', () => {
    const d = new Driver();
    const primary = d.start();
    // Answering every second for three ready timeouts: alive.
    for (let t = 0; t < 15_000; t += 1000) {
      d.feed({ kind: 'ping-due' });
      d.msg(primary, pong('primary', 1));
      expect(kinds(d.advance(1000))).not.toContain('emit:ping-missed');
    }
    // Then silent: the ready timeout runs from the first ping it left unanswered.
    d.feed({ kind: 'ping-due' });
    expect(kinds(d.advance(4000))).not.toContain('emit:ping-missed');
    expect(kinds(d.advance(1500))).toContain('emit:ping-missed');
  });

  it('loading is bounded: past ten ready timeouts a server that is still not ready is condemned', () => {
    const d = new Driver();
    const primary = d.start();
    let missed = false;
    for (let t = 0; t <= 51_000 && !missed; t += 1000) {
      d.feed({ kind: 'ping-due' });
      d.msg(primary, pong('primary', 1));
      missed = kinds(d.advance(1000)).includes('emit:ping-missed');
    }
    expect(missed).toBe(true);
    expect(d.now - 1_000_000).toBeGreaterThan(50_000);
  });

  it('a condemned server that reports ready late stays condemned', () => {
    const d = new Driver();
    const { secondary: sec } = d.startPair();
    d.advanceBeating(5001);
    expect(d.state.children[sec]?.status).toBe('stopping');
    d.msg(sec, { t: 'ready', role: 'secondary', epoch: 1 });
    expect(d.state.children[sec]?.status).toBe('stopping');
  });

  describe('the alarm counts from the last sign of life', () => {
    it('a stopped heartbeat fires the alarm once silent for the alarm plus one beat period, with no ping needed', () => {
      const d = new Driver();
      const { primary } = d.running();
      // Both beat every 50 ms; the primary's last beat is at `stoppedAt`.
      for (const end = d.now + 500; d.now < end; d.now += 50) d.beat(d.now, d.now);
      const stoppedAt = d.now - 50;
      const mark = d.events.length;
      // Ticks up to the alarm + one beat period after the last beat: still no alarm.
      while (d.now + 50 <= stoppedAt + 1000 + 50) {
        d.now += 50;
        d.beat(stoppedAt, d.now);
      }
      expect(d.now).toBe(stoppedAt + 1050);
      expect(d.eventsSince(mark)).toEqual([]);
      d.now += 1;
      d.beat(stoppedAt, d.now);
      expect(d.eventsSince(mark).map((e) => e.event)).toEqual(['ping-missed', 'detected']);
      expect(d.eventsSince(mark)[0]).toMatchObject({ role: 'primary', pid: d.pid(primary), silentMs: 1051 });
    });

    it('a pause shorter than the alarm never fires it, even with a ping unanswered through the pause', () => {
      const d = new Driver();
      const { primary, secondary } = d.running();
      d.beat(d.now, d.now);
      const pausedAt = d.now;
      d.now += 10;
      d.feed({ kind: 'ping-due' });
      d.msg(secondary, pong('secondary', 1));
      const mark = d.events.length;
      // Paused for 999 ms after its last beat: ticks every 20 ms see nothing new from it.
      while (d.now + 20 < pausedAt + 999) {
        d.now += 20;
        d.beat(pausedAt, d.now);
      }
      // It resumes: a beat, then the pong to the ping that waited through the pause.
      d.beat(d.now, d.now);
      d.msg(primary, pong('primary', 1));
      d.now += 500;
      d.beat(d.now, d.now);
      expect(d.eventsSince(mark)).toEqual([]);
      expect(d.state.children[primary]?.status).toBe('ready');
    });

    it('a message is a sign of life too, and a heartbeat word from before the last message changes nothing', () => {
      const d = new Driver();
      const { primary } = d.running();
      d.now += 900;
      d.msg(primary, pong('primary', 1));
      d.now += 1000;
      d.beat(0, d.now);
      expect(d.state.children[primary]?.status).toBe('ready');
      d.now += 51;
      d.beat(0, d.now);
      expect(d.state.children[primary]).toMatchObject({ status: 'stopping', condemned: 'hang' });
    });

    it('a ping unanswered for the alarm fires it even while the heartbeat goes on', () => {
      const d = new Driver();
      const { primary } = d.running();
      d.feed({ kind: 'ping-due' });
      d.now += 1000;
      d.beat(d.now, d.now);
      expect(d.state.children[primary]?.status).toBe('ready');
      d.now += 1;
      d.beat(d.now, d.now);
      expect(d.state.children[primary]).toMatchObject({ status: 'stopping', condemned: 'hang' });
    });

    it('a standby being promoted beats in the primary word: that keeps it alive until it says promoted', () => {
      const d = new Driver({ readyTimeoutMs: 5000 });
      const { primary, secondary } = d.running();
      d.exit(primary);
      expect(d.state.job).toMatchObject({ kind: 'failover', step: 'promoting', candidate: secondary });
      const from = d.now;
      while (d.now < from + 2000) {
        d.now += 50;
        d.beat(d.now, from);
      }
      expect(d.state.children[secondary]).toMatchObject({ status: 'ready', condemned: null });
    });

    it('an idle machine asks for its next tick at the earliest alarm; anything under way, at the tick resolution', () => {
      const d = new Driver();
      const { secondary } = d.running();
      d.now += 100;
      d.beat(d.now, d.now - 30);
      // The standby's last beat is 30 ms older: its alarm comes first.
      expect(nextTickAt(d.state, d.now, 20)).toBe(d.now - 30 + 1000 + 50 + 1);
      d.exit(secondary);
      expect(nextTickAt(d.state, d.now, 20)).toBe(d.now + 20);
    });
  });
});
