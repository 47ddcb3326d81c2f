import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULTS, MAX_ID_CHARS } from '../config.js';
import { Client, CLIENT_DEFAULTS } from '../client/client.js';
import { runLoad, type LoadOp, type LoadReport } from '../client/load.js';
import type { ClientRequest } from '../client/requests.js';
import { OspsError } from '../errors.js';
import { OPS, type Json, type Op } from '../protocol/wire.js';
import { readCurveServerKey } from './curve-keys-command.js';
import { example } from './help.js';
import { instanceEndpoint } from './instance-endpoint.js';
import { instanceOptions, intArg, pathsFrom, type InstanceOpts } from './options.js';
import { fail } from './output.js';

const USAGE = 2;
const LOAD_OPS: readonly LoadOp[] = ['set', 'get', 'incr', 'mixed'];
/** Positional arguments each op takes (incr's `by` is optional). */
const ARITY: Record<Op | 'call', { min: number; max: number; usage: string }> = {
  ping: { min: 0, max: 0, usage: 'ping' },
  info: { min: 0, max: 0, usage: 'info' },
  get: { min: 1, max: 1, usage: 'get <key>' },
  del: { min: 1, max: 1, usage: 'del <key>' },
  set: { min: 2, max: 2, usage: 'set <key> <value>' },
  incr: { min: 1, max: 2, usage: 'incr <key> [by]' },
  call: { min: 1, max: 2, usage: 'call <op> [json-args]' },
};

interface EndpointOpts extends InstanceOpts {
  endpoint?: string;
}

/** The endpoint to talk to: --endpoint, or the one the named instance recorded (NOT_RUNNING if none is alive). */
export function resolveEndpoint(o: EndpointOpts): string {
  return instanceEndpoint(pathsFrom(o), o.endpoint).endpoint;
}

export function registerClientCommands(program: Command): void {
  const client = program
    .command('client')
    .description(`send one request: ${Object.values(ARITY).map((a) => a.usage).join(' | ')}`)
    .argument('<op>', `one of ${OPS.join(', ')}, or call (any op, with JSON arguments)`)
    .argument('[args...]', 'key, value or increment, as the op needs; for call: the op and its JSON args')
    .option('-e, --endpoint <url>', 'client endpoint (default: the one the named instance serves on)')
    .option('--timeout <ms>', 'overall deadline across retries', intArg(1, 86_400_000), CLIENT_DEFAULTS.deadlineMs)
    .option('--id <id>', 'request id (reuse one to retry a write without applying it twice)')
    .option('--curve-server-key <key|file>', 'the server\'s CURVE public key (Z85) or its file (server.pub), for an instance started with --curve-secret')
    .option('--json', 'print the whole reply object as JSON');
  instanceOptions(client);
  example(client, 'osps client set greeting hello --name web', 'osps client incr visits 5', 'osps client call transfer \'{"from":"a","to":"b","amount":5}\'', 'osps client get greeting --endpoint tcp://127.0.0.1:7400 --json');
  client.action(clientAction);

  const bench = program
    .command('bench')
    .description('closed-loop load: throughput and latency percentiles')
    .option('-c, --clients <n>', 'concurrent clients, one socket each', intArg(1, 10_000), 16)
    .option('-d, --duration <s>', 'seconds to run', positiveSeconds, 5)
    .option('--op <op>', `${LOAD_OPS.join(' | ')}`, 'set')
    .option('--value-bytes <n>', 'value size for set', intArg(0, DEFAULTS.maxFrameBytes - 1024), 16)
    .option('--pipeline <n>', 'requests in flight per client', intArg(1, 10_000), 1)
    .option('--key-space <n>', 'distinct keys', intArg(1, 100_000_000), 1000)
    .option('--timeout <ms>', 'per-request deadline across retries', intArg(1, 86_400_000), CLIENT_DEFAULTS.deadlineMs)
    .option('-e, --endpoint <url>', 'client endpoint (default: the one the named instance serves on)')
    .option('--curve-server-key <key|file>', 'the server\'s CURVE public key (Z85) or its file (server.pub), for an instance started with --curve-secret')
    .option('--json', 'print the report as JSON');
  instanceOptions(bench);
  example(bench, 'osps bench --name web --clients 64 --duration 10', 'osps bench --op mixed --pipeline 8 --json');
  bench.action(benchAction);
}

interface ClientOpts extends EndpointOpts {
  timeout: number;
  curveServerKey?: string;
  id?: string;
  json?: boolean;
}

async function clientAction(opArg: string, args: string[], o: ClientOpts): Promise<void> {
  const parsed = buildRequest(opArg, args, o.id);
  if (typeof parsed === 'string') {
    process.exitCode = fail(parsed, USAGE);
    return;
  }
  let endpoint: string;
  let curveServerKey: string | undefined;
  try {
    endpoint = resolveEndpoint(o);
    curveServerKey = o.curveServerKey === undefined ? undefined : readCurveServerKey(o.curveServerKey);
  } catch (err) {
    if (!(err instanceof OspsError)) throw err;
    if (o.json) process.stdout.write(`${JSON.stringify({ id: parsed.id, ok: false, error: { code: err.code, message: err.message } })}\n`);
    process.exitCode = fail(err.message, err.code === 'USAGE' ? USAGE : 1);
    return;
  }
  const c = new Client({ endpoint, curveServerKey, deadlineMs: o.timeout, requestTimeoutMs: Math.min(CLIENT_DEFAULTS.requestTimeoutMs, o.timeout) });
  try {
    const reply = await c.request(parsed);
    if (o.json) process.stdout.write(`${JSON.stringify(reply)}\n`);
    if (!reply.ok) {
      process.exitCode = fail(`${reply.error.code}: ${reply.error.message}`);
      return;
    }
    if (!o.json) process.stdout.write(`${typeof reply.result === 'string' ? reply.result : JSON.stringify(reply.result, null, 2)}\n`);
  } catch (err) {
    if (!(err instanceof OspsError)) throw err;
    // --json readers get one object on stdout whatever happened; the human line goes to stderr.
    if (o.json) process.stdout.write(`${JSON.stringify({ id: parsed.id, ok: false, error: { code: err.code, message: err.message } })}\n`);
    process.exitCode = fail(`${err.code}: ${err.message}`);
  } finally {
    await c.close();
  }
}

type IdentifiedRequest = ClientRequest & { id: string };

/** The request, or a one-line usage error naming what is wrong. */
function buildRequest(opArg: string, args: string[], id: string | undefined): IdentifiedRequest | string {
  if (opArg !== 'call' && !(OPS as readonly string[]).includes(opArg)) return `unknown op '${opArg}' (expected one of ${OPS.join(', ')}, or call)`;
  const op = opArg as Op | 'call';
  const arity = ARITY[op];
  if (args.length < arity.min || args.length > arity.max) {
    return `'${op}' takes ${arity.usage.split(' ').slice(1).join(' ') || 'no arguments'} (got ${args.length} argument${args.length === 1 ? '' : 's'})`;
  }
  if (id !== undefined && (id.length < 1 || id.length > MAX_ID_CHARS)) return `--id must be 1-${MAX_ID_CHARS} characters`;
  const rid = id ?? randomUUID();
  const key = args[0] as string;
  switch (op) {
    case 'ping':
    case 'info':
      return { op, id: rid };
    case 'get':
    case 'del':
      return { op, key, id: rid };
    case 'set':
      return { op, key, value: args[1] as string, id: rid };
    case 'incr': {
      if (args[1] === undefined) return { op, key, id: rid };
      const by = Number(args[1]);
      if (!/^-?\d+$/.test(args[1]) || !Number.isSafeInteger(by)) return `incr: 'by' must be a safe integer, got '${args[1]}'`;
      return { op, key, by, id: rid };
    }
    case 'call': {
      if (args[1] === undefined) return { op: key, id: rid };
      try {
        return { op: key, args: JSON.parse(args[1]) as Json, id: rid };
      } catch {
        return `call ${key}: the arguments must be JSON, got '${args[1].slice(0, 80)}'`;
      }
    }
  }
}

interface BenchOpts extends EndpointOpts {
  curveServerKey?: string;
  clients: number;
  duration: number;
  op: string;
  valueBytes: number;
  pipeline: number;
  keySpace: number;
  timeout: number;
  json?: boolean;
}

async function benchAction(o: BenchOpts): Promise<void> {
  if (!(LOAD_OPS as readonly string[]).includes(o.op)) {
    process.exitCode = fail(`--op must be one of ${LOAD_OPS.join(', ')}, got '${o.op}'`, USAGE);
    return;
  }
  let report: LoadReport;
  let curveServerKey: string | undefined;
  try {
    curveServerKey = o.curveServerKey === undefined ? undefined : readCurveServerKey(o.curveServerKey);
  } catch (err) {
    if (!(err instanceof OspsError)) throw err;
    process.exitCode = fail(err.message, USAGE);
    return;
  }
  try {
    report = await runLoad({
      endpoint: resolveEndpoint(o), curveServerKey, clients: o.clients, durationMs: o.duration * 1000,
      op: o.op as LoadOp, valueBytes: o.valueBytes, pipeline: o.pipeline, keySpace: o.keySpace,
      deadlineMs: o.timeout, requestTimeoutMs: Math.min(CLIENT_DEFAULTS.requestTimeoutMs, o.timeout),
    });
  } catch (err) {
    if (!(err instanceof OspsError)) throw err;
    process.exitCode = fail(`bench: ${err.code}: ${err.message}`);
    return;
  }
  process.stdout.write(o.json ? `${JSON.stringify(report)}\n` : `${benchLine(report)}\n`);
  if (report.ops === 0) process.exitCode = fail(`bench: no request succeeded (${errorList(report.errors)})`);
}

export function benchLine(r: LoadReport): string {
  const l = r.latencyMs;
  const who = `${r.clients} clients${r.pipeline > 1 ? ` x ${r.pipeline} in flight` : ''}`;
  const nErrors = Object.values(r.errors).reduce((a, b) => a + b, 0);
  const errors = nErrors === 0 ? 'errors 0' : `errors ${nErrors} (${errorList(r.errors)})`;
  return `${r.op}: ${who}, ${(r.durationMs / 1000).toFixed(1)} s: ${Math.round(r.opsPerSec)} ops/s, `
    + `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(1)} ms, ${errors}`;
}

function errorList(errors: Record<string, number>): string {
  return Object.entries(errors).map(([code, n]) => `${code} ${n}`).join(', ') || 'no errors';
}

function positiveSeconds(value: string): number {
  const s = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(s > 0) || s > 86_400) {
    throw new InvalidArgumentError('expected a number of seconds, e.g. 5 or 0.5');
  }
  return s;
}
