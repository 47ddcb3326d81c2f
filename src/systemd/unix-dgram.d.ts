// The slice of unix-dgram (no published types) that the sd_notify client uses.
declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';

  interface UnixDgramSocket extends EventEmitter {
    bind(path: string): void;
    /** Synchronous: the callback runs before send returns; errors carry a negative errno as code. */
    send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error & { code?: number | string }) => void): void;
    close(): void;
  }

  export function createSocket(type: 'unix_dgram', listener?: (msg: Buffer) => void): UnixDgramSocket;
}
