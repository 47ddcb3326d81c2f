// One request type per op, and what each op answers (docs/PROTOCOL.md). The key-value ops are
// the built-in service's; any other op is a service op whose arguments travel in `args`.
import type { Json } from '../protocol/wire.js';

export interface PingRequest { op: 'ping' }
export interface InfoRequest { op: 'info' }
export interface GetRequest { op: 'get'; key: string }
export interface SetRequest { op: 'set'; key: string; value: string }
export interface DelRequest { op: 'del'; key: string }
export interface IncrRequest { op: 'incr'; key: string; by?: number }

/** An op of the loaded service (docs/SERVICE.md): `{id, op, args}` on the wire. */
export interface CallRequest {
  op: string;
  args?: Json;
}

export type KvRequest = PingRequest | InfoRequest | GetRequest | SetRequest | DelRequest | IncrRequest;

/** What every request may carry besides its op and arguments. */
export interface RequestOptions {
  /** Reuse an id to retry a logical request yourself; generated when absent. */
  id?: string;
  /** Gives up on the request (ABORTED). A write already sent may still be applied. */
  signal?: AbortSignal;
}

export type ClientRequest = (KvRequest | CallRequest) & RequestOptions;

/** `info` result: at least these fields (docs/PROTOCOL.md), more may follow. */
export interface ServerInfo {
  role: string;
  epoch: number;
  commitSeq: number;
  keys: number | null;
  standby: 'in-sync' | 'syncing' | 'absent';
  [field: string]: Json;
}

/** What each built-in op answers on success. */
export interface OpResults {
  ping: 'pong';
  info: ServerInfo;
  get: string | null;
  set: 'OK';
  del: 0 | 1;
  incr: number;
}

/** The `args` of each built-in op, as `call` takes them. */
export interface OpArgs {
  ping: undefined;
  info: undefined;
  get: { key: string };
  set: { key: string; value: string };
  del: { key: string };
  incr: { key: string; by?: number };
}

export type KvOp = keyof OpResults;

/** The request as it goes on the wire: `{id, op, …fields}`, or `{id, op, args}` for a call. */
export function wireRequest(id: string, req: ClientRequest): Record<string, Json> {
  const out: Record<string, Json> = { id, op: req.op };
  const r = req as { key?: string; value?: string; by?: number; args?: Json };
  if (r.key !== undefined) out.key = r.key;
  if (r.value !== undefined) out.value = r.value;
  if (r.by !== undefined) out.by = r.by;
  if (r.args !== undefined) out.args = r.args;
  return out;
}
