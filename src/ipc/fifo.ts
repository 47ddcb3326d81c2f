import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { FrameError, OspsError, isErrnoException } from '../errors.js';
import { FrameDecoder, checkMaxFrameBytes, encodeFrame, encodeFrames } from './framing.js';

const { O_RDONLY, O_WRONLY, O_NONBLOCK, O_NOFOLLOW } = fs.constants;
const OPEN_RETRY_MS = 5;
const run = promisify(execFile);

async function lstatOrNull(path: string): Promise<fs.Stats | null> {
  try {
    return await fs.promises.lstat(path);
  } catch (err) {
    if (isErrnoException(err) && err.code === 'ENOENT') return null;
    throw err;
  }
}

/** Creates a FIFO with mode 0600. Refuses an existing path: callers remove stale ones first. */
export async function makeFifo(path: string): Promise<void> {
  if (await lstatOrNull(path)) throw new OspsError('FIFO_EXISTS', `${path} already exists`, { path });
  try {
    // An explicit -m is applied after the umask, so the mode is exactly 0600. Plain execFile,
    // not execa: loading execa costs the watchdog ~100 ms of start-up and megabytes it keeps.
    await run('mkfifo', ['-m', '0600', '--', path]);
  } catch (err) {
    if (await lstatOrNull(path)) throw new OspsError('FIFO_EXISTS', `${path} already exists`, { path });
    const stderr = (err as { stderr?: unknown }).stderr;
    throw new OspsError('FIFO_CREATE_FAILED', `mkfifo ${path} failed: ${String(stderr || (err as Error).message).trim()}`, {
      path,
    });
  }
  const st = await fs.promises.lstat(path);
  if (!st.isFIFO() || (st.mode & 0o777) !== 0o600) {
    if (st.isFIFO()) await fs.promises.unlink(path).catch(() => undefined);
    throw new OspsError('FIFO_BAD_MODE', `${path} is not a 0600 FIFO after mkfifo (mode ${(st.mode & 0o7777).toString(8)})`, {
      path,
      mode: st.mode,
    });
  }
}

/** Unlinks a FIFO; false if nothing was there. Throws NOT_A_FIFO rather than delete someone's file. */
export async function removeFifo(path: string): Promise<boolean> {
  const st = await lstatOrNull(path);
  if (!st) return false;
  if (!st.isFIFO()) throw new OspsError('NOT_A_FIFO', `${path} exists but is not a FIFO; refusing to remove it`, { path });
  try {
    await fs.promises.unlink(path);
    return true;
  } catch (err) {
    if (isErrnoException(err) && err.code === 'ENOENT') return false;
    throw err;
  }
}

/** Which FIFO an end was opened on. */
interface FileId {
  dev: number;
  ino: number;
}

/**
 * False once the name no longer leads to the FIFO `id` was opened on (unlinked, or replaced
 * by another file): the open end still works, but no new peer can ever reach it.
 */
function isAtPath(path: string, id: FileId): boolean {
  try {
    const st = fs.lstatSync(path);
    return st.dev === id.dev && st.ino === id.ino;
  } catch {
    return false;
  }
}

/** Opens one end of a FIFO; ENXIO (no reader yet) is rethrown untouched for the writer's retry loop. */
function openFifoFd(path: string, flags: number): { fd: number; id: FileId } {
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink planted at the FIFO's name must not redirect our writes.
    fd = fs.openSync(path, flags | O_NONBLOCK | O_NOFOLLOW);
  } catch (err) {
    if (isErrnoException(err) && err.code === 'ENOENT') {
      throw new OspsError('FIFO_MISSING', `FIFO ${path} does not exist`, { path });
    }
    if (isErrnoException(err) && err.code === 'ELOOP') {
      throw new OspsError('NOT_A_FIFO', `${path} is a symlink, not a FIFO`, { path });
    }
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFIFO()) throw new OspsError('NOT_A_FIFO', `${path} is not a FIFO`, { path });
    return { fd, id: { dev: st.dev, ino: st.ino } };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** The socket owns the fd from here on: destroying it closes the fd exactly once. */
function wrapFd(fd: number, readable: boolean): net.Socket {
  try {
    return new net.Socket({ fd, readable, writable: !readable });
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

export type ReaderGoneReason = 'eof' | 'error';

export interface FifoReaderEvents {
  /** A view into the read buffer: copy it if you keep it past the listener. */
  frame: [payload: Buffer];
  'peer-gone': [reason: ReaderGoneReason, err?: Error];
  'protocol-error': [err: FrameError];
}

/**
 * Read end of a FIFO, non-blocking, decoding frames. Emits at most one of 'peer-gone' or
 * 'protocol-error', after which the reader is closed.
 *
 * On Linux a reader that has never seen a writer gets no EOF: 'peer-gone' can only fire
 * once a writer has connected and gone, so waiting for a peer needs its own timeout.
 */
export class FifoReader extends EventEmitter<FifoReaderEvents> {
  readonly path: string;
  private readonly socket: net.Socket;
  private readonly decoder: FrameDecoder;
  private done = false;

  private constructor(
    path: string,
    socket: net.Socket,
    decoder: FrameDecoder,
    private readonly id: FileId,
  ) {
    super();
    this.path = path;
    this.socket = socket;
    this.decoder = decoder;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.finish('eof'));
    // Kept for the socket's lifetime so a late error is never an uncaught exception.
    socket.on('error', (err) => this.finish('error', err));
  }

  static open(path: string, opts: { maxFrameBytes: number; opening?: Opening }): FifoReader {
    const decoder = new FrameDecoder(opts.maxFrameBytes);
    const { fd, id } = (opts.opening ?? plainOpening)(() => openFifoFd(path, O_RDONLY));
    return new FifoReader(path, wrapFd(fd, true), decoder, id);
  }

  get closed(): boolean {
    return this.done;
  }

  /** See isAtPath: checked periodically, since nothing on the open end reports it. */
  stillAtPath(): boolean {
    return isAtPath(this.path, this.id);
  }

  /** Idempotent; emits nothing. */
  close(): void {
    this.done = true;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.done = true;
      try {
        this.emit('protocol-error', err);
      } finally {
        this.socket.destroy();
      }
      return;
    }
    for (const frame of frames) {
      if (this.done) return; // a listener closed us mid-batch
      this.emit('frame', frame);
    }
  }

  private finish(reason: ReaderGoneReason, err?: Error): void {
    if (this.done) return;
    this.done = true;
    this.socket.destroy();
    if (err) this.emit('peer-gone', reason, err);
    else this.emit('peer-gone', reason);
  }
}

export type WriterGoneReason = 'epipe' | 'error' | 'hup';

export interface FifoWriterEvents {
  drain: [];
  'peer-gone': [reason: WriterGoneReason, err?: Error];
}

export interface FifoWriterOptions {
  maxFrameBytes: number;
  /** How long to wait for a reader to open the FIFO (default 2000 ms). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Wraps each open(2) attempt (the primary frees its reserved descriptors for it). */
  opening?: Opening;
}

/** Runs one open(2) of a FIFO end; the default just runs it. */
export type Opening = <T>(open: () => T) => T;
const plainOpening: Opening = (open) => open();

/**
 * Write end of a FIFO, non-blocking, framing each payload.
 *
 * Reader death is seen on the next write (EPIPE → 'peer-gone' 'epipe'). An idle writer
 * cannot notice it: libuv only polls a write-only pipe while a write is pending, refuses to
 * poll it for reading (ENOTCONN), and a zero-length write succeeds without a reader. Idle
 * detection comes from EOF on the opposite-direction FIFO. 'hup' covers the socket closing
 * without an error, which we have not observed on Linux.
 */
export class FifoWriter extends EventEmitter<FifoWriterEvents> {
  readonly path: string;
  readonly maxFrameBytes: number;
  private readonly socket: net.Socket;
  private done = false;

  private constructor(
    path: string,
    socket: net.Socket,
    maxFrameBytes: number,
    private readonly id: FileId,
  ) {
    super();
    this.path = path;
    this.socket = socket;
    this.maxFrameBytes = maxFrameBytes;
    // Kept for the socket's lifetime: EPIPE must never become an uncaught exception.
    socket.on('error', (err) => this.finish(isErrnoException(err) && err.code === 'EPIPE' ? 'epipe' : 'error', err));
    socket.on('close', () => this.finish('hup'));
    socket.on('drain', () => {
      if (!this.done) this.emit('drain');
    });
  }

  /** Retries the open while no reader has the FIFO (ENXIO), up to timeoutMs; then PEER_ABSENT. */
  static async open(path: string, opts: FifoWriterOptions): Promise<FifoWriter> {
    checkMaxFrameBytes(opts.maxFrameBytes);
    const timeoutMs = opts.timeoutMs ?? 2000;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      opts.signal?.throwIfAborted();
      try {
        const { fd, id } = (opts.opening ?? plainOpening)(() => openFifoFd(path, O_WRONLY));
        return new FifoWriter(path, wrapFd(fd, false), opts.maxFrameBytes, id);
      } catch (err) {
        if (!(isErrnoException(err) && err.code === 'ENXIO')) throw err;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new OspsError('PEER_ABSENT', `no reader opened FIFO ${path} within ${timeoutMs} ms`, { path, timeoutMs });
      }
      try {
        await sleep(Math.min(OPEN_RETRY_MS, left), undefined, { signal: opts.signal });
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        throw err;
      }
    }
  }

  get closed(): boolean {
    return this.done;
  }

  /** See isAtPath. */
  stillAtPath(): boolean {
    return isAtPath(this.path, this.id);
  }

  /** Bytes accepted but not yet in the kernel pipe. */
  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  /**
   * Frames and writes one payload; false means wait for 'drain' (or the writer is gone/closed).
   * An oversize payload on an open writer throws FrameError: that is the caller's bug.
   */
  write(payload: Buffer | Uint8Array): boolean {
    if (this.done) return false;
    return this.socket.write(encodeFrame(payload, this.maxFrameBytes));
  }

  /** Like write() for a batch, in one buffer and one syscall. */
  writeMany(payloads: readonly (Buffer | Uint8Array)[]): boolean {
    if (this.done) return false;
    if (payloads.length === 0) return !this.socket.writableNeedDrain;
    return this.socket.write(encodeFrames(payloads, this.maxFrameBytes));
  }

  /** Idempotent; emits nothing and drops bytes not yet written to the pipe. */
  close(): void {
    this.done = true;
    this.socket.destroy();
  }

  private finish(reason: WriterGoneReason, err?: Error): void {
    if (this.done) return;
    this.done = true;
    this.socket.destroy();
    if (err) this.emit('peer-gone', reason, err);
    else this.emit('peer-gone', reason);
  }
}
