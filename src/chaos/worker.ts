// A chaos-run client worker, run as its own process:
//   node dist/chaos/worker.js --endpoint tcp://127.0.0.1:PORT --id N --seed S
// (or OSPS_CHAOS_ENDPOINT / OSPS_CHAOS_WORKER / OSPS_CHAOS_SEED).
// Closed loop, one op at a time, until SIGTERM/SIGINT or its stdin closes: set a fresh key
// `w<id>:k<n>` to `v<n>`, incr `w<id>:ctr`, or get one of its own earlier keys; and on the
// keys every worker shares (`s:r<j>`, `s:c<j>`), overwrite, delete, incr and read, so that a
// lost update or a stale read shows in some key's history. One JSON line
// per completed op on stdout: {op, key, value?, result?, ok, code?, t0, t1}.
import { Client } from '../client/client.js';
import { SHARED_PREFIX, type OpRecord } from './model.js';
import { mulberry32 } from '../protocol/prng.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Shared registers and shared counters: few, so that the workers' operations on them overlap. */
const SHARED_REGISTERS = 4;
const SHARED_COUNTERS = 2;

/** How long a stop request lets the in-flight op finish before the client is closed under it. */
const STOP_GRACE_MS = 2000;

function arg(name: string, env: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  return process.env[env];
}

// The checker orders operations of different workers by these times, to a fraction of a
// millisecond. Each process's wall clock (performance.timeOrigin) is read once at its start,
// and an NTP slew between two starts skews them by milliseconds: a read could then seem to
// come before the write it saw. So every worker counts on the system-wide monotonic clock
// from one anchor the run hands them all.
const anchor = Number(process.env.OSPS_CHAOS_CLOCK_ANCHOR);

/** Milliseconds with a fraction, on one timeline shared by every worker of the run. */
function now(): number {
  return Number.isFinite(anchor) ? anchor + Number(process.hrtime.bigint()) / 1e6 : performance.timeOrigin + performance.now();
}


async function main(): Promise<number> {
  const endpoint = arg('endpoint', 'OSPS_CHAOS_ENDPOINT');
  const id = Number(arg('id', 'OSPS_CHAOS_WORKER') ?? '0');
  const seed = Number(arg('seed', 'OSPS_CHAOS_SEED') ?? '1');
  if (!endpoint || !Number.isSafeInteger(id) || id < 0 || !Number.isSafeInteger(seed)) {
    process.stderr.write('usage: worker.js --endpoint ENDPOINT --id N --seed S\n');
    return 2;
  }
  const rng = mulberry32(seed);
  const newClient = (): Client => new Client({ endpoint, requestTimeoutMs: 300, deadlineMs: 20_000 });
  let client = newClient();

  let stopping = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // Let the op in flight finish; past the grace, closing the client rejects it (logged as CLOSED).
    const c = client;
    graceTimer = setTimeout(() => void c.close(), STOP_GRACE_MS);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.on('error', () => process.exit(1));
  if (!process.stdin.isTTY) {
    process.stdin.on('end', stop);
    process.stdin.on('close', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }

  let n = 0;
  let m = 0;
  while (!stopping) {
    const r = rng();
    const rec: OpRecord = { op: 'set', key: '', ok: false, t0: 0, t1: 0 };
    let call: () => Promise<string | number | null>;
    if (n > 0 && r >= 0.6) {
      // Shared keys: a register overwritten with values unique to this op, deleted, or read; a counter incremented or read.
      const s = rng();
      const j = Math.floor(rng() * SHARED_REGISTERS);
      const c = Math.floor(rng() * SHARED_COUNTERS);
      if (s < 0.35) {
        rec.op = 'set';
        rec.key = `${SHARED_PREFIX}r${j}`;
        rec.value = `w${id}-${m++}`;
        const { key, value } = rec as { key: string; value: string };
        call = () => client.set(key, value);
      } else if (s < 0.45) {
        rec.op = 'del';
        rec.key = `${SHARED_PREFIX}r${j}`;
        const key = rec.key;
        call = () => client.del(key);
      } else if (s < 0.75) {
        rec.op = 'get';
        rec.key = `${SHARED_PREFIX}r${j}`;
        const key = rec.key;
        call = () => client.get(key);
      } else if (s < 0.9) {
        rec.op = 'incr';
        rec.key = `${SHARED_PREFIX}c${c}`;
        const key = rec.key;
        call = () => client.incr(key);
      } else {
        rec.op = 'get';
        rec.key = `${SHARED_PREFIX}c${c}`;
        const key = rec.key;
        call = () => client.get(key);
      }
    } else if (n === 0 || r < 0.3) {
      rec.op = 'set';
      rec.key = `w${id}:k${n}`;
      rec.value = `v${n}`;
      n++;
      const { key, value } = rec as { key: string; value: string };
      call = () => client.set(key, value);
    } else if (r < 0.45) {
      rec.op = 'incr';
      rec.key = `w${id}:ctr`;
      const key = rec.key;
      call = () => client.incr(key);
    } else {
      rec.op = 'get';
      rec.key = `w${id}:k${Math.floor(rng() * n)}`;
      const key = rec.key;
      call = () => client.get(key);
    }
    rec.t0 = now();
    try {
      const result = await call();
      rec.t1 = now();
      rec.ok = true;
      if (rec.op !== 'set') rec.result = result;
    } catch (err) {
      rec.t1 = now();
      rec.ok = false;
      rec.code = (err as { code?: string }).code ?? 'ERROR';
    }
    process.stdout.write(`${JSON.stringify(rec)}\n`);
    if (!rec.ok && !stopping) {
      // A client whose socket failed refuses everything at once: start a new one, and never spin.
      if (rec.code === 'INTERNAL' || rec.code === 'CLOSED') {
        await client.close();
        client = newClient();
      }
      await sleep(20);
    }
  }
  clearTimeout(graceTimer);
  await client.close();
  return 0;
}

main().then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`chaos worker: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
