// One error class with a string `code`, so the CLI, the wire protocol and the
// tests can all branch on the code instead of parsing messages.
export class OspsError extends Error {
  readonly code: string;
  readonly detail?: Record<string, unknown>;

  constructor(code: string, message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = 'OspsError';
    this.code = code;
    if (detail !== undefined) this.detail = detail;
  }
}

/** A framing violation on a FIFO: oversize frame or bad prefix. The stream is unusable after it. */
export class FrameError extends OspsError {
  constructor(code: 'FRAME_TOO_LARGE' | 'FRAME_BAD_PREFIX', message: string, detail?: Record<string, unknown>) {
    super(code, message, detail);
    this.name = 'FrameError';
  }
}

/** What the ring reader found instead of a valid next entry. */
export type RingCorruption = 'magic' | 'version' | 'crc' | 'bounds' | 'seq-gap' | 'epoch';

/** The ring reader refuses to apply an entry; the standby must be resynced from a snapshot. */
export class RingCorruptError extends OspsError {
  readonly reason: RingCorruption;
  constructor(reason: RingCorruption, message: string, detail?: Record<string, unknown>) {
    super('RING_CORRUPT', message, detail);
    this.name = 'RingCorruptError';
    this.reason = reason;
  }
}

export function isErrnoException(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}
