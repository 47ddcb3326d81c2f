/**
 * The one schema of the osps shared-memory object. Every offset another module (ring,
 * chaos tooling, tests) uses comes from here, so a layout change is a version bump in
 * one file, not a hunt through the code base.
 *
 * Object = [shm-typed-array size prefix, 8 B][header, HEADER_BYTES][data ring, capacity B]
 * All offsets below are relative to the Buffer shm-typed-array hands out, i.e. *after*
 * its 8-byte prefix (which is why file offsets under /dev/shm are OFFSET + LIB_PREFIX_BYTES).
 * Multi-byte fields are host-endian: both processes live on the same host by definition.
 *
 * Header (4096 bytes; a field is written once at creation unless marked "live"):
 *
 *   off  size  field
 *     0   u32  magic 0x4F535053 ('OSPS')        written last at creation, so a racing attach sees "not ready"
 *     4   u32  layout version (1)
 *     8   u32  header size (4096)
 *    12   u32  capacity: data bytes, a power of two
 *    16   i32  creator pid                      who to blame / probe when an object is left behind
 *    20   i32  epoch                 live, Atomics; the fencing token a stale primary checks
 *    24   i32  ring generation       live, Atomics; bumped by RingWriter.reset()
 *    28   u32  reserved (0)
 *    32   f64  creator start time (clock ticks since boot, /proc/<pid>/stat #22; 0 = unknown)  pid-reuse guard
 *    40   f64  created at (epoch ms)
 *    64   u32  head: byte position, mod 2^32     live, Atomics, written only by the writer (own cache line)
 *   128   u32  tail: byte position, mod 2^32     live, Atomics, written only by the reader (own cache line)
 *   192   i64  writeSeq                         live, Atomics (BigInt64)
 *   200   i64  commitSeq                        live, Atomics
 *   208   i64  ackSeq                           live, Atomics
 *   256 4×i64  heartbeats (ms timestamps) indexed by HeartbeatSlot   live, Atomics
 *   320   u16  instance name length in bytes (<= 200)
 *   322  200B  instance name, UTF-8
 *   522..575  reserved (0)
 *   576   i32  reader awake: generation + 1 from a doorbell (set by the writer as it rings)
 *              or the reader's wake() until the reader's sleep(), else 0
 *                                           live, Atomics (own cache line); the writer rings no
 *                                           doorbell while it is set
 *   580..639  reserved (0)
 *   640 2×i32  applying: batch token, 1 + index of the command being applied (0: none)
 *                                           live, Atomics, written by the primary; read by its
 *                                           successor to tell which command killed or hung it
 *   648..4095  reserved (0)
 *
 * Data ring (starts at DATA_OFFSET = 4096): head and tail are free-running u32 byte
 * positions; the byte offset in the ring is `pos & (capacity - 1)`, which stays consistent
 * across the 2^32 wrap because capacity divides 2^32. used = (head - tail) mod 2^32.
 *
 * Entry (8-byte aligned, never straddles the end of the ring):
 *
 *   off  size  field
 *     0   u32  marker: ENTRY_MARKER 0xE7E7E7E7, or WRAP_MARKER 0x57524150 'WRAP' = "skip to offset 0"
 *     4   u32  crc32 over bytes [8, 24 + length): length, epoch, seq, payload
 *     8   u32  payload length
 *    12   u32  epoch of the writer
 *    16   f64  seq (integer, <= 2^53)
 *    24        payload, then zero..7 pad bytes to the next multiple of 8
 *
 * The CRC sits before the fields it covers so one zlib.crc32 call over one contiguous
 * subarray checks the whole entry (the hot path does no per-field hashing).
 * A WRAP marker only needs its 4 bytes: alignment guarantees >= 8 bytes remain before the end.
 */

export const SHM_MAGIC = 0x4f535053;
export const LAYOUT_VERSION = 1;
export const HEADER_BYTES = 4096;
export const DATA_OFFSET = HEADER_BYTES;

/** shm-typed-array stores the Buffer length (size_t) in the first 8 bytes of the object. */
export const LIB_PREFIX_BYTES = 8;
/** Where POSIX shm objects live on Linux; used for mode checks and stale-object inspection. */
export const SHM_DIR = '/dev/shm';

export const DEFAULT_CAPACITY = 16 * 1024 * 1024;
/** Small rings are allowed for tests; production wants >= 4 MiB so 1 MiB entries fit. */
export const MIN_CAPACITY = 4096;
/** Keeps header + ring well inside a single Buffer and u32 positions. */
export const MAX_CAPACITY = 1024 * 1024 * 1024;
export const MAX_INSTANCE_BYTES = 200;

/** Byte offsets of the header fields (see the table above). */
export const Hdr = {
  MAGIC: 0,
  VERSION: 4,
  HEADER_SIZE: 8,
  CAPACITY: 12,
  CREATOR_PID: 16,
  EPOCH: 20,
  GENERATION: 24,
  RESERVED: 28,
  CREATOR_START: 32,
  CREATED_AT: 40,
  HEAD: 64,
  TAIL: 128,
  WRITE_SEQ: 192,
  COMMIT_SEQ: 200,
  ACK_SEQ: 208,
  HEARTBEATS: 256,
  INSTANCE_LEN: 320,
  INSTANCE: 322,
  READER_AWAKE: 576,
  APPLYING: 640,
} as const;

/**
 * Heartbeat words in the header, one per party, so any process can see who is alive. Each
 * server writes its role's word every `heartbeatMs` from its event loop; the watchdog's
 * alarm counts from it. The watchdog writes its own at each ping.
 */
export enum HeartbeatSlot {
  Watchdog = 0,
  Primary = 1,
  Secondary = 2,
  Spare = 3,
}
export const HEARTBEAT_SLOTS = 4;

export const ENTRY_MARKER = 0xe7e7e7e7;
export const WRAP_MARKER = 0x57524150;
export const ENTRY_ALIGN = 8;
export const ENTRY_HEADER_BYTES = 24;

/** Byte offsets inside one entry (see the table above). */
export const Ent = {
  MARKER: 0,
  CRC: 4,
  LENGTH: 8,
  EPOCH: 12,
  SEQ: 16,
  PAYLOAD: 24,
  /** First byte covered by the CRC. */
  CRC_FROM: 8,
} as const;

/** Total bytes an entry with this payload occupies in the ring (header + payload + pad). */
export function entryBytes(payloadLen: number): number {
  return (ENTRY_HEADER_BYTES + payloadLen + ENTRY_ALIGN - 1) & ~(ENTRY_ALIGN - 1);
}

/**
 * Largest payload a ring of this capacity accepts. Half the ring: then an entry plus the
 * worst-case WRAP skip in front of it always fits an empty ring, so a legal entry can
 * always be appended eventually and backpressure never deadlocks.
 */
export function maxPayloadFor(capacity: number): number {
  return capacity / 2 - ENTRY_HEADER_BYTES;
}

export function isValidCapacity(capacity: number): boolean {
  return (
    Number.isInteger(capacity) &&
    capacity >= MIN_CAPACITY &&
    capacity <= MAX_CAPACITY &&
    (capacity & (capacity - 1)) === 0
  );
}

/** Total Buffer length of an object (header + ring), excluding shm-typed-array's prefix. */
export function objectBytes(capacity: number): number {
  return HEADER_BYTES + capacity;
}

/** Path of the object's backing file on Linux tmpfs. */
export function shmPath(shmName: string): string {
  return SHM_DIR + shmName;
}
