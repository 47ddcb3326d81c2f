// The alarm, as pure functions of the supervision state: when a server counts as hung, what
// its heartbeat says, and when the executor next needs to feed the machine a tick.
import type { Beats, ChildRun, Limits, SupervisorState } from './machine.js';

/** Ready timeouts a server may spend coming up while it answers pings (a long journal replay). */
export const LOADING_LIMIT = 10;

/** A starting server that has said hello or answered a ping is loading (a long replay), not hung. */
function loading(ch: ChildRun): boolean {
  return ch.status === 'starting' && ch.reportedRole !== null;
}

/** Since when `ch` has been silent, as the alarm counts it (for the ping-missed event). */
export function silentSince(ch: ChildRun, l: Limits, now: number): number {
  if (ch.status !== 'starting') return Math.min(ch.lastSignAt, ch.unansweredSince ?? Infinity);
  const answering = loading(ch) && now <= ch.spawnedAt + LOADING_LIMIT * l.readyTimeoutMs;
  return answering ? (ch.unansweredSince ?? ch.spawnedAt) : ch.spawnedAt;
}

/**
 * When `ch`'s alarm fires if nothing more is heard. A ready server beats every
 * `heartbeatMs`, so silence longer than the alarm plus one beat period means it has been
 * stopped for at least the alarm: a shorter pause never fires it, and a hang fires it within
 * one beat period of the alarm, counted from the moment the server stopped. A ping
 * unanswered for the alarm fires it too (a server that beats but no longer hears us).
 * A server not ready yet gets the ready timeout from its spawn instead (a snapshot or a
 * checkpoint is loaded in one go); one that has said hello is alive (a long journal replay
 * answers pings) until a ping goes unanswered for the ready timeout, up to LOADING_LIMIT of
 * them in all.
 */
export function alarmAt(ch: ChildRun, l: Limits): number {
  if (ch.status === 'starting') {
    if (!loading(ch)) return ch.spawnedAt + l.readyTimeoutMs;
    const bound = ch.spawnedAt + LOADING_LIMIT * l.readyTimeoutMs;
    return ch.unansweredSince === null ? bound : Math.min(bound, ch.unansweredSince + l.readyTimeoutMs);
  }
  const silent = ch.lastSignAt + l.alarmMs + l.heartbeatMs;
  return ch.unansweredSince === null ? silent : Math.min(silent, ch.unansweredSince + l.alarmMs);
}

/**
 * The heartbeat that speaks for `ch`: the word of the role slot it holds. A standby being
 * promoted beats as a primary from its promotion on, and the old primary is reaped by then,
 * so the primary word speaks for it too. A word from the future (our clock read first) is now.
 */
export function beatOf(s: SupervisorState, ch: ChildRun, beats: Beats, now: number): number {
  const job = s.job;
  const promoting = job?.kind === 'failover' && job.step === 'promoting' && job.candidate === ch.token;
  const beat = ch.token === s.primary ? beats.primary : ch.token === s.secondary ? Math.max(beats.secondary, promoting ? beats.primary : 0) : 0;
  return Math.min(beat, now);
}

/**
 * When the machine next needs a tick. While anything is under way (a start, a recovery, a
 * stop, a spawn), every `resolutionMs`; in the steady state only at the next deadline: the
 * earliest alarm, a dead server's late-message window, a lost link's grace, the end of a
 * standby cool-down.
 * An idle watchdog thus wakes about once an alarm period, not many times a second.
 */
export function nextTickAt(s: SupervisorState, now: number, resolutionMs: number): number {
  if (s.phase !== 'running' || s.job !== null || s.pendingSpawns.length > 0) return now + resolutionMs;
  let at = now + s.limits.alarmMs + s.limits.heartbeatMs + 1;
  for (const ch of Object.values(s.children)) {
    if (ch.status === 'stopping') return now + resolutionMs;
    const held = ch.token === s.primary || ch.token === s.secondary;
    if (ch.status === 'exited') {
      if (!held && ch.exitedAt !== null) at = Math.min(at, ch.exitedAt + s.limits.lateMessageMs + 1);
    } else if (held) {
      at = Math.min(at, alarmAt(ch, s.limits) + 1);
      if (ch.linkLostAt !== null) at = Math.min(at, ch.linkLostAt + s.limits.lateMessageMs);
    }
  }
  if (s.standbyCooldown) at = Math.min(at, s.standbyCooldown.until);
  // Something already due is handled by this tick; never spin on it.
  return Math.max(at, now + 1);
}
