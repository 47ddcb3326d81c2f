import net from 'node:net';
import { OspsError } from '../errors.js';
import { parseMetricsAddress } from '../observe/address.js';

/** `--metrics HOST:PORT` can be bound: a busy port is one line before anything starts, not a tree that fails to start. */
export async function checkMetricsBindable(address: string): Promise<void> {
  const addr = parseMetricsAddress(address);
  if (!addr || addr.port === 0) return;
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: addr.host, port: addr.port, exclusive: true }, resolve);
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new OspsError('METRICS_IN_USE', `--metrics ${address}: cannot listen there (${code ?? (err as Error).message})${code === 'EADDRINUSE' ? '; another process holds the port' : ''}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
