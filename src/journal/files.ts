import fs from 'node:fs';
import { promisify } from 'node:util';

const write = promisify(fs.write);
export const fdatasync = promisify(fs.fdatasync);
export const open = promisify(fs.open);

export function writeAllSync(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off);
}

/** Writes at `pos` (not at the descriptor's offset, which a cut-back leaves past the end). */
export function writeAllAtSync(fd: number, buf: Buffer, pos: number): void {
  for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off, buf.length - off, pos + off);
}

export async function writeAll(fd: number, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) off += (await write(fd, buf, off)).bytesWritten;
}

/** Makes a rename in `dir` itself durable. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}
