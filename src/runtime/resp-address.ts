// The RESP front door's address, HOST:PORT, checked at the command line so that a bad one
// is refused once instead of killing every primary at bind.
import net from 'node:net';
import { OspsError } from '../errors.js';

export interface RespAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:6380`, `localhost:6380`, `[::1]:6380`; port 0 is refused (a new port after every failover). */
export function parseRespAddress(address: string): RespAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/\s]+)):(\d+)$/.exec(address);
  if (!m) throw new OspsError('USAGE', `invalid --resp '${address}': expected HOST:PORT, such as 127.0.0.1:6380`);
  const port = Number(m[3]);
  if (!Number.isSafeInteger(port) || port < 1 || port > 65535) {
    throw new OspsError('USAGE', `invalid --resp '${address}': port ${m[3]} is out of range (1-65535)`);
  }
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Proves, before anything is spawned, that the address can be listened on: a trial listen, released at once. */
export async function checkRespUsable(address: string): Promise<void> {
  const at = parseRespAddress(address);
  const srv = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host: at.host, port: at.port, exclusive: true }, () => resolve());
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why = code === 'EADDRINUSE' ? 'is already in use by another process' : `cannot be listened on: ${(err as Error).message}`;
    throw new OspsError(code === 'EADDRINUSE' ? 'ENDPOINT_IN_USE' : 'BAD_ENDPOINT', `--resp ${address} ${why}`);
  } finally {
    await new Promise<void>((resolve) => (srv.listening ? srv.close(() => resolve()) : resolve()));
  }
}
