// The built-in key-value service, written against the same contract as a user's service
// (SERVICE.md). Values are strings; `incr` keeps a decimal integer in one. The strings are
// held as bytes in a compact store (store.ts) that reads like a Map.
import { ServiceError, type ServiceDefinition, type SnapshotPart } from '../../host/service.js';
import { restoreStore, storeParts } from './parts.js';
import { KvStore } from './store.js';

export { KvStore };

export interface KvState {
  map: KvStore;
}

interface KvArgs {
  key?: unknown;
  value?: unknown;
  by?: unknown;
}

const DECIMAL = /^-?\d{1,16}$/;

export const kvService: ServiceDefinition<KvState> = {
  name: 'kv',
  init: () => ({ map: new KvStore() }),
  commands: {
    set(s, args) {
      const a = args as KvArgs;
      s.map.set(key(a), str(a.value, 'value'));
      return 'OK';
    },
    del(s, args) {
      return s.map.delete(key(args as KvArgs)) ? 1 : 0;
    },
    incr(s, args) {
      const a = args as KvArgs;
      const k = key(a);
      const by = a.by === undefined ? 1 : a.by;
      if (typeof by !== 'number' || !Number.isSafeInteger(by)) throw new ServiceError('BAD_REQUEST', "'by' must be a safe integer");
      const cur = s.map.get(k);
      const base = cur === undefined ? 0 : parseDecimal(cur);
      if (base === null) throw new ServiceError('WRONG_TYPE', `value of '${k.slice(0, 64)}' is not a decimal integer`);
      const next = base + by;
      if (!Number.isSafeInteger(next)) throw new ServiceError('WRONG_TYPE', 'incr result is outside the safe integer range');
      s.map.set(k, String(next));
      return next;
    },
  },
  queries: {
    get: (s, args) => s.map.get(key(args as KvArgs)) ?? null,
  },
  snapshot: (s) => storeParts(s.map),
  restore: (parts) => ({ map: restoreStore(parts as Iterable<SnapshotPart>) }),
  keyCount: (s) => s.map.size,
};

function key(a: KvArgs): string {
  if (typeof a?.key !== 'string' || a.key.length === 0) throw new ServiceError('BAD_REQUEST', "'key' must be a non-empty string");
  return a.key;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new ServiceError('BAD_REQUEST', `'${what}' must be a string`);
  return v;
}

function parseDecimal(s: string): number | null {
  if (!DECIMAL.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}
