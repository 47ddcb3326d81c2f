// A new standby brought in sync at scale, beside Redis's full sync of a new replica, and the
// primary's answers meanwhile. The instance is filled once; each run SIGKILLs its standby
// and times the replacement from the kill (and from its spawn) to `standby in-sync`, while a
// client pings the primary every 20 ms (the watchdog's 3 s alarm must never fire). Redis:
// a master with the same keys (appendonly yes, appendfsync everysec) and a fresh replica
// process each run, timed from its spawn to a loaded full sync with the link up.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../../dist/index.js';
import * as F from './fill.mjs';
import { bothSides, fmt, lastLogLine, verdict, withFilledTree } from './report.mjs';
import { firstAnswer, RedisServer, waitReplicaInSync, call } from './redis-aof.mjs';

/** Ratio of osps's resync to Redis's full sync the goal allows: staying ahead. */
const GOAL = 1.0;
const PING_EVERY_MS = 20;
/** After in-sync, the first digest check of the new pair: pings are watched through it too. */
const AFTER_SYNC_MS = 3000;

/** Pings the primary every PING_EVERY_MS; `stop()` gives the round trips (a ping unanswered counts its wait). */
function pinger(endpoint) {
  const c = new Client({ endpoint, requestTimeoutMs: 5000, deadlineMs: 10_000 });
  const rtts = [];
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        await c.ping();
      } catch {
        failures++;
      }
      rtts.push(performance.now() - t0);
      await sleep(PING_EVERY_MS);
    }
  })();
  return async () => {
    running = false;
    await loop;
    await c.close();
    const s = [...rtts].sort((a, b) => a - b);
    return { pings: s.length, p99: s[Math.floor(s.length * 0.99)] ?? NaN, max: s.at(-1) ?? NaN, failures };
  };
}

async function ospsRuns(keys, valueBytes, runs) {
  return withFilledTree('resync', { keys, valueBytes }, async (t) => {
    const { tree } = t;
    const out = [];
    for (let i = 0; i < runs; i++) {
      const mark = tree.events.length;
      const stop = pinger(t.endpoint);
      await sleep(200);
      const t0 = Date.now();
      process.kill(tree.pid('secondary'), 'SIGKILL');
      const spawned = await tree.waitEvent((e) => (e.event === 'spawned' || e.event === 'respawned') && e.fields.role === 'secondary', 60_000, mark);
      const inSync = await tree.waitEvent((e) => e.event === 'standby' && e.fields.standby === 'in-sync', 600_000, mark);
      const synced = tree.events.slice(mark).find((e) => e.event === 'synced');
      const syncing = Date.parse(lastLogLine(tree, 'standby-syncing')?.ts ?? '');
      await sleep(AFTER_SYNC_MS);
      const pings = await stop();
      // The killed standby is reported exited and fenced: only the primary's troubles count.
      const trouble = tree.events
        .slice(mark)
        .filter((e) => ['ping-missed', 'promoted', 'diverged'].includes(e.event) || (e.event === 'fenced' && e.fields.role === 'primary'))
        .map((e) => `${e.event} ${e.fields.role ?? ''}`);
      out.push({
        fromKillMs: inSync.at - t0,
        fromSpawnMs: inSync.at - spawned.at,
        // Where it goes: the new process and its hello, the state streamed and restored, the first acks.
        phases: { toSyncingMs: syncing - spawned.at, streamedAndRestoredMs: (synced?.at ?? NaN) - syncing, toInSyncMs: inSync.at - (synced?.at ?? NaN) },
        ...pings,
        trouble,
      });
      process.stderr.write(`scale resync osps run ${i + 1}/${runs} done\n`);
    }
    return out;
  });
}

async function redisRuns(keys, valueBytes, runs) {
  const master = new RedisServer();
  const out = [];
  try {
    await master.start();
    await firstAnswer(master.port, 'none', performance.now(), 10_000);
    await F.fillRedis(master.port, { keys, valueBytes });
    for (let i = 0; i < runs; i++) {
      const replica = new RedisServer();
      try {
        const t0 = performance.now();
        await replica.start(undefined, ['--replicaof', '127.0.0.1', String(master.port)]);
        await waitReplicaInSync(replica.port);
        const ms = performance.now() - t0;
        const dbsize = Number(((await call(replica.port, ['DBSIZE'])) ?? ':0').slice(1));
        out.push({ fromSpawnMs: ms, keys: dbsize });
      } finally {
        await replica.stop();
      }
    }
    return out;
  } finally {
    await master.stop();
  }
}

export async function run(opts = {}) {
  const { keys, valueBytes, runs, withRedis, osps, redis, m } = await bothSides(opts, ospsRuns, redisRuns);
  console.log(`\n== resync: a new standby in sync, ${keys} keys × ${valueBytes} B (median of ${runs})`);
  console.log(`osps  from the standby's SIGKILL ${fmt(m(osps, (r) => r.fromKillMs), ' ms')}, from its spawn ${fmt(m(osps, (r) => r.fromSpawnMs), ' ms')}: spawn → snapshot opened ${fmt(m(osps, (r) => r.phases.toSyncingMs), ' ms')}, streamed and restored ${fmt(m(osps, (r) => r.phases.streamedAndRestoredMs), ' ms')}, restored → in sync ${fmt(m(osps, (r) => r.phases.toInSyncMs), ' ms')}`);
  console.log(`osps  primary pinged every ${PING_EVERY_MS} ms through the resync and ${AFTER_SYNC_MS} ms after: p99 ${fmt(m(osps, (r) => r.p99), ' ms')}, max ${fmt(Math.max(...osps.map((r) => r.max)), ' ms')}, unanswered ${osps.reduce((s, r) => s + r.failures, 0)}; alarm/failover events: ${osps.flatMap((r) => r.trouble).join(', ') || 'none'}`);
  if (withRedis) console.log(`redis replica keys after sync ${m(redis, (r) => r.keys)}/${keys}`);
  const met = verdict('new standby in sync (from its spawn)', m(osps, (r) => r.fromSpawnMs), withRedis ? m(redis, (r) => r.fromSpawnMs) : NaN, GOAL);
  const alarmSafe = osps.every((r) => r.max < 3000 && r.failures === 0 && r.trouble.length === 0);
  console.log(`primary answered under the 3 s alarm throughout: ${alarmSafe ? 'MET' : 'NOT MET'}`);
  return { osps, redis, met, alarmSafe };
}
