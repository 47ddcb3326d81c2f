// The codes a client request can fail with: the server's (docs/PROTOCOL.md) and the client's
// own. One union, so callers branch on `err.code` and the compiler knows every case.
import { OspsError } from '../errors.js';

/** Error codes a server replies with (docs/PROTOCOL.md, "Reply"). */
export const SERVER_ERROR_CODES = [
  'BAD_REQUEST',
  'UNKNOWN_OP',
  'TOO_LARGE',
  'WRONG_TYPE',
  'UNAVAILABLE',
  'INTERNAL',
  'SERVICE_ERROR',
  'POISONED',
  'ID_REUSED',
] as const;
export type ServerErrorCode = (typeof SERVER_ERROR_CODES)[number];

/** Codes the client raises itself, with no reply from a server behind them. */
export const LOCAL_ERROR_CODES = [
  /** No answer (or only UNAVAILABLE) within the request's deadline, across every retry. */
  'TIMEOUT',
  /** The client was closed with the request pending, or before it was made. */
  'CLOSED',
  /** The caller's AbortSignal fired; a write may still have been applied. */
  'ABORTED',
  /** Refused before sending: the request is over the frame limit. */
  'TOO_LARGE',
  /** The instance named is not running (found by name, nothing alive behind it). */
  'NOT_RUNNING',
  /** The socket itself failed. */
  'INTERNAL',
] as const;
export type LocalErrorCode = (typeof LOCAL_ERROR_CODES)[number];

export type ClientErrorCode = ServerErrorCode | LocalErrorCode;

/** A code a loaded service raises itself (docs/SERVICE.md: `^[A-Z][A-Z0-9_]{1,31}$`). */
export type ServiceErrorCode = string & { readonly serviceCode?: never };

/** A failed request: `code` is one of ClientErrorCode, or a code of the loaded service. */
export class ClientError extends OspsError {
  declare readonly code: ClientErrorCode | ServiceErrorCode;
  /** The request id, to retry the same logical request. */
  readonly id: string | null;

  constructor(code: ClientErrorCode | ServiceErrorCode, message: string, id: string | null = null) {
    super(code, message, id === null ? undefined : { id });
    this.name = 'ClientError';
    this.id = id;
  }
}

/** Narrows an unknown error to a ClientError, optionally of one code. */
export function isClientError(err: unknown, code?: ClientErrorCode | ServiceErrorCode): err is ClientError {
  return err instanceof ClientError && (code === undefined || err.code === code);
}
