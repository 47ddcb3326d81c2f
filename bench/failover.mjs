// Failover as a client sees it: SIGKILL (crash) or SIGSTOP (hang) of the primary under
// closed-loop writes → the first write acknowledged by whoever serves next, with writers that
// reconnect every 10 ms and resend on reconnecting (bench/zmq-writer.mjs). Each round also says where the time went,
// from the watchdog's event timestamps. And a pause just shorter than the alarm, which must
// cause no failover. Run alone: `node bench/failover.mjs` (after `npm run build`).
import { processState } from '../dist/runtime/proc.js';
import { Tree, sleep } from './tree.mjs';
import { zmqWriters } from './zmq-writer.mjs';

const ALARM_MS = 3000;

/** A tree that may fail over as often as the rounds ask (the intensity limit is not what is measured). */
async function freshTree(label) {
  const tree = new Tree(label, ['--max-restarts', '1000', '--alarm', String(ALARM_MS)]);
  await tree.start();
  await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 20_000);
  return tree;
}

/** Wall-clock ms (Date.now()) of the first event after `mark` matching `pred`, or NaN. */
function eventAt(tree, mark, pred) {
  const e = tree.tree.events.slice(mark).find((x) => pred(x.raw));
  return e ? Date.parse(e.raw.ts) : NaN;
}

/**
 * One fault on the serving primary: `signal` SIGKILL or SIGSTOP. Returns the client-visible
 * outage (fault → first acknowledged write sent after it) and its phases in ms after the fault.
 */
async function faultRound(tree, signal) {
  const writers = zmqWriters(tree.endpoint, { prefix: `${signal}-${Date.now()}` });
  try {
    await sleep(300);
    const pid = tree.pid('primary');
    const mark = tree.tree.events.length;
    let wall = Date.now();
    let t = performance.now();
    process.kill(pid, signal);
    if (signal === 'SIGSTOP') {
      // A thread in the kernel (an fsync) stops only on its way out: count from the stop itself.
      while (processState(pid) !== 'T' && performance.now() - t < 1000);
      wall = Date.now();
      t = performance.now();
    }
    const ack = await writers.firstAckAfter(t);
    const since = (pred) => eventAt(tree, mark, pred) - wall;
    await tree.waitEvent((e) => e.event === 'standby' && e.standby === 'in-sync', 30_000, mark);
    return {
      ms: ack - t,
      seen: since((e) => (signal === 'SIGKILL' ? e.event === 'exited' : e.event === 'ping-missed') && e.pid === pid),
      promoted: since((e) => e.event === 'promoted'),
      journaled: since((e) => e.event === 'journaled'),
    };
  } finally {
    await writers.stop();
  }
}

/** Pauses the primary for `pauseMs` (< the alarm), then watches one more alarm period: no failover may follow. */
async function pauseRound(tree, pauseMs) {
  const pid = tree.pid('primary');
  const mark = tree.tree.events.length;
  process.kill(pid, 'SIGSTOP');
  await sleep(pauseMs);
  process.kill(pid, 'SIGCONT');
  await sleep(ALARM_MS + 500);
  return { failedOver: tree.tree.events.slice(mark).some((e) => e.event === 'detected') };
}

export const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

/** `crashRounds` SIGKILLs and `hangRounds` SIGSTOPs of the primary, one pause; medians of every figure. */
export async function benchFailover({ crashRounds = 7, hangRounds = 3, log = () => {} } = {}) {
  const tree = await freshTree('failover');
  const crash = [];
  const hang = [];
  let pause;
  try {
    for (let i = 0; i < crashRounds; i++) {
      crash.push(await faultRound(tree, 'SIGKILL'));
      log(`crash ${i + 1}/${crashRounds}: ${crash.at(-1).ms.toFixed(1)} ms`);
    }
    for (let i = 0; i < hangRounds; i++) {
      hang.push(await faultRound(tree, 'SIGSTOP'));
      log(`hang ${i + 1}/${hangRounds}: ${hang.at(-1).ms.toFixed(0)} ms`);
    }
    pause = await pauseRound(tree, ALARM_MS - 100);
    log(`pause of ${ALARM_MS - 100} ms: ${pause.failedOver ? 'failed over' : 'no failover'}`);
  } finally {
    await tree.stop();
  }
  const med = (rs, k) => median(rs.map((r) => r[k]));
  return {
    alarmMs: ALARM_MS,
    crash: { ms: med(crash, 'ms'), seen: med(crash, 'seen'), promoted: med(crash, 'promoted'), journaled: med(crash, 'journaled'), all: crash.map((r) => r.ms) },
    hang: { ms: med(hang, 'ms'), seen: med(hang, 'seen'), promoted: med(hang, 'promoted'), journaled: med(hang, 'journaled'), all: hang.map((r) => r.ms) },
    pause: { ms: ALARM_MS - 100, failedOver: pause.failedOver },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchFailover({ log: (s) => process.stderr.write(`${s}\n`) }), null, 1));
}
