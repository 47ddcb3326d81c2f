// A host snapshot in parts: a header, the service's image or parts, then the dedup window.
// Each part is one opaque byte string for the ring and the journal; neither looks inside.
import type { Json } from '../protocol/wire.js';
import type { ServiceHost } from './host.js';
import type { SnapshotPart } from './service.js';
import { BYTES_PART, DEDUP_BYTES_PART, HEADER, JSON_PART, tagged, type Header } from './snapshot-format.js';

export { legacyParts, restoreSnapshot, SnapshotRestorer, type PartSource } from './snapshot-restore.js';

/** Dedup parts are cut by bytes, whatever the ids and replies in them. */
const DEDUP_PART_BYTES = 256 * 1024;

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
  /** The next dedup window entry to export, oldest first. */
  private dedupAt = 0;

  constructor(private readonly host: ServiceHost<S>) {
    this.seq = host.seq;
    host.snapshotsTaken++;
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
        return this.step();
      }
      case 'dedup': {
        const { bytes, next } = this.host.dedup.exportFrom(this.dedupAt, DEDUP_PART_BYTES);
        if (bytes.length > 0) {
          this.dedupAt = next;
          return tagged(DEDUP_BYTES_PART, bytes);
        }
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

