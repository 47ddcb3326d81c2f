// A watchdog stand-in for the endpoint's tests: a status the test edits, and a helper
// that plays a failover (events into the sink, a new primary into the status).
import type { InstanceStatus, ProcessStatus } from '../../dist/protocol/admin.js';
import type { EventName, WatchdogEvent } from '../../dist/protocol/events.js';
import type { ObserverSink, ObserverSource } from '../../dist/observe/index.js';

export function proc(role: ProcessStatus['role'], pid: number, over: Partial<ProcessStatus> = {}): ProcessStatus {
  return { role, pid, state: 'running', uptimeMs: 1000, cpu: 1.5, rss: 40 << 20, lastPingRttMs: 2, lastPongAgoMs: 100, restarts: 0, ...over };
}

export class FakeSource implements ObserverSource {
  current: InstanceStatus = {
    name: 'obs-test',
    endpoint: 'tcp://127.0.0.1:1',
    phase: 'running',
    epoch: 1,
    commitSeq: 10,
    standby: 'in-sync',
    processes: [proc('watchdog', 100, { lastPingRttMs: null }), proc('primary', 101), proc('secondary', 102)],
    recentRestarts: 0,
    config: { pingIntervalMs: 500, alarmMs: 3000, memoryCeilingBytes: 1 << 30, ringBytes: 1 << 20 },
    events: [{ ts: new Date().toISOString(), event: 'starting', pid: 100 }],
  };

  status(): InstanceStatus {
    return this.current;
  }
}

export function ev(event: EventName, fields: Record<string, string | number> = {}): WatchdogEvent {
  return { ts: new Date().toISOString(), event, ...fields };
}

/** What the watchdog reports through a primary crash: detect, fence, promote, respawn. */
export function playFailover(src: FakeSource, sink: ObserverSink, cause = 'crash'): void {
  const s = src.current;
  const old = s.processes.find((p) => p.role === 'primary')!;
  const sec = s.processes.find((p) => p.role === 'secondary')!;
  const epoch = s.epoch + 1;
  sink.onEvent(ev('exited', { role: 'primary', pid: old.pid, epoch: s.epoch, cause: 'signal SIGKILL' }));
  sink.onEvent(ev('detected', { role: 'primary', pid: old.pid, epoch: s.epoch, cause }));
  sink.onEvent(ev('fenced', { role: 'primary', pid: old.pid, epoch: s.epoch }));
  sink.onEvent(ev('promoted', { role: 'primary', pid: sec.pid, epoch, commitSeq: s.commitSeq }));
  const fresh = sec.pid + 1;
  sink.onEvent(ev('respawned', { role: 'secondary', pid: fresh, epoch }));
  s.epoch = epoch;
  s.processes = [s.processes[0]!, proc('primary', sec.pid, { restarts: old.restarts + 1 }), proc('secondary', fresh, { state: 'syncing' })];
  s.standby = 'syncing';
}
