// The bounds of the RESP front door. osps parses RESP itself, so every byte a client can
// make it hold is bounded here: one request, the requests in flight, the replies unread.
//
// Memory one connection can hold, at most (defaults in brackets):
//   input     2 × (maxRequestBytes + one socket read)        parser storage grows by doubling [≈ 2.2 MiB]
//   in flight maxInflightBytes + one request                 requests awaiting the host       [≈ 2.1 MiB]
//   output    maxOutputBytes + one reply                     replies the client has not read  [≈ 9 MiB]
// and the front door holds at most maxConnections of them [1000]; size maxConnections so
// that they fit the memory budget and the open-file limit less the descriptors the
// primary keeps for its standby.
import { DEFAULT_MAX_FRAME_BYTES } from '../protocol/limits.js';

export interface RespParserLimits {
  /** Largest bulk string (one argument); redis-server's `proto-max-bulk-len`. */
  maxBulkBytes: number;
  /** Most elements in one request array. */
  maxArrayElements: number;
  /** Longest inline command line, and longest `*N` / `$N` header line (redis: 64 KiB). */
  maxInlineBytes: number;
  /** Largest request, counted as its wire bytes plus ELEMENT_COST_BYTES per argument. */
  maxRequestBytes: number;
}

export interface RespServerLimits extends RespParserLimits {
  /** Connections served at once; one more is answered `max number of clients reached` and closed. */
  maxConnections: number;
  /** Cost (wire bytes + REQUEST_COST_BYTES per argument) of one connection's requests awaiting an answer; past it, reading pauses. */
  maxInflightBytes: number;
  /** Reply bytes a connection may leave unread; past it, the client is disconnected (Redis's client-output-buffer-limit). */
  maxOutputBytes: number;
}

/** What one parsed argument costs beyond its bytes (the objects that hold it): a request holds ~16 000 at most by default. */
export const ELEMENT_COST_BYTES = 64;
/** What each argument of a request awaiting its answer costs beyond its bytes (a multi-key command makes one call per key). */
export const REQUEST_COST_BYTES = 256;

export const PROTO_INLINE_MAX_BYTES = 64 * 1024;
/** How long a closing connection may take to hand its last replies to a client that does not read them. */
export const CLOSE_GRACE_MS = 2000;

export function parserLimits(given: Partial<RespParserLimits> = {}): RespParserLimits {
  const maxBulkBytes = given.maxBulkBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const maxInlineBytes = given.maxInlineBytes ?? PROTO_INLINE_MAX_BYTES;
  return {
    maxBulkBytes,
    maxArrayElements: given.maxArrayElements ?? 1024 * 1024,
    maxInlineBytes,
    // One largest argument plus room for a key and the headers around it.
    maxRequestBytes: given.maxRequestBytes ?? maxBulkBytes + maxInlineBytes,
  };
}

export function serverLimits(given: Partial<RespServerLimits> = {}): RespServerLimits {
  return {
    ...parserLimits(given),
    maxConnections: given.maxConnections ?? 1000,
    maxInflightBytes: given.maxInflightBytes ?? 1024 * 1024,
    maxOutputBytes: given.maxOutputBytes ?? 8 * 1024 * 1024,
  };
}
