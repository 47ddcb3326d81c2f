// Binding the endpoint: loopback unless asked otherwise, and patient with a port that a
// predecessor watchdog (killed or restarting) is still releasing.
import type http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Default time to wait for a port held by the previous watchdog's closing socket. */
export const LISTEN_RETRY_MS = 5_000;
const LISTEN_RETRY_STEP_MS = 100;

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return net.isIPv6(host) && (host === '::1' || /^::ffff:127\./i.test(host));
}

/** Refuses an address the operator did not clearly mean to expose. */
export function checkHost(host: string, allowNonLoopback: boolean): void {
  if (!isLoopback(host) && !allowNonLoopback) {
    throw Object.assign(new Error(`metrics endpoint: ${host} is not a loopback address; the endpoint has no authentication, so binding it needs an explicit opt-in`), { code: 'METRICS_NOT_LOOPBACK' });
  }
}

export async function listenWithRetry(server: http.Server, host: string, port: number, retryMs: number): Promise<net.AddressInfo> {
  const deadline = Date.now() + retryMs;
  for (;;) {
    try {
      await listenOnce(server, host, port);
      return server.address() as net.AddressInfo;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() >= deadline) throw err;
      await sleep(LISTEN_RETRY_STEP_MS);
    }
  }
}

function listenOnce(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}
