// Whole-tree SIGKILL → first answer at scale, beside Redis's AOF load of the same keys.
// An instance is filled with `keys` keys once; each run SIGKILLs every process of the tree at
// once (the first run right after the last write was acknowledged), starts it again and times
// the first answer (a GET of the last key written, through the zeromq client), then the first
// acknowledged write, and checks that every key is back. Redis (appendonly yes, appendfsync everysec) gets
// the same keys (bench/scale/fill.mjs), is SIGKILLed and started again on its AOF.
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../../dist/index.js';
import { journalFile } from '../../dist/runtime/paths.js';
import * as F from './fill.mjs';
import { bothSides, fmt, lastLogLine, listening, verdict, withFilledTree } from './report.mjs';
import { firstAnswer, RedisServer, call } from './redis-aof.mjs';

/** Ratio of osps's restart to Redis's AOF load the goal allows. */
const GOAL = 1.0;

async function ospsRuns(keys, valueBytes, runs) {
  return withFilledTree('restart', { keys, valueBytes }, async (t, fillMs) => {
    const { tree } = t;
    const out = [];
    for (let i = 0; i < runs; i++) {
      const journalBytes = fs.statSync(journalFile(t.dataDir)).size;
      // Every process at once, the instant after the last acknowledgement.
      await tree.kill();
      await tree.closed;
      const mark = tree.events.length;
      const t0 = performance.now();
      const wall0 = Date.now();
      await tree.start({ waitReady: false });
      // The CLI trial-binds the endpoint before it starts anything: wait for the primary's process.
      await tree.waitEvent((e) => e.event === 'spawned' && e.fields.role === 'primary', 120_000, mark);
      await listening(t.port);
      const c = new Client({ endpoint: t.endpoint, requestTimeoutMs: 1000, deadlineMs: 120_000 });
      const got = await c.get(F.keyOf(keys - 1));
      const firstAnswerMs = performance.now() - t0;
      await c.set(`scale:restart:after:${i}`, 'x');
      const firstWriteMs = performance.now() - t0;
      const inf = await c.info();
      // Every key back: the count, the last one, and a sample read one by one.
      let wrong = got === F.valueOf(keys - 1, valueBytes) ? 0 : 1;
      const sample = Math.min(keys, 2000);
      for (let s = 0; s < sample; s++) {
        const k = Math.floor((s * keys) / sample);
        if ((await c.get(F.keyOf(k))) !== F.valueOf(k, valueBytes)) wrong++;
      }
      await c.close();
      // Back to a tree in sync before the next kill, as after the fill.
      await tree.waitEvent((e) => e.event === 'standby' && e.fields.standby === 'in-sync', 300_000, mark);
      const ev = (name, role) => tree.events.slice(mark).find((e) => e.event === name && e.fields.role === role);
      const replay = lastLogLine(tree, 'journal-replayed') ?? {};
      const trouble = tree.events.slice(mark).filter((e) => ['ping-missed', 'exited', 'respawned', 'give-up'].includes(e.event)).map((e) => `${e.event} ${e.fields.role ?? ''}`);
      out.push({
        trouble,
        fillMs,
        journalMiB: journalBytes / 1048576,
        firstAnswerMs,
        firstWriteMs,
        keysBack: inf.keys - (i + 1),
        wrong,
        phases: {
          primarySpawnedMs: (ev('spawned', 'primary')?.at ?? NaN) - wall0,
          replayMs: replay.ms,
          checkpointMs: replay.checkpointMs,
          entriesMs: replay.entriesMs,
          checkpointMiB: replay.checkpointBytes / 1048576,
          tailMiB: replay.entryBytes / 1048576,
          tailEntries: replay.entries,
          primaryReadyMs: (ev('ready', 'primary')?.at ?? NaN) - wall0,
        },
      });
      process.stderr.write(`scale restart osps run ${i + 1}/${runs} done\n`);
    }
    return out;
  });
}

async function redisRuns(keys, valueBytes, runs) {
  const r = new RedisServer();
  const out = [];
  try {
    await r.start();
    await firstAnswer(r.port, 'none', performance.now(), 10_000);
    await F.fillRedis(r.port, { keys, valueBytes });
    // appendfsync everysec: give the last second of writes its fsync, so both sides restart on everything acknowledged.
    await sleep(1500);
    for (let i = 0; i < runs; i++) {
      const aofBytes = fs.readdirSync(r.dir, { recursive: true }).map((f) => `${r.dir}/${f}`).filter((f) => fs.statSync(f).isFile()).reduce((s, f) => s + fs.statSync(f).size, 0);
      await r.kill();
      const t0 = performance.now();
      await r.start(r.port);
      const { ms, reply } = await firstAnswer(r.port, F.keyOf(keys - 1), t0);
      const dbsize = Number(((await call(r.port, ['DBSIZE'])) ?? ':0').slice(1));
      out.push({ firstAnswerMs: ms, aofMiB: aofBytes / 1048576, keysBack: dbsize, wrong: reply === F.valueOf(keys - 1, valueBytes) ? 0 : 1 });
    }
    return out;
  } finally {
    await r.stop();
  }
}

export async function run(opts = {}) {
  const { keys, valueBytes, runs, withRedis, osps, redis, m } = await bothSides(opts, ospsRuns, redisRuns);
  console.log(`\n== restart: whole-tree SIGKILL → first answer, ${keys} keys × ${valueBytes} B (median of ${runs})`);
  console.log(`osps  journal at the kill ${fmt(m(osps, (r) => r.journalMiB), ' MiB')} (checkpoint ${fmt(m(osps, (r) => r.phases.checkpointMiB), ' MiB')}, tail ${fmt(m(osps, (r) => r.phases.tailMiB), ' MiB')} = ${fmt(m(osps, (r) => r.phases.tailEntries))} entries)`);
  console.log(`osps  spawn of the primary ${fmt(m(osps, (r) => r.phases.primarySpawnedMs), ' ms')}, replay ${fmt(m(osps, (r) => r.phases.replayMs), ' ms')} (checkpoint ${fmt(m(osps, (r) => r.phases.checkpointMs), ' ms')}, entries ${fmt(m(osps, (r) => r.phases.entriesMs), ' ms')}), primary ready ${fmt(m(osps, (r) => r.phases.primaryReadyMs), ' ms')}`);
  console.log(`osps  first acknowledged write ${fmt(m(osps, (r) => r.firstWriteMs), ' ms')}; keys back ${m(osps, (r) => r.keysBack)}/${keys}, wrong values ${Math.max(...osps.map((r) => r.wrong))}; fill ${fmt(m(osps, (r) => r.fillMs / 1000), ' s')}`);
  if (withRedis) console.log(`redis AOF ${fmt(m(redis, (r) => r.aofMiB), ' MiB')}; keys back ${m(redis, (r) => r.keysBack)}/${keys}`);
  console.log(`osps  failures during the restarts: ${osps.flatMap((r) => r.trouble).join(', ') || 'none'}`);
  console.log(`osps  each run: first answer ${osps.map((r) => fmt(r.firstAnswerMs, ' ms')).join(', ')} (the first one right after the fill, on its tail ${fmt(osps[0]?.phases.tailMiB, ' MiB')})`);
  const met = verdict('first answer after whole-tree SIGKILL', m(osps, (r) => r.firstAnswerMs), withRedis ? m(redis, (r) => r.firstAnswerMs) : NaN, GOAL);
  if (met === false) {
    console.log('profile: where the restart goes (median ms from `osps start`): primary spawned, journal replay (checkpoint restore + entry re-execution), primary ready; see the lines above');
  }
  return { osps, redis, met };
}
