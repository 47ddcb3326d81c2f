import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULTS, MAX_ID_CHARS } from '../config.js';
import { Client, CLIENT_DEFAULTS, type ClientRequest } from '../client/client.js';
import { runLoad, type LoadOp, type LoadReport } from '../client/load.js';
import { OspsError } from '../errors.js';
import { OPS, type Op } from '../protocol/wire.js';
import { instanceOptions, intArg, type InstanceOpts } from './options.js';
import { fail } from './output.js';

const USAGE = 2;
const LOAD_OPS: readonly LoadOp[] = ['set', 'get', 'incr', 'mixed'];
/** Positional arguments each op takes (incr's `by` is optional). */
const ARITY: Record<Op, { min: number; max: number; usage: string }> = {
  ping: { min: 0, max: 0, usage: 'ping' },
  info: { min: 0, max: 0, usage: 'info' },
  get: { min: 1, max: 1, usage: 'get <key>' },
  del: { min: 1, max: 1, usage: 'del <key>' },
  set: { min: 2, max: 2, usage: 'set <key> <value>' },
  incr: { min: 1, max: 2, usage: 'incr <key> [by]' },
};

interface EndpointOpts extends InstanceOpts {
  endpoint?: string;
}

/**
 * The endpoint to talk to. --name is accepted (every osps command takes it) and carried here
 * because a named instance will publish its endpoint in its runtime dir; until the launcher
 * writes it there, the endpoint is --endpoint or the default.
 */
export function resolveEndpoint(o: EndpointOpts): string {
  return o.endpoint ?? DEFAULTS.endpoint;
}

export function registerClientCommands(program: Command): void {
  const client = program
    .command('client')
    .description(`send one request: ${Object.values(ARITY).map((a) => a.usage).join(' | ')}`)
    .argument('<op>', `one of ${OPS.join(', ')}`)
    .argument('[args...]', 'key, value or increment, as the op needs')
    .option('-e, --endpoint <url>', `client endpoint (default ${DEFAULTS.endpoint})`)
    .option('--timeout <ms>', 'overall deadline across retries', intArg(1, 86_400_000), CLIENT_DEFAULTS.deadlineMs)
    .option('--id <id>', 'request id (reuse one to retry a write without applying it twice)')
    .option('--json', 'print the whole reply object as JSON');
  instanceOptions(client);
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
    .option('-e, --endpoint <url>', `client endpoint (default ${DEFAULTS.endpoint})`)
    .option('--json', 'print the report as JSON');
  instanceOptions(bench);
  bench.action(benchAction);
}

interface ClientOpts extends EndpointOpts {
  timeout: number;
  id?: string;
  json?: boolean;
}

async function clientAction(opArg: string, args: string[], o: ClientOpts): Promise<void> {
  const parsed = buildRequest(opArg, args, o.id);
  if (typeof parsed === 'string') {
    process.exitCode = fail(parsed, USAGE);
    return;
  }
  const c = new Client({ endpoint: resolveEndpoint(o), deadlineMs: o.timeout, requestTimeoutMs: Math.min(CLIENT_DEFAULTS.requestTimeoutMs, o.timeout) });
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

/** The request, or a one-line usage error naming what is wrong. */
function buildRequest(opArg: string, args: string[], id: string | undefined): (ClientRequest & { id: string }) | string {
  if (!(OPS as readonly string[]).includes(opArg)) return `unknown op '${opArg}' (expected one of ${OPS.join(', ')})`;
  const op = opArg as Op;
  const arity = ARITY[op];
  if (args.length < arity.min || args.length > arity.max) {
    return `'${op}' takes ${arity.usage.split(' ').slice(1).join(' ') || 'no arguments'} (got ${args.length} argument${args.length === 1 ? '' : 's'})`;
  }
  if (id !== undefined && (id.length < 1 || id.length > MAX_ID_CHARS)) return `--id must be 1-${MAX_ID_CHARS} characters`;
  const req: ClientRequest & { id: string } = { op, id: id ?? randomUUID() };
  if (args[0] !== undefined) req.key = args[0];
  if (op === 'set') req.value = args[1] as string;
  if (op === 'incr' && args[1] !== undefined) {
    const by = Number(args[1]);
    if (!/^-?\d+$/.test(args[1]) || !Number.isSafeInteger(by)) return `incr: 'by' must be a safe integer, got '${args[1]}'`;
    req.by = by;
  }
  return req;
}

interface BenchOpts extends EndpointOpts {
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
  try {
    report = await runLoad({
      endpoint: resolveEndpoint(o), clients: o.clients, durationMs: o.duration * 1000,
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
