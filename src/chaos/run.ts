// `osps chaos run`: a private instance under client load from separate worker processes,
// N seeded random faults injected one after the other, each waited out to full recovery,
// then the history checked (nothing acknowledged lost, no duplicate, no impossible read),
// the failovers counted against the faults that call for one, and the host checked for
// anything the instance left behind. The seed replays the same fault sequence.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '../client/client.js';
import { percentile } from '../client/percentiles.js';
import { runtimePaths, type RuntimePaths } from '../runtime/paths.js';
import { isSameProcess, processStartTime } from '../runtime/proc.js';
import { freePort } from '../net/free-port.js';
import { CUT_HOWS, FAULTS, expectsFailover, injectFault, type FaultName, type FaultOptions, type FaultRecord } from './faults.js';
import { checkHistory, keysOf, type FinalState, type OpRecord } from './model.js';
import { mulberry32 } from './prng.js';
import { liveStatus } from './targets.js';
import { ChaosTree, REPO_ROOT, within, type TreeEvent } from './tree.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ChaosOptions {
  faults: number;
  seed: number;
  clients: number;
  json: boolean;
  alarmMs?: number;
  pingIntervalMs?: number;
  keepTmp?: boolean;
  /** Stop injecting once the run has taken this long (the report then says how far it got). */
  timeBudgetMs?: number;
  /**
   * SIGINT/SIGTERM end the run early but cleanly (load stopped, history checked, tree stopped,
   * report printed); a second one kills the tree and workers at once. For the CLI.
   */
  handleSignals?: boolean;
}

export interface FaultResult {
  fault: FaultName;
  opts: FaultOptions;
  /** fault plus its options, e.g. `pause --role secondary --for 233`: the key of `byKind`. */
  kind: string;
  role: string;
  pid: number;
  detail: string;
  /** First sign the watchdog noticed (exit, missed ping, ceiling, lost link, adoption, standby absent), ms after injection. */
  detectionMs: number | null;
  /** Served again with a standby in sync, ms after injection; null = not within the recovery budget. */
  recoveryMs: number | null;
  /** A promotion (or a fresh primary) happened while this fault was being recovered. */
  failover: boolean;
  expectedFailover: boolean;
  /** The watchdog's events from the injection to the recovery, compacted: `exited(secondary 1234)` … */
  events: string[];
}

export interface KindStats {
  count: number;
  detectionP50: number | null;
  detectionMax: number | null;
  recoveryP50: number | null;
  recoveryMax: number | null;
}

export interface ChaosReport {
  seed: number;
  faultsRequested: number;
  clients: number;
  alarmMs: number;
  pingIntervalMs: number;
  durationMs: number;
  faults: FaultResult[];
  byKind: Record<string, KindStats>;
  /** Acknowledged writes in the history. */
  acknowledged: number;
  unacknowledged: number;
  operations: number;
  lost: number;
  duplicated: number;
  wrongReads: number;
  /** Client requests that failed with the service still unavailable at their 20 s deadline. */
  failedRequests: number;
  needlessFailovers: number;
  /** Servers started beyond what the faults called for (a healthy server replaced). */
  needlessRestarts: number;
  failovers: { observed: number; expected: number; missed: number };
  /** Faults not recovered from within the recovery budget. */
  unserved: number;
  /** Faults that promise a visible reaction (a replacement, a failover) but got none. */
  undetected: number;
  leaked: string[];
  orphans: number[];
  ok: boolean;
  violations: string[];
  /** Concrete anomalies behind the violations (first few). */
  evidence: string[];
  /** Where the run's files were kept (keepTmp), else null. */
  tmpDir: string | null;
}

const DEFAULT_ALARM_MS = 700;
const DEFAULT_PING_MS = 100;
const RECOVERY_BUDGET_MS = 15_000;
const LOAD_BEFORE_FAULTS_MS = 1000;
const LOAD_BETWEEN_FAULTS_MS = 300;
const WORKER_STOP_MS = 10_000;

// Every fault but kill-launcher: with no launcher, nothing would restart a later dead watchdog.
export const CHAOS_FAULTS: readonly FaultName[] = FAULTS.filter((f) => f !== 'kill-launcher');

/** The fault sequence of a seed: the same seed, count and alarm always give the same plan. */
export function planFaults(seed: number, count: number, alarmMs: number): Array<{ fault: FaultName; opts: FaultOptions }> {
  const rng = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  const plan: Array<{ fault: FaultName; opts: FaultOptions }> = [];
  for (let i = 0; i < count; i++) {
    const fault = pick(CHAOS_FAULTS);
    const opts: FaultOptions = {};
    switch (fault) {
      case 'hang-primary':
      case 'hang-secondary':
        // Past the alarm: fenced before it could be continued; or never continued at all.
        if (rng() < 0.5) opts.forMs = alarmMs * 2;
        break;
      case 'pause':
        opts.role = pick(['primary', 'secondary'] as const);
        opts.forMs = Math.floor(alarmMs / 3);
        break;
      case 'cut-pipe':
        opts.pipe = pick(['s2p', 'p2s'] as const);
        opts.how = pick(CUT_HOWS);
        break;
      case 'fill-ring':
        opts.forMs = Math.floor(alarmMs / 2);
        break;
      case 'corrupt-shm':
        opts.where = rng() < 0.25 ? 'header' : 'entry';
        break;
      case 'memory-hog':
        opts.role = pick(['primary', 'secondary'] as const);
        break;
      default:
        break;
    }
    plan.push({ fault, opts });
  }
  return plan;
}

export function kindOf(fault: FaultName, opts: FaultOptions): string {
  let k: string = fault;
  if (opts.role) k += ` --role ${opts.role}`;
  if (opts.pipe) k += ` --pipe ${opts.pipe}`;
  if (opts.how && opts.how !== 'frame') k += ` --how ${opts.how}`;
  if (opts.where === 'header') k += ' --where header';
  if (opts.forMs !== undefined) k += ` --for ${opts.forMs}`;
  return k;
}

/** Faults after which the watchdog must visibly act (replace or fail over); the others must pass unnoticed. */
function expectsAction(fault: FaultName, opts: FaultOptions, alarmMs: number, detail: string): boolean {
  switch (fault) {
    case 'kill-primary':
    case 'kill-secondary':
    case 'kill-watchdog':
    case 'cut-pipe':
    case 'memory-hog':
      return true;
    case 'hang-primary':
    case 'hang-secondary':
      return opts.forMs === undefined || opts.forMs > alarmMs;
    case 'corrupt-shm':
      return detail.startsWith('flipped');
    default:
      return false;
  }
}

// Events that mean something is being repaired: recovery is only complete after an in-sync report that follows them.
const TROUBLE = new Set(['exited', 'repaired', 'ping-missed', 'detected', 'fenced', 'memory-ceiling', 'link-lost', 'promoted', 'respawned', 'spawned', 'give-up']);
const DETECTION = new Set(['exited', 'ping-missed', 'detected', 'memory-ceiling', 'link-lost', 'adopted']);

function isTrouble(e: TreeEvent): boolean {
  return TROUBLE.has(e.event) || (e.event === 'standby' && e.fields.standby !== 'in-sync');
}

function isFailover(e: TreeEvent): boolean {
  return e.event === 'promoted' || (e.event === 'respawned' && e.fields.role === 'primary');
}

/** `+123ms exited(secondary 4567 signal SIGKILL)`: the time is relative to `base` (the injection). */
function compact(e: TreeEvent, base: number): string {
  const f = e.fields;
  const parts = [f.role, f.pid].filter(Boolean).join(' ');
  const extra = e.event === 'standby' ? ` ${f.standby}` : f.cause ? ` ${f.cause}` : f.silentMs ? ` silent ${f.silentMs} ms` : '';
  return `+${e.at - base}ms ${e.event}(${parts}${extra})`;
}



function statsOf(xs: Array<number | null>): { p50: number | null; max: number | null } {
  const v = xs.filter((x): x is number => x !== null);
  if (v.length === 0) return { p50: null, max: null };
  return { p50: percentile(v, 50), max: Math.max(...v) };
}

// --- client workers -----------------------------------------------------------------

const WORKER_MAIN = path.join(REPO_ROOT, 'dist', 'chaos', 'worker.js');

class Worker {
  readonly ops: OpRecord[] = [];
  readonly problems: string[] = [];
  stderr = '';
  private partial = '';
  readonly proc: ChildProcess;
  readonly startTime: number | null;
  exit: { code: number | null; signal: string | null } | null = null;
  readonly exited: Promise<void>;

  constructor(readonly id: number, endpoint: string, seed: number) {
    this.proc = spawn(process.execPath, [WORKER_MAIN, '--endpoint', endpoint, '--id', String(id), '--seed', String(seed)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.startTime = this.proc.pid ? processStartTime(this.proc.pid) : null;
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
      this.proc.once('error', (err) => {
        this.problems.push(`worker ${id} could not start: ${err.message}`);
        this.exit ??= { code: null, signal: null };
        resolve();
      });
    });
    this.proc.stdin?.on('error', () => {});
    this.proc.stdout?.setEncoding('utf8');
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stdout?.on('data', (chunk: string) => {
      this.partial += chunk;
      const lines = this.partial.split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) this.onLine(line);
    });
    this.proc.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    try {
      const o = JSON.parse(line) as OpRecord;
      o.worker = this.id;
      this.ops.push(o);
    } catch {
      this.problems.push(`worker ${this.id} wrote a line that is not JSON: ${line.slice(0, 200)}`);
    }
  }

  get pid(): number {
    return this.proc.pid ?? 0;
  }

  /** SIGTERM, then wait; SIGKILL if it does not finish in time (that is a problem to report). */
  async stop(): Promise<void> {
    if (this.exit) {
      this.problems.push(`worker ${this.id} (pid ${this.pid}) exited before the end of the run`);
    } else {
      this.proc.kill('SIGTERM');
      this.proc.stdin?.end();
    }
    const inTime = (await within(this.exited.then(() => true), WORKER_STOP_MS)) !== null;
    if (!inTime) {
      this.problems.push(`worker ${this.id} (pid ${this.pid}) did not stop within ${WORKER_STOP_MS} ms of SIGTERM: killed`);
      this.kill();
      await this.exited;
    }
    if (this.partial.trim()) this.onLine(this.partial);
    this.partial = '';
    if (this.exit && this.exit.code !== 0) {
      this.problems.push(`worker ${this.id} exited with code ${this.exit.code} signal ${this.exit.signal}: ${this.stderr.slice(-500)}`);
    }
  }

  kill(): void {
    if (this.pid && isSameProcess(this.pid, this.startTime)) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

// --- recovery -------------------------------------------------------------------------

interface Recovery {
  recoveredAt: number | null;
  /** Index after the last event that belongs to this fault. */
  endIndex: number;
  detection: TreeEvent | null;
  why: string;
  /** The fault called for a reaction, none came, and the tree looks healthy. */
  undetected?: boolean;
}

/** What the watchdog last said about the tree, for the evidence of a fault never recovered from. */
let lastStatusLine = '';

/** Served again, with a ready primary and a ready, in-sync standby, according to the watchdog. */
async function steady(paths: RuntimePaths, primaryPid: number): Promise<boolean> {
  try {
    const s = await liveStatus(paths);
    const p = s.processes.find((x) => x.role === 'primary');
    const sec = s.processes.find((x) => x.role === 'secondary');
    lastStatusLine =
      `status: phase ${s.phase}, epoch ${s.epoch}, standby ${s.standby}; ` +
      s.processes.map((x) => `${x.role} ${x.pid} ${x.state}`).join(', ') +
      ` (the events say the primary is ${primaryPid})`;
    return s.phase === 'running' && s.standby === 'in-sync' && p?.state === 'ready' && p.pid === primaryPid && sec?.state === 'ready';
  } catch (err) {
    lastStatusLine = `status: ${err instanceof Error ? err.message : String(err)}`;
    return false;
  }
}

async function waitRecovered(
  tree: ChaosTree,
  paths: RuntimePaths,
  rec: { fault: FaultName | null; endedAt: number },
  mark: number,
  mustAct: boolean,
): Promise<Recovery> {
  const deadline = Math.max(Date.now(), rec.endedAt) + RECOVERY_BUDGET_MS;
  const detectionOf = (): TreeEvent | null => {
    let primary = 0;
    for (let i = 0; i < tree.events.length; i++) {
      const e = tree.events[i] as TreeEvent;
      if (e.fields.role === 'primary' && ['spawned', 'respawned', 'promoted', 'adopted'].includes(e.event)) primary = Number(e.fields.pid);
      if (i < mark) continue;
      if (DETECTION.has(e.event)) return e;
      if (e.event === 'standby' && e.fields.standby === 'absent' && Number(e.fields.pid) === primary) return e;
    }
    return null;
  };
  for (;;) {
    const n = tree.events.length;
    const since = tree.events.slice(mark, n);
    let lastTrouble = -1;
    since.forEach((e, i) => {
      if (isTrouble(e)) lastTrouble = i;
    });
    const primary = tree.currentPrimary();
    const acted = since.some((e) => isTrouble(e) || e.event === 'adopted');
    let resolvedAt: number | null = null;
    if (rec.fault === 'kill-watchdog') {
      // The successor adopts both servers; it owes no standby report unless something else broke.
      const adoptedP = since.findIndex((e) => e.event === 'adopted' && e.fields.role === 'primary');
      const adoptedS = since.findIndex((e) => e.event === 'adopted' && e.fields.role === 'secondary');
      const inSync = since.findIndex((e, i) => i > lastTrouble && e.event === 'standby' && e.fields.standby === 'in-sync' && Number(e.fields.pid) === primary);
      if (lastTrouble >= 0) {
        if (inSync >= 0) resolvedAt = (since[inSync] as TreeEvent).at;
      } else if (adoptedP >= 0 && adoptedS >= 0) {
        resolvedAt = Math.max((since[adoptedP] as TreeEvent).at, (since[adoptedS] as TreeEvent).at);
      }
    } else if (lastTrouble >= 0) {
      const inSync = since.findIndex((e, i) => i > lastTrouble && e.event === 'standby' && e.fields.standby === 'in-sync' && Number(e.fields.pid) === primary);
      if (inSync >= 0) resolvedAt = (since[inSync] as TreeEvent).at;
    } else if (!mustAct && Date.now() >= rec.endedAt) {
      resolvedAt = Date.now();
    }
    if (resolvedAt !== null && (acted || !mustAct) && (await steady(paths, primary))) {
      // Still nothing new meanwhile (a late alarm would be this fault's doing, not the next one's).
      if (tree.events.length === n) {
        return { recoveredAt: resolvedAt, endIndex: n, detection: detectionOf(), why: '' };
      }
      continue;
    }
    if (tree.exited) {
      return { recoveredAt: null, endIndex: tree.events.length, detection: detectionOf(), why: `the launcher exited (code ${tree.exited.code})` };
    }
    if (Date.now() > deadline) {
      const healthy = await steady(paths, primary);
      if (mustAct && !acted && healthy) {
        // Served throughout, but the fault had none of the effects it promises: a fault that
        // silently did nothing (or damage nobody noticed) is a finding of its own.
        return { recoveredAt: null, endIndex: tree.events.length, detection: detectionOf(), why: `the watchdog never reacted (${lastStatusLine})`, undetected: true };
      }
      const why = `${mustAct && !acted ? 'the watchdog never reacted' : 'no ready primary with an in-sync standby'} (${lastStatusLine})`;
      return { recoveredAt: null, endIndex: tree.events.length, detection: detectionOf(), why };
    }
    await sleep(25);
  }
}

// --- the run ---------------------------------------------------------------------------

function say(opts: ChaosOptions, line: string): void {
  if (!opts.json) process.stderr.write(`osps chaos: ${line}\n`);
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const alarmMs = opts.alarmMs ?? DEFAULT_ALARM_MS;
  const pingIntervalMs = opts.pingIntervalMs ?? DEFAULT_PING_MS;
  const clients = Math.max(1, opts.clients);
  const began = Date.now();
  if (!fs.existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: build first (npx tsc -p tsconfig.json)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-chaos-'));
  const name = `chaos-${opts.seed}-${process.pid}`;
  const runtimeRoot = path.join(tmp, 'run');
  const paths = runtimePaths(name, runtimeRoot);
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  const tree = new ChaosTree({
    name,
    runtimeRoot,
    dataDir: path.join(tmp, 'data'),
    endpoint,
    paths,
    pingIntervalMs,
    alarmMs,
    orphanTimeoutMs: 3000,
    maxRestarts: 1000,
    restartWindowMs: 60_000,
    // Far above the working set the run builds up, so only memory-hog crosses it.
    memoryCeilingMb: 1024,
    sampleIntervalMs: 200,
    // The smallest ring: fill-ring fills it quickly, and backpressure is exercised for real.
    extraArgs: ['--ring-bytes', String(4 * 1024 * 1024)],
    verbose: !!process.env.OSPS_CHAOS_VERBOSE,
  });
  const workers: Worker[] = [];
  const faults: FaultResult[] = [];
  const violations: string[] = [];
  const evidence: string[] = [];
  let unserved = 0;
  let leaked: string[] = [];
  let orphans: number[] = [];
  let history = checkHistory([], {});
  let operations = 0;
  let stopped = false;
  let failoversObserved = 0;
  let needlessFailovers = 0;
  let missedFailovers = 0;
  const plan = planFaults(opts.seed, opts.faults, alarmMs);
  let needlessRestarts = 0;
  let undetected = 0;
  let interrupted: string | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) {
      for (const w of workers) w.kill();
      void tree.kill().finally(() => {
        fs.rmSync(`/dev/shm${paths.shmName}`, { force: true });
        fs.rmSync(tmp, { recursive: true, force: true });
        process.exit(130);
      });
      return;
    }
    interrupted = sig;
    say(opts, `${sig}: finishing the current fault, then checking and stopping (again to kill everything now)`);
  };
  if (opts.handleSignals) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, onSignal);
  try {
    say(opts, `instance ${name} on ${endpoint} (seed ${opts.seed}, ${opts.faults} faults, ${clients} clients, alarm ${alarmMs} ms)`);
    await tree.start();
    const runMark = tree.events.length;
    for (let i = 0; i < clients; i++) workers.push(new Worker(i, endpoint, (opts.seed * 7919 + i * 104_729 + 1) >>> 0));
    await sleep(LOAD_BEFORE_FAULTS_MS);

    // Events between one fault's recovery and the next injection: nothing may be replaced there.
    let gapStart = runMark;
    const checkGap = async (label: string): Promise<boolean> => {
      const gap = tree.events.slice(gapStart);
      const base = gap[0]?.at ?? Date.now();
      // Always settle first: the next fault must find a ready primary and a ready, in-sync standby.
      const r = await waitRecovered(tree, paths, { fault: null, endedAt: Date.now() }, gapStart, false);
      const all = tree.events.slice(gapStart, r.endIndex);
      if (!all.some((e) => isTrouble(e) || e.event === 'adopted')) {
        if (r.recoveredAt !== null) return true;
        unserved++;
        evidence.push(`unserved ${label}: ${r.why} within ${RECOVERY_BUDGET_MS} ms`);
        return false;
      }
      const restarts = all.filter((e) => e.event === 'spawned').length;
      const failovers = all.filter(isFailover).length;
      needlessRestarts += restarts;
      evidence.push(`${label}: with no fault injected: ${all.map((e) => compact(e, base)).join(' ')}`);
      if (r.recoveredAt === null) {
        unserved++;
        evidence.push(`unserved ${label}: ${r.why} within ${RECOVERY_BUDGET_MS} ms`);
        return false;
      }
      if (failovers > 0) evidence.push(`needless failover ${label}: ${failovers}`);
      gapStart = r.endIndex;
      return true;
    };

    for (let i = 0; i < plan.length; i++) {
      const { fault, opts: fo } = plan[i] as { fault: FaultName; opts: FaultOptions };
      const kind = kindOf(fault, fo);
      const expectedFailover = expectsFailover(fault, fo, alarmMs);
      if (!(await checkGap(i === 0 ? 'before fault 1' : `between faults ${i} and ${i + 1}`))) break;
      if (interrupted) {
        violations.push(`interrupted by ${interrupted} after ${i} of ${plan.length} faults`);
        break;
      }
      if (opts.timeBudgetMs !== undefined && Date.now() - began > opts.timeBudgetMs) {
        evidence.push(`time budget: ${Math.round(opts.timeBudgetMs / 1000)} s spent after ${i} faults (recoveries took ${faults.map((f) => f.recoveryMs ?? '-').join(', ')} ms)`);
        break;
      }
      const mark = tree.events.length;
      let rec: FaultRecord;
      try {
        rec = await injectFault(paths, fault, fo);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        violations.push(`inject: fault ${i + 1} (${kind}) could not be injected: ${msg}`);
        faults.push({ fault, opts: fo, kind, role: '', pid: 0, detail: `not injected: ${msg}`, detectionMs: null, recoveryMs: null, failover: false, expectedFailover, events: [] });
        break;
      }
      const mustAct = expectsAction(fault, fo, alarmMs, rec.detail);
      const r = await waitRecovered(tree, paths, rec, mark, mustAct);
      const window = tree.events.slice(mark, r.endIndex);
      const shown = window.map((e) => compact(e, rec.injectedAt));
      const failoversHere = window.filter(isFailover).length;
      failoversObserved += failoversHere;
      const who = `fault ${i + 1} (${kind}, ${rec.role} pid ${rec.pid}, ${rec.detail})`;
      if (failoversHere > (expectedFailover ? 1 : 0)) {
        needlessFailovers += failoversHere - (expectedFailover ? 1 : 0);
        evidence.push(`needless failover: ${who}: ${shown.join(' ')}`);
      }
      if (expectedFailover && failoversHere === 0 && r.recoveredAt !== null) {
        missedFailovers++;
        evidence.push(`missed failover: ${who}: ${shown.join(' ') || 'no events'}`);
      }
      // One fresh server per fault that takes one down (none for a pause or an adoption). A fill-ring
      // that kept the standby stopped past the alarm may cost it its place: that one is deserved.
      const restarts = window.filter((e) => e.event === 'spawned').length;
      let allowed = mustAct && fault !== 'kill-watchdog' ? 1 : 0;
      if (fault === 'fill-ring' && rec.endedAt - rec.injectedAt > alarmMs) allowed = 1;
      if (restarts > allowed) {
        needlessRestarts += restarts - allowed;
        evidence.push(`needless restart: ${who}: ${restarts} servers started where ${allowed} would do: ${shown.join(' ')}`);
      }
      const result: FaultResult = {
        fault,
        opts: fo,
        kind,
        role: rec.role,
        pid: rec.pid,
        detail: rec.detail,
        detectionMs: r.detection ? Math.max(0, r.detection.at - rec.injectedAt) : null,
        recoveryMs: r.recoveredAt === null ? null : Math.max(0, r.recoveredAt - rec.injectedAt),
        failover: failoversHere > 0,
        expectedFailover,
        events: shown,
      };
      faults.push(result);
      gapStart = r.endIndex;
      say(
        opts,
        `fault ${i + 1}/${plan.length} ${kind} (${rec.role} pid ${rec.pid}): ` +
          `detected ${result.detectionMs ?? '-'} ms, recovered ${result.recoveryMs ?? '-'} ms${result.failover ? ', failover' : ''}` +
          `${restarts > allowed ? `, ${restarts - allowed} needless restart(s)` : ''}`,
      );
      if (r.undetected) {
        undetected++;
        evidence.push(`undetected: ${who}: ${r.why} within ${RECOVERY_BUDGET_MS} ms; events: ${shown.join(' ') || 'none'}`);
      } else if (r.recoveredAt === null) {
        unserved++;
        evidence.push(`unserved: ${who}: ${r.why} within ${RECOVERY_BUDGET_MS} ms; events: ${shown.join(' ') || 'none'}`);
        // The tree is not in a state a next fault could be judged from: stop injecting.
        break;
      }
      await sleep(LOAD_BETWEEN_FAULTS_MS);
    }
    if (faults.length === plan.length) await checkGap(`after fault ${plan.length}`);
    // Failovers outside every fault's window (between faults, or after the last one) are needless too.
    const inWindows = failoversObserved;
    const allFailovers = tree.events.slice(runMark).filter(isFailover);
    if (allFailovers.length > inWindows) {
      needlessFailovers += allFailovers.length - inWindows;
      failoversObserved = allFailovers.length;
    }

    // Stop the load, collect the history.
    await Promise.all(workers.map((w) => w.stop()));
    const ops = workers.flatMap((w) => w.ops);
    operations = ops.length;
    for (const w of workers) for (const p of w.problems) violations.push(`worker: ${p}`);

    // Read back every key and counter with a fresh client.
    const final: FinalState = {};
    const reader = new Client({ endpoint, requestTimeoutMs: 500, deadlineMs: 20_000 });
    try {
      const keys = keysOf(ops);
      for (let i = 0; i < keys.length; i += 256) {
        const batch = keys.slice(i, i + 256);
        const values = await Promise.all(batch.map((k) => reader.get(k).then((v) => v, () => undefined)));
        batch.forEach((k, j) => (final[k] = values[j]));
      }
    } finally {
      await reader.close();
    }
    history = checkHistory(ops, final);
    if (opts.keepTmp) {
      // Raw material for a post-mortem: every op, every event line with its arrival time.
      fs.writeFileSync(path.join(tmp, 'ops.jsonl'), ops.map((o) => JSON.stringify(o)).join('\n') + '\n');
      fs.writeFileSync(path.join(tmp, 'final.json'), JSON.stringify(final));
    }
    evidence.push(...history.details);

    // Stop the tree gracefully; then nothing of it may remain.
    const exit = await tree.stop();
    stopped = true;
    if (exit === null) violations.push('stop: the launcher did not exit within 20 s of SIGTERM');
    else if (exit.code !== 0) violations.push(`stop: the launcher exited with code ${exit.code} signal ${exit.signal} after SIGTERM (expected 0)`);
    const workerPids = new Map(workers.filter((w) => w.pid).map((w) => [w.pid, w.startTime] as [number, number | null]));
    orphans = await tree.orphans(8000, workerPids);
    leaked = tree.leaks();
  } catch (err) {
    violations.push(`run: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, onSignal);
    for (const w of workers) w.kill();
    if (!stopped) {
      await tree.stop(10_000);
      if (!tree.exited) violations.push('stop: the launcher did not exit after SIGTERM');
      if (orphans.length === 0) orphans = await tree.orphans(5000);
      if (leaked.length === 0) leaked = tree.leaks();
    }
    await tree.kill();
    fs.rmSync(`/dev/shm${paths.shmName}`, { force: true });
    if (opts.keepTmp) {
      fs.writeFileSync(path.join(tmp, 'events.log'), tree.events.map((e) => `${e.at} ${e.line}`).join('\n') + '\n');
      fs.writeFileSync(path.join(tmp, 'tree-stderr.log'), tree.stderrTail);
    } else {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  const byKind: Record<string, KindStats> = {};
  for (const kind of [...new Set(faults.map((f) => f.kind))].sort()) {
    const fs_ = faults.filter((f) => f.kind === kind);
    const d = statsOf(fs_.map((f) => f.detectionMs));
    const r = statsOf(fs_.map((f) => f.recoveryMs));
    byKind[kind] = { count: fs_.length, detectionP50: d.p50, detectionMax: d.max, recoveryP50: r.p50, recoveryMax: r.max };
  }

  const expected = faults.filter((f) => f.expectedFailover).length;
  if (history.lost > 0) violations.push(`lost: ${history.lost} acknowledged writes`);
  if (history.duplicated > 0) violations.push(`duplicated: ${history.duplicated} increments executed more often than attempted`);
  if (history.wrongReads > 0) violations.push(`wrongReads: ${history.wrongReads} reads no history explains`);
  if (history.unreadable > 0) violations.push(`unreadable: ${history.unreadable} keys could not be read back after the run`);
  if (history.failedOps > 0) {
    violations.push(`failedRequests: ${history.failedOps} client requests failed (${Object.entries(history.failedCodes).map(([c, n]) => `${c} ${n}`).join(', ')})`);
  }
  if (needlessFailovers > 0) violations.push(`needlessFailovers: ${needlessFailovers} failovers no fault called for`);
  if (needlessRestarts > 0) violations.push(`needlessRestarts: ${needlessRestarts} servers replaced that no fault called for`);
  if (missedFailovers > 0) violations.push(`missedFailovers: ${missedFailovers} faults that call for a failover recovered without one`);
  if (undetected > 0) violations.push(`undetected: ${undetected} faults that should have been detected passed unnoticed`);
  if (unserved > 0) violations.push(`unserved: ${unserved} faults not recovered within ${RECOVERY_BUDGET_MS / 1000} s`);
  if (faults.length < plan.length) violations.push(`incomplete: ${faults.length} of ${plan.length} faults injected`);
  if (history.acknowledged === 0) violations.push('acknowledged: no write was acknowledged during the run');
  if (leaked.length > 0) violations.push(`leaked: ${leaked.join('; ')}`);
  if (orphans.length > 0) violations.push(`orphans: pids ${orphans.join(', ')} still alive after the stop`);
  if (violations.length > 0) {
    let replay = `replay: osps chaos run --seed ${opts.seed} --faults ${opts.faults} --clients ${clients}`;
    if (alarmMs !== DEFAULT_ALARM_MS) replay += ` --alarm ${alarmMs}`;
    if (pingIntervalMs !== DEFAULT_PING_MS) replay += ` --ping-interval ${pingIntervalMs}`;
    violations.push(replay);
  }

  return {
    seed: opts.seed,
    faultsRequested: opts.faults,
    clients,
    alarmMs,
    pingIntervalMs,
    durationMs: Date.now() - began,
    faults,
    byKind,
    acknowledged: history.acknowledged,
    unacknowledged: history.unacknowledged,
    operations,
    lost: history.lost,
    duplicated: history.duplicated,
    wrongReads: history.wrongReads,
    failedRequests: history.failedOps,
    needlessFailovers,
    needlessRestarts,
    failovers: { observed: failoversObserved, expected, missed: missedFailovers },
    unserved,
    undetected,
    leaked,
    orphans,
    ok: violations.length === 0,
    violations,
    evidence,
    tmpDir: opts.keepTmp ? tmp : null,
  };
}

// --- printing ---------------------------------------------------------------------------

function ms(v: number | null): string {
  return v === null ? '-' : `${Math.round(v)} ms`;
}

/** JSON: one object on stdout and nothing else. Otherwise a table per fault kind and one line per invariant. */
export function printReport(report: ChaosReport, json: boolean, out: NodeJS.WritableStream = process.stdout): void {
  if (json) {
    out.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const lines: string[] = [];
  lines.push(
    `chaos run: seed ${report.seed}, ${report.faults.length}/${report.faultsRequested} faults, ${report.clients} clients, ` +
      `alarm ${report.alarmMs} ms, ping ${report.pingIntervalMs} ms, ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  lines.push('');
  const kinds = Object.keys(report.byKind);
  const w = Math.max(10, ...kinds.map((k) => k.length));
  const col = (s: string, n: number): string => s.padStart(n);
  lines.push(`${'fault'.padEnd(w)}  ${col('count', 5)}  ${col('detect p50', 10)}  ${col('detect max', 10)}  ${col('recover p50', 11)}  ${col('recover max', 11)}`);
  for (const k of kinds) {
    const s = report.byKind[k] as KindStats;
    lines.push(`${k.padEnd(w)}  ${col(String(s.count), 5)}  ${col(ms(s.detectionP50), 10)}  ${col(ms(s.detectionMax), 10)}  ${col(ms(s.recoveryP50), 11)}  ${col(ms(s.recoveryMax), 11)}`);
  }
  lines.push('');
  const inv: Array<[string, string | number]> = [
    ['operations', report.operations],
    ['acknowledged writes', report.acknowledged],
    ['unacknowledged writes', report.unacknowledged],
    ['lost', report.lost],
    ['duplicated', report.duplicated],
    ['wrong reads', report.wrongReads],
    ['failed requests', report.failedRequests],
    ['failovers (observed/expected)', `${report.failovers.observed}/${report.failovers.expected}`],
    ['needless failovers', report.needlessFailovers],
    ['needless restarts', report.needlessRestarts],
    ['unserved faults', report.unserved],
    ['undetected faults', report.undetected],
    ['leaked', report.leaked.length],
    ['orphans', report.orphans.length],
  ];
  const iw = Math.max(...inv.map(([k]) => k.length));
  for (const [k, v] of inv) lines.push(`${k.padEnd(iw)}  ${v}`);
  lines.push('');
  if (report.ok) {
    lines.push('OK: every invariant held');
  } else {
    lines.push('FAILED:');
    for (const v of report.violations) lines.push(`  ${v}`);
    if (report.evidence.length > 0) {
      lines.push('evidence:');
      for (const e of report.evidence) lines.push(`  ${e}`);
    }
  }
  if (report.tmpDir) lines.push(`files kept in ${report.tmpDir}`);
  out.write(`${lines.join('\n')}\n`);
}
