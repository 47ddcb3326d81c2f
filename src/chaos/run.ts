// `osps chaos run`: a private instance under client load from separate worker processes,
// N seeded random faults injected one after the other, each waited out to full recovery,
// then the history checked (nothing acknowledged lost, no duplicate, no impossible read),
// the failovers counted against the faults that call for one, and the host checked for
// anything the instance left behind. The seed replays the same fault sequence.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Tree, within, type TreeEvent } from '../harness/tree.js';
import { freePort } from '../net/free-port.js';
import { faultSpec, injectFault, type FaultRecord } from './faults.js';
import { checkHistory, keysOf, type CheckResult, type FinalState } from './model.js';
import { compareCopies, digestOf, leftoverInjected, readBack, replayElsewhere, type CopyDigests } from './copies.js';
import { kindOf, planFaults, type PlannedFault } from './plan.js';
import { Progress } from './progress.js';
import { RECOVERY_BUDGET_MS, compact, isAction, isFailover, waitRecovered } from './recovery.js';
import { statsByKind, type ChaosReport, type FaultResult } from './report.js';
import { DAMAGED } from './scratch.js';
import { Tally } from './tally.js';
import { WORKER_MAIN, Worker } from './workers.js';

export { printReport, type ChaosReport, type FaultResult, type KindStats } from './report.js';
export { CHAOS_FAULTS, kindOf, planFaults } from './plan.js';

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
  /** Redraw a progress line on this terminal (stderr) while the run goes; otherwise one line per fault. */
  progress?: boolean;
}

const DEFAULT_ALARM_MS = 700;
const DEFAULT_PING_MS = 100;
const LOAD_BEFORE_FAULTS_MS = 500;
const LOAD_BETWEEN_FAULTS_MS = 100;

/** One chaos run: the tree, its load, the plan, and what was seen so far. */
class ChaosRun {
  readonly alarmMs: number;
  readonly pingIntervalMs: number;
  readonly clients: number;
  readonly began = Date.now();
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-chaos-'));
  readonly plan: PlannedFault[];
  readonly tally = new Tally();
  readonly workers: Worker[] = [];
  readonly progress: Progress;
  tree!: Tree;
  endpoint = '';
  history: CheckResult = checkHistory([], {});
  operations = 0;
  leaked: string[] = [];
  orphans: number[] = [];
  stopped = false;
  keys: string[] = [];
  primaryCopy: FinalState = {};
  readonly copies: CopyDigests = { primary: null, standby: null, journal: null, restarted: null, mismatches: 0 };
  interrupted: string | null = null;
  /** Index of the first event after the last fault's recovery: what follows must be quiet. */
  private gapStart = 0;

  constructor(readonly opts: ChaosOptions) {
    this.alarmMs = opts.alarmMs ?? DEFAULT_ALARM_MS;
    this.pingIntervalMs = opts.pingIntervalMs ?? DEFAULT_PING_MS;
    this.clients = Math.max(1, opts.clients);
    this.plan = planFaults(opts.seed, opts.faults, this.alarmMs);
    this.progress = new Progress(opts.json ? null : process.stderr, !!opts.progress, this.plan.length);
  }

  async makeTree(): Promise<void> {
    const name = `chaos-${this.opts.seed}-${process.pid}`;
    this.endpoint = `tcp://127.0.0.1:${await freePort()}`;
    this.tree = new Tree({
      name,
      runtimeRoot: path.join(this.tmp, 'run'),
      dataDir: path.join(this.tmp, 'data'),
      endpoint: this.endpoint,
      args: [
        '--ping-interval', String(this.pingIntervalMs),
        '--alarm', String(this.alarmMs),
        '--orphan-timeout', '3000',
        '--max-restarts', '1000',
        '--restart-window', '60000',
        // Far above the working set the run builds up, so only memory-hog crosses it.
        '--memory-ceiling', '1024',
        '--sample-interval', '200',
        // The smallest ring: fill-ring fills it quickly, and backpressure is exercised for real.
        '--ring-bytes', String(4 * 1024 * 1024),
        // The run injects data faults and ballast: the hooks are armed for this instance only.
        '--fault-injection',
      ],
      verbose: !!process.env.OSPS_CHAOS_VERBOSE,
    });
  }

  async start(): Promise<void> {
    const o = this.opts;
    this.progress.say(`instance ${this.tree.opts.name} on ${this.endpoint} (seed ${o.seed}, ${o.faults} faults, ${this.clients} clients, alarm ${this.alarmMs} ms)`);
    await this.tree.start();
    this.gapStart = this.tree.events.length;
    for (let i = 0; i < this.clients; i++) this.workers.push(new Worker(i, this.endpoint, (o.seed * 7919 + i * 104_729 + 1) >>> 0));
    await sleep(LOAD_BEFORE_FAULTS_MS);
  }

  /**
   * Waits for the tree to be steady between faults; anything the watchdog did meanwhile was
   * done with no fault injected, so it counts against it. False when the run cannot go on.
   */
  async settle(label: string): Promise<boolean> {
    const t = this.tally;
    const from = this.gapStart;
    const base = this.tree.events[from]?.at ?? Date.now();
    // Always settle first: the next fault must find a ready primary and a ready, in-sync standby.
    const r = await waitRecovered(this.tree, { endedAt: Date.now(), mark: from, mustAct: false, byAdoption: false });
    const all = this.tree.events.slice(from, r.endIndex);
    if (all.some(isAction)) {
      t.needlessRestarts += all.filter((e) => e.event === 'spawned').length;
      t.evidence.push(`${label}: with no fault injected: ${all.map((e) => compact(e, base)).join(' ')}`);
    }
    if (r.recoveredAt === null) {
      t.unserved++;
      t.evidence.push(`unserved ${label}: ${r.why} within ${RECOVERY_BUDGET_MS} ms`);
      return false;
    }
    const failovers = all.filter(isFailover).length;
    if (failovers > 0) t.evidence.push(`needless failover ${label}: ${failovers}`);
    this.gapStart = r.endIndex;
    return true;
  }

  /** Injects fault `i` of the plan and waits it out. False when the run cannot go on. */
  async runFault(i: number): Promise<boolean> {
    const t = this.tally;
    const { fault, opts: fo } = this.plan[i] as PlannedFault;
    const spec = faultSpec(fault);
    const kind = kindOf(fault, fo);
    const expectedFailover = spec.failover(fo, this.alarmMs);
    const mark = this.tree.events.length;
    let rec: FaultRecord;
    try {
      rec = await injectFault(this.tree.paths, fault, fo);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      t.violations.push(`inject: fault ${i + 1} (${kind}) could not be injected: ${msg}`);
      t.faults.push({ fault, opts: fo, kind, role: '', pid: 0, detail: `not injected: ${msg}`, detectionMs: null, recoveryMs: null, failover: false, expectedFailover, events: [] });
      return false;
    }
    if (spec.restartsTree) {
      // Every process is gone, the launcher too: `osps start` again, as an operator would.
      await within(this.tree.exitedPromise, 5000);
      await this.tree.start({ waitReady: false });
    }
    if (rec.detail.includes(DAMAGED)) t.violations.push(`injected data: fault ${i + 1} (${kind}): ${rec.detail}`);
    // An injection that found nothing to damage did nothing: skipped, not a fault survived.
    const skipped = /nothing corrupted/.test(rec.detail);
    if (skipped) t.skipped++;
    const mustAct = spec.acts(fo, this.alarmMs, rec.detail);
    const r = await waitRecovered(this.tree, { endedAt: rec.endedAt, mark, mustAct, byAdoption: spec.recoveredByAdoption });
    const window = this.tree.events.slice(mark, r.endIndex);
    const shown = window.map((e) => compact(e, rec.injectedAt));
    const who = `fault ${i + 1} (${kind}, ${rec.role} pid ${rec.pid}, ${rec.detail})`;
    const failovers = t.countFailovers(window.filter(isFailover).length, expectedFailover, r.recoveredAt !== null, `${who}: ${shown.join(' ') || 'no events'}`);
    // One fresh server per fault that takes one down; the table says how many each may cost.
    const restarts = window.filter((e: TreeEvent) => e.event === 'spawned').length;
    const allowed = spec.restarts(fo, this.alarmMs, rec);
    if (restarts > allowed) {
      t.needlessRestarts += restarts - allowed;
      t.evidence.push(`needless restart: ${who}: ${restarts} servers started where ${allowed} would do: ${shown.join(' ')}`);
    }
    const result: FaultResult = {
      fault,
      opts: fo,
      kind,
      ...(skipped ? { skipped: true } : {}),
      role: rec.role,
      pid: rec.pid,
      detail: rec.detail,
      detectionMs: r.detection ? Math.max(0, r.detection.at - rec.injectedAt) : null,
      recoveryMs: r.recoveredAt === null ? null : Math.max(0, r.recoveredAt - rec.injectedAt),
      failover: failovers > 0,
      expectedFailover,
      events: shown,
    };
    t.faults.push(result);
    this.gapStart = r.endIndex;
    this.progress.fault(
      i,
      `fault ${i + 1}/${this.plan.length} ${kind} (${rec.role} pid ${rec.pid}): ` +
        `detected ${result.detectionMs ?? '-'} ms, recovered ${result.recoveryMs ?? '-'} ms${result.failover ? ', failover' : ''}` +
        `${restarts > allowed ? `, ${restarts - allowed} needless restart(s)` : ''}`,
      t.findings(),
    );
    if (r.undetected) {
      t.undetected++;
      t.evidence.push(`undetected: ${who}: ${r.why} within ${RECOVERY_BUDGET_MS} ms; events: ${shown.join(' ') || 'none'}`);
    } else if (r.recoveredAt === null) {
      t.unserved++;
      t.evidence.push(`unserved: ${who}: ${r.why} within ${RECOVERY_BUDGET_MS} ms; events: ${shown.join(' ') || 'none'}`);
      // The tree is not in a state a next fault could be judged from: stop injecting.
      return false;
    }
    return true;
  }

  async injectAll(): Promise<void> {
    const runMark = this.gapStart;
    const t = this.tally;
    for (let i = 0; i < this.plan.length; i++) {
      if (!(await this.settle(i === 0 ? 'before fault 1' : `between faults ${i} and ${i + 1}`))) break;
      if (this.interrupted) {
        t.violations.push(`interrupted by ${this.interrupted} after ${i} of ${this.plan.length} faults`);
        break;
      }
      const budget = this.opts.timeBudgetMs;
      if (budget !== undefined && Date.now() - this.began > budget) {
        t.evidence.push(`time budget: ${Math.round(budget / 1000)} s spent after ${i} faults (recoveries took ${t.faults.map((f) => f.recoveryMs ?? '-').join(', ')} ms)`);
        break;
      }
      if (!(await this.runFault(i))) break;
      await sleep(LOAD_BETWEEN_FAULTS_MS);
    }
    if (t.faults.length === this.plan.length) await this.settle(`after fault ${this.plan.length}`);
    // Failovers outside every fault's window (between faults, or after the last one) are needless too.
    t.countStrayFailovers(this.tree.events.slice(runMark).filter(isFailover).length);
  }

  /** Stops the load and checks the history against what a fresh client reads back. */
  async checkHistory(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    const ops = this.workers.flatMap((w) => w.ops);
    this.operations = ops.length;
    for (const w of this.workers) for (const p of w.problems) this.tally.violations.push(`worker: ${p}`);
    this.keys = keysOf(ops);
    const final = await readBack(this.endpoint, this.keys);
    this.primaryCopy = final;
    this.copies.primary = digestOf(final, this.keys);
    this.history = checkHistory(ops, final);
    if (this.opts.keepTmp) {
      // Raw material for a post-mortem: every op, and what was read back.
      fs.writeFileSync(path.join(this.tmp, 'ops.jsonl'), ops.map((o) => JSON.stringify(o)).join('\n') + '\n');
      fs.writeFileSync(path.join(this.tmp, 'final.json'), JSON.stringify(final));
    }
    this.tally.evidence.push(...this.history.details);
    await this.standbyCopy();
  }

  /** A forced failover at quiesce: the promoted standby must serve exactly the primary's copy. */
  async standbyCopy(): Promise<void> {
    const mark = this.tree.events.length;
    const rec = await injectFault(this.tree.paths, 'kill-primary', {});
    const r = await waitRecovered(this.tree, { endedAt: rec.endedAt, mark, mustAct: true, byAdoption: false });
    if (r.recoveredAt === null) {
      this.tally.violations.push(`copies: the forced failover at quiesce did not recover: ${r.why}`);
      return;
    }
    this.checkCopy('standby', await readBack(this.endpoint, this.keys));
  }

  /** Compares a copy with the primary's, over the run's keys. */
  private checkCopy(which: 'standby' | 'journal' | 'restarted', copy: FinalState): void {
    this.copies[which] = digestOf(copy, this.keys);
    const d = compareCopies(which, this.primaryCopy, copy, this.keys);
    if (d.count === 0) return;
    this.copies.mismatches += d.count;
    this.tally.violations.push(`copies: the ${which} copy differs from the primary's on ${d.count} keys`);
    this.tally.evidence.push(...d.details);
  }

  /** The journal rebuilt in a process of its own, then the whole tree started again: both must match. */
  async journalAndRestart(): Promise<void> {
    try {
      const replay = await replayElsewhere(this.tree.opts.dataDir);
      const left = leftoverInjected(replay.state);
      if (left.length > 0) this.tally.violations.push(`injected data: ${left.length} keys left in the store (${left.slice(0, 3).join(', ')})`);
      const copy: FinalState = {};
      for (const k of this.keys) copy[k] = replay.state.get(k) ?? null;
      this.checkCopy('journal', copy);
    } catch (err) {
      this.tally.violations.push(`copies: ${err instanceof Error ? err.message : String(err)}`);
    }
    await this.tree.start();
    this.checkCopy('restarted', await readBack(this.endpoint, this.keys));
  }

  /** Stops the tree gracefully (twice: around the journal replay and the restart); then nothing of it may remain. */
  async stopTree(): Promise<void> {
    if (!(await this.gracefulStop())) return;
    await this.journalAndRestart();
    await this.gracefulStop();
    this.stopped = true;
    const workerPids = new Map(this.workers.filter((w) => w.pid).map((w) => [w.pid, w.startTime] as [number, number | null]));
    this.orphans = await this.tree.orphans(8000, workerPids);
    this.leaked = this.tree.leaks();
  }

  private async gracefulStop(): Promise<boolean> {
    const exit = await this.tree.stop();
    if (exit === null) this.tally.violations.push('stop: the launcher did not exit within 20 s of SIGTERM');
    else if (exit.code !== 0) this.tally.violations.push(`stop: the launcher exited with code ${exit.code} signal ${exit.signal} after SIGTERM (expected 0)`);
    return exit !== null;
  }

  /** Whatever happened: no worker, process, shm object or temp file of the run stays behind. */
  async cleanUp(): Promise<void> {
    for (const w of this.workers) w.kill();
    if (!this.stopped) {
      await this.tree.stop(10_000);
      if (!this.tree.exited) this.tally.violations.push('stop: the launcher did not exit after SIGTERM');
      if (this.orphans.length === 0) this.orphans = await this.tree.orphans(5000);
      if (this.leaked.length === 0) this.leaked = this.tree.leaks();
    }
    await this.tree.kill();
    fs.rmSync(`/dev/shm${this.tree.paths.shmName}`, { force: true });
    if (this.opts.keepTmp) {
      fs.writeFileSync(path.join(this.tmp, 'events.log'), this.tree.events.map((e) => `${e.at} ${JSON.stringify(e.raw)}`).join('\n') + '\n');
      fs.writeFileSync(path.join(this.tmp, 'tree-stderr.log'), this.tree.stderr);
    } else {
      fs.rmSync(this.tmp, { recursive: true, force: true });
    }
  }

  /** The first signal ends the run cleanly after the current fault; a second one ends it now. */
  readonly onSignal = (sig: NodeJS.Signals): void => {
    if (this.interrupted) {
      for (const w of this.workers) w.kill();
      void this.tree.kill().finally(() => {
        fs.rmSync(`/dev/shm${this.tree.paths.shmName}`, { force: true });
        fs.rmSync(this.tmp, { recursive: true, force: true });
        process.exit(130);
      });
      return;
    }
    this.interrupted = sig;
    this.progress.say(`${sig}: finishing the current fault, then checking and stopping (again to kill everything now)`);
  };

  report(): ChaosReport {
    const { opts, tally: t, history } = this;
    const violations = [...t.violations, ...t.verdict(history, this.plan.length, this.leaked, this.orphans, RECOVERY_BUDGET_MS)];
    if (violations.length > 0) {
      let replay = `replay: osps chaos run --seed ${opts.seed} --faults ${opts.faults} --clients ${this.clients}`;
      if (this.alarmMs !== DEFAULT_ALARM_MS) replay += ` --alarm ${this.alarmMs}`;
      if (this.pingIntervalMs !== DEFAULT_PING_MS) replay += ` --ping-interval ${this.pingIntervalMs}`;
      violations.push(replay);
    }
    return {
      seed: opts.seed,
      faultsRequested: opts.faults,
      clients: this.clients,
      alarmMs: this.alarmMs,
      pingIntervalMs: this.pingIntervalMs,
      durationMs: Date.now() - this.began,
      faults: t.faults,
      skipped: t.skipped,
      copies: this.copies,
      nonLinearizable: history.nonLinearizable,
      uncheckedKeys: history.unchecked,
      byKind: statsByKind(t.faults.filter((f) => !f.skipped)),
      acknowledged: history.acknowledged,
      unacknowledged: history.unacknowledged,
      operations: this.operations,
      lost: history.lost,
      duplicated: history.duplicated,
      wrongReads: history.wrongReads,
      failedRequests: history.failedOps,
      needlessFailovers: t.needlessFailovers,
      needlessRestarts: t.needlessRestarts,
      failovers: { observed: t.failoversObserved, expected: t.faults.filter((f) => f.expectedFailover).length, missed: t.missedFailovers },
      unserved: t.unserved,
      undetected: t.undetected,
      leaked: this.leaked,
      orphans: this.orphans,
      ok: violations.length === 0,
      violations,
      evidence: t.evidence,
      tmpDir: opts.keepTmp ? this.tmp : null,
    };
  }
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  if (!fs.existsSync(WORKER_MAIN)) throw new Error(`${WORKER_MAIN} is missing: build first (npx tsc -p tsconfig.json)`);
  const run = new ChaosRun(opts);
  await run.makeTree();
  if (opts.handleSignals) for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, run.onSignal);
  try {
    await run.start();
    await run.injectAll();
    await run.checkHistory();
    await run.stopTree();
  } catch (err) {
    run.tally.violations.push(`run: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, run.onSignal);
    run.progress.done();
    await run.cleanUp();
  }
  return run.report();
}
