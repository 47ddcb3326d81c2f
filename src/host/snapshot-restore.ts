// Rebuilds a host from a snapshot's parts: pulled one at a time from a journal being read,
// or fed as they arrive from the ring and restored once the last one is in.
import type { Json, Reply } from '../protocol/wire.js';
import type { ServiceHost } from './host.js';
import type { SnapshotPart } from './service.js';
import { DedupWindow } from './dedup.js';
import { DEDUP_BYTES_PART, DEDUP_PART, decodePart, HEADER, isServicePart, parseHeader, tagged, bodyOf, JSON_PART, type Header } from './snapshot-format.js';

/** The next part of a snapshot, or null after its last. */
export type PartSource = () => Uint8Array | null;

/**
 * Installs in `host` the snapshot whose parts `pull` returns in order. Service parts are
 * decoded one at a time while the service's `restore` reads them, so a large state is never
 * held twice. Throws if the parts are malformed or the service cannot restore them.
 */
export function restoreSnapshot<S>(host: ServiceHost<S>, pull: PartSource): void {
  const first = pull();
  if (!first) throw new Error('snapshot has no header');
  const h = parseHeader(first);
  const def = host.def;
  let ahead = pull();
  let state: S;
  if (h.form === 'image') {
    let n = 0;
    let image: Json = null;
    for (; ahead && isServicePart(ahead); ahead = pull()) if (n++ === 0) image = decodePart(ahead) as Json;
    if (n !== 1) throw new Error(`an image snapshot has ${n} parts`);
    state = def.restore ? def.restore(image) : (image as S);
  } else {
    if (!def.restore) throw new Error(`service '${host.name}' snapshots in parts but has no restore()`);
    const parts = function* (): IterableIterator<SnapshotPart> {
      while (ahead && isServicePart(ahead)) {
        const p = ahead;
        ahead = pull();
        yield decodePart(p);
      }
    };
    state = def.restore(parts());
    // A restore that stopped reading early leaves service parts behind: they are not the window's.
    while (ahead && isServicePart(ahead)) ahead = pull();
  }
  // The window is filled as its parts come: a malformed one throws before anything is installed.
  const dedup = new DedupWindow(host.dedup.capacity);
  for (; ahead; ahead = pull()) {
    if (isServicePart(ahead)) throw new Error('service part after the dedup window');
    if (ahead[0] === DEDUP_BYTES_PART) dedup.importBytes(bodyOf(ahead));
    else if (ahead[0] === DEDUP_PART) importJson(dedup, bodyOf(ahead));
    else throw new Error(`unknown snapshot part 0x${(ahead[0] ?? 0).toString(16)}`);
  }
  host.install(state, h.seq, h.now);
  host.installTimers(Array.isArray(h.timers) ? h.timers : []);
  host.dedup = dedup;
}

/** A dedup part of older versions: a JSON array of [id, digest, reply]. */
function importJson(dedup: DedupWindow, body: Buffer): void {
  const entries = JSON.parse(body.toString('utf8')) as unknown;
  if (!Array.isArray(entries)) throw new Error('dedup part is malformed');
  for (const e of entries as unknown[]) {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'string' || typeof e[2] !== 'object') throw new Error('dedup entry is malformed');
    dedup.record(e[0], e[1], e[2] as Reply);
  }
}

/** Parts fed in order as they arrive, restored at the end (the ring's way). */
export class SnapshotRestorer {
  private parts: Uint8Array[] = [];

  get started(): boolean {
    return this.parts.length > 0;
  }

  feed(part: Uint8Array): void {
    if (this.parts.length === 0 && part[0] !== HEADER) throw new Error('snapshot does not start with its header');
    this.parts.push(part);
  }

  /** Installs the state in `host`; throws if the service cannot restore it. */
  finish<S>(host: ServiceHost<S>): void {
    const parts = this.parts;
    this.parts = [];
    let i = 0;
    // Each part is let go of once pulled: a large state is held once, not twice.
    restoreSnapshot(host, () => {
      if (i >= parts.length) return null;
      const p = parts[i] as Uint8Array;
      parts[i++] = EMPTY;
      return p;
    });
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
