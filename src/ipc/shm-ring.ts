/**
 * The replication ring: a POSIX shm object (layout in shm-layout.ts) carrying CRC-checked
 * entries from ONE writer process (the primary) to ONE reader process (the standby).
 * Doorbells ("published up to seq N") and acks ("applied up to N") travel on FIFOs elsewhere.
 *
 * The pieces live in shm/: mapping.ts (the per-process mapping registry), header.ts (header
 * words, identity check and repair), inspect.ts (reading an object without mapping it,
 * ownership), open.ts (create, attach, reclaim, remove), ring.ts (the handle), writer.ts and
 * reader.ts. This module is the public entry.
 */
export { HeartbeatSlot } from './shm-layout.js';
export type { ReclaimResult, ShmRingCreateOptions } from './shm/open.js';
export { ShmRing } from './shm/ring.js';
export { RingWriter } from './shm/writer.js';
export { type RingEntry, RingReader, type RingReaderOptions } from './shm/reader.js';
