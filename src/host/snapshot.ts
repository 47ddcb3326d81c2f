// A host snapshot in parts: a header, the service's image or parts, then the dedup window.
// Each part is one opaque byte string for the ring and the journal; neither looks inside.
import type { Json, Reply } from '../protocol/wire.js';
import type { ServiceHost } from './host.js';
import type { SnapshotPart } from './service.js';
import type { PendingTimer } from './timers.js';

const HEADER = 0x68; // 'h'
const JSON_PART = 0x6a; // 'j'
const BYTES_PART = 0x62; // 'b'
const DEDUP_PART = 0x64; // 'd'
/** Dedup parts are cut by bytes, whatever the ids and replies in them. */
const DEDUP_PART_BYTES = 256 * 1024;

interface Header {
  v: 1;
  seq: number;
  now: number;
  form: 'image' | 'parts';
  service: string;
  /** Pending timers at `seq` (absent in snapshots of older versions: none). */
  timers?: PendingTimer[];
}

/** Parts of a snapshot taken at `seq`; commands are held until it is exhausted or closed. */
export interface SnapshotCursor {
  readonly seq: number;
  /** The next encoded part, or null after the last one (which also releases the hold). */
  next(): Buffer | null;
  close(): void;
}

export function openSnapshot<S>(host: ServiceHost<S>): SnapshotCursor {
  return new HostSnapshot(host);
}

class HostSnapshot<S> implements SnapshotCursor {
  readonly seq: number;
  private stage: 'header' | 'service' | 'dedup' | 'done' = 'header';
  private readonly release: () => void;
  private service: Iterator<SnapshotPart> | null = null;
  private image: Json = null;
  private readonly form: Header['form'];
  private dedup: Iterator<[string, { digest: string; reply: Reply }]> | null = null;
  private carry: string | null = null;

  constructor(private readonly host: ServiceHost<S>) {
    this.seq = host.seq;
    const out = host.def.snapshot ? host.def.snapshot(host.state) : (host.state as Json);
    const parts = asIterator(out);
    if (parts) {
      this.form = 'parts';
      this.service = parts;
    } else {
      this.form = 'image';
      this.image = out as Json;
    }
    this.release = host.hold();
  }

  next(): Buffer | null {
    try {
      return this.step();
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private step(): Buffer | null {
    switch (this.stage) {
      case 'header': {
        this.stage = 'service';
        const h: Header = { v: 1, seq: this.seq, now: this.host.now, form: this.form, service: this.host.name, timers: [...this.host.timers.values()] };
        return tagged(HEADER, JSON.stringify(h));
      }
      case 'service': {
        if (this.form === 'image') {
          this.stage = 'dedup';
          return tagged(JSON_PART, JSON.stringify(this.image ?? null));
        }
        const n = (this.service as Iterator<SnapshotPart>).next();
        if (!n.done) return n.value instanceof Uint8Array ? tagged(BYTES_PART, n.value) : tagged(JSON_PART, JSON.stringify(n.value ?? null));
        this.stage = 'dedup';
        this.dedup = this.host.dedup.entries();
        return this.step();
      }
      case 'dedup': {
        this.dedup ??= this.host.dedup.entries();
        const items: string[] = [];
        let bytes = 2;
        if (this.carry !== null) {
          items.push(this.carry);
          bytes += Buffer.byteLength(this.carry) + 1;
          this.carry = null;
        }
        for (;;) {
          const n = this.dedup.next();
          if (n.done) break;
          const [id, r] = n.value;
          const s = JSON.stringify([id, r.digest, r.reply]);
          const len = Buffer.byteLength(s) + 1;
          if (items.length > 0 && bytes + len > DEDUP_PART_BYTES) {
            this.carry = s;
            break;
          }
          items.push(s);
          bytes += len;
        }
        if (items.length > 0) return tagged(DEDUP_PART, `[${items.join(',')}]`);
        this.stage = 'done';
        this.release();
        return null;
      }
      case 'done':
        return null;
    }
  }

  close(): void {
    if (this.stage !== 'done') {
      this.stage = 'done';
      this.service?.return?.();
    }
    this.release();
  }
}

function asIterator(out: unknown): Iterator<SnapshotPart> | null {
  if (typeof out !== 'object' || out === null || Array.isArray(out) || out instanceof Uint8Array) return null;
  if (typeof (out as Iterator<SnapshotPart>).next === 'function') return out as Iterator<SnapshotPart>;
  const it = (out as Partial<Iterable<SnapshotPart>>)[Symbol.iterator];
  return typeof it === 'function' ? it.call(out) : null;
}

function tagged(tag: number, body: string | Uint8Array): Buffer {
  if (typeof body === 'string') {
    const b = Buffer.allocUnsafe(1 + Buffer.byteLength(body));
    b[0] = tag;
    b.write(body, 1, 'utf8');
    return b;
  }
  const b = Buffer.allocUnsafe(1 + body.length);
  b[0] = tag;
  b.set(body, 1);
  return b;
}

/**
 * Rebuilds a host from a snapshot's parts, fed in order. Service parts are kept as bytes and
 * decoded one at a time while the service's `restore` reads them.
 */
export class SnapshotRestorer {
  private header: Header | null = null;
  private readonly parts: Uint8Array[] = [];
  private readonly dedup: [string, string, Reply][] = [];

  get started(): boolean {
    return this.header !== null;
  }

  feed(part: Uint8Array): void {
    const tag = part[0];
    const body = Buffer.from(part.buffer, part.byteOffset + 1, part.byteLength - 1);
    if (this.header === null) {
      if (tag !== HEADER) throw new Error('snapshot does not start with its header');
      const h = JSON.parse(body.toString('utf8')) as Partial<Header>;
      if (h.v !== 1 || !Number.isSafeInteger(h.seq) || typeof h.now !== 'number' || (h.form !== 'image' && h.form !== 'parts')) {
        throw new Error('snapshot header is malformed');
      }
      this.header = h as Header;
      return;
    }
    if (tag === JSON_PART || tag === BYTES_PART) {
      if (this.dedup.length > 0) throw new Error('service part after the dedup window');
      this.parts.push(part);
    } else if (tag === DEDUP_PART) {
      const entries = JSON.parse(body.toString('utf8')) as unknown;
      if (!Array.isArray(entries)) throw new Error('dedup part is malformed');
      for (const e of entries as unknown[]) {
        if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string' || typeof e[2] !== 'object') throw new Error('dedup entry is malformed');
        this.dedup.push(e as [string, string, Reply]);
      }
    } else {
      throw new Error(`unknown snapshot part 0x${(tag ?? 0).toString(16)}`);
    }
  }

  /** Installs the state in `host`; throws if the service cannot restore it. */
  finish<S>(host: ServiceHost<S>): void {
    const h = this.header;
    if (!h) throw new Error('snapshot has no header');
    const def = host.def;
    let state: S;
    if (h.form === 'image') {
      if (this.parts.length !== 1) throw new Error(`an image snapshot has ${this.parts.length} parts`);
      const image = decodePart(this.parts[0] as Uint8Array) as Json;
      state = def.restore ? def.restore(image) : (image as S);
    } else {
      if (!def.restore) throw new Error(`service '${host.name}' snapshots in parts but has no restore()`);
      state = def.restore(decodeParts(this.parts));
    }
    host.install(state, h.seq, h.now);
    host.installTimers(Array.isArray(h.timers) ? h.timers : []);
    host.dedup.clear();
    for (const [id, digest, reply] of this.dedup) host.dedup.record(id, digest, reply);
  }
}

function decodePart(p: Uint8Array): SnapshotPart {
  const body = Buffer.from(p.buffer, p.byteOffset + 1, p.byteLength - 1);
  return p[0] === BYTES_PART ? body : (JSON.parse(body.toString('utf8')) as Json);
}

function* decodeParts(parts: Uint8Array[]): IterableIterator<SnapshotPart> {
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as Uint8Array;
    // Let go of each part once decoded: a large state is held once, not twice.
    parts[i] = EMPTY;
    yield decodePart(p);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Parts a host restores from without a service snapshot of its own: an older journal's
 * contents, already in the service's part form.
 */
export function legacyParts(seq: number, now: number, service: string, parts: Json[], dedup: [string, string, Reply][]): Buffer[] {
  const h: Header = { v: 1, seq, now, form: 'parts', service };
  const out = [tagged(HEADER, JSON.stringify(h))];
  for (const p of parts) out.push(tagged(JSON_PART, JSON.stringify(p)));
  if (dedup.length > 0) out.push(tagged(DEDUP_PART, JSON.stringify(dedup)));
  return out;
}
